//go:build js && wasm

package webapi

import (
	"errors"
	"sync"

	"github.com/hack-pad/safejs"
)

// Constructors looked up once: every lookup passes the name from Go to
// JavaScript, which shows on the path of every read.
var (
	uint8ArrayCtor = sync.OnceValues(func() (safejs.Value, error) { return safejs.Global().Get("Uint8Array") })
	promiseCtor    = sync.OnceValues(func() (safejs.Value, error) { return safejs.Global().Get("Promise") })
)

// Bytes copies b into a new Uint8Array.
func Bytes(b []byte) (safejs.Value, error) {
	ctor, err := uint8ArrayCtor()
	if err != nil {
		return safejs.Undefined(), err
	}
	v, err := ctor.New(len(b))
	if err != nil {
		return safejs.Undefined(), err
	}
	_, err = safejs.CopyBytesToJS(v, b)
	return v, err
}

// ToBytes copies a Uint8Array, an ArrayBuffer or a view of one into Go.
func ToBytes(v safejs.Value) ([]byte, error) {
	return AppendBytes(nil, v)
}

// AppendBytes is ToBytes into buf[:0], which it grows if it is too small,
// so that a caller who writes many chunks can reuse one buffer.
func AppendBytes(buf []byte, v safejs.Value) ([]byte, error) {
	ctor, err := uint8ArrayCtor()
	if err != nil {
		return nil, err
	}
	if ok, _ := v.InstanceOf(ctor); !ok {
		buf, err := v.Get("buffer") // another typed array or a DataView
		if err != nil || buf.IsUndefined() {
			buf = v // an ArrayBuffer
		}
		offset, length := 0, -1
		if o, err := v.Get("byteOffset"); err == nil && !o.IsUndefined() {
			offset, _ = o.Int()
			if l, err := v.Get("byteLength"); err == nil {
				length, _ = l.Int()
			}
		}
		args := []any{buf, offset}
		if length >= 0 {
			args = append(args, length)
		}
		if v, err = ctor.New(args...); err != nil {
			return nil, errors.New("expected a BufferSource (ArrayBuffer or typed array)")
		}
	}
	n, err := v.Length()
	if err != nil {
		return nil, err
	}
	b := buf[:0]
	if cap(b) < n {
		b = make([]byte, n)
	}
	b = b[:n]
	_, err = safejs.CopyBytesToGo(b, v)
	return b, err
}
