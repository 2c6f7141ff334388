//go:build !js && !wasip1

package main

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wasmnet/wasmnet/internal/browser"
	"github.com/wasmnet/wasmnet/internal/exampletest"
)

// TestPageInChromium runs the program from index.html in headless
// Chromium, by a click, against mosquitto: the native client must get the
// page's message and the page must show the answer.
func TestPageInChromium(t *testing.T) {
	addr := startMosquitto(t)
	page := exampletest.StartBridge(t, addr).PageURL(t, "examples/mqtt")
	tp := newTopics()
	heard := answerer(t, addr, tp)
	msg := "hello from a browser tab"

	q := url.Values{"broker": {addr}, "user": {testUser}, "password": {testPassword},
		"subscribe": {tp.replies}, "publish": {tp.hello}, "message": {msg}}
	ctx := browser.New(t, 2*time.Minute)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(page+"?"+q.Encode()),
		chromedp.WaitVisible(chromedp.CSS("#run:not([disabled])")),
		chromedp.Click(chromedp.CSS("#run")),
	); err != nil {
		t.Fatal(err)
	}
	out := browser.WaitText(t, ctx, "#out", "\n[")
	t.Logf("the page says:\n%s", out)
	if !strings.Contains(out, "[exit 0]") {
		t.Error("the program did not exit 0")
	}
	checkRoundTrip(t, out, heard, tp, msg)
}
