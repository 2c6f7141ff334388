package main

import (
	"context"
	"fmt"
	"io"
	"net"

	"github.com/miekg/dns"

	"github.com/wasmnet/wasmnet/wasm/wasmnet"
)

// run asks each question in turn and prints the answers as dig does.
func run(ctx context.Context, cfg config, out io.Writer) error {
	d := wasmnet.DefaultDialer // $WASMNET_BRIDGE, or /wisp/ on the page's origin
	for _, q := range cfg.queries {
		req := new(dns.Msg).SetQuestion(q.name, q.qtype)
		resp, network, err := ask(ctx, d, cfg, req, out)
		if err != nil {
			return fmt.Errorf("%s %s: %w", q.name, dns.TypeToString[q.qtype], err)
		}
		fmt.Fprintf(out, ";; %s %s: %s, %d answers, over %s\n", q.name, dns.TypeToString[q.qtype], dns.RcodeToString[resp.Rcode], len(resp.Answer), network)
		for _, rr := range resp.Answer {
			fmt.Fprintln(out, rr.String())
		}
	}
	return nil
}

// exchange sends req over a new connection of the given network and reads
// the answer: plain miekg/dns over the conn wasmnet returns.
func exchange(ctx context.Context, d *wasmnet.Dialer, network, server string, req *dns.Msg) (*dns.Msg, error) {
	conn, err := d.DialContext(ctx, network, server)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if err := checkConn(network, conn); err != nil {
		return nil, err
	}
	c := &dns.Client{Net: network}
	resp, _, err := c.ExchangeWithConnContext(ctx, req, &dns.Conn{Conn: conn})
	return resp, err
}

const networkUsage = `transport: "tcp", or "udp" with a retry over tcp when the answer is truncated`

func checkNetwork(network string) error {
	if network == "tcp" || network == "udp" {
		return nil
	}
	return fmt.Errorf("-net %q: want tcp or udp", network)
}

// ask asks over UDP or TCP; a truncated UDP answer is asked again over
// TCP. It returns the network that answered.
func ask(ctx context.Context, d *wasmnet.Dialer, cfg config, req *dns.Msg, out io.Writer) (*dns.Msg, string, error) {
	if cfg.network == "udp" {
		resp, err := exchange(ctx, d, "udp", cfg.server, req)
		if err != nil || !resp.Truncated {
			return resp, "udp", err
		}
		fmt.Fprintf(out, ";; %s %s: truncated over udp (%d answers), retrying over tcp\n",
			req.Question[0].Name, dns.TypeToString[req.Question[0].Qtype], len(resp.Answer))
	}
	resp, err := exchange(ctx, d, "tcp", cfg.server, req)
	return resp, "tcp", err
}

// checkConn makes sure a UDP conn is a net.PacketConn: miekg/dns frames
// messages by that test, and would send a TCP length prefix otherwise.
func checkConn(network string, conn net.Conn) error {
	if _, ok := conn.(net.PacketConn); network == "udp" && !ok {
		return fmt.Errorf("wasmnet's %T for udp is no net.PacketConn, which miekg/dns needs to frame datagrams", conn)
	}
	return nil
}
