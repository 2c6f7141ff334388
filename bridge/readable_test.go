//go:build unix && !js && !wasip1

package bridge

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// readPooled, under batchConn, reads what a socket has in one piece, and
// reports the end, a deadline and a connection it cannot wait on.
func TestReadPooled(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peer, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	// On an empty socket the read waits: here for its deadline.
	conn.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	if _, _, err := readPooled(conn, 1024); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("on an empty socket, past the deadline: %v, want os.ErrDeadlineExceeded", err)
	}
	conn.SetReadDeadline(time.Time{})

	// Then it takes what comes, most likely while it waits.
	go func() {
		time.Sleep(20 * time.Millisecond)
		peer.Write([]byte("hello, "))
		peer.Write([]byte("bridge"))
	}()
	var got []byte
	for len(got) < len("hello, bridge") {
		buf, ok, err := readPooled(conn, 1024)
		if !ok || err != nil {
			t.Fatalf("readPooled = %q, %v, %v", buf, ok, err)
		}
		got = append(got, buf...)
	}
	if string(got) != "hello, bridge" {
		t.Fatalf("read %q", got)
	}

	peer.Close()
	if _, _, err := readPooled(conn, 1024); err != io.EOF {
		t.Fatalf("after the peer closed: %v, want io.EOF", err)
	}

	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if _, ok, _ := readPooled(a, 1024); ok {
		t.Fatal("readPooled claims to wait on a net.Pipe, which has no descriptor")
	}
}
