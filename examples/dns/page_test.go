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

// TestPageInChromium asks unbound from index.html in headless Chromium, by
// a click, over UDP with the retry over TCP.
func TestPageInChromium(t *testing.T) {
	server := startUnbound(t)
	page := exampletest.StartBridge(t, server).PageURL(t, "examples/dns")
	const network = "udp"
	q := url.Values{"server": {server}, "queries": {strings.Join(args, " ")}, "net": {network}}
	ctx := browser.New(t, 2*time.Minute)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(page+"?"+q.Encode()),
		chromedp.WaitVisible(chromedp.CSS("#ask:not([disabled])")),
		chromedp.Click(chromedp.CSS("#ask")),
	); err != nil {
		t.Fatal(err)
	}
	out := browser.WaitText(t, ctx, "#out", "\n[")
	checkOutput(t, out, append(wantOver(network), "[exit 0]"))
}
