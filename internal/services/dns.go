package services

import (
	"cmp"
	"fmt"
	"net"
	"strings"

	"github.com/miekg/dns"
)

// Zone is the zone the test DNS server answers for, in master-file syntax.
const Zone = `
wasmnet.test.        60 IN A     192.0.2.1
wasmnet.test.        60 IN AAAA  2001:db8::1
wasmnet.test.        60 IN MX    10 mail.wasmnet.test.
wasmnet.test.        60 IN TXT   "hello from wasmnet"
mail.wasmnet.test.   60 IN A     127.0.0.1
_smtp._tcp.wasmnet.test. 60 IN SRV 10 5 25 mail.wasmnet.test.
`

// DNSServer answers over UDP and TCP on the same port.
type DNSServer struct {
	udp, tcp *dns.Server
	addr     string
}

// DNS starts a DNS server on a free loopback port, authoritative for the
// records in zone (master-file syntax; Zone is a good default). Names it
// does not know get NXDOMAIN.
func DNS(zone string) (*DNSServer, error) {
	return DNSAt("", zone)
}

// DNSAt is DNS on a given address; an empty addr picks a free port.
func DNSAt(addr, zone string) (*DNSServer, error) {
	records := map[string][]dns.RR{}
	zp := dns.NewZoneParser(strings.NewReader(zone), "", "")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		name := strings.ToLower(rr.Header().Name)
		records[name] = append(records[name], rr)
	}
	if err := zp.Err(); err != nil {
		return nil, err
	}
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		resp := new(dns.Msg)
		resp.SetReply(req)
		resp.Authoritative = true
		if len(req.Question) == 1 {
			q := req.Question[0]
			rrs, known := records[strings.ToLower(q.Name)]
			for _, rr := range rrs {
				if q.Qtype == dns.TypeANY || rr.Header().Rrtype == q.Qtype {
					resp.Answer = append(resp.Answer, rr)
				}
			}
			if !known {
				resp.Rcode = dns.RcodeNameError
			}
		}
		if _, isUDP := w.RemoteAddr().(*net.UDPAddr); isUDP {
			size := 512
			if opt := req.IsEdns0(); opt != nil {
				size = int(opt.UDPSize())
			}
			resp.Truncate(size)
		}
		w.WriteMsg(resp)
	})

	tries := 10
	if addr != "" {
		tries = 1
	}
	for range tries {
		ln, err := net.Listen("tcp", cmp.Or(addr, "127.0.0.1:0"))
		if err != nil {
			return nil, err
		}
		pc, err := net.ListenPacket("udp", ln.Addr().String())
		if err != nil {
			ln.Close()
			if addr != "" {
				return nil, err
			}
			continue // the UDP port was taken; try another
		}
		s := &DNSServer{
			tcp:  &dns.Server{Listener: ln, Handler: handler},
			udp:  &dns.Server{PacketConn: pc, Handler: handler},
			addr: ln.Addr().String(),
		}
		go s.tcp.ActivateAndServe()
		go s.udp.ActivateAndServe()
		return s, nil
	}
	return nil, fmt.Errorf("no free port for both UDP and TCP")
}

// Addr is the host:port the server answers on.
func (s *DNSServer) Addr() string { return s.addr }

// Close stops the server.
func (s *DNSServer) Close() error {
	s.tcp.Shutdown()
	s.udp.Shutdown()
	return nil
}
