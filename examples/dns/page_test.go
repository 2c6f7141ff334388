//go:build !js && !wasip1

package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wasmnet/wasmnet/internal/browser"
	"github.com/wasmnet/wasmnet/internal/exampletest"
	"github.com/wasmnet/wasmnet/internal/webserve"
)

// TestPageInChromium asks unbound from index.html in headless Chromium, by
// a click, over UDP with the retry over TCP (over TCP alone while UDP is
// off).
func TestPageInChromium(t *testing.T) {
	server := startUnbound(t)
	page := servePage(t, exampletest.StartBridge(t, server), "examples/dns")
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

// servePage serves the repository and the bridge, as exampletest.StartBridge
// does, but with the page's main.wasm freshly built for js and Go's own
// wasm_exec.js, so the test does not depend on "make wasm". It returns the
// page's URL.
func servePage(t *testing.T, b *exampletest.Bridge, dir string) string {
	t.Helper()
	wasm := exampletest.Build(t, dir, "js")
	mux := http.NewServeMux()
	mux.Handle("/wisp/", b.Handler)
	mux.HandleFunc("/"+dir+"/main.wasm", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/wasm")
		http.ServeFile(w, r, wasm)
	})
	mux.HandleFunc("/js/wasm_exec.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(runtime.GOROOT(), "lib", "wasm", "wasm_exec.js"))
	})
	mux.Handle("/", webserve.Static(exampletest.Root(t)))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/" + dir + "/"
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
