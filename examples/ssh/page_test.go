//go:build !js && !wasip1

package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/wasmnet/wasmnet/internal/browser"
	"github.com/wasmnet/wasmnet/internal/exampletest"
)

// TestPageInChromium logs in from index.html in headless Chromium, types
// commands into the xterm.js terminal as a person would, and reads their
// output from the terminal's screen: a command, then the terminal's size
// after the window is resized, then exit.
func TestPageInChromium(t *testing.T) {
	if _, err := os.Stat(filepath.Join(exampletest.Root(t), "examples/ssh/node_modules/@xterm/xterm/lib/xterm.mjs")); err != nil {
		t.Fatal("xterm.js is missing: run npm ci --prefix examples/ssh (make deps does)")
	}
	s := startSSHD(t)
	page := exampletest.StartBridge(t, s.addr).PageURL(t, "examples/ssh")
	q := url.Values{"server": {s.addr}, "user": {s.user}, "password": {s.password}, "hostkey": {s.hostKey}}
	ctx := browser.New(t, 2*time.Minute)

	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1000, 900),
		chromedp.Navigate(page+"?"+q.Encode()),
		chromedp.WaitVisible(chromedp.CSS("#connect:not([disabled])")),
		chromedp.Click(chromedp.CSS("#connect")),
	); err != nil {
		t.Fatal(err)
	}
	waitScreen(t, ctx, func(lines []string) bool { return len(lines) > 0 && strings.HasSuffix(lines[len(lines)-1], "$") })

	// A command; its output differs from what was typed.
	marker := randomHex()
	typeLine(t, ctx, "echo hello-$((6*7))-"+marker)
	waitScreen(t, ctx, hasLine("hello-42-"+marker))

	// Narrow the window: xterm.js fits itself to it, and the shell must
	// learn the new size.
	before := termSize(t, ctx)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(600, 900)); err != nil {
		t.Fatal(err)
	}
	var after string
	for range 200 {
		if after = termSize(t, ctx); after != before {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if after == before {
		t.Fatalf("the terminal stayed %s after the window was narrowed", before)
	}
	var cols, rows int
	fmt.Sscanf(after, "%dx%d", &cols, &rows)
	typeLine(t, ctx, "stty size")
	waitScreen(t, ctx, hasLine(fmt.Sprintf("%d %d", rows, cols)))

	typeLine(t, ctx, "exit")
	for range 200 {
		status, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#status")))
		if err != nil {
			t.Fatal(err)
		}
		if status == "Disconnected." {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Error("the page never said Disconnected after exit")
}

// typeLine types a line into the focused terminal and presses Enter. The
// text goes in as text input and Enter as a bare key press: KeyEvent's
// char events would reach xterm.js twice (chromedp's docs/API.md, 20).
func typeLine(t *testing.T, ctx context.Context, line string) {
	t.Helper()
	if _, err := chromedp.Call(ctx, input.InsertText, input.InsertTextParams{Text: line}); err != nil {
		t.Fatal(err)
	}
	for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeRawKeyDown, input.DispatchKeyEventTypeKeyUp} {
		_, err := chromedp.Call(ctx, input.DispatchKeyEvent, input.DispatchKeyEventParams{
			Type: typ, Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13,
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func termSize(t *testing.T, ctx context.Context) string {
	t.Helper()
	size, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("status").dataset.size`))
	if err != nil {
		t.Fatal(err)
	}
	return size
}

func hasLine(want string) func([]string) bool {
	return func(lines []string) bool {
		for _, l := range lines {
			if l == want {
				return true
			}
		}
		return false
	}
}

// waitScreen waits until the terminal's screen, as its rows of text with
// the blank ones dropped, satisfies ok.
func waitScreen(t *testing.T, ctx context.Context, ok func(lines []string) bool) {
	t.Helper()
	var lines []string
	for range 600 { // half a minute
		text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".xterm-rows")))
		if err != nil {
			t.Fatal(err)
		}
		lines = lines[:0]
		for _, l := range strings.Split(strings.ReplaceAll(text, "\u00a0", " "), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				lines = append(lines, l)
			}
		}
		if ok(lines) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the terminal shows:\n%s", strings.Join(lines, "\n"))
}
