package wasmnet

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/wasmnet/wasmnet/internal/buffer"
	"github.com/wasmnet/wasmnet/wisp"
)

// DefaultWindow is the receive window per stream when Dialer.Window is
// zero: how many bytes the bridge may send ahead of the program's reads.
// Data in flight waits in socket buffers on the way, so a window of 512
// KiB kept a native download through the bridge waiting for WINDOW at
// about 1150–1470 MB/s where 2 MiB gave 1700–1780 (go test -bench
// Download/bridge ./wasm/wasmnet/, this machine).
const DefaultWindow = 2 << 20

// A Dialer opens streams through one bridge. All its dials share one
// session, a single WebSocket, opened on first use and opened again after
// it is lost. The zero value dials DefaultBridge(). A Dialer is safe for
// concurrent use.
type Dialer struct {
	// Bridge is the bridge's WebSocket URL, such as
	// "wss://bridge.example/wisp/". Empty means DefaultBridge().
	Bridge string

	// Token is a capability token for the bridge, if it asks for one.
	// Browsers cannot set headers on a WebSocket, so it travels as a
	// WebSocket subprotocol. Empty means $WASMNET_TOKEN.
	Token string

	// Timeout bounds each dial, opening the session included. Zero means
	// no bound beyond the context's.
	Timeout time.Duration

	// Window is the receive window per stream, in bytes. Zero means
	// DefaultWindow. It bounds what a stream holds when the program reads
	// slowly, if the bridge supports the window extension.
	Window int

	mu      sync.Mutex
	sess    *session
	opening *opening
}

// opening is a session being opened, which concurrent dials wait for.
type opening struct {
	done chan struct{}
	sess *session
	err  error
}

// DefaultDialer is used by Dial and DialContext.
var DefaultDialer = &Dialer{}

// Dial connects to address through the default bridge. See Dialer.Dial.
func Dial(network, address string) (net.Conn, error) {
	return DefaultDialer.Dial(network, address)
}

// DialContext is Dial with a context.
func DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	return DefaultDialer.DialContext(ctx, network, address)
}

// DefaultBridge is the bridge URL used when none is set: the environment
// variable WASMNET_BRIDGE, or in a browser "/wisp/" on the page's origin.
func DefaultBridge() string {
	if u := os.Getenv("WASMNET_BRIDGE"); u != "" {
		return u
	}
	return locationBridge()
}

// Dial connects to address on the named network through the bridge. The
// network is "tcp" or "udp" ("tcp4", "tcp6", "udp4" and "udp6" are taken
// as those; the bridge chooses the address family). The address has the
// form "host:port"; the bridge resolves the host. A host under
// ".wasmnet.internal" names an endpoint another session registered with
// Listen.
//
// When the bridge supports it, Dial returns once the bridge has connected,
// and a refused, unreachable or forbidden destination is its error.
// Otherwise such errors come from the first Read or Write.
func (d *Dialer) Dial(network, address string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, address)
}

// DialContext is Dial with a context, which bounds the dial only, not the
// stream it returns. Like Dial, it opens "tcp" and "udp" streams (and
// their "4" and "6" forms); a "udp" stream is a *UDPConn.
func (d *Dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	fail := func(addr net.Addr, err error) (net.Conn, error) {
		return nil, &net.OpError{Op: "dial", Net: network, Addr: addr, Err: err}
	}
	var streamType wisp.StreamType
	switch network {
	case "tcp", "tcp4", "tcp6":
		streamType = wisp.StreamTCP
	case "udp", "udp4", "udp6":
		streamType = wisp.StreamUDP
	default:
		return fail(nil, net.UnknownNetworkError(network))
	}
	base := network[:3] // "tcp" or "udp"
	host, portStr, err := net.SplitHostPort(address)
	if err != nil {
		return fail(nil, err)
	}
	port, err := lookupPort(network, portStr)
	if err != nil {
		return fail(nil, err)
	}
	raddr := hostAddr(base, host, port)

	if d.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.Timeout)
		defer cancel()
	}
	s, err := d.session(ctx)
	if err != nil {
		return fail(raddr, err)
	}
	if streamType == wisp.StreamUDP && !s.feat.udp {
		return fail(raddr, errors.New("the bridge does not offer UDP"))
	}
	c := newConn(s, base, raddr)
	if err := s.add(c); err != nil {
		return fail(raddr, err)
	}
	connect := wisp.Packet{Type: wisp.TypeConnect, Stream: c.id, Connect: wisp.Connect{
		StreamType: streamType, Port: port, Host: host,
	}}
	s.control(connect.Append(buffer.Get(wisp.HeaderLen + 3 + len(host))[:0]))
	if s.feat.opened {
		select {
		case <-c.opened:
			c.mu.Lock()
			err := c.openErr
			c.mu.Unlock()
			if err != nil {
				c.Close()
				return fail(raddr, err)
			}
		case <-ctx.Done():
			c.Close()
			return fail(raddr, contextError{ctx.Err()})
		}
	}
	if c.datagram {
		return &UDPConn{c}, nil
	}
	return c, nil
}

// session returns the live session, opening one if there is none.
func (d *Dialer) session(ctx context.Context) (*session, error) {
	d.mu.Lock()
	if d.sess != nil && d.sess.alive() {
		s := d.sess
		d.mu.Unlock()
		return s, nil
	}
	op := d.opening
	if op == nil {
		op = &opening{done: make(chan struct{})}
		d.opening = op
		d.mu.Unlock()

		url := d.Bridge
		if url == "" {
			url = DefaultBridge()
		}
		if url == "" {
			op.err = errors.New("wasmnet: no bridge URL: set Dialer.Bridge or WASMNET_BRIDGE")
		} else {
			op.sess, op.err = openSession(ctx, url, d.protocols(), d.window())
		}

		d.mu.Lock()
		d.opening = nil
		if op.err == nil {
			d.sess = op.sess
		}
		close(op.done)
	}
	d.mu.Unlock()

	select {
	case <-op.done:
		return op.sess, op.err
	case <-ctx.Done():
		return nil, contextError{ctx.Err()}
	}
}

// protocols are the subprotocols offered to the bridge: Wisp v2, then the
// token, if any.
func (d *Dialer) protocols() []string {
	token := d.Token
	if token == "" {
		token = os.Getenv("WASMNET_TOKEN")
	}
	if token == "" {
		return []string{subprotocol}
	}
	return []string{subprotocol, tokenProtocolPrefix + token}
}

func (d *Dialer) window() uint32 {
	if d.Window <= 0 {
		return DefaultWindow
	}
	return uint32(min(d.Window, 1<<30))
}

// Close ends the Dialer's session, after sending the bridge what was
// written and closed before, as closing a socket does. Its open streams
// and listeners then fail; a later dial opens a new session.
func (d *Dialer) Close() error {
	d.mu.Lock()
	s := d.sess
	d.sess = nil
	d.mu.Unlock()
	if s != nil {
		s.shutdown(net.ErrClosed)
	}
	return nil
}

// Stats describes what a Dialer's session holds.
type Stats struct {
	Streams      int // open streams
	RecvBuffered int // bytes received from the bridge and not yet read
	SendQueued   int // bytes waiting to be written to the bridge
}

// Stats reports what the current session holds, for tests and for a
// program that watches its own memory.
func (d *Dialer) Stats() Stats {
	d.mu.Lock()
	s := d.sess
	d.mu.Unlock()
	if s == nil {
		return Stats{}
	}
	return s.stats()
}

// hostAddr is the remote address before the bridge reports the real one:
// a *net.TCPAddr or *net.UDPAddr for an IP literal, else the name itself.
func hostAddr(network, host string, port uint16) net.Addr {
	if ip, err := netip.ParseAddr(host); err == nil {
		return addrFor(network, netip.AddrPortFrom(ip, port))
	}
	return nameAddr{network: network, addr: net.JoinHostPort(host, strconv.Itoa(int(port)))}
}

type nameAddr struct{ network, addr string }

func (a nameAddr) Network() string { return a.network }
func (a nameAddr) String() string  { return a.addr }

func lookupPort(network, service string) (uint16, error) {
	if n, err := strconv.ParseUint(service, 10, 16); err == nil {
		return uint16(n), nil
	}
	n, err := net.LookupPort(network, service)
	if err != nil {
		return 0, err
	}
	return uint16(n), nil
}

// contextError reports a dial cut short by its context, in the shape
// package net uses.
type contextError struct{ err error }

func (e contextError) Error() string {
	if e.err == context.DeadlineExceeded {
		return "i/o timeout"
	}
	return "operation was canceled"
}
func (e contextError) Timeout() bool   { return e.err == context.DeadlineExceeded }
func (e contextError) Temporary() bool { return e.Timeout() }
func (e contextError) Unwrap() error   { return e.err }
