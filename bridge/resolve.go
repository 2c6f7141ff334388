//go:build !js && !wasip1

package bridge

import (
	"context"
	"errors"
	"net"
	"net/netip"

	"github.com/wasmnet/wasmnet/wisp"
)

// maxResolves bounds the lookups one session has in progress; past it, a
// RESOLVE is answered at once with a temporary failure.
const maxResolves = 16

// maxAnswer bounds the records in one RESOLVED, well inside a message.
const maxAnswer = 32 << 10

// resolve answers a RESOLVE in the background. The ID names the request
// only: it is free again once the RESOLVED is sent.
func (s *session) resolve(id uint32, q wisp.Query) {
	s.mu.Lock()
	busy := s.resolves >= maxResolves
	if !busy {
		s.resolves++
	}
	s.mu.Unlock()
	reply := func(a wisp.Answer) {
		p := wisp.Packet{Type: wisp.TypeResolved, Stream: id, Answer: a}
		s.control(p.Append(nil))
	}
	if busy {
		s.h.stats.limit(limitResolves)
		s.log.Info("lookup refused: lookups limit", "stream", id, "max", maxResolves)
		reply(wisp.Answer{Type: q.Type, Status: wisp.StatusTemporary})
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ctx, cancel := s.dialContext()
		a := s.h.lookup(ctx, s.scope.policy, q)
		cancel()
		s.log.Debug("resolved", "stream", id, "type", q.Type, "name", q.Name, "status", a.Status)
		reply(a)
		s.mu.Lock()
		s.resolves--
		empty := len(s.streams) == 0 && s.resolves == 0
		s.mu.Unlock()
		// A draining session waits for its lookups as for its streams:
		// the answer goes out before the session's end.
		if empty && s.draining.Load() {
			s.finish(shutdownEnd())
		}
	}()
}

// lookup runs one query with the bridge's resolver. Addresses the policy
// keeps hidden are left out of the answer: a client must not map the
// bridge's private networks through DNS.
func (h *Handler) lookup(ctx context.Context, policy *Policy, q wisp.Query) wisp.Answer {
	a := wisp.Answer{Type: q.Type}
	ip, err := parseHost(q.Name)
	if err != nil || (ip.IsValid() && q.Type != wisp.QueryIP) {
		a.Status = wisp.StatusError
		return a
	}
	size := 0
	fits := func(n int) bool {
		size += n
		return size <= maxAnswer
	}
	switch q.Type {
	case wisp.QueryIP:
		ips := []netip.Addr{ip}
		if !ip.IsValid() {
			ips, err = h.resolver.LookupNetIP(ctx, "ip", q.Name)
		}
		for _, ip := range ips {
			if ip = ip.Unmap(); policy.Reveals(q.Name, ip) && fits(17) {
				a.IPs = append(a.IPs, ip)
			}
		}
		if err == nil && len(ips) > 0 && len(a.IPs) == 0 {
			a.Status = wisp.StatusHidden
			return a
		}
	case wisp.QueryMX:
		var mxs []*net.MX
		mxs, err = h.resolver.LookupMX(ctx, q.Name)
		for _, mx := range mxs {
			if fits(3 + len(mx.Host)) {
				a.MX = append(a.MX, wisp.MX{Pref: mx.Pref, Host: mx.Host})
			}
		}
	case wisp.QuerySRV:
		var srvs []*net.SRV
		a.CNAME, srvs, err = h.resolver.LookupSRV(ctx, "", "", q.Name)
		for _, srv := range srvs {
			if fits(7 + len(srv.Target)) {
				a.SRV = append(a.SRV, wisp.SRV{Priority: srv.Priority, Weight: srv.Weight, Port: srv.Port, Target: srv.Target})
			}
		}
	case wisp.QueryTXT:
		var txts []string
		txts, err = h.resolver.LookupTXT(ctx, q.Name)
		for _, txt := range txts {
			if fits(2 + len(txt)) {
				a.TXT = append(a.TXT, txt)
			}
		}
	case wisp.QueryCNAME:
		a.CNAME, err = h.resolver.LookupCNAME(ctx, q.Name)
	default:
		a.Status = wisp.StatusError
		return a
	}
	if err != nil {
		a = wisp.Answer{Type: q.Type, Status: lookupStatus(err)}
	}
	return a
}

func lookupStatus(err error) wisp.Status {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return wisp.StatusNotFound
	}
	return wisp.StatusTemporary
}
