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
	"github.com/wasmnet/wasmnet/internal/services"
)

// TestPageInChromium sends a mail from index.html in headless Chromium, by
// a click, to go-smtp in this process.
func TestPageInChromium(t *testing.T) {
	ca, err := services.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	tlsConfig, err := ca.ServerTLS(serverName)
	if err != nil {
		t.Fatal(err)
	}
	sink, err := services.SMTP("127.0.0.1:0", tlsConfig, true)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	sink.RequireAuth(testUser, testPassword)
	page := exampletest.StartBridge(t, sink.Addr().String()).PageURL(t, "examples/smtp")

	_, marker, _ := testMail("")
	q := url.Values{
		"server":     {sink.Addr().String()},
		"servername": {serverName},
		"user":       {testUser},
		"password":   {testPassword},
		"subject":    {"wasmnet " + marker},
		"body":       {"Sent by a click.\n.dot"},
		"ca":         {string(ca.PEM)},
	}
	ctx := browser.New(t, 2*time.Minute)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(page+"?"+q.Encode()),
		chromedp.WaitVisible(chromedp.CSS("#send:not([disabled])")),
		chromedp.Click(chromedp.CSS("#send")),
	); err != nil {
		t.Fatal(err)
	}
	out := browser.WaitText(t, ctx, "#out", "[")
	if !strings.Contains(out, "AUTH PLAIN: authenticated as tab") || !strings.Contains(out, "[exit 0]") {
		t.Fatalf("the page says:\n%s", out)
	}
	mctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	mail, err := sink.Find(mctx, marker)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(mail.Data), "\r\n\r\nSent by a click.\r\n.dot\r\n") || mail.TLS != "TLS 1.3" || mail.Auth != testUser {
		t.Errorf("go-smtp received (tls=%q auth=%q)\n%q", mail.TLS, mail.Auth, mail.Data)
	}
}
