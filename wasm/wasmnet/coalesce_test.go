package wasmnet

import (
	"bytes"
	"testing"

	"github.com/wasmnet/wasmnet/internal/buffer"
	"github.com/wasmnet/wasmnet/wisp"
)

// TestCoalesce: a write joins the stream's last packet only while that
// packet is the last thing queued, only up to a full packet and the queue's
// bound, and never once the session has ended.
func TestCoalesce(t *testing.T) {
	s := &session{qready: make(chan struct{}, 1), qspace: make(chan struct{}), done: make(chan struct{})}
	data := func(id uint32, payload []byte) []byte {
		msg := buffer.Get(wisp.HeaderLen + len(payload))
		wisp.PutHeader(msg, wisp.TypeData, id)
		copy(msg[wisp.HeaderLen:], payload)
		return msg
	}
	take := func(id uint32, p []byte, want int) {
		t.Helper()
		queued := s.queued
		if n := s.coalesce(id, p); n != want {
			t.Fatalf("coalesce(%d, %d bytes) took %d, want %d", id, len(p), n, want)
		}
		if s.queued != queued+want {
			t.Fatalf("queued went from %d to %d after taking %d", queued, s.queued, want)
		}
	}

	take(1, []byte("lost"), 0) // nothing queued

	s.push(data(1, []byte("hello, ")))
	take(1, []byte("world"), 5)
	if got := s.queue[0][wisp.HeaderLen:]; string(got) != "hello, world" {
		t.Fatalf("packet holds %q", got)
	}
	take(2, []byte("other stream"), 0)

	s.push(wisp.AppendHeader(buffer.Get(0)[:0], wisp.TypeClose, 1))
	take(1, []byte("after close"), 0)

	big := bytes.Repeat([]byte{'x'}, buffer.MaxPayload-10)
	s.push(data(3, big))
	take(3, bytes.Repeat([]byte{'y'}, 100), 10)
	if n := len(s.queue[len(s.queue)-1]); n != buffer.MaxMessage {
		t.Fatalf("full packet is %d bytes, want %d", n, buffer.MaxMessage)
	}
	take(3, []byte("y"), 0)

	s.push(data(4, nil))
	s.queued = maxQueued - 3
	take(4, []byte("abcdef"), 3)
	take(4, []byte("g"), 0)

	s.queued = 0
	close(s.done)
	take(4, []byte("late"), 0)
}
