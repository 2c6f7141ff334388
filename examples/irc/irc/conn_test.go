package irc

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
)

// A line over 512 bytes is an error, and the next line reads as usual;
// so after a line too long to buffer.
func TestReadLineTooLong(t *testing.T) {
	conn := serve(t, []step{{server: []string{
		":srv NOTICE * :" + strings.Repeat("x", 600),
		":srv NOTICE * :" + strings.Repeat("x", 20000),
		":srv NOTICE * :after",
	}}})
	c := NewConn(conn)
	ctx := testContext(t)
	for range 2 {
		if _, err := c.ReadMessage(ctx); !errors.Is(err, ErrLineTooLong) {
			t.Fatalf("ReadMessage = %v, want ErrLineTooLong", err)
		}
	}
	m, err := c.ReadMessage(ctx)
	if err != nil || m.Trailing() != "after" {
		t.Fatalf("ReadMessage = %q, %v", m, err)
	}
}

// A read that ends halfway through a line keeps the half for the next.
func TestReadAcrossCancel(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	c := NewConn(a)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		b.Write([]byte("PRIV")) // returns once ReadMessage has it
		cancel()
	}()
	if _, err := c.ReadMessage(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("ReadMessage = %v, want context.Canceled", err)
	}
	go b.Write([]byte("MSG #c :hi\r\n"))
	m, err := c.ReadMessage(testContext(t))
	if err != nil || m.String() != "PRIVMSG #c hi" {
		t.Fatalf("ReadMessage = %q, %v", m, err)
	}
}
