package wasmnet

import (
	"sync"
	"time"
)

// deadline is a resettable deadline in the manner of net.Pipe's: a channel
// that is closed when the deadline passes, and replaced when it is moved.
// A fired deadline only makes waits fail; it never closes the stream.
type deadline struct {
	mu      sync.Mutex
	timer   *time.Timer
	cancel  chan struct{} // closed when the deadline has passed
	stopped bool          // the stream is closed: no more timers
}

func newDeadline() *deadline {
	return &deadline{cancel: make(chan struct{})}
}

// set moves the deadline to t. The zero time means no deadline.
func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped {
		return
	}

	if d.timer != nil && !d.timer.Stop() {
		<-d.cancel // the timer fired; wait for it to close cancel
	}
	d.timer = nil

	closed := isClosed(d.cancel)
	if t.IsZero() {
		if closed {
			d.cancel = make(chan struct{})
		}
		return
	}
	if dur := time.Until(t); dur > 0 {
		if closed {
			d.cancel = make(chan struct{})
		}
		cancel := d.cancel
		d.timer = time.AfterFunc(dur, func() { close(cancel) })
		return
	}
	if !closed {
		close(d.cancel)
	}
}

// stop cancels the timer for good, so that a closed stream keeps no timer
// (and, in wasm, no wake-up of the program) alive; later sets do nothing.
func (d *deadline) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	d.stopped = true
}

// wait returns a channel that is closed when the deadline passes.
func (d *deadline) wait() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cancel
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
