//go:build js && wasm

package webapi

import (
	"errors"

	"github.com/hack-pad/safejs"
)

// Promise returns a JavaScript Promise settled by fn, which runs on its own
// goroutine so that the caller, a JavaScript callback, never blocks. A nil
// error resolves the promise with the value; an error rejects it with
// NewError(err).
func Promise(fn func() (any, error)) (safejs.Value, error) {
	ctor, err := promiseCtor()
	if err != nil {
		return safejs.Undefined(), err
	}
	executor, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		resolve, reject := args[0], args[1]
		go func() {
			v, err := fn()
			if err != nil {
				reject.Invoke(NewError(err))
				return
			}
			resolve.Invoke(v)
		}()
		return nil
	})
	if err != nil {
		return safejs.Undefined(), err
	}
	// The executor runs inside the constructor, so it can go right after.
	defer executor.Release()
	return ctor.New(executor.Value())
}

// Await waits for a JavaScript promise and returns its value, or its
// rejection as a *JSError.
func Await(p safejs.Value) (safejs.Value, error) {
	type result struct {
		v   safejs.Value
		err error
	}
	done := make(chan result, 1)
	onResolve, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		done <- result{v: arg0(args)}
		return nil
	})
	if err != nil {
		return safejs.Undefined(), err
	}
	defer onResolve.Release()
	onReject, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		done <- result{err: errorFromJS(arg0(args))}
		return nil
	})
	if err != nil {
		return safejs.Undefined(), err
	}
	defer onReject.Release()
	if _, err := p.Call("then", onResolve.Value(), onReject.Value()); err != nil {
		return safejs.Undefined(), err
	}
	r := <-done
	return r.v, r.err
}

func arg0(args []safejs.Value) safejs.Value {
	if len(args) == 0 {
		return safejs.Undefined()
	}
	return args[0]
}

// JSError is a JavaScript exception or rejection seen from Go.
type JSError struct {
	Name    string
	Message string
}

func (e *JSError) Error() string { return e.Name + ": " + e.Message }

func errorFromJS(v safejs.Value) error {
	e := &JSError{Name: "Error"}
	if n, err := v.Get("name"); err == nil && !n.IsUndefined() {
		e.Name, _ = n.String()
	}
	if m, err := v.Get("message"); err == nil && !m.IsUndefined() {
		e.Message, _ = m.String()
	} else if s, err := v.String(); err == nil {
		e.Message = s
	}
	return e
}

// Named is an error that tells JavaScript which DOMException name to use.
type Named interface {
	error
	DOMName() string
}

// NewError converts err to a JavaScript exception: a DOMException when err
// (or an error it wraps) names one, a TypeError or RangeError when it
// names one of those (they are not DOMExceptions), else an Error.
func NewError(err error) safejs.Value {
	msg := err.Error()
	var named Named
	if errors.As(err, &named) {
		switch name := named.DOMName(); name {
		case "TypeError", "RangeError":
			if ctor, e := safejs.Global().Get(name); e == nil {
				if v, e := ctor.New(msg); e == nil {
					return v
				}
			}
		default:
			if ctor, e := safejs.Global().Get("DOMException"); e == nil && !ctor.IsUndefined() {
				if v, e := ctor.New(msg, name); e == nil {
					return v
				}
			}
		}
	}
	ctor, _ := safejs.Global().Get("Error")
	v, e := ctor.New(msg)
	if e != nil {
		return safejs.Undefined()
	}
	return v
}
