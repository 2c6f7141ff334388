//go:build js && wasm

package jsapi

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hack-pad/safejs"

	"github.com/wasmnet/wasmnet/wasm/internal/webapi"
	"github.com/wasmnet/wasmnet/wasm/wasmnet"
)

// readSize is the most one read() returns. The bridge sends at most 64 KiB
// per packet; a read takes what has arrived, up to this.
const readSize = 128 << 10

// socket is a stream as JavaScript sees it: reads and writes go to conn,
// which is the stream itself or TLS over it. A connected UDP socket is one
// too: each read returns a datagram and each write sends one.
type socket struct {
	id     int
	conn   net.Conn // the stream, or a *tls.Conn over it
	stream net.Conn // the stream, for its addresses and CloseWrite

	// upgraded is set by startTls: the stream now belongs to the TLS
	// socket made from this one, and this one gives it up.
	upgraded atomic.Bool

	rmu  sync.Mutex // one read at a time
	rbuf []byte
	wmu  sync.Mutex // one write at a time
	wbuf []byte

	// The pipe, once pipe() has started it: more is signalled by
	// resume(), stop is closed by close() and startTls(). They are made
	// on first use (see chans).
	piped    atomic.Bool
	pipeInit sync.Once
	more     chan struct{}
	stop     chan struct{}
	stopOnce sync.Once
}

// chans returns the pipe's channels, made on first use.
func (s *socket) chans() (more, stop chan struct{}) {
	s.pipeInit.Do(func() {
		s.more = make(chan struct{}, 1)
		s.stop = make(chan struct{})
	})
	return s.more, s.stop
}

// halt ends the pipe, if there is one.
func (s *socket) halt() {
	_, stop := s.chans()
	s.stopOnce.Do(func() { close(stop) })
}

// info describes the socket to JavaScript: its id and addresses, and its
// TLS connection when there is one.
func (s *socket) info() (safejs.Value, error) {
	fields := map[string]any{"id": s.id}
	addAddr(fields, "remote", s.stream.RemoteAddr())
	addAddr(fields, "local", s.stream.LocalAddr())
	if t, ok := s.conn.(*tls.Conn); ok {
		st := t.ConnectionState()
		info, err := object(map[string]any{
			"version":     tls.VersionName(st.Version),
			"cipherSuite": tls.CipherSuiteName(st.CipherSuite),
			"serverName":  st.ServerName,
			"alpn":        st.NegotiatedProtocol,
		})
		if err != nil {
			return info, err
		}
		fields["tls"] = info
	}
	return object(fields)
}

// addAddr sets the address fields of an info object: prefix+"Address"
// and prefix+"Port".
func addAddr(fields map[string]any, prefix string, a net.Addr) {
	switch a := a.(type) {
	case *net.TCPAddr:
		if a.IP != nil {
			fields[prefix+"Address"] = a.IP.String()
			fields[prefix+"Port"] = a.Port
			return
		}
	case *net.UDPAddr:
		if a.IP != nil {
			fields[prefix+"Address"] = a.IP.String()
			fields[prefix+"Port"] = a.Port
			return
		}
	}
	if host, port, err := net.SplitHostPort(a.String()); err == nil {
		fields[prefix+"Address"] = host
		fields[prefix+"Port"], _ = strconv.Atoi(port)
	}
}

// read(id, max?) returns the next bytes, at most max, or null at the end
// of the stream. Data is only read from the stream when JavaScript asks,
// so a page that stops reading stops the bridge sending, by the stream's
// receive window.
func (a *api) read(args []safejs.Value) (any, error) {
	s, err := lookup[*socket](&a.handles, args)
	if err != nil {
		return nil, err
	}
	size := readSize
	if max, ok := number(arg(args, 1)); ok && max > 0 && max < size {
		size = max
	}
	s.rmu.Lock()
	defer s.rmu.Unlock()
	if s.upgraded.Load() {
		return safejs.Null(), nil // the plaintext part of the stream has ended
	}
	if cap(s.rbuf) < size {
		s.rbuf = make([]byte, readSize)
	}
	n, err := s.conn.Read(s.rbuf[:size])
	if n > 0 || err == nil { // an empty UDP datagram is a datagram
		return webapi.Bytes(s.rbuf[:n])
	}
	if err == io.EOF || s.upgraded.Load() {
		return safejs.Null(), nil
	}
	return nil, domError(err)
}

// pipe(id, deliver) pushes the socket's data to JavaScript, which asks
// for it with resume(id): for each resume, Go reads what the stream holds
// (at most readSize bytes, waiting for some if there is none) and calls
// deliver(id, chunk) with a Uint8Array, then reads again for as long as
// deliver returns true. At the end of the stream deliver gets null, and on
// an error the exception; then the pipe ends. This is read() without a
// call from JavaScript into Go, a Promise and a goroutine per chunk: a
// stream read as fast as it arrives costs no call into Go at all. The
// flow control is the same, since Go reads only while JavaScript wants
// more. pipe() and resume() return at once.
//
// A plain TCP stream on a session with a tap (see wasmnet.Conn.HandOff)
// is handed to JavaScript instead, and pipe returns {tap, stream, window,
// owed, data, writes, credit}: the caller claims the stream on the tap at
// once, puts data (a Uint8Array or null) first, and grants the window as
// the page reads. The pipe then delivers only the end or the error, and
// data that reached Go anyway, in order; its deliver should always return
// true. pipe(id, deliver, true) hands the writes over too, with credit
// DATA packets to start with: the caller must write DATA through Go no
// more (see wasmnet.Conn.HandOff).
func (a *api) pipe(args []safejs.Value) (any, error) {
	s, err := lookup[*socket](&a.handles, args)
	if err != nil {
		return nil, err
	}
	deliver := arg(args, 1)
	if deliver.Type() != safejs.TypeFunction {
		return nil, typeError("pipe(id, deliver) needs a function")
	}
	if !s.piped.CompareAndSwap(false, true) {
		return nil, named(invalidState, errors.New("wasmnet: the socket is already piped"))
	}
	var handedOff any
	if c, ok := s.conn.(*wasmnet.Conn); ok && s.rmu.TryLock() {
		writes, _ := arg(args, 2).Truthy()
		if h, ok := c.HandOff(writes); ok {
			data := any(nil)
			if len(h.Data) > 0 {
				if data, err = webapi.Bytes(h.Data); err != nil {
					data = nil
				}
			}
			handedOff, err = object(map[string]any{
				"tap": h.Tap, "stream": h.Stream, "window": h.Window, "owed": h.Owed, "data": data,
				"writes": writes, "credit": h.Credit, "adds": h.Adds,
			})
			if err != nil {
				handedOff = nil
			}
		}
		s.rmu.Unlock()
	}
	go s.pump(deliver)
	return handedOff, nil
}

// resume(id) asks the pipe for more.
func (a *api) resume(args []safejs.Value) (any, error) {
	s, err := lookup[*socket](&a.handles, args)
	if err != nil {
		return nil, nil // closed: the pipe has ended
	}
	more, _ := s.chans()
	select {
	case more <- struct{}{}:
	default:
	}
	return nil, nil
}

// takeBack(id, credit) gives the writing of a stream that pipe handed
// over with its writes back to Go, with the credit the page has left: the
// page keeps the stream's credit while it writes (Go does not see those
// CONTINUEs), and Go writes again after startTls.
func (a *api) takeBack(args []safejs.Value) (any, error) {
	s, err := lookup[*socket](&a.handles, args)
	if err != nil {
		return nil, nil // closed: nothing to write
	}
	n, err := arg(args, 1).Int()
	if err != nil || n < 0 {
		return nil, typeError("takeBack(id, credit) needs a credit of 0 or more")
	}
	if c, ok := s.conn.(*wasmnet.Conn); ok {
		c.TakeBack(uint32(n))
	}
	return nil, nil
}

// pump is the goroutine of a pipe.
func (s *socket) pump(deliver safejs.Value) {
	more, stop := s.chans()
	for {
		select {
		case <-more:
		case <-stop:
			return
		}
		for {
			v, more := s.readChunk()
			want, err := deliver.Invoke(s.id, v)
			if !more {
				return
			}
			if ok, _ := want.Truthy(); err != nil || !ok {
				break
			}
		}
	}
}

// readChunk reads for the pipe: it returns a Uint8Array, or null or an
// exception and false at the end.
func (s *socket) readChunk() (any, bool) {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	if s.upgraded.Load() {
		return safejs.Null(), false
	}
	if cap(s.rbuf) < readSize {
		s.rbuf = make([]byte, readSize)
	}
	n, err := s.conn.Read(s.rbuf[:readSize])
	if n > 0 || err == nil { // an empty UDP datagram is a datagram
		v, err := webapi.Bytes(s.rbuf[:n])
		if err != nil {
			return webapi.NewError(err), false
		}
		return v, true // an error comes again on the next read
	}
	if err == io.EOF || s.upgraded.Load() {
		return safejs.Null(), false
	}
	return webapi.NewError(domError(err)), false
}

// write(id, data) resolves once the bytes are queued for the bridge, as a
// write to a kernel socket returns once its data is in the send buffer.
func (a *api) write(args []safejs.Value) (any, error) {
	s, err := lookup[*socket](&a.handles, args)
	if err != nil {
		return nil, err
	}
	if len(args) < 2 {
		return nil, typeError("write(data) needs data")
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.upgraded.Load() {
		return nil, errUpgraded
	}
	// The stream and TLS copy what they are given, so one buffer serves
	// every write.
	s.wbuf, err = webapi.AppendBytes(s.wbuf, args[1])
	if err != nil {
		return nil, typeError("write() takes a BufferSource (an ArrayBuffer or a view of one)")
	}
	_, err = s.conn.Write(s.wbuf)
	if cap(s.wbuf) > 1<<20 {
		s.wbuf = nil // do not keep one large write's buffer for ever
	}
	if err != nil {
		return nil, domError(err)
	}
	return nil, nil
}

// closeWrite(id) half-closes: the remote end reads EOF once it has read
// everything written before, and reading goes on. Under TLS, close_notify
// goes first, then the stream's own half-close.
func (a *api) closeWrite(args []safejs.Value) (any, error) {
	s, err := lookup[*socket](&a.handles, args)
	if err != nil {
		return nil, err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.upgraded.Load() {
		return nil, errUpgraded
	}
	if t, ok := s.conn.(*tls.Conn); ok {
		if err := t.CloseWrite(); err != nil {
			return nil, domError(err)
		}
	}
	cw, ok := s.stream.(interface{ CloseWrite() error })
	if !ok {
		return nil, named(networkError, errors.New("wasmnet: this socket cannot half-close"))
	}
	if err := cw.CloseWrite(); err != nil {
		return nil, domError(err)
	}
	return nil, nil
}

// shut closes the socket; under TLS it sends close_notify first. A socket
// that was upgraded with startTls leaves the stream to the TLS socket.
func (s *socket) shut() error {
	s.halt()
	if s.upgraded.Load() {
		return nil
	}
	if err := s.conn.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

// startTls(id, tls?) hands the stream of socket id to a new socket that
// runs TLS over it, and resolves once the handshake is done. Socket id
// gives the stream up: a read in progress there ends with null, later
// writes fail. If the handshake fails, the stream is closed.
func (a *api) startTLS(args []safejs.Value) (any, error) {
	s, err := lookup[*socket](&a.handles, args)
	if err != nil {
		return nil, err
	}
	opts, err := parseTLSOptions(arg(args, 1))
	if err != nil {
		return nil, err
	}
	if _, ok := s.conn.(*tls.Conn); ok {
		return nil, named(invalidState, errors.New("wasmnet: the socket already uses TLS"))
	}
	if !s.upgraded.CompareAndSwap(false, true) {
		return nil, errUpgraded
	}
	a.handles.remove(s.id)
	s.halt()
	// Wake a read in progress (a deadline leaves the stream usable), and
	// wait for it and for a write in progress to finish.
	s.stream.SetReadDeadline(time.Unix(1, 0))
	s.rmu.Lock()
	s.stream.SetReadDeadline(time.Time{})
	s.rmu.Unlock()
	s.wmu.Lock()
	//lint:ignore SA2001 taking the lock was the wait for the write in progress
	s.wmu.Unlock()

	if opts.serverName == "" {
		opts.serverName = hostOf(s.stream.RemoteAddr())
	}
	t, err := handshake(s.stream, opts, s.stream.RemoteAddr().String())
	if err != nil {
		s.stream.Close()
		return nil, err
	}
	return a.addSocket(&socket{conn: t, stream: s.stream})
}

// addSocket puts s in the table and describes it to JavaScript.
func (a *api) addSocket(s *socket) (safejs.Value, error) {
	s.id = a.handles.add(s)
	return s.info()
}

var errUpgraded = named(invalidState, errors.New("wasmnet: startTls() has taken over this socket; use the socket it returned"))

func hostOf(a net.Addr) string {
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}
