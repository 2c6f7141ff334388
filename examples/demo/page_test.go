//go:build !js && !wasip1

package main

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/wasmnet/wasmnet/internal/browser"
)

// openPage loads the demo page in a fresh headless Chromium and waits for
// the runtime.
func openPage(t *testing.T, url string) context.Context {
	t.Helper()
	ctx := browser.New(t, 3*time.Minute)
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	if status := browser.WaitText(t, ctx, "#status", "ready", "Error", "failed"); !strings.Contains(status, "ready") {
		t.Fatalf("the runtime did not start: %s", status)
	}
	return ctx
}

// TestPageInChromium uses the page as a person would: opens a socket to
// the echo server, types, sees the bytes come back, closes it; tries a
// destination the bridge refuses; and looks a name up in DNS.
func TestPageInChromium(t *testing.T) {
	_, srv := startDemo(t)
	ctx := openPage(t, srv.URL+"/")

	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS("#sock-service"), "echo"),
		chromedp.Click(chromedp.CSS("#sock-open")),
		chromedp.WaitEnabled(chromedp.CSS("#sock-send")),
		chromedp.SetValue(chromedp.CSS("#sock-input"), "ping over wasmnet"),
		chromedp.Click(chromedp.CSS("#sock-send")),
	); err != nil {
		t.Fatal(err)
	}
	log := browser.WaitText(t, ctx, "#sock-log", "← 17 B  ping over wasmnet", "Error", "failed")
	for _, want := range []string{"open: 127.0.0.1:", "→ 17 B  ping over wasmnet"} {
		if !strings.Contains(log, want) {
			t.Errorf("the socket's log lacks %q:\n%s", want, log)
		}
	}
	if counts := browser.WaitText(t, ctx, "#sock-counts", "17 B in", "Error", "failed"); !strings.Contains(counts, "17 B out") {
		t.Errorf("counters say %q", counts)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#sock-close"))); err != nil {
		t.Fatal(err)
	}
	if state := browser.WaitText(t, ctx, "#sock-status", "closed", "Error", "failed"); state != "closed" {
		t.Errorf("after Close the socket is %q", state)
	}
	if log := browser.WaitText(t, ctx, "#sock-log", "closed", "Error", "failed"); strings.Contains(log, "Error") {
		t.Errorf("closing logged an error:\n%s", log)
	}

	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS("#sock-service"), "blocked"),
		chromedp.Click(chromedp.CSS("#sock-open")),
	); err != nil {
		t.Fatal(err)
	}
	if log := browser.WaitText(t, ctx, "#sock-log", "NotAllowedError", "Error", "failed"); !strings.Contains(log, "policy") {
		t.Errorf("a refused destination logs:\n%s", log)
	}

	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#dns-send"))); err != nil {
		t.Fatal(err)
	}
	if answer := browser.WaitText(t, ctx, "#dns-out", "wasmnet.test.", "Error", "failed"); !strings.Contains(answer, "192.0.2.1") {
		t.Errorf("DNS panel says:\n%s", answer)
	}
}

// TestSMTPDemo sends a mail by clicks: the page speaks SMTP in JavaScript,
// upgrades with startTls, and the demo's sink must hold the message, over
// TLS. Then the page's inbox shows it, and a screenshot is kept in
// artifacts/.
func TestSMTPDemo(t *testing.T) {
	d, srv := startDemo(t)
	ctx := openPage(t, srv.URL+"/")

	marker := "marker-" + rand.Text()[:10]
	subject := "Hello over STARTTLS " + marker
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS("#mail-from"), "tab@wasmnet.test"),
		chromedp.SetValue(chromedp.CSS("#mail-to"), "inbox@wasmnet.test"),
		chromedp.SetValue(chromedp.CSS("#mail-subject"), subject),
		chromedp.SetValue(chromedp.CSS("#mail-body"), "First line.\n.A line that starts with a dot.\nLast line."),
		chromedp.Click(chromedp.CSS("#mail-send")),
	); err != nil {
		t.Fatal(err)
	}
	transcript := browser.WaitText(t, ctx, "#mail-log", "S: 221", "Error", "failed")
	for _, want := range []string{"C: STARTTLS", "TLS started: TLS 1.3", "valid for mail.wasmnet.test", "S: 250"} {
		if !strings.Contains(transcript, want) {
			t.Errorf("the transcript lacks %q:\n%s", want, transcript)
		}
	}

	find, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	mail, err := d.sink.Find(find, marker)
	if err != nil {
		t.Fatalf("the sink has no mail from the page: %v\nthe page says:\n%s", err, transcript)
	}
	if mail.TLS != "TLS 1.3" || mail.From != "tab@wasmnet.test" || len(mail.To) != 1 || mail.To[0] != "inbox@wasmnet.test" {
		t.Errorf("the sink got from %q to %q over %q; want from tab@ to inbox@ over TLS 1.3", mail.From, mail.To, mail.TLS)
	}
	data := string(mail.Data)
	for _, want := range []string{"Subject: " + subject + "\r\n", "\r\nFirst line.\r\n.A line that starts with a dot.\r\nLast line."} {
		if !strings.Contains(data, want) {
			t.Errorf("the message lacks %q:\n%s", want, data)
		}
	}

	if inbox := browser.WaitText(t, ctx, "#mailbox", marker, "Error", "failed"); !strings.Contains(inbox, "TLS 1.3") {
		t.Errorf("the page's inbox shows:\n%s", inbox)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("..", "..", "artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "demo-smtp.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// TestPWA checks that the page is an installable app that starts offline:
// Chromium finds nothing to stop installing it, the service worker takes
// control, and once the server is gone the page still loads, main.wasm
// included, and a socket fails with a clear error.
func TestPWA(t *testing.T) {
	d, srv := startDemo(t)
	ctx := openPage(t, srv.URL+"/")

	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`navigator.serviceWorker.controller !== null`)); err != nil {
		t.Fatalf("the service worker never took control: %v", err)
	}
	res, err := chromedp.Call(ctx, page.GetInstallabilityErrors, cdp.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range res.InstallabilityErrors {
		t.Errorf("not installable: %s %v", e.ErrorID, e.ErrorArguments)
	}

	// Offline: no web server, no bridge.
	d.bridge.Close()
	srv.CloseClientConnections()
	srv.Close()
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	if status := browser.WaitText(t, ctx, "#status", "ready", "Error", "failed"); !strings.Contains(status, "ready") {
		t.Fatalf("offline, the runtime did not start: %s", status)
	}
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS("#sock-service"), "echo"),
		chromedp.Click(chromedp.CSS("#sock-open")),
	); err != nil {
		t.Fatal(err)
	}
	if log := browser.WaitText(t, ctx, "#sock-log", "NetworkError", "Error", "failed"); !strings.Contains(log, "cannot reach the bridge") {
		t.Errorf("offline, opening a socket logs:\n%s", log)
	}
}
