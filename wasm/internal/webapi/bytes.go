//go:build js && wasm

package webapi

import (
	"errors"

	"github.com/hack-pad/safejs"
)

// Bytes copies b into a new Uint8Array.
func Bytes(b []byte) (safejs.Value, error) {
	ctor, err := safejs.Global().Get("Uint8Array")
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
	ctor, err := safejs.Global().Get("Uint8Array")
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
	b := make([]byte, n)
	_, err = safejs.CopyBytesToGo(b, v)
	return b, err
}
