package irc

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

// A step of a canned session: the line the client must send, then the
// lines the server answers with.
type step struct {
	client string
	server []string
}

// serve plays a canned server on a loopback TCP connection and returns
// the client's end. The test fails if the client sends anything else, in
// another order. Closing the client's end ends the server.
func serve(t *testing.T, script []step) net.Conn {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cli, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		cli.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("the canned server did not stop")
		}
	})
	go func() {
		defer close(done)
		defer srv.Close()
		srv.SetDeadline(time.Now().Add(10 * time.Second))
		r := bufio.NewReader(srv)
		for _, s := range script {
			if s.client != "" {
				line, err := r.ReadString('\n')
				if err != nil {
					t.Errorf("server wanted %q, got %v", s.client, err)
					return
				}
				if got := strings.TrimSuffix(line, "\r\n"); got != s.client {
					t.Errorf("client sent %q, want %q", got, s.client)
					return
				}
			}
			for _, l := range s.server {
				if _, err := srv.Write([]byte(l + "\r\n")); err != nil {
					t.Errorf("server writing %q: %v", l, err)
					return
				}
			}
		}
	}()
	return cli
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// The session of the example program, as ngircd answers it.
func TestSession(t *testing.T) {
	ctx := testContext(t)
	conn := serve(t, []step{
		{client: "NICK wasm"},
		{client: "USER wasm 0 * wasm", server: []string{
			":irc.wasmnet.test 001 wasm :Welcome to the Internet Relay Network wasm!~wasm@localhost",
			":irc.wasmnet.test 002 wasm :Your host is irc.wasmnet.test",
			"PING :irc.wasmnet.test",
		}},
		{client: "JOIN #WasmNet"},
		{client: "PONG irc.wasmnet.test", server: []string{
			":wasm!~wasm@localhost JOIN :#wasmnet",
			":irc.wasmnet.test 353 wasm = #wasmnet :wasm @bob",
			":bob!~bob@localhost PRIVMSG #wasmnet :early",
			":irc.wasmnet.test 366 wasm #wasmnet :End of NAMES list",
		}},
		{client: "PRIVMSG #wasmnet :hello from wasm", server: []string{
			"PING :again",
		}},
		{client: "PONG again", server: []string{
			":bob!~bob@localhost PRIVMSG #wasmnet :hello, wasm",
		}},
		{client: "PRIVMSG bob :line one"},
		{client: "PRIVMSG bob :line two"},
		{client: "QUIT bye", server: []string{"ERROR :Closing connection"}},
	})
	c := NewClient(conn)
	if err := c.Register(ctx, Identity{Nick: "wasm"}); err != nil {
		t.Fatal(err)
	}
	if c.Nick() != "wasm" {
		t.Errorf("Nick() = %q", c.Nick())
	}
	if err := c.Join(ctx, "#WasmNet"); err != nil {
		t.Fatal(err)
	}
	if err := c.Privmsg(ctx, "#wasmnet", "hello from wasm"); err != nil {
		t.Fatal(err)
	}
	// What came during registration and joining comes first, then the
	// channel; PINGs never show.
	var got []string
	for len(got) < 4 {
		m, err := c.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m.Command+" "+m.Trailing())
	}
	want := []string{"002 Your host is irc.wasmnet.test", "353 wasm @bob", "PRIVMSG early", "PRIVMSG hello, wasm"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Next returned\n%q\nwant\n%q", got, want)
	}
	if err := c.Privmsg(ctx, "bob", "line one\r\nline two\n"); err != nil {
		t.Fatal(err)
	}
	if err := c.Quit(ctx, "bye"); err != nil {
		t.Fatal(err)
	}
}

func TestRegisterNickInUse(t *testing.T) {
	conn := serve(t, []step{
		{client: "PASS sesame"},
		{client: "NICK bob"},
		{client: "USER b 0 * :Bob B", server: []string{":srv 433 * bob :Nickname already in use"}},
	})
	err := NewClient(conn).Register(testContext(t), Identity{Nick: "bob", User: "b", RealName: "Bob B", Password: "sesame"})
	var e *Error
	if !errors.As(err, &e) || e.Command != ErrNicknameInUse {
		t.Fatalf("Register = %v, want a 433 *Error", err)
	}
	if got := err.Error(); got != "irc: 433 bob Nickname already in use" {
		t.Errorf("error text %q", got)
	}
}

func TestJoinRefused(t *testing.T) {
	conn := serve(t, []step{
		{client: "NICK w"},
		{client: "USER w 0 * w", server: []string{":srv 001 w :hi"}},
		{client: "JOIN #secret", server: []string{":srv 475 w #secret :Cannot join channel (+k)"}},
	})
	c := NewClient(conn)
	ctx := testContext(t)
	if err := c.Register(ctx, Identity{Nick: "w"}); err != nil {
		t.Fatal(err)
	}
	var e *Error
	if err := c.Join(ctx, "#secret"); !errors.As(err, &e) || e.Command != "475" {
		t.Fatalf("Join = %v, want a 475 *Error", err)
	}
}

func TestServerClosesLink(t *testing.T) {
	conn := serve(t, []step{
		{client: "NICK w"},
		{client: "USER w 0 * w", server: []string{"ERROR :Closing connection: w[127.0.0.1] (Too many connections)"}},
	})
	err := NewClient(conn).Register(testContext(t), Identity{Nick: "w"})
	if err == nil || !strings.Contains(err.Error(), "server closed the link: Closing connection") {
		t.Fatalf("Register = %v", err)
	}
}

// A context that ends unblocks Next, and the connection stays usable.
func TestNextContext(t *testing.T) {
	conn := serve(t, []step{
		{client: "NICK w"},
		{client: "USER w 0 * w", server: []string{":srv 001 w :hi"}},
		{client: "PRIVMSG #c :still here"},
	})
	c := NewClient(conn)
	if err := c.Register(testContext(t), Identity{Nick: "w"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next = %v, want context.DeadlineExceeded", err)
	}
	if err := c.Privmsg(testContext(t), "#c", "still here"); err != nil {
		t.Fatal(err)
	}
}

func TestLineTooLong(t *testing.T) {
	conn := serve(t, nil)
	err := NewClient(conn).Privmsg(testContext(t), "#c", strings.Repeat("x", 600))
	if err == nil || !strings.Contains(err.Error(), "over the 512") {
		t.Fatalf("Privmsg of 600 bytes = %v", err)
	}
}
