package wasmnet

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/wasmnet/wasmnet/internal/buffer"
	"github.com/wasmnet/wasmnet/wisp"
)

// maxQueued bounds the bytes waiting to be written to the bridge. A Write
// that would exceed it waits, so a slow bridge pushes back on the program.
const maxQueued = 1 << 20

// infoWait is how long a client waits for the bridge's INFO after a
// CONTINUE on stream 0, before it settles for Wisp v1 (as the spec says).
const infoWait = 5 * time.Second

// features are what the handshake settled.
type features struct {
	window    bool // ExtWindow: the bridge honours our receive window
	halfClose bool // ExtHalfClose: FIN packets
	opened    bool // ExtOpened: OPENED confirms every connect
	udp       bool // ExtUDP: UDP streams
	listen    bool // ExtListen: LISTEN and ACCEPT
	resolve   bool // ExtResolve: RESOLVE and RESOLVED
	credit    bool // ExtCredit: a stream's CONTINUE adds to its credit
}

// bridgeIDs is where the stream IDs the bridge chooses (for accepted
// connections) start; the client's own IDs stay below it.
const bridgeIDs = 1 << 31

// A session is one WebSocket to a bridge, carrying many streams.
type session struct {
	url    string
	t      transport
	v2     bool   // the bridge selected a subprotocol, so INFO is expected
	window uint32 // our receive window per stream, offered in INFO

	// Set by the handshake, under mu, before ready is closed; read-only
	// afterwards.
	ready     chan struct{}
	gotInfo   bool
	gotCredit bool
	feat      features
	credit    uint32 // initial credit of every stream, from CONTINUE on stream 0

	done     chan struct{} // closed when the session has failed
	err      error         // why; set before done is closed
	failOnce sync.Once

	mu        sync.Mutex
	streams   map[uint32]*Conn
	listeners map[uint32]*Listener
	requests  map[uint32]chan wisp.Answer // RESOLVEs waiting for their answer
	nextID    uint32

	// The outbound queue, drained by writeLoop.
	qmu    sync.Mutex
	queue  [][]byte
	queued int           // bytes in queue
	qready chan struct{} // signalled when queue becomes non-empty
	qspace chan struct{} // closed and replaced whenever writeLoop makes room
}

// openSession dials the bridge and completes the Wisp handshake.
func openSession(ctx context.Context, url string, protocols []string, window uint32) (*session, error) {
	t, err := dialTransport(ctx, url, protocols)
	if err != nil {
		return nil, &BridgeError{URL: url, Err: err}
	}
	s := &session{
		url:       url,
		t:         t,
		v2:        t.Subprotocol() != "",
		window:    window,
		ready:     make(chan struct{}),
		done:      make(chan struct{}),
		streams:   make(map[uint32]*Conn),
		listeners: make(map[uint32]*Listener),
		requests:  make(map[uint32]chan wisp.Answer),
		nextID:    1,
		qready:    make(chan struct{}, 1),
		qspace:    make(chan struct{}),
	}
	if s.v2 {
		// Send INFO at once rather than after the bridge's: the drafts
		// disagree on the order, and waiting costs a round trip.
		info := wisp.Packet{Type: wisp.TypeInfo, Info: wisp.Info{
			Major: wisp.VersionMajor,
			Minor: wisp.VersionMinor,
			Extensions: []wisp.Extension{
				{ID: wisp.ExtWindow, Data: wisp.WindowData(window)},
				{ID: wisp.ExtHalfClose},
				{ID: wisp.ExtOpened},
				{ID: wisp.ExtUDP},
				{ID: wisp.ExtListen},
				{ID: wisp.ExtResolve},
				{ID: wisp.ExtCredit},
			},
		}}
		s.control(info.Append(nil))
	}
	go s.readLoop()
	go s.writeLoop()

	select {
	case <-s.ready:
		return s, nil
	case <-s.done:
		return nil, s.err
	case <-ctx.Done():
		s.fail(ctx.Err())
		return nil, s.err
	}
}

func (s *session) readLoop() {
	for {
		msg, err := s.t.ReadMessage()
		if err != nil {
			s.fail(err)
			return
		}
		if err := s.handle(msg); err != nil {
			s.fail(err)
			return
		}
	}
}

// handle dispatches one message. It owns msg.
func (s *session) handle(msg []byte) error {
	p, err := wisp.Decode(msg)
	if err != nil {
		buffer.Put(msg)
		return err
	}
	if p.Stream == 0 {
		err := s.handshake(p)
		buffer.Put(msg)
		return err
	}
	defer func() {
		if msg != nil {
			buffer.Put(msg)
		}
	}()
	switch p.Type {
	case wisp.TypeAccept:
		return s.accept(p.Stream, p.Accept)
	case wisp.TypeResolved:
		s.mu.Lock()
		reply := s.requests[p.Stream]
		delete(s.requests, p.Stream)
		s.mu.Unlock()
		if reply != nil {
			reply <- p.Answer // buffered; the answer holds no part of msg
		}
		return nil
	}
	s.mu.Lock()
	c := s.streams[p.Stream]
	l := s.listeners[p.Stream]
	s.mu.Unlock()
	if l != nil {
		switch p.Type {
		case wisp.TypeOpened:
			l.setOpened(p.Opened)
		case wisp.TypeClose:
			l.remoteClose(p.Reason)
		}
		return nil
	}
	if c == nil {
		// Closed here while the bridge was still sending: drop it.
		return nil
	}
	switch p.Type {
	case wisp.TypeData:
		wait, err := c.deliver(msg, p.Data)
		msg = nil // deliver owns it
		if err != nil {
			return err
		}
		if wait != nil {
			// No flow control from the bridge: stall the whole session
			// until the program reads, which pushes back through the
			// WebSocket.
			select {
			case <-wait:
			case <-c.closed:
			case <-s.done:
			}
		}
		return nil
	case wisp.TypeContinue:
		c.setCredit(p.Credit)
	case wisp.TypeClose:
		c.remoteClose(p.Reason)
	case wisp.TypeFin:
		c.remoteFin()
	case wisp.TypeOpened:
		c.setOpened(p.Opened)
	default:
		return fmt.Errorf("bridge sent %v on stream %d", p.Type, p.Stream)
	}
	return nil
}

// accept takes an ACCEPT: a connection arrived at one of our listeners.
func (s *session) accept(id uint32, a wisp.Accept) error {
	if id < bridgeIDs {
		return fmt.Errorf("bridge sent ACCEPT on stream %d, an ID of the client's", id)
	}
	c := newConn(s, "tcp", net.TCPAddrFromAddrPort(a.Remote))
	c.id = id
	c.laddr = net.TCPAddrFromAddrPort(a.Local)
	close(c.opened)
	s.mu.Lock()
	l := s.listeners[a.Listener]
	_, taken := s.streams[id]
	if l != nil && !taken {
		s.streams[id] = c
	}
	s.mu.Unlock()
	switch {
	case taken:
		return fmt.Errorf("bridge sent ACCEPT on stream %d, which is open", id)
	case l == nil || !l.queue(c):
		// Our listener has gone, or its backlog is full.
		s.remove(id)
		s.control(closePacket(id, wisp.ReasonThrottled))
	}
	return nil
}

// handshake takes the bridge's INFO and its first CONTINUE on stream 0.
func (s *session) handshake(p wisp.Packet) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch p.Type {
	case wisp.TypeInfo:
		if s.gotInfo || isClosed(s.ready) {
			return nil
		}
		s.gotInfo = true
		if p.Info.Major == wisp.VersionMajor {
			_, s.feat.window = p.Info.Ext(wisp.ExtWindow)
			_, s.feat.halfClose = p.Info.Ext(wisp.ExtHalfClose)
			_, s.feat.opened = p.Info.Ext(wisp.ExtOpened)
			_, s.feat.udp = p.Info.Ext(wisp.ExtUDP)
			_, s.feat.listen = p.Info.Ext(wisp.ExtListen)
			_, s.feat.resolve = p.Info.Ext(wisp.ExtResolve)
			_, s.feat.credit = p.Info.Ext(wisp.ExtCredit)
		}
		if s.gotCredit {
			close(s.ready)
		}
	case wisp.TypeContinue:
		if s.gotCredit {
			return nil
		}
		s.gotCredit = true
		s.credit = p.Credit
		switch {
		case s.gotInfo || !s.v2:
			close(s.ready)
		default:
			// CONTINUE before INFO, as one draft orders it: give INFO a
			// while to follow before settling for v1.
			time.AfterFunc(infoWait, func() {
				s.mu.Lock()
				defer s.mu.Unlock()
				if !isClosed(s.ready) {
					close(s.ready)
				}
			})
		}
	case wisp.TypeClose:
		return fmt.Errorf("bridge closed the session: %v", p.Reason)
	default:
		return fmt.Errorf("bridge sent %v on stream 0", p.Type)
	}
	return nil
}

func (s *session) writeLoop() {
	var batch [][]byte
	for {
		select {
		case <-s.qready:
		case <-s.done:
			return
		}
		s.qmu.Lock()
		batch, s.queue = s.queue, batch[:0]
		n := s.queued
		s.qmu.Unlock()
		if len(batch) == 0 {
			continue
		}

		err := s.t.WriteMessages(batch)
		for i, m := range batch {
			buffer.Put(m)
			batch[i] = nil
		}

		s.qmu.Lock()
		s.queued -= n
		close(s.qspace)
		s.qspace = make(chan struct{})
		s.qmu.Unlock()
		if err != nil {
			s.writeFailed(err)
			return
		}
	}
}

// closeReasonWait bounds how long a failed write waits for the read loop
// to report why the connection ended.
const closeReasonWait = 2 * time.Second

// writeFailed ends the session after a write failed. A bridge that closes
// a session says why in its close frame (a refused token, a limit), and
// the WebSocket closes under a write in progress as that frame arrives:
// the read loop, which reads the frame, gives the better error, so it
// gets a moment to end the session first.
func (s *session) writeFailed(err error) {
	t := time.NewTimer(closeReasonWait)
	defer t.Stop()
	select {
	case <-s.done:
	case <-t.C:
		s.fail(err)
	}
}

// control queues a small packet that must not wait for room: CONNECT,
// CLOSE, FIN and WINDOW. It owns msg.
func (s *session) control(msg []byte) {
	s.qmu.Lock()
	if isClosed(s.done) {
		s.qmu.Unlock()
		buffer.Put(msg)
		return
	}
	s.push(msg)
	s.qmu.Unlock()
}

// send queues a DATA packet, waiting for room until the deadline, the
// stream's close or the session's end. It owns msg.
func (s *session) send(msg []byte, deadline, closed <-chan struct{}) error {
	for {
		s.qmu.Lock()
		if isClosed(s.done) {
			s.qmu.Unlock()
			buffer.Put(msg)
			return s.err
		}
		if s.queued == 0 || s.queued+len(msg) <= maxQueued {
			s.push(msg)
			s.qmu.Unlock()
			return nil
		}
		space := s.qspace
		s.qmu.Unlock()

		select {
		case <-space:
		case <-deadline:
			buffer.Put(msg)
			return errTimeout
		case <-closed:
			buffer.Put(msg)
			return net.ErrClosed
		case <-s.done:
		}
	}
}

// coalesce appends what it can of p to the queue's last message if that
// is a DATA packet of the stream, still waiting for the WebSocket, and
// returns how many bytes it took. A writer that runs ahead of the
// WebSocket then sends fewer and larger packets, up to maxMessage,
// which costs the bridge a system call less for each packet saved; a
// writer that the WebSocket keeps up with finds the queue empty and sends
// each write as it comes, without waiting for company.
func (s *session) coalesce(id uint32, p []byte) int {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	if len(s.queue) == 0 || isClosed(s.done) {
		return 0
	}
	last := s.queue[len(s.queue)-1]
	if len(last) < wisp.HeaderLen || wisp.Type(last[0]) != wisp.TypeData ||
		binary.LittleEndian.Uint32(last[1:wisp.HeaderLen]) != id {
		return 0
	}
	n := min(len(p), cap(last)-len(last), maxMessage-len(last), maxQueued-s.queued)
	if n <= 0 {
		return 0
	}
	s.queue[len(s.queue)-1] = append(last, p[:n]...)
	s.queued += n
	return n
}

// push appends to the queue; qmu is held.
func (s *session) push(msg []byte) {
	s.queue = append(s.queue, msg)
	s.queued += len(msg)
	select {
	case s.qready <- struct{}{}:
	default:
	}
}

// fail ends the session: every stream fails, and the next dial opens a
// new session.
func (s *session) fail(err error) {
	s.failOnce.Do(func() {
		s.err = &BridgeError{URL: s.url, Err: err}
		s.t.Close()
		s.teardown()
	})
}

// teardown fails everything the session holds; s.err is set.
func (s *session) teardown() {
	s.qmu.Lock()
	close(s.done)
	for _, m := range s.queue {
		buffer.Put(m)
	}
	s.queue, s.queued = nil, 0
	s.qmu.Unlock()

	s.mu.Lock()
	streams, listeners, requests := s.streams, s.listeners, s.requests
	s.streams = map[uint32]*Conn{}
	s.listeners = map[uint32]*Listener{}
	s.requests = map[uint32]chan wisp.Answer{}
	s.mu.Unlock()
	for _, c := range streams {
		c.sessionLost(s.err)
	}
	for _, l := range listeners {
		l.sessionLost(s.err)
	}
	for _, reply := range requests {
		close(reply)
	}
}

// shutdownWait bounds how long closing a session waits for its queue to
// drain.
const shutdownWait = 5 * time.Second

// shutdown ends the session politely: what was written goes to the bridge
// first, as data written to a socket is sent after Close. Streams then
// fail with err.
func (s *session) shutdown(err error) {
	timeout := time.NewTimer(shutdownWait)
	defer timeout.Stop()
	for {
		s.qmu.Lock()
		queued, space := s.queued, s.qspace
		s.qmu.Unlock()
		if queued == 0 {
			break
		}
		select {
		case <-space:
			continue
		case <-timeout.C:
		case <-s.done:
			return
		}
		break
	}
	s.failOnce.Do(func() {
		s.err = &BridgeError{URL: s.url, Err: err}
		s.t.Shutdown()
		s.teardown()
	})
}

// alive reports whether the session can still open streams.
func (s *session) alive() bool { return !isClosed(s.done) }

// add registers a new stream under a fresh ID.
func (s *session) add(c *Conn) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := s.newID()
	if err == nil {
		c.id = id
		s.streams[id] = c
	}
	return err
}

// addListener registers a new listener under a fresh ID.
func (s *session) addListener(l *Listener) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := s.newID()
	if err == nil {
		l.id = id
		s.listeners[id] = l
	}
	return err
}

// request registers a RESOLVE under a fresh ID, and returns the channel
// its answer comes on; the channel is closed if the session fails first.
func (s *session) request() (uint32, chan wisp.Answer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := s.newID()
	if err != nil {
		return 0, nil, err
	}
	reply := make(chan wisp.Answer, 1)
	s.requests[id] = reply
	return id, reply, nil
}

// newID returns a free ID below bridgeIDs; mu is held.
func (s *session) newID() (uint32, error) {
	if isClosed(s.done) {
		return 0, s.err
	}
	for tries := 0; tries < 1<<16; tries++ {
		id := s.nextID
		s.nextID++
		if s.nextID >= bridgeIDs {
			s.nextID = 1
		}
		_, stream := s.streams[id]
		_, listener := s.listeners[id]
		_, request := s.requests[id]
		if id != 0 && !stream && !listener && !request {
			return id, nil
		}
	}
	return 0, errors.New("wasmnet: no free stream ID")
}

// remove forgets a stream, a listener or a request.
func (s *session) remove(id uint32) {
	s.mu.Lock()
	delete(s.streams, id)
	delete(s.listeners, id)
	delete(s.requests, id)
	s.mu.Unlock()
}

// stats adds up what the session holds.
func (s *session) stats() Stats {
	s.mu.Lock()
	streams := make([]*Conn, 0, len(s.streams))
	for _, c := range s.streams {
		streams = append(streams, c)
	}
	s.mu.Unlock()

	st := Stats{Streams: len(streams)}
	for _, c := range streams {
		c.mu.Lock()
		st.RecvBuffered += c.buffered
		c.mu.Unlock()
	}
	s.qmu.Lock()
	st.SendQueued = s.queued
	s.qmu.Unlock()
	return st
}
