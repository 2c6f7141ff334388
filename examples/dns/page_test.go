//go:build !js && !wasip1

package main

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wasmnet/wasmnet/internal/browser"
	"github.com/wasmnet/wasmnet/internal/exampletest"
)

// TestPageInChromium asks unbound from index.html in headless Chromium, by
// a click, over UDP with the retry over TCP (over TCP alone while UDP is
// off).
func TestPageInChromium(t *testing.T) {
	server := startUnbound(t)
	page := exampletest.StartBridge(t, server).PageURL(t, "examples/dns")
	network := "tcp"
	if udpEnabled {
		network = "udp"
	}
	q := url.Values{"server": {server}, "queries": {strings.Join(args, " ")}, "net": {network}}
	ctx := browser.New(t, 2*time.Minute)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(page+"?"+q.Encode()),
		chromedp.WaitVisible(chromedp.CSS("#ask:not([disabled])")),
		chromedp.Click(chromedp.CSS("#ask")),
	); err != nil {
		t.Fatal(err)
	}
	out := waitText(t, ctx, "#out", "\n[")
	checkOutput(t, out, append(wantOver(network), "[exit 0]"))
}

// waitText waits until the element's text contains want, and returns it.
func waitText(t *testing.T, ctx context.Context, sel, want string) string {
	t.Helper()
	var text string
	for range 1200 { // a minute
		var err error
		text, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(text, want) {
			return text
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never showed %q; it says:\n%s", sel, want, text)
	return ""
}
