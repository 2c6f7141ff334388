//go:build js

package main

import (
	"errors"
	"io"
	"sync"

	"github.com/hack-pad/safejs"
)

// The page's terminal is globalThis.sshTerminal, which index.html sets
// before the program starts:
//
//	{ cols, rows,          // its size now
//	  write(Uint8Array) }  // shows what the shell prints
//
// The program adds two functions to it for the page to call:
//
//	input(string)          // keystrokes, from xterm's onData
//	resize(cols, rows)     // from xterm's onResize
//
// They only queue and return: a JS callback must never block. When the
// shell ends, the program deletes them again.
type jsTerminal struct {
	obj           safejs.Value
	uint8Array    safejs.Value
	input, resize safejs.Func

	mu         sync.Mutex
	in         []byte
	closed     bool
	cols, rows int
	ready      chan struct{} // input arrived or closed; capacity 1
	resized    chan struct{} // capacity 1
}

func pageTerminal() (terminal, bool) {
	obj, err := safejs.Global().Get("sshTerminal")
	if err != nil || obj.IsUndefined() || obj.IsNull() {
		return nil, false
	}
	u8, err := safejs.Global().Get("Uint8Array")
	if err != nil {
		return nil, false
	}
	t := &jsTerminal{obj: obj, uint8Array: u8, ready: make(chan struct{}, 1), resized: make(chan struct{}, 1)}
	t.cols, t.rows = intProp(obj, "cols", 80), intProp(obj, "rows", 24)
	if t.input, err = safejs.FuncOf(t.onInput); err != nil {
		return nil, false
	}
	if t.resize, err = safejs.FuncOf(t.onResize); err != nil {
		t.input.Release()
		return nil, false
	}
	if obj.Set("input", t.input) != nil || obj.Set("resize", t.resize) != nil {
		t.Close()
		return nil, false
	}
	return t, true
}

func (t *jsTerminal) onInput(_ safejs.Value, args []safejs.Value) any {
	if len(args) == 0 {
		return nil
	}
	s, err := args[0].String()
	if err != nil {
		return nil
	}
	t.mu.Lock()
	t.in = append(t.in, s...)
	t.mu.Unlock()
	signal(t.ready)
	return nil
}

func (t *jsTerminal) onResize(_ safejs.Value, args []safejs.Value) any {
	if len(args) < 2 {
		return nil
	}
	cols, err1 := args[0].Int()
	rows, err2 := args[1].Int()
	if err1 != nil || err2 != nil || cols <= 0 || rows <= 0 {
		return nil
	}
	t.mu.Lock()
	t.cols, t.rows = cols, rows
	t.mu.Unlock()
	signal(t.resized)
	return nil
}

// Read waits for keystrokes.
func (t *jsTerminal) Read(p []byte) (int, error) {
	for {
		t.mu.Lock()
		if len(t.in) > 0 {
			n := copy(p, t.in)
			t.in = t.in[n:]
			t.mu.Unlock()
			return n, nil
		}
		closed := t.closed
		t.mu.Unlock()
		if closed {
			return 0, io.EOF
		}
		<-t.ready
	}
}

// Write hands what the shell prints to the page's write.
func (t *jsTerminal) Write(p []byte) (int, error) {
	arr, err := t.uint8Array.New(len(p))
	if err != nil {
		return 0, err
	}
	if _, err := safejs.CopyBytesToJS(arr, p); err != nil {
		return 0, err
	}
	if _, err := t.obj.Call("write", arr); err != nil {
		return 0, errors.New("the page's terminal refused the output")
	}
	return len(p), nil
}

func (t *jsTerminal) Size() (cols, rows int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.cols, t.rows
}

func (t *jsTerminal) Resized() <-chan struct{} { return t.resized }

func (t *jsTerminal) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	t.mu.Unlock()
	signal(t.ready)
	t.obj.Delete("input")
	t.obj.Delete("resize")
	t.input.Release()
	t.resize.Release()
	return nil
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

func intProp(v safejs.Value, name string, def int) int {
	p, err := v.Get(name)
	if err != nil {
		return def
	}
	n, err := p.Int()
	if err != nil || n <= 0 {
		return def
	}
	return n
}
