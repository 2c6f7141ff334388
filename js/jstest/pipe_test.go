//go:build !js && !wasip1

package jstest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestPipe checks what RawSocket.pipe does beyond what TCPSocket shows:
// a plain stream handed to JavaScript after Go has data for it (which must
// come first), writes handed over too, in pieces larger than a packet,
// and writes after closeWrite, which fail as they did through Go.
func TestPipe(t *testing.T) {
	e := startEnv(t)
	ctx := e.page(t)
	var r struct {
		HeldByGo     int
		HandedOff    bool
		Window       int
		Head         string
		BigOK        bool
		Tail         string
		End          *string
		AfterClose   *string
		RecvBuffered int
	}
	runPipe(t, ctx, "afterData", e.cfg, &r)
	if r.HeldByGo < 16 {
		t.Errorf("Go held %d bytes before the pipe; want the 16 echoed", r.HeldByGo)
	}
	if !r.HandedOff || r.Window != pageWindow {
		t.Errorf("pipe handed the stream over: %v, window %d; want true, %d", r.HandedOff, r.Window, pageWindow)
	}
	if r.Head != "before the pipe\n" || !r.BigOK || r.Tail != "after\n" {
		t.Errorf("read %q, the 200000 bytes intact: %v, then %q; want what was written, in order", r.Head, r.BigOK, r.Tail)
	}
	if r.End != nil {
		t.Errorf("the stream ended with %s; want null, the end", *r.End)
	}
	if r.AfterClose == nil || *r.AfterClose != "NetworkError" {
		t.Errorf("a write after closeWrite gave %v; want a NetworkError", r.AfterClose)
	}
	if r.RecvBuffered != 0 {
		t.Errorf("stats() says %d bytes unread after everything was read", r.RecvBuffered)
	}
}

// TestPipeWritesThenTLS: a stream whose reading and writing the page took
// goes back to Go for TLS (startTls), with the page's credit (takeBack):
// the plaintext the page wrote comes first, and Go's TLS then moves
// 300000 bytes each way within that credit.
func TestPipeWritesThenTLS(t *testing.T) {
	e := startEnv(t)
	ctx := e.page(t)
	var r struct {
		HandedOff bool
		Greeting  string
		Echoed    int
		Intact    bool
	}
	runPipe(t, ctx, "writesThenTls", e.cfg, &r)
	if !r.HandedOff {
		t.Errorf("pipe did not hand the stream over")
	}
	if r.Greeting != "GO\n" {
		t.Errorf("the server answered STARTTLS with %q; want \"GO\\n\"", r.Greeting)
	}
	if r.Echoed != 300000 || !r.Intact {
		t.Errorf("TLS echoed %d bytes, intact: %v; want 300000, true", r.Echoed, r.Intact)
	}
}

// runPipe runs the function name of testdata/pipe.js on the page with
// cfg and decodes what it returns into out.
func runPipe(t *testing.T, ctx context.Context, name string, cfg map[string]any, out any) {
	t.Helper()
	c, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[json.RawMessage](
		fmt.Sprintf(`import("/js/jstest/testdata/pipe.js").then((m) => m[%q](%s))`, name, c), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("%s: %v in %s", name, err, raw)
	}
}

// TestPipeHeldTail: the page's writes go in full packets, so a write that
// ends in part of one leaves that part held for the next write (see
// Claim.write in js/wasmnet.js). With no next write, the held part must go
// by itself: each piece is echoed whole before another is written, or the
// test times out waiting for it. Then a burst of writes of views at many
// offsets, which moves held parts into line with the next write, must come
// back byte for byte.
func TestPipeHeldTail(t *testing.T) {
	e := startEnv(t)
	ctx := e.page(t)
	var r struct {
		HandedOff bool
		Echoed    []struct {
			Size, Echoed int
			Intact       bool
		}
	}
	runPipe(t, ctx, "heldTail", e.cfg, &r)
	if !r.HandedOff {
		t.Errorf("pipe did not hand the stream over")
	}
	if len(r.Echoed) != 4 {
		t.Fatalf("echoed %+v; want 3 pieces and a burst, each whole (a piece that stops short never had its held end sent)", r.Echoed)
	}
	for _, p := range r.Echoed {
		if p.Echoed != p.Size || !p.Intact {
			t.Errorf("a write of %d bytes came back as %d bytes, intact: %v", p.Size, p.Echoed, p.Intact)
		}
	}
}
