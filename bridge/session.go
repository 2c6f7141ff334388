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
	clientWin uint32 // the client's receive window per stream
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

	mu      sync.Mutex
	streams map[uint32]*stream
	wg      sync.WaitGroup // stream goroutines

	qmu    sync.Mutex
	queue  []outMsg
	qready chan struct{}
}

// outMsg is a packet on its way to the client. For DATA, st is the stream
// it came from: once written, it no longer counts as buffered, and for a
// client without flow control it returns its bytes to the stream's window.
type outMsg struct {
	buf []byte
	st  *stream
}

func newSession(h *Handler, ws *websocket.Conn, conn *wsmsg.Conn, v2 bool, remote string) *session {
	id := h.nextSession.Add(1)
	s := &session{
		h:       h,
		ws:      ws,
		conn:    conn,
		v2:      v2,
		log:     h.log.With("session", id),
		streams: make(map[uint32]*stream),
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
			},
		}}
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
	case wisp.TypeConnect:
		buffer.Put(msg)
		return s.connect(p.Stream, p.Connect)
	case wisp.TypeData:
		if st := s.stream(p.Stream); st != nil {
			st.fromClient(msg, len(p.Data))
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
		if st := s.stream(p.Stream); st != nil {
			st.clientFin()
		} else {
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
	return nil
}

func (s *session) stream(id uint32) *stream {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.streams[id]
}

// connect opens a stream and dials its destination in the background. A
// CONNECT that reuses the ID of an open stream breaks the protocol: no
// CLOSE could refuse it without seeming to close the open stream.
func (s *session) connect(id uint32, c wisp.Connect) error {
	s.mu.Lock()
	if _, ok := s.streams[id]; ok {
		s.mu.Unlock()
		return protocolErrorf(websocket.StatusProtocolError, "wisp: CONNECT for stream %d, which is open", id)
	}
	if len(s.streams) >= s.h.cfg.MaxStreams {
		s.mu.Unlock()
		s.log.Info("stream refused: too many streams", "stream", id, "max", s.h.cfg.MaxStreams)
		s.control(closePacket(id, wisp.ReasonThrottled))
		return nil
	}
	st := newStream(s, id, c)
	s.streams[id] = st
	s.wg.Add(1)
	s.mu.Unlock()
	s.h.stats.streams.Add(1)

	go func() {
		defer s.wg.Done()
		st.run()
	}()
	return nil
}

// remove forgets a stream. It reports whether the stream was still there.
func (s *session) remove(id uint32) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.streams[id]; !ok {
		return false
	}
	delete(s.streams, id)
	s.h.stats.streams.Add(-1)
	return true
}

func (s *session) closeStreams() {
	s.mu.Lock()
	streams := make([]*stream, 0, len(s.streams))
	for _, st := range s.streams {
		streams = append(streams, st)
	}
	s.mu.Unlock()
	for _, st := range streams {
		st.end(0, true)
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
