//go:build wasip1

package wasmnet

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"syscall"

	"github.com/wasmnet/wasmnet/internal/buffer"
	"github.com/wasmnet/wasmnet/wasm/internal/pipe"
)

// Under the wazero host (package wasm/host), which sets WASMNET_PIPE=1,
// fd 1 carries the pipe to the host, so os.Stdout is pointed at stderr
// before any other code can print.
var pipeOut *os.File

func init() {
	if os.Getenv("WASMNET_PIPE") == "1" {
		pipeOut = os.Stdout
		os.Stdout = os.Stderr
	}
}

// maxMessage is the largest DATA packet the session sends, header
// included.
const maxMessage = buffer.MaxMessage

var (
	hostOnce sync.Once
	host     *hostPipe
	hostErr  error
)

// hostPipe is the guest's end of the pipe: one reader goroutine spreads
// incoming frames over the sessions.
type hostPipe struct {
	wmu  sync.Mutex
	wbuf []byte

	mu       sync.Mutex
	sessions map[uint32]*pipeTransport
	next     uint32
	err      error // set when the pipe has failed
}

func openPipe() (*hostPipe, error) {
	hostOnce.Do(func() {
		if pipeOut == nil {
			hostErr = errors.New("not running under the wasmnet host: a wasip1 guest reaches the bridge through the stdio pipe of package wasm/host, which sets WASMNET_PIPE=1")
			return
		}
		// The host hands over a pipe; make sure reads from it park the
		// goroutine instead of blocking the whole guest.
		syscall.SetNonblock(0, true)
		host = &hostPipe{sessions: make(map[uint32]*pipeTransport), next: 1}
		go host.readLoop(pipe.NewReader(os.Stdin))
	})
	return host, hostErr
}

func (h *hostPipe) readLoop(r *pipe.Reader) {
	for {
		sid, kind, payload, err := r.Next(buffer.Get)
		if err != nil {
			h.mu.Lock()
			h.err = err
			sessions := h.sessions
			h.sessions = map[uint32]*pipeTransport{}
			h.mu.Unlock()
			for _, t := range sessions {
				t.fail(err)
			}
			return
		}
		h.mu.Lock()
		t := h.sessions[sid]
		h.mu.Unlock()
		if t == nil {
			buffer.Put(payload)
			continue
		}
		switch kind {
		case pipe.KindOpened:
			t.proto = string(payload)
			buffer.Put(payload)
			close(t.opened)
		case pipe.KindMessage:
			select {
			case t.in <- payload:
			case <-t.closed:
				buffer.Put(payload)
			}
		case pipe.KindClose:
			t.fail(errors.New(string(payload)))
			buffer.Put(payload)
		}
	}
}

func (h *hostPipe) write(sid uint32, kind byte, payloads ...[]byte) error {
	h.wmu.Lock()
	defer h.wmu.Unlock()
	b := h.wbuf[:0]
	for _, p := range payloads {
		b = pipe.AppendFrame(b, sid, kind, p)
	}
	_, err := pipeOut.Write(b)
	if cap(b) <= 4<<20 {
		h.wbuf = b[:0]
	}
	return err
}

// pipeTransport is one session through the host.
type pipeTransport struct {
	h      *hostPipe
	sid    uint32
	proto  string // set before opened is closed
	in     chan []byte
	opened chan struct{}

	once   sync.Once
	closed chan struct{}
	err    error // set before closed is closed
}

func dialTransport(ctx context.Context, url string, protocols []string) (transport, error) {
	h, err := openPipe()
	if err != nil {
		return nil, err
	}
	t := &pipeTransport{
		h:      h,
		in:     make(chan []byte, 64),
		opened: make(chan struct{}),
		closed: make(chan struct{}),
	}
	h.mu.Lock()
	if h.err != nil {
		h.mu.Unlock()
		return nil, h.err
	}
	t.sid = h.next
	h.next++
	h.sessions[t.sid] = t
	h.mu.Unlock()

	open := url + "\x00" + strings.Join(protocols, "\x00")
	if err := h.write(t.sid, pipe.KindOpen, []byte(open)); err != nil {
		t.Close()
		return nil, err
	}
	select {
	case <-t.opened:
		return t, nil
	case <-t.closed:
		return nil, t.err
	case <-ctx.Done():
		t.Close()
		return nil, ctx.Err()
	}
}

func (t *pipeTransport) ReadMessage() ([]byte, error) {
	select {
	case m := <-t.in:
		return m, nil
	case <-t.closed:
		select {
		case m := <-t.in:
			return m, nil
		default:
			return nil, t.err
		}
	}
}

func (t *pipeTransport) WriteMessages(msgs [][]byte) error {
	if isClosed(t.closed) {
		return t.err
	}
	return t.h.write(t.sid, pipe.KindMessage, msgs...)
}

func (t *pipeTransport) Subprotocol() string { return t.proto }

// Shutdown is Close: the host closes its WebSocket politely, after what
// it was given before.
func (t *pipeTransport) Shutdown() error { return t.Close() }

func (t *pipeTransport) Close() error {
	if t.fail(errors.New("session closed")) {
		t.h.write(t.sid, pipe.KindClose, nil)
	}
	return nil
}

// fail ends the session; it reports whether this call did.
func (t *pipeTransport) fail(err error) bool {
	first := false
	t.once.Do(func() {
		first = true
		t.err = err
		close(t.closed)
		t.h.mu.Lock()
		delete(t.h.sessions, t.sid)
		t.h.mu.Unlock()
	})
	return first
}

func locationBridge() string { return "" }
