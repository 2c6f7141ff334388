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
// Chromium, by a click, against prosody: bob must get the page's message
// and the page must show his answer.
func TestPageInChromium(t *testing.T) {
	p := startProsody(t)
	page := exampletest.StartBridge(t, p.addr).PageURL(t, "examples/xmpp")
	heard := answerer(t, p, "bob@"+domain+"/page")
	msg := "hello from a browser tab"

	q := url.Values{"jid": {"alice@" + domain + "/page"}, "password": {alicePassword}, "server": {p.addr},
		"to": {"bob@" + domain}, "message": {msg}, "ca": {string(p.ca.PEM)}}
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
	checkChat(t, out, <-heard, "page", msg)
}
