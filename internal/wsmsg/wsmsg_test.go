//go:build !js && !wasip1

package wsmsg

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wasmnet/wasmnet/internal/buffer"
)

// pair returns the two ends of a real WebSocket over loopback: the
// server's, and the client's, whose socket is a Conn.
func pair(t *testing.T) (server *websocket.Conn, client *websocket.Conn, conn *Conn) {
	t.Helper()
	accepted := make(chan *websocket.Conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			t.Error(err)
			return
		}
		c.SetReadLimit(buffer.MaxMessage + 1<<10)
		accepted <- c
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hc := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			conn = NewConn(c)
			return conn, nil
		},
	}}
	client, _, err := websocket.Dial(ctx, srv.URL, &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	client.SetReadLimit(buffer.MaxMessage + 1<<10)
	t.Cleanup(func() { client.CloseNow() })
	select {
	case server = <-accepted:
	case <-ctx.Done():
		t.Fatal("the server did not accept")
	}
	t.Cleanup(func() { server.CloseNow() })
	return server, client, conn
}

func TestRead(t *testing.T) {
	server, client, conn := pair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// A batch between Hold and Release arrives whole, in order: an empty
	// message, a small one, and one of exactly the limit.
	const limit = 64 << 10
	msgs := [][]byte{{}, []byte("hello"), bytes.Repeat([]byte{0xa5}, limit)}
	conn.Hold()
	for _, m := range msgs {
		if err := client.Write(ctx, websocket.MessageBinary, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := conn.Release(); err != nil {
		t.Fatal(err)
	}
	for i, want := range msgs {
		got, err := Read(ctx, server, limit)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("message %d: got %d bytes, want %d", i, len(got), len(want))
		}
		buffer.Put(got)
	}

	// One byte over the limit fails as too big; a text message as text.
	if err := client.Write(ctx, websocket.MessageBinary, make([]byte, limit+1)); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(ctx, server, limit); !errors.Is(err, websocket.ErrMessageTooBig) {
		t.Errorf("a message over the limit: %v; want ErrMessageTooBig", err)
	}
}

func TestReadText(t *testing.T) {
	server, client, _ := pair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := client.Write(ctx, websocket.MessageText, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(ctx, server, 1<<10); !errors.Is(err, ErrText) {
		t.Errorf("a text message: %v; want ErrText", err)
	}
}

// TestConnReadsAhead checks that Conn's read-ahead hands coder/websocket
// every byte: messages written from the server in one burst, more than
// Conn's buffer holds, with frames across its edges, arrive intact at the
// client.
func TestConnReadsAhead(t *testing.T) {
	server, client, _ := pair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var msgs [][]byte
	for i, n := range []int{1, buffer.MaxMessage, buffer.MaxMessage - 20, 3, buffer.MaxMessage, buffer.MaxMessage / 2, 9} {
		m := make([]byte, n)
		for j := range m {
			m[j] = byte(i + j)
		}
		msgs = append(msgs, m)
	}
	go func() {
		for _, m := range msgs {
			if err := server.Write(ctx, websocket.MessageBinary, m); err != nil {
				return
			}
		}
	}()
	for i, want := range msgs {
		got, err := Read(ctx, client, buffer.MaxMessage)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("message %d of %d bytes came corrupted (%d bytes)", i, len(want), len(got))
		}
		buffer.Put(got)
	}
}
