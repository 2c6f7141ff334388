//go:build !js && !wasip1

// Package browser starts headless Chromium for the tests where the browser
// is the point, and drives it with github.com/chromedp/chromedp.
//
// Chromium comes from Debian's package (make deps installs it); no tool
// downloads a browser. A test that needs it fails, never skips, when it is
// missing, with the command that installs it.
package browser

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// New starts a fresh headless Chromium with its own profile and returns a
// context for its first tab, which ends with the test. timeout bounds the
// whole use of the browser as a hang detector.
func New(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	path := os.Getenv("CHROMIUM")
	if path == "" {
		var err error
		if path, err = exec.LookPath("chromium"); err != nil {
			t.Fatal("chromium not found: run make deps (it installs Debian's chromium), or set CHROMIUM to its path")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("enable-precise-memory-info", true),
	)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(bcancel)
	// Start the browser now, so that a failure to start is reported here.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return bctx
}

// WaitText waits, for up to a minute, until the text of the element sel
// contains want or one of the failure markers, and returns the text. It
// fails the test if neither ever shows.
func WaitText(t testing.TB, ctx context.Context, sel, want string, failures ...string) string {
	t.Helper()
	var text string
	for range 1200 {
		var err error
		text, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(text, want) {
			return text
		}
		for _, f := range failures {
			if strings.Contains(text, f) {
				return text
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never showed %q; it says:\n%s", sel, want, text)
	return ""
}
