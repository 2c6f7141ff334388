//go:build js && wasm

package webapi

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hack-pad/safejs"
)

// The browser's WebSocket accepts any amount without pushing back, so
// Write watches bufferedAmount itself: past a high-water mark it waits
// for the buffer to drain, polling with a timer. A browser's timers fire
// 4 ms apart at best once they nest, so the mark must hold more than the
// link drains in that time, or the link idles between polls; and no more,
// for what is buffered here delays every stream of the session (and the
// WINDOW grants of downloads) by its length. So the mark adapts: it
// doubles when a wait found the buffer drained dry, and halves when a wait
// found it hardly drained, between these bounds.
const (
	minHighWater   = 256 << 10
	startHighWater = 1 << 20
	maxHighWater   = 8 << 20
)

// WebSocket is a JavaScript WebSocket carrying binary messages.
type WebSocket struct {
	ws       safejs.Value
	uint8    safejs.Value // the Uint8Array constructor
	alloc    func(int) []byte
	maxSize  int
	handlers []safejs.Func
	tap      safejs.Value // the loader's tap on onmessage, or undefined
	high     int          // the high-water mark of bufferedAmount; only Write uses it
	out      safejs.Value // the Uint8Array Write frames messages in; only Write uses it
	outLen   int          // out's length

	mu     sync.Mutex
	msgs   [][]byte
	err    error         // why the socket is unusable; set before closed is closed
	ready  chan struct{} // signalled when a message arrives
	opened chan struct{}
	closed chan struct{}
}

// CloseError reports how the WebSocket closed.
type CloseError struct {
	Code   int
	Reason string
}

func (e *CloseError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("websocket closed with code %d", e.Code)
	}
	return fmt.Sprintf("websocket closed with code %d: %s", e.Code, e.Reason)
}

// DialWebSocket opens a WebSocket to url offering protocols, and waits for
// it to open. Received messages are copied into buffers from alloc;
// messages longer than maxSize close the socket.
func DialWebSocket(ctx context.Context, url string, protocols []string, alloc func(int) []byte, maxSize int) (*WebSocket, error) {
	ctor, err := safejs.Global().Get("WebSocket")
	if err != nil || ctor.IsUndefined() {
		return nil, errors.New("no WebSocket in this JavaScript environment (Node.js 20 needs --experimental-websocket)")
	}
	uint8, err := safejs.Global().Get("Uint8Array")
	if err != nil {
		return nil, err
	}
	protos := make([]any, len(protocols))
	for i, p := range protocols {
		protos[i] = p
	}
	v, err := ctor.New(url, protos)
	if err != nil {
		return nil, fmt.Errorf("websocket: %w", err)
	}
	w := &WebSocket{
		ws:      v,
		tap:     safejs.Undefined(),
		uint8:   uint8,
		alloc:   alloc,
		maxSize: maxSize,
		high:    startHighWater,
		ready:   make(chan struct{}, 1),
		opened:  make(chan struct{}),
		closed:  make(chan struct{}),
	}
	if err := v.Set("binaryType", "arraybuffer"); err != nil {
		return nil, err
	}
	for name, fn := range map[string]func(safejs.Value){
		"onopen":    w.onOpen,
		"onmessage": w.onMessage,
		"onerror":   w.onError,
		"onclose":   w.onClose,
	} {
		f, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
			var ev safejs.Value
			if len(args) > 0 {
				ev = args[0]
			}
			fn(ev)
			return nil
		})
		if err != nil {
			return nil, err
		}
		w.handlers = append(w.handlers, f)
		if name == "onmessage" {
			if tap, ok := tapHook(); ok {
				// The tap sets onmessage, and passes Go what it does not
				// take itself.
				if w.tap, err = tap.Invoke(v, f.Value()); err != nil {
					return nil, err
				}
				continue
			}
		}
		if err := v.Set(name, f.Value()); err != nil {
			return nil, err
		}
	}

	select {
	case <-w.opened:
		return w, nil
	case <-w.closed:
		return nil, w.err
	case <-ctx.Done():
		w.Close("")
		return nil, ctx.Err()
	}
}

// tapHook is globalThis.__wasmnetTap, which js/wasmnet.js installs: a
// function of the WebSocket and Go's onmessage handler that sets the
// WebSocket's onmessage itself, takes the messages it wants (the data of
// streams handed to JavaScript) and passes the rest to Go, and returns
// the tap, an object through which streams are handed over.
func tapHook() (safejs.Value, bool) {
	hook, err := safejs.Global().Get("__wasmnetTap")
	if err != nil || hook.Type() != safejs.TypeFunction {
		return safejs.Undefined(), false
	}
	return hook, true
}

// Tap returns the loader's tap on this WebSocket, or undefined when there
// is none (outside a page or Worker that loaded main.wasm with
// js/wasmnet.js).
func (w *WebSocket) Tap() safejs.Value { return w.tap }

func (w *WebSocket) onOpen(safejs.Value) { close(w.opened) }

func (w *WebSocket) onMessage(ev safejs.Value) {
	data, err := ev.Get("data")
	if err != nil {
		w.fail(err)
		return
	}
	if data.Type() == safejs.TypeString {
		w.fail(errors.New("received a text message where binary was expected"))
		w.Close("binary messages only")
		return
	}
	view, err := w.uint8.New(data)
	if err != nil {
		w.fail(err)
		return
	}
	n, err := view.Length()
	if err != nil {
		w.fail(err)
		return
	}
	if n > w.maxSize {
		w.fail(fmt.Errorf("received a %d-byte message, over the %d-byte limit", n, w.maxSize))
		w.Close("message too big")
		return
	}
	buf := w.alloc(n)
	if _, err := safejs.CopyBytesToGo(buf, view); err != nil {
		w.fail(err)
		return
	}
	w.mu.Lock()
	w.msgs = append(w.msgs, buf)
	w.mu.Unlock()
	select {
	case w.ready <- struct{}{}:
	default:
	}
}

// onError records that something failed; browsers give no detail, and a
// close event follows.
func (w *WebSocket) onError(safejs.Value) {
	w.fail(errors.New("websocket error"))
}

func (w *WebSocket) onClose(ev safejs.Value) {
	code, reason := 0, ""
	if v, err := ev.Get("code"); err == nil {
		code, _ = v.Int()
	}
	if v, err := ev.Get("reason"); err == nil {
		reason, _ = v.String()
	}
	w.fail(&CloseError{Code: code, Reason: reason})
	w.mu.Lock()
	if !isClosed(w.closed) {
		close(w.closed)
	}
	handlers := w.handlers
	w.handlers = nil
	w.mu.Unlock()
	// No further events come after close, so the callbacks can go; a
	// callback may release itself while it runs.
	for _, f := range handlers {
		f.Release()
	}
}

// fail records the first error.
func (w *WebSocket) fail(err error) {
	w.mu.Lock()
	if w.err == nil || isClosing(w.err) && !isClosing(err) {
		w.err = err
	}
	w.mu.Unlock()
}

func isClosing(err error) bool {
	var ce *CloseError
	return errors.As(err, &ce)
}

// Read returns the next message.
func (w *WebSocket) Read() ([]byte, error) {
	for {
		w.mu.Lock()
		if len(w.msgs) > 0 {
			m := w.msgs[0]
			w.msgs[0] = nil
			w.msgs = w.msgs[1:]
			w.mu.Unlock()
			return m, nil
		}
		closed := isClosed(w.closed)
		err := w.err
		w.mu.Unlock()
		if closed {
			return nil, err
		}
		select {
		case <-w.ready:
		case <-w.closed:
		}
	}
}

// Write sends b as one binary message. It returns once JavaScript has
// taken a copy, waiting first while the socket has too much unsent. One
// goroutine writes at a time.
func (w *WebSocket) Write(b []byte) error {
	for waited := false; ; {
		if isClosed(w.closed) {
			w.mu.Lock()
			defer w.mu.Unlock()
			return w.err
		}
		n, err := w.buffered()
		if err != nil {
			return err
		}
		if waited {
			switch {
			case n == 0:
				w.high = min(2*w.high, maxHighWater)
			case n > w.high*3/4:
				w.high = max(w.high/2, minHighWater)
			}
		}
		if n < w.high {
			break
		}
		time.Sleep(time.Millisecond)
		waited = true
	}
	// send copies the message at once, so one buffer serves every
	// message: a new Uint8Array per message cost more than the copy into
	// it (about 55 µs per 64 KiB in Chromium, for memory touched for the
	// first time), and garbage. It grows by doubling, to at most twice the
	// largest message.
	if w.outLen < len(b) {
		n := max(len(b), 2*w.outLen)
		out, err := w.uint8.New(n)
		if err != nil {
			return err
		}
		w.out, w.outLen = out, n
	}
	view, err := w.out.Call("subarray", 0, len(b))
	if err != nil {
		return err
	}
	if _, err := safejs.CopyBytesToJS(view, b); err != nil {
		return err
	}
	_, err = w.ws.Call("send", view)
	return err
}

func (w *WebSocket) buffered() (int, error) {
	v, err := w.ws.Get("bufferedAmount")
	if err != nil {
		return 0, err
	}
	n, _ := v.Int()
	return n, nil
}

// Protocol is the subprotocol the server selected.
func (w *WebSocket) Protocol() string {
	v, err := w.ws.Get("protocol")
	if err != nil {
		return ""
	}
	s, _ := v.String()
	return s
}

// Close starts the closing handshake, with the normal close code (pages may
// send no other). Pending and later Reads return an error at once.
func (w *WebSocket) Close(reason string) error {
	w.fail(errors.New("websocket closed by this side"))
	w.mu.Lock()
	if !isClosed(w.closed) {
		close(w.closed)
	}
	w.mu.Unlock()
	_, err := w.ws.Call("close", 1000, reason)
	return err
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
