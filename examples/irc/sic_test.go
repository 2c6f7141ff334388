//go:build !js && !wasip1

package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/wasmnet/wasmnet/internal/daemon"
	"github.com/wasmnet/wasmnet/internal/exampletest"
)

// TestServeSic has an IRC client that is not ours talk to the server in
// wazero: Debian's sic, a client that reads commands on stdin and prints
// what the server sends, through the bridge's public port, with a native
// client of package irc in the channel too.
func TestServeSic(t *testing.T) {
	bin := daemon.Require(t, "sic", "sic")
	b := exampletest.StartListeningBridge(t)
	out, stop := exampletest.StartWazero(t, "examples/irc", b.URL, nil, "-listen", ":0")
	defer stop()
	addr := watchServer(out).address(t)
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	alice := nativeClient(t, ctx, addr, "alice")
	if err := alice.Join(ctx, "#wasmnet"); err != nil {
		t.Fatal(err)
	}

	sic := startSic(t, ctx, bin, "-h", host, "-p", port, "-n", "siccy")
	sic.waitFor(t, ">< 422 ") // the end of the welcome
	sic.send(t, ":j #wasmnet")
	hears(t, ctx, alice, "siccy JOIN #wasmnet")
	// One word, with no need of a colon: sic finds the text only after one.
	privmsg(t, ctx, alice, "#wasmnet", "hi")
	sic.waitFor(t, "<alice> hi")
	sic.send(t, "hello, alice") // to the channel sic joined last
	hears(t, ctx, alice, "siccy PRIVMSG #wasmnet hello, alice")
	sic.send(t, ":QUIT :done")
	hears(t, ctx, alice, "siccy QUIT Quit: done")
	sic.waitFor(t, "Closing Link: 127.0.0.1 (Quit: done)")
}

// sicProcess is a running sic: its stdin, and its stdout line by line.
type sicProcess struct {
	stdin io.Writer
	lines chan string
}

func startSic(t *testing.T, ctx context.Context, bin string, args ...string) *sicProcess {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	p := &sicProcess{stdin: stdin, lines: make(chan string, 100)}
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
	}()
	return p
}

func (p *sicProcess) send(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(p.stdin, line+"\n"); err != nil {
		t.Fatal(err)
	}
}

// waitFor reads sic's output until a line holds want.
func (p *sicProcess) waitFor(t *testing.T, want string) {
	t.Helper()
	var seen []string
	for line := range p.lines {
		if strings.Contains(line, want) {
			return
		}
		seen = append(seen, line)
	}
	t.Fatalf("sic never printed %q; it printed:\n%s", want, strings.Join(seen, "\n"))
}
