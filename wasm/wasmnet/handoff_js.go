//go:build js

package wasmnet

import (
	"github.com/hack-pad/safejs"

	"github.com/wasmnet/wasmnet/internal/buffer"
)

// HandOff is a TCP stream whose reading Go has handed to JavaScript (see
// Conn.HandOff).
type HandOff struct {
	Tap    safejs.Value // the tap of the session's WebSocket (webapi.WebSocket.Tap)
	Stream uint32       // the stream's ID in the session
	Window uint32       // the stream's receive window, in bytes
	Owed   int          // bytes already read and not yet granted back to the bridge
	Data   []byte       // what the stream held unread: it comes before anything the tap takes
	Credit uint32       // the DATA packets the stream may still send, if its writes were handed over
	Adds   bool         // the bridge's CONTINUEs add to the credit (the credit extension) rather than set it
}

// HandOff gives the reading of a TCP stream to JavaScript, where the page's
// loader (js/wasmnet.js) has a tap on the session's WebSocket: from now on
// the tap takes the stream's DATA off the WebSocket before Go sees it, and
// the page grants the window back itself, with WINDOW packets, as it
// reads. The data then crosses into Go and back out no more. Go goes on
// handling the stream's other packets, so Read returns only the stream's
// end or its error. The caller hands the tap the stream, at once and on
// the goroutine that JavaScript called (so that no message comes in
// between), and the data first.
//
// With writes, the page takes the writing too: it sends the stream's DATA
// packets on the WebSocket itself, within the credit (Credit, then the
// bridge's CONTINUEs, which add to the credit or replace it as Adds says,
// and which the page keeps from Go). Go must write no more DATA on the
// stream then, or the two would spend the credit twice, until TakeBack;
// closeWrite and Close still go through Go, after what the page has sent.
// Writes that fail go through Go, where the stream has failed too.
//
// HandOff changes nothing and returns false for a UDP stream, a session
// without a tap, or without the window extension (the page could not hold
// the bridge back), a stream the bridge has not confirmed with OPENED
// (its CONNECT might still be queued here, behind which the page's DATA
// would have to wait), or a stream with a Read in progress.
func (c *Conn) HandOff(writes bool) (HandOff, bool) {
	t, ok := c.s.t.(*jsTransport)
	if c.datagram || !ok || !c.s.feat.window || !isClosed(c.opened) {
		return HandOff{}, false
	}
	tap := t.ws.Tap()
	if tap.IsUndefined() || !c.rdMu.TryLock() {
		return HandOff{}, false
	}
	defer c.rdMu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	h := HandOff{Tap: tap, Stream: c.id, Window: c.s.window, Owed: c.unacked}
	if writes {
		h.Credit, h.Adds = c.credit, c.s.feat.credit
	}
	if c.buffered > 0 {
		h.Data = make([]byte, 0, c.buffered)
		for _, ch := range c.chunks {
			h.Data = append(h.Data, ch.buf[ch.off:]...)
			buffer.Put(ch.buf)
		}
	}
	c.chunks, c.buffered, c.unacked = nil, 0, 0
	return h, true
}

// TakeBack gives a stream's writing back to Go after HandOff(true), with
// the credit the page had left, which is the stream's from now on.
func (c *Conn) TakeBack(credit uint32) { c.putCredit(credit, false) }
