//go:build !js && !wasip1

package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"

	"github.com/wasmnet/wasmnet/wisp"
)

// dialError is a failed connect: the Wisp reason for the client and the
// cause for the log.
type dialError struct {
	reason wisp.Reason
	err    error
}

func (e *dialError) Error() string { return fmt.Sprintf("%v: %v", e.reason, e.err) }

// EndpointSuffix ends the names of the endpoints that clients register on
// the bridge with LISTEN, which other sessions reach with CONNECT.
const EndpointSuffix = ".wasmnet.internal"

// dialContext bounds a connect by the dial timeout and the session.
func (s *session) dialContext() (context.Context, context.CancelFunc) {
	if d := s.h.cfg.DialTimeout; d > 0 {
		return context.WithTimeout(s.ctx, d)
	}
	return context.WithCancel(s.ctx)
}

// dial resolves the destination of a CONNECT, checks every address against
// the session's policy and connects to the first allowed address that
// answers. The policy sees the address that is dialed, so DNS cannot move
// a stream to a forbidden address between the check and the connect.
func (s *session) dial(ctx context.Context, id uint32, c wisp.Connect) (net.Conn, error) {
	if isEndpoint(c.Host) {
		if tok := s.scope.token; tok != nil && !grantsEndpoint(tok.allow, c.Host, c.Port) {
			return nil, s.outOfScope(id, c, "no allow rule of the token names the endpoint")
		}
		return s.h.dialEndpoint(ctx, c)
	}
	allowed, err := s.destinations(ctx, id, c)
	if err != nil {
		return nil, err
	}
	d := net.Dialer{ControlContext: s.recheck(c.Host)}
	var last error
	for _, ip := range allowed {
		conn, err := d.DialContext(ctx, "tcp", netip.AddrPortFrom(ip, c.Port).String())
		if err == nil {
			return conn, nil
		}
		last = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, &dialError{connectReason(last), last}
}

// dialUDP opens a UDP socket connected to the destination of a CONNECT,
// under the same policy as TCP.
func (s *session) dialUDP(ctx context.Context, id uint32, c wisp.Connect) (*net.UDPConn, error) {
	allowed, err := s.destinations(ctx, id, c)
	if err != nil {
		return nil, err
	}
	d := net.Dialer{ControlContext: s.recheck(c.Host)}
	conn, err := d.DialContext(ctx, "udp", netip.AddrPortFrom(allowed[0], c.Port).String())
	if err != nil {
		return nil, &dialError{connectReason(err), err}
	}
	return conn.(*net.UDPConn), nil
}

// destinations resolves the host of a CONNECT and returns the addresses
// the policy allows, or the reason there are none. Every decision goes to
// the log: refusals at info level, the rest at debug level.
func (s *session) destinations(ctx context.Context, id uint32, c wisp.Connect) ([]netip.Addr, error) {
	if c.Port == 0 {
		return nil, &dialError{wisp.ReasonInvalid, errors.New("port 0")}
	}
	ip, err := parseHost(c.Host)
	if err != nil {
		return nil, &dialError{wisp.ReasonInvalid, fmt.Errorf("%w %q", err, c.Host)}
	}
	candidates := []netip.Addr{ip}
	if !ip.IsValid() {
		candidates, err = s.h.resolver.LookupNetIP(ctx, "ip", c.Host)
		if err != nil {
			return nil, &dialError{resolveReason(err), err}
		}
	}
	var allowed []netip.Addr
	var refusal, special Decision
	for _, ip := range candidates {
		ip = ip.Unmap()
		d := s.scope.policy.Check(c.Host, ip, c.Port)
		if d.Allowed {
			s.log.Debug("policy allows", "stream", id, "host", c.Host, "addr", ip, "port", c.Port, "why", d.Why)
			allowed = append(allowed, ip)
			continue
		}
		s.log.Info("policy refuses", "stream", id, "host", c.Host, "addr", ip, "port", c.Port, "why", d.Why)
		refusal = d
		if d.kind != refusedNoRule {
			special = d
		}
	}
	// A name that points into a forbidden range as well as outside it is
	// refused whole: mixing a public answer with a private one is how a
	// rebinding attacker gets a client to fall back to the private one.
	if special.kind != 0 && len(allowed) > 0 {
		s.log.Info("policy refuses", "stream", id, "host", c.Host, "port", c.Port,
			"why", "the name also resolves to a refused address: "+special.Why)
		return nil, s.refused(special)
	}
	if len(allowed) > 0 {
		return allowed, nil
	}
	return nil, s.refused(refusal)
}

// refused is the error of a destination the policy refused: out of the
// token's scope if another token could grant it, else blocked. Another
// token could unless a deny rule refused it, or it lies in a special range
// that no token may open (TokenConfig.OpenSpecial is off).
func (s *session) refused(d Decision) error {
	if s.scope.token != nil && (d.kind == refusedNoRule || d.kind == refusedSpecial && !s.scope.policy.keepSpecial) {
		s.h.stats.policyRefused[outOfScope].Add(1)
		return &dialError{wisp.ReasonOutOfScope, errors.New("outside the token's scope: " + d.Why)}
	}
	s.h.stats.policyRefused[d.kind].Add(1)
	return &dialError{wisp.ReasonBlocked, errors.New(d.Why)}
}

func (s *session) outOfScope(id uint32, c wisp.Connect, why string) error {
	s.log.Info("policy refuses", "stream", id, "host", c.Host, "port", c.Port, "why", why)
	s.h.stats.policyRefused[outOfScope].Add(1)
	return &dialError{wisp.ReasonOutOfScope, errors.New(why)}
}

// recheck checks the policy again at the socket, where nothing can change
// the address any more.
func (s *session) recheck(host string) func(context.Context, string, string, syscall.RawConn) error {
	return func(_ context.Context, network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return err
		}
		if d := s.scope.policy.Check(host, ap.Addr().Unmap(), ap.Port()); !d.Allowed {
			s.log.Info("policy refuses at the socket", "host", host, "addr", ap.Addr(), "port", ap.Port(), "why", d.Why)
			return s.refused(d)
		}
		if guard := s.h.socketGuard; guard != nil {
			return guard(network, ap)
		}
		return nil
	}
}

// dialFailed logs and counts a failed connect.
func (s *session) dialFailed(id uint32, c wisp.Connect, err error) {
	reason := connectReason(err)
	s.h.stats.dialError(reason)
	level := slog.LevelInfo
	if s.ctx.Err() != nil {
		level = slog.LevelDebug // the session ended first
	}
	s.log.Log(context.Background(), level, "connect failed", "stream", id, "host", c.Host, "port", c.Port,
		"reason", reason, "err", err)
}

func isEndpoint(host string) bool {
	return strings.HasSuffix(strings.ToLower(strings.TrimSuffix(host, ".")), EndpointSuffix)
}

// resolveReason maps a DNS failure to a close reason.
func resolveReason(err error) wisp.Reason {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsTimeout {
		return wisp.ReasonConnectTimeout
	}
	return wisp.ReasonUnreachable
}

// connectReason maps a failed connect to a close reason.
func connectReason(err error) wisp.Reason {
	var de *dialError
	switch {
	case errors.As(err, &de):
		return de.reason
	case errors.Is(err, syscall.ECONNREFUSED):
		return wisp.ReasonRefused
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return wisp.ReasonUnreachable
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded), errors.Is(err, syscall.ETIMEDOUT):
		return wisp.ReasonConnectTimeout
	}
	return wisp.ReasonNetworkError
}

// resetReason maps an error on an open stream to a close reason.
func resetReason(err error) wisp.Reason {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return wisp.ReasonTransferTimeout
	}
	return wisp.ReasonNetworkError
}
