//go:build js && wasm

package jsapi

import (
	"errors"
	"fmt"
	"sync"

	"github.com/hack-pad/safejs"
)

// handle is what JavaScript holds by id: a stream socket, a packet socket
// or a listener.
type handle interface {
	// shut releases what the handle holds; close(id) calls it.
	shut() error
}

// handles is the table of what JavaScript holds, by id. Every kind shares
// one space of ids, so that close(id), and the loader's finalizer, close
// whatever an id names.
type handles struct {
	mu   sync.Mutex
	next int
	byID map[int]handle
}

// add puts h in the table and returns its id.
func (t *handles) add(h handle) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.next++
	if t.byID == nil {
		t.byID = map[int]handle{}
	}
	t.byID[t.next] = h
	return t.next
}

// id reads the id in args[0].
func (t *handles) id(args []safejs.Value) (int, error) {
	if len(args) < 1 {
		return 0, typeError("an id is needed")
	}
	id, ok := number(args[0])
	if !ok {
		return 0, typeError("the id must be a number")
	}
	return id, nil
}

// take removes the handle named by args[0] and returns it, or nil.
func (t *handles) take(args []safejs.Value) (handle, error) {
	id, err := t.id(args)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	h := t.byID[id]
	delete(t.byID, id)
	return h, nil
}

func (t *handles) remove(id int) {
	t.mu.Lock()
	delete(t.byID, id)
	t.mu.Unlock()
}

// lookup returns the handle of kind T named by args[0]. An id that is
// no longer in the table was closed.
func lookup[T handle](t *handles, args []safejs.Value) (T, error) {
	var zero T
	id, err := t.id(args)
	if err != nil {
		return zero, err
	}
	t.mu.Lock()
	h, ok := t.byID[id]
	t.mu.Unlock()
	if !ok {
		return zero, named(invalidState, errors.New("wasmnet: the socket is closed"))
	}
	v, ok := h.(T)
	if !ok {
		return zero, typeError(fmt.Sprintf("id %d names a %s, not a %s", id, kind(h), kind(zero)))
	}
	return v, nil
}

// kind names a handle's type in errors.
func kind(h handle) string {
	switch h.(type) {
	case *socket:
		return "stream socket"
	case *packetSocket:
		return "bound UDP socket"
	case *listener:
		return "listener"
	}
	return "handle"
}

// close(id) closes whatever id names: a socket, a bound UDP socket or a
// listener. Closing twice is fine.
func (a *api) close(args []safejs.Value) (any, error) {
	h, err := a.handles.take(args)
	if err != nil || h == nil {
		return nil, err
	}
	if err := h.shut(); err != nil {
		return nil, domError(err)
	}
	return nil, nil
}
