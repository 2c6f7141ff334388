package load

import (
	"context"
	"fmt"
	"net"
	"sync"

	"github.com/coder/websocket"

	"github.com/wasmnet/wasmnet/wasm/wasmnet"
	"github.com/wasmnet/wasmnet/wisp"
)

// Readers are clients that stopped reading while their destinations go
// on sending.
type Readers struct {
	dialers []*wasmnet.Dialer
	conns   []net.Conn
	raw     []*websocket.Conn
}

// StopReading opens n sessions, each with one stream to source, a
// services.Source server, asked for an endless flood. Half of them are
// wasmnet Dialers whose program never calls Read: the receive window
// holds the bridge back. The others are raw Wisp clients, without the
// window extension, that never read their WebSocket at all, as a client
// that hangs or a hostile one would: the bridge's writes back up and only
// its own buffer limits hold it.
func StopReading(ctx context.Context, bridgeURL, source string, n int) (*Readers, error) {
	r := &Readers{}
	host, portStr, err := net.SplitHostPort(source)
	if err != nil {
		return nil, err
	}
	var port uint16
	fmt.Sscan(portStr, &port)
	flood := make([]byte, 8) // a count of zero: send until the client goes
	for i := range n {
		if i%2 == 0 {
			d := &wasmnet.Dialer{Bridge: bridgeURL}
			r.dialers = append(r.dialers, d)
			c, err := d.DialContext(ctx, "tcp", source)
			if err != nil {
				r.Close()
				return nil, err
			}
			r.conns = append(r.conns, c)
			if _, err := c.Write(flood); err != nil {
				r.Close()
				return nil, err
			}
			continue
		}
		ws, _, err := websocket.Dial(ctx, bridgeURL, &websocket.DialOptions{Subprotocols: []string{"wisp-v2"}})
		if err != nil {
			r.Close()
			return nil, err
		}
		r.raw = append(r.raw, ws)
		for _, p := range []wisp.Packet{
			{Type: wisp.TypeInfo, Info: wisp.Info{Major: wisp.VersionMajor}},
			{Type: wisp.TypeConnect, Stream: 1, Connect: wisp.Connect{StreamType: wisp.StreamTCP, Host: host, Port: port}},
			{Type: wisp.TypeData, Stream: 1, Data: flood},
		} {
			if err := ws.Write(ctx, websocket.MessageBinary, p.Append(nil)); err != nil {
				r.Close()
				return nil, err
			}
		}
	}
	return r, nil
}

// Close ends every client at once.
func (r *Readers) Close() {
	for _, ws := range r.raw {
		ws.CloseNow()
	}
	var wg sync.WaitGroup
	for i, d := range r.dialers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i < len(r.conns) {
				r.conns[i].Close()
			}
			d.Close()
		}()
	}
	wg.Wait()
}
