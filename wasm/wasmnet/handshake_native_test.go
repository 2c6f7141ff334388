//go:build !js && !wasip1

package wasmnet_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wasmnet/wasmnet/internal/protodoc"
	"github.com/wasmnet/wasmnet/wasm/wasmnet"
)

// TestClientInfo: the client's first message in a v2 session is the INFO
// docs/PROTOCOL.md gives, byte for byte. The server here only reads it;
// the dial then fails, as that server never answers.
func TestClientInfo(t *testing.T) {
	want, err := protodoc.Find("vectors", "info-v2-wasmnet-client")
	if err != nil {
		t.Fatal(err)
	}
	first := make(chan []byte, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"wisp-v2"}})
		if err != nil {
			return
		}
		defer ws.CloseNow()
		_, msg, err := ws.Read(r.Context())
		if err == nil {
			first <- msg
		}
		ws.Read(r.Context()) // until the client goes
	}))
	defer srv.Close()

	d := &wasmnet.Dialer{Bridge: "ws" + strings.TrimPrefix(srv.URL, "http") + "/"}
	defer d.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go d.DialContext(ctx, "tcp", "127.0.0.1:1")
	select {
	case msg := <-first:
		if !bytes.Equal(msg, want) {
			t.Fatalf("the client's first message is\n%s\nwant the INFO of docs/PROTOCOL.md\n%s", protodoc.FormatHex(msg), protodoc.FormatHex(want))
		}
	case <-ctx.Done():
		t.Fatal("the client sent nothing")
	}
}
