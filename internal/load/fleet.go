package load

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/wasmnet/wasmnet/wasm/wasmnet"
)

// Fleet is many sessions, each its own wasmnet.Dialer (its own
// WebSocket, as each page would have), with streams open to an echo
// server through one bridge.
type Fleet struct {
	dialers []*wasmnet.Dialer
	conns   [][]net.Conn // by session
}

// openers bounds the sessions being opened at once.
const openers = 32

// Open opens sessions sessions with streams streams each to the echo
// server at echo, each stream after one round trip of a byte, so that
// every stream is connected end to end when Open returns.
func Open(ctx context.Context, bridgeURL, echo string, sessions, streams int) (*Fleet, error) {
	f := &Fleet{dialers: make([]*wasmnet.Dialer, sessions), conns: make([][]net.Conn, sessions)}
	sem := make(chan struct{}, openers)
	errs := make(chan error, sessions)
	var wg sync.WaitGroup
	for i := range sessions {
		f.dialers[i] = &wasmnet.Dialer{Bridge: bridgeURL}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			one := []byte{byte(i)}
			for j := range streams {
				c, err := f.dialers[i].DialContext(ctx, "tcp", echo)
				if err != nil {
					errs <- fmt.Errorf("session %d, stream %d: %w", i, j, err)
					return
				}
				f.conns[i] = append(f.conns[i], c)
				if dl, ok := ctx.Deadline(); ok {
					c.SetDeadline(dl) // a hang guard for the round trip
				}
				if _, err := c.Write(one); err != nil {
					errs <- err
					return
				}
				if _, err := io.ReadFull(c, one); err != nil {
					errs <- err
					return
				}
				c.SetDeadline(time.Time{})
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// Streams counts the fleet's streams.
func (f *Fleet) Streams() int {
	n := 0
	for _, cs := range f.conns {
		n += len(cs)
	}
	return n
}

// chunk is the size of the writes and reads of Exchange.
const chunk = 16 << 10

// Exchange sends n bytes on every stream at once, each stream its own
// pseudo-random bytes, half-closes, and reads the echo to its end,
// checking it against what was sent by SHA-256. It returns the payload
// bytes that went through the bridge, both ways together. Any stream
// whose echo differs fails it, and so does one still busy at deadline.
func (f *Fleet) Exchange(n int, deadline time.Time) (int64, error) {
	var wg sync.WaitGroup
	errs := make(chan error, f.Streams())
	for i, cs := range f.conns {
		for j, c := range cs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c.SetDeadline(deadline)
				defer c.SetDeadline(time.Time{})
				if err := exchange(c, uint64(i)<<32|uint64(j), n); err != nil {
					errs <- fmt.Errorf("session %d, stream %d: %w", i, j, err)
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	if len(all) > 0 {
		return 0, fmt.Errorf("%d streams failed; the first: %w", len(all), all[0])
	}
	return 2 * int64(n) * int64(f.Streams()), nil
}

// halfCloser is a stream that can shut down its writing side.
type halfCloser interface{ CloseWrite() error }

func exchange(c net.Conn, seed uint64, n int) error {
	sent := make(chan [sha256.Size]byte, 1)
	werr := make(chan error, 1)
	go func() {
		rng := rand.NewChaCha8([32]byte{0: byte(seed), 1: byte(seed >> 8), 4: byte(seed >> 32), 5: byte(seed >> 40)})
		h := sha256.New()
		buf := make([]byte, chunk)
		for left := n; left > 0; left -= len(buf) {
			buf = buf[:min(chunk, left)]
			rng.Read(buf)
			h.Write(buf)
			if _, err := c.Write(buf); err != nil {
				werr <- err
				return
			}
		}
		sent <- [sha256.Size]byte(h.Sum(nil))
		werr <- c.(halfCloser).CloseWrite()
	}()
	h := sha256.New()
	got, err := io.CopyBuffer(h, c, make([]byte, chunk))
	if err != nil {
		return fmt.Errorf("reading the echo after %d bytes: %w", got, err)
	}
	if err := <-werr; err != nil {
		return fmt.Errorf("writing: %w", err)
	}
	if got != int64(n) {
		return fmt.Errorf("echo of %d bytes, want %d", got, n)
	}
	if [sha256.Size]byte(h.Sum(nil)) != <-sent {
		return errors.New("the echo differs from what was sent (SHA-256)")
	}
	return nil
}

// Close closes every stream and session.
func (f *Fleet) Close() {
	var wg sync.WaitGroup
	for i, d := range f.dialers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, c := range f.conns[i] {
				c.Close()
			}
			d.Close()
		}()
	}
	wg.Wait()
}
