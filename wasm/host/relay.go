//go:build !js && !wasip1

package host

import (
	"context"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/wasmnet/wasmnet/internal/buffer"
	"github.com/wasmnet/wasmnet/internal/wsmsg"
	"github.com/wasmnet/wasmnet/wasm/internal/pipe"
)

// relay joins the guest's pipe to one WebSocket per session.
type relay struct {
	toGuest *os.File
	opts    websocket.DialOptions

	ctx    context.Context
	cancel context.CancelFunc

	wmu  sync.Mutex // frames to the guest
	wbuf []byte

	mu       sync.Mutex
	sessions map[uint32]*hostSession
	closed   []*hostSession // closed by the guest, perhaps still sending
	wg       sync.WaitGroup
}

// hostSession is one WebSocket the guest opened.
type hostSession struct {
	id      uint32
	out     chan []byte   // messages for the bridge; full means the guest waits
	flushed chan struct{} // closed once nothing more goes to the bridge
	ctx     context.Context
	cancel  context.CancelFunc
}

func newRelay(toGuest *os.File, opts *websocket.DialOptions) *relay {
	r := &relay{toGuest: toGuest, sessions: map[uint32]*hostSession{}}
	if opts != nil {
		r.opts = *opts
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	return r
}

// serve reads the guest's frames until its stdout closes.
func (r *relay) serve(fromGuest io.Reader) {
	pr := pipe.NewReader(fromGuest)
	for {
		sid, kind, payload, err := pr.Next(buffer.Get)
		if err != nil {
			if err != io.EOF && err != io.ErrClosedPipe {
				io.Copy(io.Discard, fromGuest) // keep the guest from blocking
			}
			return
		}
		r.mu.Lock()
		s := r.sessions[sid]
		r.mu.Unlock()
		switch kind {
		case pipe.KindOpen:
			if s == nil {
				r.open(sid, string(payload))
			}
			buffer.Put(payload)
		case pipe.KindMessage:
			if s == nil {
				buffer.Put(payload)
				continue
			}
			select {
			case s.out <- payload:
			case <-s.ctx.Done():
				buffer.Put(payload)
			}
		case pipe.KindClose:
			// The guest is done with the session: forget it here, and let
			// the writer send what it was given before closing.
			if s != nil {
				r.mu.Lock()
				delete(r.sessions, sid)
				r.closed = append(r.closed, s)
				r.mu.Unlock()
				close(s.out)
			}
			buffer.Put(payload)
		default:
			buffer.Put(payload)
		}
	}
}

// open starts a session: dial, then relay both ways.
func (r *relay) open(sid uint32, spec string) {
	url, protos, _ := strings.Cut(spec, "\x00")
	opts := r.opts
	opts.Subprotocols = nil
	if protos != "" {
		opts.Subprotocols = strings.Split(protos, "\x00")
	}
	s := &hostSession{id: sid, out: make(chan []byte, 256), flushed: make(chan struct{})}
	s.ctx, s.cancel = context.WithCancel(r.ctx)
	r.mu.Lock()
	r.sessions[sid] = s
	r.mu.Unlock()

	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer func() {
			s.cancel()
			r.mu.Lock()
			if r.sessions[sid] == s {
				delete(r.sessions, sid)
			}
			r.mu.Unlock()
		}()
		ws, _, err := websocket.Dial(s.ctx, url, &opts)
		if err != nil {
			close(s.flushed)
			r.send(sid, pipe.KindClose, []byte(err.Error()))
			return
		}
		defer ws.CloseNow()
		ws.SetReadLimit(buffer.MaxMessage)
		r.send(sid, pipe.KindOpened, []byte(ws.Subprotocol()))

		go func() { // guest to bridge
			defer close(s.flushed)
			for {
				select {
				case m, ok := <-s.out:
					if !ok {
						ws.Close(websocket.StatusNormalClosure, "")
						return
					}
					err := ws.Write(s.ctx, websocket.MessageBinary, m)
					buffer.Put(m)
					if err != nil {
						s.cancel()
						return
					}
				case <-s.ctx.Done():
					return
				}
			}
		}()
		for { // bridge to guest
			m, err := wsmsg.Read(s.ctx, ws, buffer.MaxMessage)
			if err != nil {
				if s.ctx.Err() == nil {
					r.send(sid, pipe.KindClose, []byte(err.Error()))
				}
				return
			}
			err = r.send(sid, pipe.KindMessage, m)
			buffer.Put(m)
			if err != nil {
				return
			}
		}
	}()
}

// send writes one frame to the guest, waiting while the guest's stdin is
// full: that is how a guest that reads slowly pushes back on the bridge.
func (r *relay) send(sid uint32, kind byte, payload []byte) error {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	r.wbuf = pipe.AppendFrame(r.wbuf[:0], sid, kind, payload)
	_, err := r.toGuest.Write(r.wbuf)
	return err
}

// flushWait bounds how long a guest that has exited waits for the
// sessions it closed to send what it gave them.
const flushWait = 5 * time.Second

// close ends every session and waits for them. The sessions the guest
// closed first send what it wrote before closing, and their closing
// handshake, as a closed socket still sends what was written to it: a
// guest that closes its Dialer and exits at once loses nothing. Canceling
// at once cut them off, and the bridge then reset the streams whose
// CLOSE had not reached it.
func (r *relay) close() {
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	deadline := time.NewTimer(flushWait)
	defer deadline.Stop()
wait:
	for _, s := range closed {
		select {
		case <-s.flushed:
		case <-deadline.C:
			break wait
		}
	}
	r.cancel()
	r.toGuest.SetWriteDeadline(aLongTimeAgo) // unblock a send to a guest that has gone
	r.wg.Wait()
}

var aLongTimeAgo = time.Unix(1, 0)
