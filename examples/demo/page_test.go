package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wasmnet/wasmnet/internal/browser"
)

// TestPageInChromium loads the demo page in headless Chromium and uses it
// as a person would: an echo and a DNS lookup, by clicks.
func TestPageInChromium(t *testing.T) {
	_, srv := startDemo(t)
	ctx := browser.New(t, 2*time.Minute)

	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#echo-send:not([disabled])")),
		chromedp.Click(chromedp.CSS("#echo-send")),
		chromedp.WaitVisible(chromedp.CSS("#echo-out")),
	); err != nil {
		t.Fatal(err)
	}
	echo := waitText(t, ctx, "#echo-out", "closed")
	if !strings.Contains(echo, "received: Hello from a browser tab!") {
		t.Errorf("echo panel says:\n%s", echo)
	}

	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#dns-send"))); err != nil {
		t.Fatal(err)
	}
	if answer := waitText(t, ctx, "#dns-out", "wasmnet.test."); !strings.Contains(answer, "192.0.2.1") {
		t.Errorf("DNS panel says:\n%s", answer)
	}
}

// waitText waits until the element's text contains want, and returns it.
func waitText(t *testing.T, ctx context.Context, sel, want string) string {
	t.Helper()
	var text string
	for range 200 {
		var err error
		text, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(text, want) || strings.Contains(text, "Error") {
			return text
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never showed %q; it says:\n%s", sel, want, text)
	return ""
}
