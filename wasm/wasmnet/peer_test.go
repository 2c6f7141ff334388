package wasmnet_test

import (
	"bytes"
	"crypto/sha256"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/wasmnet/wasmnet/internal/buffer"
	"github.com/wasmnet/wasmnet/wasm/wasmnet"
)

// TestPeer is one side of a conversation between two separate programs
// through a named endpoint. TestTwoGuests runs it twice, in two wazero
// guests: the server listens on $WASMNET_TEST_PEER and answers the
// SHA-256 of what it reads; the client sends 4 MiB and checks the answer.
func TestPeer(t *testing.T) {
	role, name := os.Getenv("WASMNET_TEST_PEER_ROLE"), os.Getenv("WASMNET_TEST_PEER")
	if role == "" {
		t.Skip("one side of TestTwoGuests, which runs it in two guests")
	}
	e := testEnv(t)
	d := &wasmnet.Dialer{Bridge: e.Bridge}
	defer d.Close()

	if role == "server" {
		l, err := d.Listen("tcp", name)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		c, err := l.Accept()
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		h := sha256.New()
		if _, err := io.Copy(h, c); err != nil {
			t.Fatal(err)
		}
		c.Write(h.Sum(nil))
		return
	}

	// The client may start first: wait for the server's endpoint.
	var c net.Conn
	var err error
	for range 600 {
		if c, err = d.Dial("tcp", name); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	data := bytes.Repeat([]byte("tab to tab "), (4<<20)/11)
	for rest := data; len(rest) > 0; {
		n, err := c.Write(rest[:min(len(rest), buffer.MaxPayload/3)])
		if err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	c.(*wasmnet.Conn).CloseWrite()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if want := sha256.Sum256(data); !bytes.Equal(got, want[:]) {
		t.Errorf("the server read something else than was sent")
	}
}
