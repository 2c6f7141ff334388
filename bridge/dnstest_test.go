//go:build !js && !wasip1

package bridge

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// testDNS is a DNS server on loopback whose answers a test changes as it
// goes, as a rebinding attacker changes theirs.
type testDNS struct {
	addr string

	mu      sync.Mutex
	records map[string][]netip.Addr  // by lower-case name without the root dot
	held    map[string]chan struct{} // names whose answers wait until closed
	asked   chan string              // names asked, if a test listens
}

func startDNS(t *testing.T) *testDNS {
	t.Helper()
	d := &testDNS{records: map[string][]netip.Addr{}, held: map[string]chan struct{}{}, asked: make(chan string, 64)}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d.addr = pc.LocalAddr().String()
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(d.answer)}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return d
}

// set makes name resolve to addrs from now on.
func (d *testDNS) set(name string, addrs ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var ips []netip.Addr
	for _, a := range addrs {
		ips = append(ips, netip.MustParseAddr(a))
	}
	d.records[strings.ToLower(name)] = ips
}

// hold makes the answers for name wait until release is called.
func (d *testDNS) hold(name string) (release func()) {
	c := make(chan struct{})
	d.mu.Lock()
	d.held[strings.ToLower(name)] = c
	d.mu.Unlock()
	return sync.OnceFunc(func() { close(c) })
}

func (d *testDNS) answer(w dns.ResponseWriter, req *dns.Msg) {
	if len(req.Question) == 1 {
		name := strings.TrimSuffix(strings.ToLower(req.Question[0].Name), ".")
		select {
		case d.asked <- name:
		default:
		}
		d.mu.Lock()
		wait := d.held[name]
		d.mu.Unlock()
		if wait != nil {
			<-wait
		}
	}
	resp := new(dns.Msg)
	resp.SetReply(req)
	resp.Authoritative = true
	if len(req.Question) == 1 {
		q := req.Question[0]
		d.mu.Lock()
		ips, known := d.records[strings.TrimSuffix(strings.ToLower(q.Name), ".")]
		d.mu.Unlock()
		if !known {
			resp.Rcode = dns.RcodeNameError
		}
		for _, ip := range ips {
			hdr := dns.RR_Header{Name: q.Name, Class: dns.ClassINET, Ttl: 0}
			switch {
			case q.Qtype == dns.TypeA && ip.Is4():
				hdr.Rrtype = dns.TypeA
				resp.Answer = append(resp.Answer, &dns.A{Hdr: hdr, A: ip.AsSlice()})
			case q.Qtype == dns.TypeAAAA && ip.Is6():
				hdr.Rrtype = dns.TypeAAAA
				resp.Answer = append(resp.Answer, &dns.AAAA{Hdr: hdr, AAAA: ip.AsSlice()})
			}
		}
	}
	w.WriteMsg(resp)
}

// resolver is a resolver that asks only this server (after /etc/hosts).
func (d *testDNS) resolver() *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "udp", d.addr)
		},
	}
}
