//go:build !js && !wasip1

package bridge

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/wasmnet/wasmnet/internal/buffer"
	"github.com/wasmnet/wasmnet/wisp"
)

// ListenConfig lets clients listen through the bridge. A client's LISTEN
// asks for either a public port, which anything that can reach the bridge
// host may connect to, or a named endpoint under EndpointSuffix, which
// other sessions reach by dialing the name.
type ListenConfig struct {
	// Addr is the address public ports are bound on. The zero value means
	// every address of the host.
	Addr netip.Addr

	// PortLow and PortHigh bound the public ports clients may take. When
	// both are zero, clients may not take public ports.
	PortLow, PortHigh uint16

	// Endpoints lets clients register named endpoints.
	Endpoints bool

	// MaxPerSession bounds the listeners of one session. Zero means 16.
	MaxPerSession int
}

// listener is a LISTEN the bridge serves: it hands each connection that
// arrives to its session as a new stream.
type listener struct {
	s   *session
	id  uint32
	ln  *net.TCPListener
	key string // the endpoint's name and port, or "" for a public port

	once sync.Once
}

// listen opens a listener for a client's LISTEN, or refuses it with the
// reason: 0xD4 when the bridge does not listen this way, 0xD6 when it does
// but the session's token does not grant it.
func (s *session) listen(id uint32, c wisp.Connect) error {
	refuse := func(r wisp.Reason, why string) error {
		s.log.Info("listen refused", "stream", id, "host", c.Host, "port", c.Port, "reason", r, "why", why)
		if r == wisp.ReasonOutOfScope {
			s.h.stats.policyRefused[outOfScope].Add(1)
		}
		s.control(closePacket(id, r))
		return nil
	}
	cfg := s.h.cfg.Listen
	tok := s.scope.token
	switch {
	case cfg == nil:
		return refuse(wisp.ReasonListenDisabled, "listening is off")
	case c.StreamType != wisp.StreamTCP:
		return refuse(wisp.ReasonInvalid, "only TCP listens")
	case s.draining.Load():
		return refuse(wisp.ReasonShutdown, "the bridge is shutting down")
	case s.listeners() >= cfg.maxPerSession():
		s.h.stats.limit(limitListeners)
		return refuse(wisp.ReasonThrottled, "too many listeners")
	case tok != nil && tok.claims.Listen == nil:
		return refuse(wisp.ReasonOutOfScope, "the token grants no listening")
	}

	l := &listener{s: s, id: id}
	if isEndpoint(c.Host) {
		switch {
		case !cfg.Endpoints:
			return refuse(wisp.ReasonListenDisabled, "named endpoints are off")
		case c.Port == 0:
			return refuse(wisp.ReasonInvalid, "an endpoint needs a port")
		case tok != nil && !grantsEndpoint(tok.endpoints, c.Host, c.Port):
			return refuse(wisp.ReasonOutOfScope, "the token does not grant this endpoint")
		}
		l.key = endpointKey(c.Host, c.Port)
		s.h.mu.Lock()
		if s.h.endpoints[l.key] != nil {
			s.h.mu.Unlock()
			return refuse(wisp.ReasonAddrInUse, "endpoint in use")
		}
		// Behind each name is a private listener on loopback; dials to the
		// name go there.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			s.h.mu.Unlock()
			return refuse(wisp.ReasonNetworkError, err.Error())
		}
		l.ln = ln.(*net.TCPListener)
		s.h.endpoints[l.key] = l
		s.h.mu.Unlock()
	} else {
		if _, err := netip.ParseAddr(strings.Trim(c.Host, "[]")); c.Host != "" && err != nil {
			return refuse(wisp.ReasonInvalid, "listen on an address, or a name under "+EndpointSuffix)
		}
		low, high := cfg.PortLow, cfg.PortHigh
		if low == 0 && high == 0 {
			return refuse(wisp.ReasonListenDisabled, "public ports are off")
		}
		if c.Port != 0 && (c.Port < low || c.Port > high) {
			return refuse(wisp.ReasonPortRange, "port outside "+strconv.Itoa(int(low))+"-"+strconv.Itoa(int(high)))
		}
		if tok != nil {
			// The token's range, within the bridge's.
			low, high = max(low, tok.portLow), min(high, tok.portHigh)
			if tok.portLow == 0 || low > high || c.Port != 0 && (c.Port < low || c.Port > high) {
				return refuse(wisp.ReasonOutOfScope, "the token does not grant this port")
			}
		}
		ln, err := bindPublic(cfg.Addr, low, high, c.Port)
		if errors.Is(err, syscall.EADDRINUSE) {
			return refuse(wisp.ReasonAddrInUse, err.Error())
		}
		if err != nil {
			return refuse(wisp.ReasonNetworkError, err.Error())
		}
		l.ln = ln
	}

	if err := s.add(id, l); err != nil {
		l.closeListener()
		if err == errRefused {
			return nil
		}
		return err
	}
	opened := wisp.Packet{Type: wisp.TypeOpened, Stream: id}
	if l.key == "" {
		opened.Opened.Local = unmapped(l.ln.Addr())
	}
	s.control(opened.Append(buffer.Get(64)[:0]))
	s.log.Info("listening", "stream", id, "addr", l.ln.Addr().String(), "endpoint", l.key)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		l.acceptLoop()
	}()
	return nil
}

// bindPublic binds port on addr, or any free port from low to high for
// port 0.
func bindPublic(addr netip.Addr, low, high, port uint16) (*net.TCPListener, error) {
	ip := net.IP(nil)
	if addr.IsValid() {
		ip = addr.AsSlice()
	}
	try := func(p uint16) (*net.TCPListener, error) {
		return net.ListenTCP("tcp", &net.TCPAddr{IP: ip, Port: int(p)})
	}
	if port != 0 {
		return try(port)
	}
	n := int(high) - int(low) + 1
	start := rand.IntN(n)
	for i := range n {
		ln, err := try(uint16(int(low) + (start+i)%n))
		if err == nil || !errors.Is(err, syscall.EADDRINUSE) {
			return ln, err
		}
	}
	return nil, syscall.EADDRINUSE
}

func (l *listener) acceptLoop() {
	for {
		conn, err := l.ln.AcceptTCP()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				l.end(wisp.ReasonNetworkError, false)
			}
			return
		}
		st := newStream(l.s, 0, wisp.Connect{StreamType: wisp.StreamTCP})
		if l.s.ctx.Err() != nil || !l.s.addAccepted(st) {
			conn.SetLinger(0)
			conn.Close()
			continue
		}
		l.s.wg.Add(1)
		go func() {
			defer l.s.wg.Done()
			st.runAccepted(l.id, conn)
		}()
	}
}

// A listener takes no data; what a client sends it is dropped.
func (l *listener) clientData(msg []byte, _ int) { buffer.Put(msg) }

func (l *listener) clientClose(wisp.Reason) { l.end(0, false) }

func (l *listener) grant(int) {}

// end closes the listener, which frees its port or name at once, and tells
// the client why unless r is zero. The port or name is free before the
// CLOSE goes and before Stats stops counting the listener, so that a
// client may listen on it again as soon as it hears.
func (l *listener) end(r wisp.Reason, _ bool) {
	l.once.Do(func() {
		l.closeListener()
		l.s.remove(l.id, r)
	})
}

func (l *listener) closeListener() {
	if l.key != "" {
		l.s.h.mu.Lock()
		if l.s.h.endpoints[l.key] == l {
			delete(l.s.h.endpoints, l.key)
		}
		l.s.h.mu.Unlock()
	}
	if l.ln != nil {
		l.ln.Close()
	}
}

// listeners counts the session's listeners.
func (s *session) listeners() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, ch := range s.streams {
		if _, ok := ch.(*listener); ok {
			n++
		}
	}
	return n
}

// dialEndpoint connects a CONNECT for a name under EndpointSuffix to the
// session listening on it.
func (h *Handler) dialEndpoint(ctx context.Context, c wisp.Connect) (net.Conn, error) {
	if h.cfg.Listen == nil || !h.cfg.Listen.Endpoints {
		return nil, &dialError{wisp.ReasonRefused, errors.New("named endpoints are off")}
	}
	h.mu.Lock()
	l := h.endpoints[endpointKey(c.Host, c.Port)]
	h.mu.Unlock()
	if l == nil {
		return nil, &dialError{wisp.ReasonRefused, errors.New("no session listens on " + c.Host + ":" + strconv.Itoa(int(c.Port)))}
	}
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", l.ln.Addr().String())
	if err != nil {
		return nil, &dialError{connectReason(err), err}
	}
	return conn, nil
}

func endpointKey(host string, port uint16) string {
	return strings.ToLower(strings.TrimSuffix(host, ".")) + ":" + strconv.Itoa(int(port))
}

func (c *ListenConfig) maxPerSession() int {
	if c.MaxPerSession > 0 {
		return c.MaxPerSession
	}
	return 16
}
