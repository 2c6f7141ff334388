//go:build !js && !wasip1

package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/wasmnet/wasmnet/wasm/wasmnet"
)

// startDemo runs the demo on free ports, serving the repository root.
func startDemo(t *testing.T) (*demo, *httptest.Server) {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	free := ports{Echo: "127.0.0.1:0", DNS: "", SMTP: "127.0.0.1:0", Mailbox: "127.0.0.1:0"}
	d, err := start(root, free, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d)
	t.Cleanup(func() { srv.Close(); d.Close() })
	return d, srv
}

// TestDemoServices checks what the page relies on: the page itself, the
// configuration, and each service reached through the demo's bridge, whose
// policy opens exactly those services.
func TestDemoServices(t *testing.T) {
	d, srv := startDemo(t)

	res, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(page), "js/index.js") {
		t.Fatalf("GET / = %d, without the loader", res.StatusCode)
	}

	res, err = http.Get(srv.URL + "/demo/config.json")
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]string
	if err := json.NewDecoder(res.Body).Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if cfg["echo"] != d.config.Echo || cfg["bridge"] != "/wisp/" {
		t.Fatalf("config = %v", cfg)
	}

	dialer := &wasmnet.Dialer{Bridge: "ws" + strings.TrimPrefix(srv.URL, "http") + "/wisp/"}
	defer dialer.Close()

	c, err := dialer.Dial("tcp", cfg["echo"])
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "ping")
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo: %q, %v", buf, err)
	}
	c.Close()

	c, err = dialer.Dial("tcp", cfg["dns"])
	if err != nil {
		t.Fatal(err)
	}
	resp, _, err := new(dns.Client).ExchangeWithConn(new(dns.Msg).SetQuestion("wasmnet.test.", dns.TypeA), &dns.Conn{Conn: c})
	c.Close()
	if err != nil || len(resp.Answer) != 1 {
		t.Fatalf("dns: %v, %v", resp, err)
	}

	// Anything else stays closed: the demo's bridge is no open proxy.
	if _, err := dialer.Dial("tcp", srv.Listener.Addr().String()); err == nil || !strings.Contains(err.Error(), "blocked") {
		t.Errorf("dial to the web server itself: %v, want blocked", err)
	}
}

// TestWasmServedCompressed checks that main.wasm goes out precompressed,
// brotli or gzip as the client accepts, with the right headers, and that
// the body is main.wasm, when "make wasm" has built it.
func TestWasmServedCompressed(t *testing.T) {
	raw, err := os.ReadFile("../../main.wasm")
	if err != nil {
		t.Fatal("main.wasm is missing: run make wasm (make test does)")
	}
	_, srv := startDemo(t)
	get := func(acceptEncoding string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+"/main.wasm", nil)
		req.Header.Set("Accept-Encoding", acceptEncoding)
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		if ct := res.Header.Get("Content-Type"); ct != "application/wasm" {
			t.Errorf("Accept-Encoding %q: Content-Type %q", acceptEncoding, ct)
		}
		return res, body
	}

	res, body := get("gzip")
	if ce := res.Header.Get("Content-Encoding"); ce != "gzip" {
		t.Errorf("Accept-Encoding gzip: Content-Encoding %q", ce)
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if unzipped, err := io.ReadAll(zr); err != nil || !bytes.Equal(unzipped, raw) {
		t.Errorf("the gzip body does not unpack to main.wasm (%v)", err)
	}

	br, err := os.ReadFile("../../main.wasm.br")
	if err != nil {
		t.Fatal("main.wasm.br is missing: make wasm makes it with Debian's brotli (make deps installs it)")
	}
	res, body = get("gzip, deflate, br, zstd") // what Chromium sends
	if ce := res.Header.Get("Content-Encoding"); ce != "br" || !bytes.Equal(body, br) {
		t.Errorf("Accept-Encoding with br: Content-Encoding %q and %d bytes; want br and main.wasm.br's %d", ce, len(body), len(br))
	}
	if len(body) >= len(raw) {
		t.Errorf("brotli body of %d bytes for main.wasm of %d", len(body), len(raw))
	}

	res, body = get("")
	if ce := res.Header.Get("Content-Encoding"); ce != "" || !bytes.Equal(body, raw) {
		t.Errorf("without Accept-Encoding: Content-Encoding %q; body is main.wasm: %v", ce, bytes.Equal(body, raw))
	}
}

// TestExamplesLinked checks that the demo page links every example that
// has a page, and that the demo serves each of those pages and its
// main.wasm.
func TestExamplesLinked(t *testing.T) {
	_, srv := startDemo(t)
	page, err := os.ReadFile("../../index.html")
	if err != nil {
		t.Fatal(err)
	}
	pages, err := filepath.Glob("../*/index.html")
	if err != nil || len(pages) == 0 {
		t.Fatalf("no example pages found: %v", err)
	}
	for _, p := range pages {
		name := filepath.Base(filepath.Dir(p))
		link := `href="examples/` + name + `/"`
		if !strings.Contains(string(page), link) {
			t.Errorf("index.html has no %s", link)
		}
		for _, path := range []string{"/examples/" + name + "/", "/examples/" + name + "/main.wasm"} {
			res, err := http.Get(srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Errorf("GET %s = %d; want 200 (make wasm builds the example pages)", path, res.StatusCode)
			}
		}
	}
}
