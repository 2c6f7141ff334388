//go:build !js && !wasip1

package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"github.com/wasmnet/wasmnet/internal/buffer"
	"github.com/wasmnet/wasmnet/internal/wsmsg"
	"github.com/wasmnet/wasmnet/wisp"
)

// noWindow is how many bytes a stream may have on their way to a client
// that does not take part in flow control: the bridge reads from the
// destination again only once they are written to the WebSocket.
const noWindow = 256 << 10

// maxOutQueue bounds the packets waiting to be written to one client. Data
// is bounded by windows and buffers; this bounds the control packets of a
// client that sends without ever reading.
const maxOutQueue = 4 << 10

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
	credit    bool   // CONTINUE adds to a stream's credit
	clientWin uint32 // the client's receive window per stream
}

// channel is what a stream ID names in a session: a TCP stream, a UDP
// stream or a listener.
type channel interface {
	clientData(msg []byte, n int) // a DATA from the client; owns msg
	clientClose(r wisp.Reason)
	grant(n int) // a WINDOW from the client
	end(r wisp.Reason, reset bool)
}

// sessionEnd is why a session ends: the WebSocket status and reason the
// client gets, and what the log and the metrics say.
type sessionEnd struct {
	code   websocket.StatusCode // 0: drop the connection without a closing handshake
	reason string
	msg    string // for the log
	level  slog.Level
	limit  limitKind // a limit hit, if that is the cause
}

// sessionParams are what a session starts from.
type sessionParams struct {
	id       uint64
	wire     wire
	v2       bool
	log      *slog.Logger
	scope    *scope
	lastSeen *atomic.Int64 // updated by the wire on pongs; nil for none
	adm      admission     // the session's place in the limits, freed as it ends
}

// session serves one WebSocket.
type session struct {
	h     *Handler
	id    uint64
	w     wire
	v2    bool
	log   *slog.Logger
	scope *scope
	adm   admission

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
	seen atomic.Bool

	start      time.Time
	lastSeen   *atomic.Int64 // any frame from the client, pongs included (Unix ns)
	lastPacket atomic.Int64  // a Wisp packet from the client
	writeSince atomic.Int64  // when the write in progress began; 0 when none
	pinging    atomic.Bool
	draining   atomic.Bool
	ending     atomic.Pointer[sessionEnd] // set once, by whoever ends the session

	up, down   *rate.Limiter // nil: no bound
	rateLogged atomic.Bool

	inBytes  atomic.Int64 // from the client, not yet written to destinations
	outBytes atomic.Int64 // from destinations, not yet written to the client

	mu       sync.Mutex
	streams  map[uint32]channel
	acceptID uint32         // the last ID the bridge chose, for an accepted connection
	resolves int            // lookups in progress
	wg       sync.WaitGroup // stream goroutines

	qmu    sync.Mutex
	queue  []outMsg
	qready chan struct{}
	room   chan struct{} // closed and replaced whenever written data frees room
}

// outMsg is a packet on its way to the client. For DATA, st is the stream
// it came from: once written, its bytes no longer count as buffered. A
// message with end set closes the session once everything before it is
// written.
type outMsg struct {
	buf []byte
	st  sender
	end *sessionEnd
}

// sender is a stream whose data waits in the queue.
type sender interface{ sent(n int) }

func newSession(h *Handler, p sessionParams) *session {
	s := &session{
		h:        h,
		id:       p.id,
		w:        p.wire,
		v2:       p.v2,
		log:      p.log,
		scope:    p.scope,
		adm:      p.adm,
		start:    time.Now(),
		lastSeen: p.lastSeen,
		streams:  make(map[uint32]channel),
		qready:   make(chan struct{}, 1),
		room:     make(chan struct{}),
	}
	if s.lastSeen == nil {
		s.lastSeen = new(atomic.Int64)
	}
	s.lastSeen.Store(s.start.UnixNano())
	s.lastPacket.Store(s.start.UnixNano())
	if r := s.scope.rate; r > 0 {
		burst := max(min(int(r/4), 4<<20), buffer.MaxMessage)
		s.up = rate.NewLimiter(rate.Limit(r), burst)
		s.down = rate.NewLimiter(rate.Limit(r), burst)
	}
	s.ctx, s.cancel = context.WithCancel(h.ctx)
	s.wctx, s.wcancel = context.WithCancel(h.ctx)
	return s
}

func (s *session) run() {
	s.h.register(s)
	defer s.h.unregister(s)
	s.log.Info("session open", "wisp", map[bool]string{true: "v2", false: "v1"}[s.v2])

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
				{ID: wisp.ExtCredit},
			},
		}}
		if s.scope.udp {
			info.Info.Extensions = append(info.Info.Extensions, wisp.Extension{ID: wisp.ExtUDP})
		}
		s.control(info.Append(nil))
	}
	s.control(continuePacket(0, s.h.cfg.Credit))

	writeDone := make(chan struct{})
	go func() {
		defer close(writeDone)
		s.writeLoop()
	}()
	err := s.readLoop()
	end, closing := s.settle(err)
	s.cancel()
	s.closeStreams()
	if !closing {
		if end.code != 0 {
			s.w.close(end.code, end.reason)
		} else {
			s.w.closeNow()
		}
	}
	s.wcancel()
	<-writeDone
	s.wg.Wait()
	// The write loop may have stopped on a failed write before ctx ended,
	// and streams went on queueing until it did: release what they left.
	s.dropQueue()
	s.w.closeNow()
	s.log.Log(context.Background(), end.level, "session closed: "+end.msg, "status", int(end.code),
		"duration", time.Since(s.start).Round(time.Millisecond))
}

// settle decides why the session ended, once its read loop has. It
// reports whether the closing of the WebSocket is already under way.
func (s *session) settle(err error) (*sessionEnd, bool) {
	if e := s.ending.Load(); e != nil {
		return e, true
	}
	var e *sessionEnd
	var pe *protocolError
	switch {
	case errors.As(err, &pe):
		e = &sessionEnd{code: pe.code, reason: pe.msg, msg: "protocol error: " + pe.msg, level: slog.LevelWarn}
		if pe.code == websocket.StatusMessageTooBig {
			e.limit = limitMessageSize
		} else {
			s.h.stats.protocolErrors.Add(1)
		}
	case websocket.CloseStatus(err) != -1:
		e = &sessionEnd{msg: "by client", level: slog.LevelInfo, code: 0}
	default:
		e = &sessionEnd{msg: fmt.Sprint(err), level: slog.LevelInfo}
	}
	if !s.ending.CompareAndSwap(nil, e) {
		return s.ending.Load(), true // ended from elsewhere meanwhile
	}
	if e.limit != 0 {
		s.h.stats.limit(e.limit)
	}
	return e, false
}

// endNow ends the session at once: streams are reset without a CLOSE. It
// is for clients that are gone or will not read.
func (s *session) endNow(e *sessionEnd) {
	if !s.ending.CompareAndSwap(nil, e) {
		return
	}
	if e.limit != 0 {
		s.h.stats.limit(e.limit)
	}
	if e.code == 0 {
		s.w.closeNow()
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.w.close(e.code, e.reason) // unblocks the read loop
	}()
}

// finish ends the session once everything queued for the client is
// written, so that CLOSE packets sent before it arrive ahead of the
// WebSocket's close.
func (s *session) finish(e *sessionEnd) {
	if !s.ending.CompareAndSwap(nil, e) {
		return
	}
	if e.limit != 0 {
		s.h.stats.limit(e.limit)
	}
	s.qmu.Lock()
	s.queue = append(s.queue, outMsg{end: e})
	s.qmu.Unlock()
	wake(s.qready)
}

func (s *session) readLoop() error {
	for {
		msg, err := s.w.read(s.ctx)
		if err == wsmsg.ErrText {
			return protocolErrorf(websocket.StatusUnsupportedData, "wisp: text messages are not allowed")
		}
		if errors.Is(err, websocket.ErrMessageTooBig) {
			return protocolErrorf(websocket.StatusMessageTooBig, "wisp: message longer than %d bytes", buffer.MaxMessage)
		}
		if err != nil {
			return err
		}
		now := time.Now().UnixNano()
		s.lastSeen.Store(now)
		s.lastPacket.Store(now)
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
	first := !s.seen.Swap(true)
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
	_, s.ext.credit = info.Ext(wisp.ExtCredit)
	_, udp := info.Ext(wisp.ExtUDP)
	s.ext.udp = udp && s.scope.udp
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
			r, why := wisp.ReasonInvalid, "the client did not negotiate UDP"
			switch {
			case s.h.cfg.NoUDP:
				why = "UDP is off on this bridge"
			case s.scope.token != nil && !s.scope.udp:
				r, why = wisp.ReasonOutOfScope, "the token does not grant UDP"
				s.h.stats.policyRefused[outOfScope].Add(1)
			}
			s.log.Info("UDP refused", "stream", id, "host", c.Host, "port", c.Port, "reason", r, "why", why)
			s.control(closePacket(id, r))
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
// or while the bridge shuts down, the client gets a CLOSE and add returns
// errRefused.
func (s *session) add(id uint32, ch channel) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.streams[id]; ok {
		return protocolErrorf(websocket.StatusProtocolError, "wisp: CONNECT or LISTEN for stream %d, which is open", id)
	}
	if s.draining.Load() {
		s.control(closePacket(id, wisp.ReasonShutdown))
		return errRefused
	}
	if max := s.scope.maxStreams; max > 0 && len(s.streams) >= max {
		s.h.stats.limit(limitStreams)
		s.log.Info("stream refused: streams limit", "stream", id, "max", max)
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
	if s.draining.Load() {
		return false
	}
	if max := s.scope.maxStreams; max > 0 && len(s.streams) >= max {
		s.h.stats.limit(limitStreams)
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
	switch ch.(type) {
	case *listener:
		s.h.stats.listeners.Add(n)
	case *udpStream:
		s.h.stats.streams.Add(n)
		s.h.stats.udp.Add(n)
		if n > 0 {
			s.h.stats.streamsTotal[1].Add(1)
		}
	default:
		s.h.stats.streams.Add(n)
		if n > 0 {
			s.h.stats.streamsTotal[0].Add(1)
		}
	}
}

// remove forgets a channel and, unless r is zero, sends the client a
// CLOSE with reason r. It reports whether the channel was still there.
//
// The CLOSE is queued under mu, before a draining session queues its end
// (which follows at once when its last channel goes): queued after the
// end, the last stream's CLOSE was dropped, and a client could not tell
// that stream's end from a cut connection.
func (s *session) remove(id uint32, r wisp.Reason) bool {
	s.mu.Lock()
	ch, ok := s.streams[id]
	if ok {
		delete(s.streams, id)
		s.count(ch, -1)
		if r != 0 {
			s.control(closePacket(id, r))
		}
	}
	empty := len(s.streams) == 0 && s.resolves == 0
	s.mu.Unlock()
	if ok && empty && s.draining.Load() {
		s.finish(shutdownEnd())
	}
	return ok
}

// channels returns the session's open channels.
func (s *session) channels() []channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	chans := make([]channel, 0, len(s.streams))
	for _, ch := range s.streams {
		chans = append(chans, ch)
	}
	return chans
}

// closeStreams resets what is left when the session is over: there is no
// client to send a CLOSE to.
func (s *session) closeStreams() {
	for _, ch := range s.channels() {
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
		s.endNow(&sessionEnd{code: websocket.StatusPolicyViolation, reason: "wisp: client is not reading",
			msg: "client is not reading", level: slog.LevelWarn, limit: limitNotReading})
		return
	}
	s.queue = append(s.queue, m)
	s.qmu.Unlock()
	wake(s.qready)
}

func (s *session) writeLoop() {
	var batch []outMsg
	for {
		select {
		case <-s.qready:
		case <-s.ctx.Done():
			s.dropQueue()
			return
		}
		s.qmu.Lock()
		batch, s.queue = s.queue, batch[:0]
		s.qmu.Unlock()
		s.writeSince.Store(time.Now().UnixNano())
		// One system call for the batch, or a few: the wire may keep the
		// packets' buffers until the flush, so they are released after it.
		s.w.hold()
		freed := false
		var err error
		var end *sessionEnd
		for i, m := range batch {
			if m.end != nil {
				end = m.end
				batch[i] = outMsg{}
				for _, m := range batch[i+1:] {
					s.release(m)
				}
				batch = batch[:i]
				break
			}
			if err = s.ctx.Err(); err == nil {
				err = s.w.write(s.wctx, m.buf)
			}
			freed = freed || m.st != nil
			if err != nil {
				break
			}
		}
		if ferr := s.w.flush(); err == nil {
			err = ferr
		}
		s.writeSince.Store(0)
		for i, m := range batch {
			s.release(m)
			batch[i] = outMsg{}
		}
		if end != nil {
			if err == nil {
				s.w.close(end.code, end.reason)
			}
			s.w.closeNow()
			return
		}
		if freed {
			s.qmu.Lock()
			close(s.room)
			s.room = make(chan struct{})
			s.qmu.Unlock()
		}
		if err != nil {
			s.w.closeNow()
			return
		}
	}
}

// dropQueue releases what waits to be written to the client.
func (s *session) dropQueue() {
	s.qmu.Lock()
	queue := s.queue
	s.queue = nil
	s.qmu.Unlock()
	for _, m := range queue {
		s.release(m)
	}
}

// release returns a packet's buffer and, for DATA, its bytes to the
// budgets.
func (s *session) release(m outMsg) {
	if m.st != nil {
		n := len(m.buf) - wisp.HeaderLen
		s.outBytes.Add(int64(-n))
		s.h.stats.bufferedOut.Add(int64(-n))
		m.st.sent(n)
	}
	if m.buf != nil {
		buffer.Put(m.buf)
	}
}

// outRoom reports whether the session and the bridge have room for more
// data towards clients.
func (s *session) outRoom() (session, bridge bool) {
	session = s.h.cfg.SessionBuffer == 0 || s.outBytes.Load() < int64(s.h.cfg.SessionBuffer)
	bridge = s.h.cfg.MaxBuffered == 0 || s.h.stats.bufferedOut.Load() < s.h.cfg.MaxBuffered
	return session, bridge
}

// waitOutRoom blocks until outRoom, the stream's wake channel fires or the
// session ends. It reports false if the session ended.
func (s *session) waitOutRoom(wake <-chan struct{}) bool {
	for {
		session, bridge := s.outRoom()
		if session && bridge {
			return true
		}
		s.qmu.Lock()
		room := s.room
		s.qmu.Unlock()
		var poll *time.Timer
		var polled <-chan time.Time
		if !bridge {
			// Room in the bridge frees up in other sessions, which do not
			// signal this one: look again shortly.
			poll = time.NewTimer(20 * time.Millisecond)
			polled = poll.C
		}
		done := false
		select {
		case <-room:
		case <-wake:
		case <-polled:
		case <-s.ctx.Done():
			done = true
		}
		if poll != nil {
			poll.Stop()
		}
		if done {
			return false
		}
	}
}

// inLimit reports the limit that n more bytes from the client would
// break, if any.
func (s *session) inLimit(n int) limitKind {
	if l := s.h.cfg.SessionBuffer; l > 0 && s.inBytes.Load()+int64(n) > int64(l) {
		return limitSessionBuffer
	}
	if l := s.h.cfg.MaxBuffered; l > 0 && s.h.stats.bufferedIn.Load()+int64(n) > l {
		return limitBridgeBuffer
	}
	return 0
}

// throttle waits until the session's rate allows n more bytes through
// lim. n must not exceed the limiter's burst.
func (s *session) throttle(lim *rate.Limiter, n int) bool {
	if lim == nil || n == 0 {
		return true
	}
	r := lim.ReserveN(time.Now(), n)
	d := r.Delay()
	if d == 0 {
		return true
	}
	s.h.stats.limit(limitRate)
	if !s.rateLogged.Swap(true) {
		s.log.Info("session rate limited", "bytes_per_second", s.scope.rate)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.ctx.Done():
		r.Cancel()
		return false
	}
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
