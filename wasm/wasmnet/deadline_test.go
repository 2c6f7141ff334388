package wasmnet

import (
	"testing"
	"time"
)

// TestDeadlineStop: a closed stream keeps no timer. In wasm a pending
// timer is a wake-up of the whole program; a server that closed its
// connections would otherwise stay awake until their deadlines passed.
func TestDeadlineStop(t *testing.T) {
	d := newDeadline()
	d.set(time.Now().Add(time.Hour))
	if d.timer == nil {
		t.Fatal("a deadline in the future has no timer")
	}
	d.stop()
	if d.timer != nil {
		t.Fatal("stop left the timer")
	}
	d.set(time.Now().Add(time.Hour))
	if d.timer != nil {
		t.Fatal("set after stop armed a timer")
	}
	if isClosed(d.wait()) {
		t.Fatal("stop made the deadline pass")
	}
}
