package wasmnet_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/wasmnet/wasmnet/wasm/wasmnet"
)

// TestDNSOverUDP asks the DNS server with miekg/dns over a connected UDP
// stream, then over a PacketConn.
func TestDNSOverUDP(t *testing.T) {
	e := testEnv(t)
	d := &wasmnet.Dialer{Bridge: e.Bridge}
	defer d.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	conn, err := d.DialContext(ctx, "udp", e.DNS)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, ok := conn.(net.PacketConn); !ok {
		t.Fatal("a UDP stream is not a net.PacketConn, so miekg/dns would frame it as TCP")
	}
	if _, ok := conn.RemoteAddr().(*net.UDPAddr); !ok {
		t.Errorf("RemoteAddr is %T, want *net.UDPAddr", conn.RemoteAddr())
	}
	client := &dns.Client{Net: "udp"}
	for _, qtype := range []uint16{dns.TypeA, dns.TypeMX, dns.TypeTXT} {
		req := new(dns.Msg).SetQuestion("wasmnet.test.", qtype)
		resp, _, err := client.ExchangeWithConnContext(ctx, req, &dns.Conn{Conn: conn})
		if err != nil {
			t.Fatalf("%s: %v", dns.TypeToString[qtype], err)
		}
		if len(resp.Answer) != 1 {
			t.Errorf("%s: %v", dns.TypeToString[qtype], resp.Answer)
		}
	}

	// A read deadline times out without harming the stream.
	conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	var ne net.Error
	if _, err := conn.Read(make([]byte, 512)); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Read past the deadline: %v, want a timeout", err)
	}
	conn.SetReadDeadline(time.Time{})
	if _, _, err := client.ExchangeWithConnContext(ctx, new(dns.Msg).SetQuestion("wasmnet.test.", dns.TypeA), &dns.Conn{Conn: conn}); err != nil {
		t.Fatalf("after a timeout: %v", err)
	}

	pc, err := d.ListenPacket("udp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	server, err := net.ResolveUDPAddr("udp", e.DNS)
	if err != nil {
		t.Fatal(err)
	}
	query, _ := new(dns.Msg).SetQuestion("wasmnet.test.", dns.TypeAAAA).Pack()
	if _, err := pc.WriteTo(query, server); err != nil {
		t.Fatal(err)
	}
	pc.SetReadDeadline(time.Now().Add(20 * time.Second))
	buf := make([]byte, 1500)
	n, from, err := pc.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	if from.String() != server.String() {
		t.Errorf("answer from %v, want %v", from, server)
	}
	var resp dns.Msg
	if err := resp.Unpack(buf[:n]); err != nil || len(resp.Answer) != 1 || resp.Answer[0].(*dns.AAAA).AAAA.String() != "2001:db8::1" {
		t.Errorf("PacketConn answer: %v, %v", resp.Answer, err)
	}
}
