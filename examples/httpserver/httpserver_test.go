//go:build !js && !wasip1

package main

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wasmnet/wasmnet/internal/browser"
	"github.com/wasmnet/wasmnet/internal/exampletest"
	"github.com/wasmnet/wasmnet/wasm/wasmnet"
)

// TestUnderWazero runs the server as a wasip1 guest and fetches from it
// with native HTTP clients through the bridge's public port.
func TestUnderWazero(t *testing.T) {
	b := exampletest.StartListeningBridge(t)
	out, stop := exampletest.StartWazero(t, "examples/httpserver", b.URL, nil)
	base := waitServing(t, out)
	fetchAll(t, base)

	// Killing the guest ends its session, which frees the port at once:
	// another client of the bridge can listen on it.
	stop()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	d := &wasmnet.Dialer{Bridge: b.URL}
	defer d.Close()
	var l net.Listener
	// The bridge notices the closed WebSocket soon after; the deadline
	// only guards against a hang.
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if l, err = d.Listen("tcp", ":"+u.Port()); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("the port of the killed guest is still taken: %v", err)
	}
	l.Close()
}

// TestUnderNode runs the server built for js under Node.js.
func TestUnderNode(t *testing.T) {
	b := exampletest.StartListeningBridge(t)
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is needed: install Node.js 20 or later")
	}
	cmd := exec.Command(node, "--stack-size=8192",
		exampletest.WasmExec(t, "wasm_exec_node.js"),
		exampletest.Build(t, "examples/httpserver", "js"))
	cmd.Env = append(os.Environ(), "NODE_OPTIONS=--experimental-websocket", "WASMNET_BRIDGE="+b.URL)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	fetchAll(t, waitServing(t, stdout))
}

// TestInChromium serves from a browser tab: native clients fetch from it,
// and a second page fills in its form.
func TestInChromium(t *testing.T) {
	b := exampletest.StartListeningBridge(t)
	page := b.PageURL(t, "examples/httpserver")
	ctx := browser.New(t, 3*time.Minute)
	if err := chromedp.Do(ctx, chromedp.Navigate(page)); err != nil {
		t.Fatal(err)
	}
	var addr string
	for range 600 {
		var err error
		addr, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#addr")))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(addr, "http://") || strings.HasPrefix(addr, "(failed") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.HasPrefix(addr, "http://") {
		t.Fatalf("the page says %q instead of an address", addr)
	}
	fetchAll(t, addr)

	// A second page, in the same browser, uses the first page's server.
	second, cancel := chromedp.NewContext(ctx)
	defer cancel()
	if err := chromedp.Do(second,
		chromedp.Navigate(addr),
		chromedp.SendKeys(chromedp.CSS("#name"), "Chromium"),
		chromedp.Click(chromedp.CSS("#send")),
		chromedp.WaitVisible(chromedp.CSS("#greeting")),
	); err != nil {
		t.Fatal(err)
	}
	greeting, err := chromedp.Run(second, chromedp.Text(chromedp.CSS("#greeting")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(greeting, "Hello, Chromium, from a Go server inside WebAssembly (js)") {
		t.Errorf("the second page got %q", greeting)
	}
}

// waitServing reads the program's output until it says where it serves.
func waitServing(t *testing.T, out io.Reader) string {
	t.Helper()
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "serving "); ok {
				found <- u
				break
			}
			t.Log(sc.Text())
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case u := <-found:
		return u
	case <-time.After(3 * time.Minute):
		t.Fatal("the server never said where it serves")
		return ""
	}
}

// fetchAll sends 50 requests at once: pages, form posts and 1 MiB bodies,
// which must arrive byte for byte.
func fetchAll(t *testing.T, base string) {
	t.Helper()
	want := sha256.Sum256(Pattern(1 << 20))
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var res *http.Response
			var err error
			switch i % 3 {
			case 0:
				res, err = http.Get(base + "blob?size=1048576")
			case 1:
				res, err = http.PostForm(base+"greet", url.Values{"name": {fmt.Sprint("client ", i)}})
			default:
				res, err = http.Get(base)
			}
			if err != nil {
				errs <- err
				return
			}
			body, err := io.ReadAll(res.Body)
			res.Body.Close()
			switch {
			case err != nil:
				errs <- err
			case res.StatusCode != http.StatusOK:
				errs <- fmt.Errorf("request %d: %s", i, res.Status)
			case i%3 == 0 && sha256.Sum256(body) != want:
				errs <- fmt.Errorf("request %d: the 1 MiB body arrived corrupted (%d bytes)", i, len(body))
			case i%3 == 1 && !strings.Contains(string(body), fmt.Sprintf("Hello, client %d, from a Go server inside WebAssembly", i)):
				errs <- fmt.Errorf("request %d: %q", i, body)
			case i%3 == 2 && !strings.Contains(string(body), "Served from inside WebAssembly"):
				errs <- fmt.Errorf("request %d: %q", i, body)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
