package wasmnet

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/wasmnet/wasmnet/internal/buffer"
	"github.com/wasmnet/wasmnet/wisp"
)

var _ net.Listener = (*Listener)(nil)

// EndpointSuffix ends the names of endpoints: Listen on
// "chat.wasmnet.internal:80" registers an endpoint on the bridge, and
// another session reaches it by dialing that address.
const EndpointSuffix = ".wasmnet.internal"

// backlog is how many accepted connections wait for Accept. Past it, the
// bridge's new connections are refused.
const backlog = 64

// Listener is a TCP listener on the bridge: a public port on the bridge
// host, or a named endpoint that other sessions dial. It implements
// net.Listener. Closing it, or losing the session, frees the port or name
// at once.
type Listener struct {
	s    *session
	id   uint32
	addr net.Addr

	accepts chan *Conn
	opened  chan struct{} // closed by OPENED or by a CLOSE before it

	closeOnce sync.Once
	closed    chan struct{} // closed by Close

	mu      sync.Mutex
	openErr error // why the bridge refused
	err     error // why the listener stopped: the bridge closed it, or the session failed
	failed  chan struct{}
}

// Listen listens through the default bridge. See Dialer.Listen.
func Listen(network, address string) (net.Listener, error) {
	return DefaultDialer.Listen(network, address)
}

// Listen asks the bridge to listen for this program. The network must be
// "tcp" ("tcp4" and "tcp6" are taken as "tcp"). The address chooses what
// is listened on:
//
//   - ":port", "0.0.0.0:port" or any IP address with a port: a public port
//     on the bridge host, which any TCP client that can reach the host may
//     connect to. Port 0 takes any free port of the bridge's range. The
//     bridge binds its configured address whatever IP is given.
//   - "name.wasmnet.internal:port": a named endpoint on the bridge, which
//     other sessions reach with Dial to the same address.
//
// The bridge must have listening enabled; it refuses a port outside its
// range and a port or name in use. Addr reports where the listener can be
// reached.
func (d *Dialer) Listen(network, address string) (net.Listener, error) {
	return d.ListenContext(context.Background(), network, address)
}

// ListenContext is Listen with a context that bounds the setting up.
func (d *Dialer) ListenContext(ctx context.Context, network, address string) (net.Listener, error) {
	fail := func(err error) (net.Listener, error) {
		return nil, &net.OpError{Op: "listen", Net: network, Addr: nameAddr{network, address}, Err: err}
	}
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return fail(net.UnknownNetworkError(network))
	}
	host, portStr, err := net.SplitHostPort(address)
	if err != nil {
		return fail(err)
	}
	port, err := lookupPort(network, portStr)
	if err != nil {
		return fail(err)
	}
	endpoint := strings.HasSuffix(strings.ToLower(strings.TrimSuffix(host, ".")), EndpointSuffix)
	if !endpoint && host != "" {
		if _, err := netip.ParseAddr(host); err != nil {
			return fail(errors.New("listen on an IP address, or a name under " + EndpointSuffix[1:]))
		}
	}
	if endpoint && port == 0 {
		return fail(errors.New("an endpoint needs a port"))
	}

	if d.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.Timeout)
		defer cancel()
	}
	s, err := d.session(ctx)
	if err != nil {
		return fail(err)
	}
	if !s.feat.listen {
		return fail(errors.New("the bridge does not offer listening"))
	}
	l := &Listener{
		s:       s,
		accepts: make(chan *Conn, backlog),
		opened:  make(chan struct{}),
		closed:  make(chan struct{}),
		failed:  make(chan struct{}),
	}
	if err := s.addListener(l); err != nil {
		return fail(err)
	}
	p := wisp.Packet{Type: wisp.TypeListen, Stream: l.id, Connect: wisp.Connect{
		StreamType: wisp.StreamTCP, Port: port, Host: host,
	}}
	s.control(p.Append(buffer.Get(wisp.HeaderLen + 3 + len(host))[:0]))

	select {
	case <-l.opened:
	case <-ctx.Done():
		l.Close()
		return fail(contextError{ctx.Err()})
	}
	l.mu.Lock()
	err = l.openErr
	l.mu.Unlock()
	if err != nil {
		return fail(err)
	}
	if endpoint {
		l.addr = nameAddr{"tcp", net.JoinHostPort(host, strconv.Itoa(int(port)))}
	}
	return l, nil
}

// Accept waits for the next connection to the listener.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.accepts:
		return c, nil
	case <-l.closed:
		return nil, l.opError(net.ErrClosed)
	case <-l.failed:
		// Hand out what arrived before the end.
		select {
		case c := <-l.accepts:
			return c, nil
		default:
		}
		l.mu.Lock()
		err := l.err
		l.mu.Unlock()
		return nil, l.opError(err)
	}
}

// Close stops listening; the bridge frees the port or name at once.
// Connections already accepted stay open.
func (l *Listener) Close() error {
	first := false
	l.closeOnce.Do(func() {
		first = true
		close(l.closed)
	})
	if !first {
		return l.opError(net.ErrClosed)
	}
	l.s.remove(l.id)
	l.mu.Lock()
	remoteDone := l.err != nil
	l.mu.Unlock()
	if !remoteDone {
		l.s.control(closePacket(l.id, wisp.ReasonVoluntary))
	}
	for {
		select {
		case c := <-l.accepts:
			c.Close()
		default:
			return nil
		}
	}
}

// Addr is where the listener can be reached: the bridge host and the port
// it bound, or the endpoint's name.
func (l *Listener) Addr() net.Addr { return l.addr }

// queue hands an accepted connection to Accept; it reports false when the
// backlog is full.
func (l *Listener) queue(c *Conn) bool {
	select {
	case l.accepts <- c:
		return true
	default:
		return false
	}
}

// setOpened takes the bridge's OPENED: the listener is up.
func (l *Listener) setOpened(o wisp.Opened) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if o.Local.IsValid() {
		l.addr = publicAddr(l.s.url, o.Local)
	}
	closeOnce(l.opened)
}

// remoteClose takes a CLOSE: the bridge refused the LISTEN or stopped
// listening.
func (l *Listener) remoteClose(r wisp.Reason) {
	l.s.remove(l.id)
	l.fail(&CloseError{Reason: r})
}

func (l *Listener) sessionLost(err error) { l.fail(err) }

func (l *Listener) fail(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return
	}
	l.err = err
	if !isClosed(l.opened) {
		l.openErr = err
		close(l.opened)
	}
	close(l.failed)
}

func (l *Listener) opError(err error) error {
	return &net.OpError{Op: "accept", Net: "tcp", Addr: l.addr, Err: err}
}

// publicAddr is the address of a public port. A bridge bound to every
// address reports the unspecified address; the host of the bridge's URL is
// then the best guess of where clients reach it.
func publicAddr(bridge string, ap netip.AddrPort) net.Addr {
	if !ap.Addr().IsUnspecified() {
		return net.TCPAddrFromAddrPort(ap)
	}
	u, err := url.Parse(bridge)
	if err != nil || u.Hostname() == "" {
		return net.TCPAddrFromAddrPort(ap)
	}
	if ip, err := netip.ParseAddr(u.Hostname()); err == nil {
		return net.TCPAddrFromAddrPort(netip.AddrPortFrom(ip, ap.Port()))
	}
	return nameAddr{"tcp", net.JoinHostPort(u.Hostname(), strconv.Itoa(int(ap.Port())))}
}
