package wasmnet

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"

	"github.com/wasmnet/wasmnet/wisp"
)

// Resolver looks names up in DNS, on the bridge: the bridge resolves with
// its own resolver, the same one it uses for the host names of Dial, and
// leaves out addresses its policy hides. It needs a bridge with the
// resolve extension. Its methods mirror those of *net.Resolver.
type Resolver struct {
	// Dialer is the Dialer whose bridge resolves. Nil means DefaultDialer.
	Dialer *Dialer
}

// DefaultResolver uses DefaultDialer.
var DefaultResolver = &Resolver{}

// LookupHost returns the addresses of host, as strings.
func (r *Resolver) LookupHost(ctx context.Context, host string) ([]string, error) {
	ips, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(ips))
	for i, ip := range ips {
		out[i] = ip.String()
	}
	return out, nil
}

// LookupIP returns the addresses of host. The network is "ip", "ip4" or
// "ip6".
func (r *Resolver) LookupIP(ctx context.Context, network, host string) ([]net.IP, error) {
	ips, err := r.LookupNetIP(ctx, network, host)
	if err != nil {
		return nil, err
	}
	out := make([]net.IP, len(ips))
	for i, ip := range ips {
		out[i] = ip.AsSlice()
	}
	return out, nil
}

// LookupNetIP returns the addresses of host. The network is "ip", "ip4"
// or "ip6".
func (r *Resolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	switch network {
	case "ip", "ip4", "ip6":
	default:
		return nil, &net.DNSError{Err: "unknown network " + network, Name: host}
	}
	a, err := r.query(ctx, wisp.QueryIP, host)
	if err != nil {
		return nil, err
	}
	var out []netip.Addr
	for _, ip := range a.IPs {
		if network == "ip" || (network == "ip4") == ip.Is4() {
			out = append(out, ip)
		}
	}
	if len(out) == 0 {
		return nil, &net.DNSError{Err: "no such host", Name: host, Server: r.server(), IsNotFound: true}
	}
	return out, nil
}

// LookupMX returns the mail exchangers of name, by preference.
func (r *Resolver) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	a, err := r.query(ctx, wisp.QueryMX, name)
	if err != nil {
		return nil, err
	}
	out := make([]*net.MX, len(a.MX))
	for i, mx := range a.MX {
		out[i] = &net.MX{Host: mx.Host, Pref: mx.Pref}
	}
	return out, nil
}

// LookupSRV returns the service records of _service._proto.name, as
// (*net.Resolver).LookupSRV does; with service and proto empty, name is
// looked up as it is.
func (r *Resolver) LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error) {
	target := name
	if service != "" || proto != "" {
		target = "_" + service + "._" + proto + "." + name
	}
	a, err := r.query(ctx, wisp.QuerySRV, target)
	if err != nil {
		return "", nil, err
	}
	out := make([]*net.SRV, len(a.SRV))
	for i, srv := range a.SRV {
		out[i] = &net.SRV{Target: srv.Target, Port: srv.Port, Priority: srv.Priority, Weight: srv.Weight}
	}
	return a.CNAME, out, nil
}

// LookupTXT returns the TXT records of name.
func (r *Resolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	a, err := r.query(ctx, wisp.QueryTXT, name)
	if err != nil {
		return nil, err
	}
	return a.TXT, nil
}

// LookupCNAME returns the canonical name of host.
func (r *Resolver) LookupCNAME(ctx context.Context, host string) (string, error) {
	a, err := r.query(ctx, wisp.QueryCNAME, host)
	if err != nil {
		return "", err
	}
	return a.CNAME, nil
}

func (r *Resolver) dialer() *Dialer {
	if r.Dialer != nil {
		return r.Dialer
	}
	return DefaultDialer
}

func (r *Resolver) server() string {
	if u := r.dialer().Bridge; u != "" {
		return u
	}
	return DefaultBridge()
}

// query sends one RESOLVE and waits for its answer.
func (r *Resolver) query(ctx context.Context, t wisp.QueryType, name string) (wisp.Answer, error) {
	fail := func(msg string, temporary bool) (wisp.Answer, error) {
		return wisp.Answer{}, &net.DNSError{Err: msg, Name: name, Server: r.server(), IsTemporary: temporary}
	}
	s, err := r.dialer().session(ctx)
	if err != nil {
		return fail(err.Error(), true)
	}
	if !s.feat.resolve {
		return fail("the bridge does not offer name resolution", false)
	}
	id, reply, err := s.request()
	if err != nil {
		return fail(err.Error(), true)
	}
	p := wisp.Packet{Type: wisp.TypeResolve, Stream: id, Query: wisp.Query{Type: t, Name: name}}
	s.control(p.Append(nil))

	select {
	case a, ok := <-reply:
		if !ok {
			return fail(s.err.Error(), true)
		}
		return r.check(name, a)
	case <-ctx.Done():
		s.remove(id)
		err := &net.DNSError{Err: contextError{ctx.Err()}.Error(), Name: name, Server: r.server()}
		err.IsTimeout = errors.Is(ctx.Err(), context.DeadlineExceeded)
		return wisp.Answer{}, err
	}
}

// check turns the status of an answer into the error package net gives.
func (r *Resolver) check(name string, a wisp.Answer) (wisp.Answer, error) {
	if a.Status == wisp.StatusOK {
		return a, nil
	}
	err := &net.DNSError{Err: a.Status.String(), Name: strings.TrimSuffix(name, "."), Server: r.server()}
	switch a.Status {
	case wisp.StatusNotFound:
		err.IsNotFound = true
	case wisp.StatusTemporary:
		err.IsTemporary = true
	}
	return wisp.Answer{}, err
}
