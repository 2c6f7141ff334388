package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/coder/websocket"

	"github.com/wasmnet/wasmnet/internal/buffer"
	"github.com/wasmnet/wasmnet/internal/wsmsg"
	"github.com/wasmnet/wasmnet/wisp"
)

// noWindow is how many bytes a stream may have on their way to a client
// that does not take part in flow control: the bridge reads from the
// destination again only once they are written to the WebSocket.
const noWindow = 256 << 10

// maxOutQueue bounds the packets waiting to be written to one client. Data
// is bounded by windows; this bounds the control packets of a client that
// sends without ever reading.
const maxOutQueue = 16 << 10

// protocolError ends a session that broke the protocol. Code is the
// WebSocket close code the client gets, with the message as the reason.
type protocolError struct {
	code websocket.StatusCode
	msg  string
}

func (e *protocolError) Error() string { return e.msg }

func protocolErrorf(code websocket.StatusCode, format string, args ...any) error {
	return &protocolError{code, fmt.Sprintf(format, args...)}
}

// extensions are the ones both sides support.
type extensions struct {
	window    bool
	halfClose bool
	opened    bool
	udp       bool
	listen    bool
	resolve   bool
	clientWin uint32 // the client's receive window per stream
}

// channel is what a stream ID names in a session: a TCP stream, a UDP
// stream or a listener.
type channel interface {
	clientData(msg []byte, n int) // a DATA from the client; owns msg
	clientClose(r wisp.Reason)
	grant(n int) // a WINDOW from the client, or bytes written to a client without one
	end(r wisp.Reason, reset bool)
}

// session serves one WebSocket.
type session struct {
	h    *Handler
	ws   *websocket.Conn
	conn *wsmsg.Conn // under ws: batches writes
	v2   bool
	log  *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc

	// wctx bounds the writes to the WebSocket. It outlives ctx until the
	// session's close is settled: coder/websocket closes the connection
	// when the context of a write in progress is canceled, so writing
	// under ctx would let the end of a session cut off the close frame
	// that tells a client which rule it broke.
	wctx    context.Context
	wcancel context.CancelFunc

	ext  extensions // settled by the first packet
	seen bool       // a packet has been read

	mu       sync.Mutex
	streams  map[uint32]channel
	acceptID uint32         // the last ID the bridge chose, for an accepted connection
	resolves int            // lookups in progress
	wg       sync.WaitGroup // stream goroutines

	qmu    sync.Mutex
	queue  []outMsg
	qready chan struct{}
}

// outMsg is a packet on its way to the client. For DATA, st is the stream
// it came from: once written, it no longer counts as buffered, and for a
// client without flow control it returns its bytes to the stream's window.
type outMsg struct {
	buf []byte
	st  interface{ grant(int) }
}

func newSession(h *Handler, ws *websocket.Conn, conn *wsmsg.Conn, v2 bool, remote string) *session {
	id := h.nextSession.Add(1)
	s := &session{
		h:       h,
		ws:      ws,
		conn:    conn,
		v2:      v2,
		log:     h.log.With("session", id),
		streams: make(map[uint32]channel),
		qready:  make(chan struct{}, 1),
	}
	s.ctx, s.cancel = context.WithCancel(h.ctx)
	s.wctx, s.wcancel = context.WithCancel(h.ctx)
	s.log.Info("session open", "remote", remote, "wisp", map[bool]string{true: "v2", false: "v1"}[v2])
	return s
}

func (s *session) run() {
	s.h.stats.sessions.Add(1)
	defer s.h.stats.sessions.Add(-1)

	if s.v2 {
		info := wisp.Packet{Type: wisp.TypeInfo, Info: wisp.Info{
			Major: wisp.VersionMajor,
			Minor: wisp.VersionMinor,
			Extensions: []wisp.Extension{
				{ID: wisp.ExtWindow},
				{ID: wisp.ExtHalfClose},
				{ID: wisp.ExtOpened},
				{ID: wisp.ExtListen},
				{ID: wisp.ExtResolve},
			},
		}}
		if !s.h.cfg.NoUDP {
			info.Info.Extensions = append(info.Info.Extensions, wisp.Extension{ID: wisp.ExtUDP})
		}
		s.control(info.Append(nil))
	}
	s.control(continuePacket(0, s.h.cfg.Credit))

	writeDone := make(chan error, 1)
	go func() { writeDone <- s.writeLoop() }()
	err := s.readLoop()
	s.cancel()
	s.closeStreams()
	defer func() {
		s.wcancel()
		<-writeDone
		s.wg.Wait()
	}()

	var pe *protocolError
	switch {
	case errors.As(err, &pe):
		s.log.Warn("session closed for a protocol error", "err", pe.msg)
		s.ws.Close(pe.code, truncate(pe.msg, 120))
	case websocket.CloseStatus(err) != -1:
		s.log.Info("session closed by client", "status", websocket.CloseStatus(err))
		s.ws.CloseNow()
	default:
		s.log.Info("session ended", "err", err)
		s.ws.CloseNow()
	}
}

func (s *session) readLoop() error {
	for {
		msg, err := wsmsg.Read(s.ctx, s.ws, buffer.MaxMessage)
		if err == wsmsg.ErrText {
			return protocolErrorf(websocket.StatusUnsupportedData, "wisp: text messages are not allowed")
		}
		if errors.Is(err, websocket.ErrMessageTooBig) {
			return protocolErrorf(websocket.StatusMessageTooBig, "wisp: message longer than %d bytes", buffer.MaxMessage)
		}
		if err != nil {
			return err
		}
		if err := s.handle(msg); err != nil {
			return err
		}
	}
}

// handle dispatches one packet from the client. It owns msg.
func (s *session) handle(msg []byte) error {
	p, err := wisp.Decode(msg)
	if err != nil {
		buffer.Put(msg)
		return protocolErrorf(websocket.StatusProtocolError, "%v", err)
	}
	first := !s.seen
	s.seen = true
	if p.Type == wisp.TypeInfo {
		defer buffer.Put(msg)
		switch {
		case p.Stream != 0:
			return protocolErrorf(websocket.StatusProtocolError, "wisp: INFO on stream %d", p.Stream)
		case first && s.v2:
			return s.negotiate(p.Info)
		}
		// Too late to change the session: wisp-js's client can send a
		// CONNECT before its INFO. Carry on without extensions.
		s.log.Info("ignoring an INFO that is not the first packet of a v2 session")
		return nil
	}
	if p.Stream == 0 {
		buffer.Put(msg)
		return protocolErrorf(websocket.StatusProtocolError, "wisp: %v on stream 0", p.Type)
	}

	switch p.Type {
	case wisp.TypeConnect, wisp.TypeListen, wisp.TypeResolve:
		buffer.Put(msg)
		if s.ext.listen && p.Stream >= bridgeIDs {
			return protocolErrorf(websocket.StatusProtocolError, "wisp: %v on stream %d: IDs from 2^31 up are the bridge's", p.Type, p.Stream)
		}
		switch p.Type {
		case wisp.TypeListen:
			if !s.ext.listen {
				return protocolErrorf(websocket.StatusProtocolError, "wisp: LISTEN without the listen extension")
			}
			return s.listen(p.Stream, p.Connect)
		case wisp.TypeResolve:
			if !s.ext.resolve {
				return protocolErrorf(websocket.StatusProtocolError, "wisp: RESOLVE without the resolve extension")
			}
			s.resolve(p.Stream, p.Query)
			return nil
		}
		return s.connect(p.Stream, p.Connect)
	case wisp.TypeData:
		if st := s.stream(p.Stream); st != nil {
			st.clientData(msg, len(p.Data))
		} else {
			buffer.Put(msg)
			s.control(closePacket(p.Stream, wisp.ReasonUnknownStream))
		}
		return nil
	}
	buffer.Put(msg)

	switch p.Type {
	case wisp.TypeClose:
		if st := s.stream(p.Stream); st != nil {
			st.clientClose(p.Reason)
		}
	case wisp.TypeFin:
		if !s.ext.halfClose {
			return protocolErrorf(websocket.StatusProtocolError, "wisp: FIN without the half-close extension")
		}
		switch st := s.stream(p.Stream).(type) {
		case *stream:
			st.clientFin()
		case nil:
			s.control(closePacket(p.Stream, wisp.ReasonUnknownStream))
		}
	case wisp.TypeWindow:
		if !s.ext.window {
			return protocolErrorf(websocket.StatusProtocolError, "wisp: WINDOW without the window extension")
		}
		if st := s.stream(p.Stream); st != nil {
			st.grant(int(p.Credit))
		}
	case wisp.TypeContinue:
		// Only the server sends CONTINUE; wisp-js tolerates a stray one
		// with a warning, and so do we.
		s.log.Debug("client sent CONTINUE", "stream", p.Stream)
	default:
		return protocolErrorf(websocket.StatusProtocolError, "wisp: a client may not send %v", p.Type)
	}
	return nil
}

// negotiate settles the extensions from the client's INFO.
func (s *session) negotiate(info wisp.Info) error {
	if info.Major != wisp.VersionMajor {
		s.log.Info("client speaks another Wisp version; no extensions", "major", info.Major)
		return nil
	}
	if e, ok := info.Ext(wisp.ExtWindow); ok {
		w, err := wisp.ParseWindowData(e.Data)
		if err == nil && w == 0 {
			err = errors.New("wisp: a window of 0 bytes")
		}
		if err != nil {
			return protocolErrorf(websocket.StatusProtocolError, "%v", err)
		}
		s.ext.window, s.ext.clientWin = true, w
	}
	_, s.ext.halfClose = info.Ext(wisp.ExtHalfClose)
	_, s.ext.opened = info.Ext(wisp.ExtOpened)
	_, s.ext.listen = info.Ext(wisp.ExtListen)
	_, s.ext.resolve = info.Ext(wisp.ExtResolve)
	_, udp := info.Ext(wisp.ExtUDP)
	s.ext.udp = udp && !s.h.cfg.NoUDP
	return nil
}

func (s *session) stream(id uint32) channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.streams[id]
}

// bridgeIDs is where the IDs the bridge chooses start: with the listen
// extension, the client keeps below it.
const bridgeIDs = 1 << 31

// connect opens a stream and dials its destination in the background.
func (s *session) connect(id uint32, c wisp.Connect) error {
	var ch channel
	var run func()
	switch c.StreamType {
	case wisp.StreamTCP:
		st := newStream(s, id, c)
		ch, run = st, st.run
	case wisp.StreamUDP:
		if !s.ext.udp {
			s.control(closePacket(id, wisp.ReasonInvalid))
			return nil
		}
		u := newUDPStream(s, id, c)
		ch, run = u, u.run
	default:
		s.control(closePacket(id, wisp.ReasonInvalid))
		return nil
	}
	if err := s.add(id, ch); err != nil {
		if err == errRefused {
			return nil
		}
		return err
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		run()
	}()
	return nil
}

// add registers a channel the client opened. A CONNECT or LISTEN that
// reuses the ID of an open channel breaks the protocol: no CLOSE could
// refuse it without seeming to close the open one. Past the stream limit,
// the client gets CLOSE(0x49) and add returns errRefused.
func (s *session) add(id uint32, ch channel) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.streams[id]; ok {
		return protocolErrorf(websocket.StatusProtocolError, "wisp: CONNECT or LISTEN for stream %d, which is open", id)
	}
	if len(s.streams) >= s.h.cfg.MaxStreams {
		s.log.Info("stream refused: too many streams", "stream", id, "max", s.h.cfg.MaxStreams)
		s.control(closePacket(id, wisp.ReasonThrottled))
		return errRefused
	}
	s.streams[id] = ch
	s.count(ch, 1)
	return nil
}

// errRefused tells a caller of add that the client has been refused; it
// does not end the session.
var errRefused = errors.New("refused")

// addAccepted registers a stream the bridge opened, under the next free
// ID from bridgeIDs up. It reports false past the stream limit.
func (s *session) addAccepted(st *stream) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.streams) >= s.h.cfg.MaxStreams {
		return false
	}
	for {
		s.acceptID++
		if s.acceptID < bridgeIDs {
			s.acceptID = bridgeIDs
		}
		if _, used := s.streams[s.acceptID]; !used {
			break
		}
	}
	st.id = s.acceptID
	s.streams[st.id] = st
	s.count(st, 1)
	return true
}

// count keeps the statistics of open channels; mu is held.
func (s *session) count(ch channel, n int64) {
	if _, ok := ch.(*listener); ok {
		s.h.stats.listeners.Add(n)
	} else {
		s.h.stats.streams.Add(n)
	}
}

// remove forgets a channel. It reports whether it was still there.
func (s *session) remove(id uint32) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.streams[id]
	if !ok {
		return false
	}
	delete(s.streams, id)
	s.count(ch, -1)
	return true
}

func (s *session) closeStreams() {
	s.mu.Lock()
	chans := make([]channel, 0, len(s.streams))
	for _, ch := range s.streams {
		chans = append(chans, ch)
	}
	s.mu.Unlock()
	for _, ch := range chans {
		ch.end(0, true)
	}
}

// control queues a packet for the client.
func (s *session) control(buf []byte) { s.send(outMsg{buf: buf}) }

func (s *session) send(m outMsg) {
	s.qmu.Lock()
	if s.ctx.Err() != nil {
		s.qmu.Unlock()
		s.release(m)
		return
	}
	if len(s.queue) >= maxOutQueue {
		s.qmu.Unlock()
		s.release(m)
		s.log.Warn("client does not read; closing session")
		s.ws.Close(websocket.StatusPolicyViolation, "wisp: client is not reading")
		s.cancel()
		return
	}
	s.queue = append(s.queue, m)
	s.qmu.Unlock()
	select {
	case s.qready <- struct{}{}:
	default:
	}
}

func (s *session) writeLoop() error {
	var batch []outMsg
	for {
		select {
		case <-s.qready:
		case <-s.ctx.Done():
			s.qmu.Lock()
			for _, m := range s.queue {
				s.release(m)
			}
			s.queue = nil
			s.qmu.Unlock()
			return s.ctx.Err()
		}
		s.qmu.Lock()
		batch, s.queue = s.queue, batch[:0]
		s.qmu.Unlock()
		s.conn.Hold() // one system call for the batch
		for i, m := range batch {
			err := s.ctx.Err()
			if err == nil {
				err = s.ws.Write(s.wctx, websocket.MessageBinary, m.buf)
			}
			s.release(m)
			batch[i] = outMsg{}
			if err != nil {
				for _, m := range batch[i+1:] {
					s.release(m)
				}
				s.conn.Release()
				s.cancel()
				return err
			}
		}
		if err := s.conn.Release(); err != nil {
			s.cancel()
			return err
		}
	}
}

// release returns a packet's buffer and, for DATA, its allowance.
func (s *session) release(m outMsg) {
	if m.st != nil {
		n := len(m.buf) - wisp.HeaderLen
		s.h.stats.buffered.Add(int64(-n))
		if !s.ext.window {
			m.st.grant(n)
		}
	}
	buffer.Put(m.buf)
}

func continuePacket(id, credit uint32) []byte {
	p := wisp.Packet{Type: wisp.TypeContinue, Stream: id, Credit: credit}
	return p.Append(buffer.Get(wisp.HeaderLen + 4)[:0])
}

func closePacket(id uint32, r wisp.Reason) []byte {
	p := wisp.Packet{Type: wisp.TypeClose, Stream: id, Reason: r}
	return p.Append(buffer.Get(wisp.HeaderLen + 1)[:0])
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
