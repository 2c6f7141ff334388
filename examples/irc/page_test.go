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
// Chromium, by a click, against ngircd: the native client must hear the
// page and the page must show the answer.
func TestPageInChromium(t *testing.T) {
	addr := startNgircd(t)
	page := exampletest.StartBridge(t, addr).PageURL(t, "examples/irc")
	nick, say := "wasm_page", "hello from a browser tab"
	answered := answerer(t, addr, "native_pg", nick, say)

	q := url.Values{"server": {addr}, "nick": {nick}, "channel": {"#wasmnet"}, "say": {say}}
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
	checkTalk(t, out, <-answered, nick, say, "native_pg")
}
