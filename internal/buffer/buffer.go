// Package buffer pools the byte slices that carry Wisp packets, on the
// bridge and in the client alike.
//
// Buffers come in a few size classes, so that a packet read into a large
// buffer returns to the right pool once its payload has been used, and so
// that small packets do not pin large buffers.
package buffer

import (
	"sync"

	"github.com/wasmnet/wasmnet/wisp"
)

// MaxPayload is the largest DATA payload either side sends by default:
// writes and reads are cut into packets of at most this size.
const MaxPayload = 64 << 10

// MaxMessage is the largest message of MaxPayload: header included.
const MaxMessage = wisp.HeaderLen + MaxPayload

// Chunk is the size of the buffers that collect small payloads.
const Chunk = 16 << 10

var classes = [...]int{512, 4 << 10, Chunk, MaxMessage}

var pools [len(classes)]sync.Pool

// Get returns a buffer of length n from the smallest class that fits.
func Get(n int) []byte {
	for i, size := range classes {
		if n <= size {
			if p, ok := pools[i].Get().(*[]byte); ok {
				return (*p)[:n]
			}
			return make([]byte, n, size)
		}
	}
	return make([]byte, n)
}

// Put returns b to its pool. Buffers of other capacities are left to the
// garbage collector. The caller must not use b afterwards.
func Put(b []byte) {
	for i, size := range classes {
		if cap(b) == size {
			b = b[:0]
			pools[i].Put(&b)
			return
		}
	}
}
