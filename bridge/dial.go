package bridge

import (
	"context"
	"errors"
	"fmt"
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

// dial resolves the destination of a CONNECT, checks every address against
// the policy and connects to the first allowed address that answers. The
// policy sees the address that is dialed, so DNS cannot move a stream to a
// forbidden address between the check and the connect.
func (h *Handler) dial(ctx context.Context, c wisp.Connect) (net.Conn, error) {
	if isEndpoint(c.Host) {
		return h.dialEndpoint(ctx, c)
	}
	allowed, err := h.destinations(ctx, c)
	if err != nil {
		return nil, err
	}
	d := net.Dialer{
		Timeout:        h.cfg.DialTimeout,
		ControlContext: h.recheck(c.Host),
	}
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
func (h *Handler) dialUDP(ctx context.Context, c wisp.Connect) (*net.UDPConn, error) {
	allowed, err := h.destinations(ctx, c)
	if err != nil {
		return nil, err
	}
	d := net.Dialer{ControlContext: h.recheck(c.Host)}
	conn, err := d.DialContext(ctx, "udp", netip.AddrPortFrom(allowed[0], c.Port).String())
	if err != nil {
		return nil, &dialError{connectReason(err), err}
	}
	return conn.(*net.UDPConn), nil
}

// destinations resolves the host of a CONNECT and returns the addresses
// the policy allows, or the reason there are none.
func (h *Handler) destinations(ctx context.Context, c wisp.Connect) ([]netip.Addr, error) {
	if c.Port == 0 {
		return nil, &dialError{wisp.ReasonInvalid, errors.New("port 0")}
	}
	ip, err := parseHost(c.Host)
	if err != nil {
		return nil, &dialError{wisp.ReasonInvalid, fmt.Errorf("%w %q", err, c.Host)}
	}
	candidates := []netip.Addr{ip}
	if !ip.IsValid() {
		candidates, err = h.resolver.LookupNetIP(ctx, "ip", c.Host)
		if err != nil {
			return nil, &dialError{resolveReason(err), err}
		}
	}
	var allowed []netip.Addr
	var refusal Decision
	for _, ip := range candidates {
		ip = ip.Unmap()
		if d := h.policy.Check(c.Host, ip, c.Port); d.Allowed {
			allowed = append(allowed, ip)
		} else {
			refusal = d
		}
	}
	if len(allowed) == 0 {
		return nil, &dialError{wisp.ReasonBlocked, errors.New(refusal.Why)}
	}
	return allowed, nil
}

// recheck checks the policy again at the socket, where nothing can change
// the address any more.
func (h *Handler) recheck(host string) func(context.Context, string, string, syscall.RawConn) error {
	return func(_ context.Context, _, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return err
		}
		if d := h.policy.Check(host, ap.Addr().Unmap(), ap.Port()); !d.Allowed {
			return &dialError{wisp.ReasonBlocked, errors.New(d.Why)}
		}
		return nil
	}
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
