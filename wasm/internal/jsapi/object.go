//go:build js && wasm

package jsapi

import (
	"sync"

	"github.com/hack-pad/safejs"

	"github.com/wasmnet/wasmnet/wasm/internal/webapi"
)

// setFunc adds a method to obj that returns a Promise settled by fn on its
// own goroutine. The function lives as long as the program: it is one of
// a fixed few.
func setFunc(obj safejs.Value, name string, fn func(args []safejs.Value) (any, error)) error {
	f, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		p, err := webapi.Promise(func() (any, error) { return fn(args) })
		if err != nil {
			return webapi.NewError(err)
		}
		return p
	})
	if err != nil {
		return err
	}
	return obj.Set(name, f.Value())
}

// setSyncFunc adds a method to obj that runs fn at once, on the calling
// goroutine, and returns its value, or the exception for its error, which
// the caller throws (a Go function cannot). fn must not block.
func setSyncFunc(obj safejs.Value, name string, fn func(args []safejs.Value) (any, error)) error {
	f, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		v, err := fn(args)
		if err != nil {
			return webapi.NewError(err)
		}
		return v
	})
	if err != nil {
		return err
	}
	return obj.Set(name, f.Value())
}

// objectCtor is looked up once: objects are made for every datagram read.
var objectCtor = sync.OnceValues(func() (safejs.Value, error) { return safejs.Global().Get("Object") })

// object makes a plain JavaScript object with the given fields.
func object(fields map[string]any) (safejs.Value, error) {
	ctor, err := objectCtor()
	if err != nil {
		return safejs.Undefined(), err
	}
	obj, err := ctor.New()
	if err != nil {
		return obj, err
	}
	for k, v := range fields {
		if err := obj.Set(k, v); err != nil {
			return obj, err
		}
	}
	return obj, nil
}

// arg returns args[i], or undefined.
func arg(args []safejs.Value, i int) safejs.Value {
	if i < len(args) {
		return args[i]
	}
	return safejs.Undefined()
}

// prop returns v[key] unless it is undefined or null.
func prop(v safejs.Value, key string) (safejs.Value, bool) {
	p, err := v.Get(key)
	if err != nil || absent(p) {
		return p, false
	}
	return p, true
}

func absent(v safejs.Value) bool { return v.IsUndefined() || v.IsNull() }

// number returns v as an int if it is a JavaScript number. It checks the
// type first: converting anything else panics inside syscall/js, which
// safejs recovers, at the cost of a stack trace, too dear for every read.
func number(v safejs.Value) (int, bool) {
	if v.Type() != safejs.TypeNumber {
		return 0, false
	}
	n, err := v.Int()
	return n, err == nil
}

// text returns v if it is a JavaScript string.
func text(v safejs.Value) (string, bool) {
	if v.Type() != safejs.TypeString {
		return "", false
	}
	s, err := v.String()
	return s, err == nil
}
