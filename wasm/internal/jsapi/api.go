//go:build js && wasm

package jsapi

import (
	"context"
	"net"
	"strconv"
	"sync"

	"github.com/hack-pad/safejs"

	"github.com/wasmnet/wasmnet/wasm/wasmnet"
)

// Version is reported to JavaScript as wasmnet.version.
const Version = "0.3.0"

// api is the state behind globalThis.wasmnet.
type api struct {
	dialers dialers
	handles handles
}

// Register installs globalThis.wasmnet. Sockets dial through d, or through
// a Dialer made like d with another receive window when they ask for one.
func Register(d *wasmnet.Dialer) error {
	a := &api{dialers: dialers{base: d}}
	obj, err := object(map[string]any{"version": Version})
	if err != nil {
		return err
	}
	for name, fn := range map[string]func([]safejs.Value) (any, error){
		"dial":         a.dial,
		"read":         a.read,
		"write":        a.write,
		"closeWrite":   a.closeWrite,
		"close":        a.close,
		"startTls":     a.startTLS,
		"dialUdp":      a.dialUDP,
		"listenPacket": a.listenPacket,
		"readFrom":     a.readFrom,
		"writeTo":      a.writeTo,
		"listen":       a.listen,
		"accept":       a.accept,
		"stats":        a.stats,
	} {
		if err := setFunc(obj, name, fn); err != nil {
			return err
		}
	}
	// These return at once, without a Promise: they only start or wake a
	// goroutine.
	for name, fn := range map[string]func([]safejs.Value) (any, error){
		"pipe":     a.pipe,
		"resume":   a.resume,
		"takeBack": a.takeBack,
	} {
		if err := setSyncFunc(obj, name, fn); err != nil {
			return err
		}
	}
	return safejs.Global().Set("wasmnet", obj)
}

// dialArgs reads the (host, port, options?) of dial and dialUdp, named by
// call, as an address to dial and its options.
func dialArgs(call string, args []safejs.Value) (string, dialOptions, error) {
	if len(args) < 2 {
		return "", dialOptions{}, typeError(call + "(host, port) needs a host and a port")
	}
	host, ok := text(args[0])
	if !ok || host == "" {
		return "", dialOptions{}, typeError("the host must be a non-empty string")
	}
	port, ok := number(args[1])
	if !ok || port < 1 || port > 65535 {
		return "", dialOptions{}, typeError("the port must be a number from 1 to 65535")
	}
	opts, err := parseDialOptions(arg(args, 2))
	if err != nil {
		return "", dialOptions{}, err
	}
	return net.JoinHostPort(host, strconv.Itoa(port)), opts, nil
}

// dial(host, port, options?) opens a stream, and runs a TLS handshake on
// it when options.tls is set.
func (a *api) dial(args []safejs.Value) (any, error) {
	addr, opts, err := dialArgs("dial", args)
	if err != nil {
		return nil, err
	}
	conn, err := a.dialers.get(opts.window).DialContext(context.Background(), "tcp", addr)
	if err != nil {
		return nil, domError(err)
	}
	s := &socket{conn: conn, stream: conn}
	if opts.tls != nil {
		if opts.tls.serverName == "" {
			opts.tls.serverName, _, _ = net.SplitHostPort(addr)
		}
		t, err := handshake(conn, *opts.tls, addr)
		if err != nil {
			conn.Close()
			return nil, err
		}
		s.conn = t
	}
	return a.addSocket(s)
}

// stats() sums what the sessions of every Dialer hold.
func (a *api) stats([]safejs.Value) (any, error) {
	st := a.dialers.stats()
	return object(map[string]any{
		"streams":      st.Streams,
		"recvBuffered": st.RecvBuffered,
		"sendQueued":   st.SendQueued,
		"defaultRoots": loadedRoots(),
	})
}

// Receive windows that a socket may ask for, through receiveBufferSize.
const (
	minWindow = 16 << 10
	maxWindow = 16 << 20
)

// dialers hands out a Dialer per receive window. The window is a setting
// of the whole Dialer (and its session, one WebSocket), so a socket that
// asks for another window gets a Dialer, and a WebSocket, of its own
// size. Sizes are rounded up to a power of two to bound how many there
// can be.
type dialers struct {
	base *wasmnet.Dialer

	mu       sync.Mutex
	byWindow map[int]*wasmnet.Dialer
}

// get returns the Dialer for a receive window of at least size bytes; 0
// means the base Dialer's.
func (ds *dialers) get(size int) *wasmnet.Dialer {
	if size <= 0 {
		return ds.base
	}
	w := minWindow
	for w < size && w < maxWindow {
		w <<= 1
	}
	base := ds.base.Window
	if base <= 0 {
		base = wasmnet.DefaultWindow
	}
	if w == base {
		return ds.base
	}
	ds.mu.Lock()
	defer ds.mu.Unlock()
	d := ds.byWindow[w]
	if d == nil {
		d = &wasmnet.Dialer{Bridge: ds.base.Bridge, Token: ds.base.Token, Timeout: ds.base.Timeout, Window: w}
		if ds.byWindow == nil {
			ds.byWindow = map[int]*wasmnet.Dialer{}
		}
		ds.byWindow[w] = d
	}
	return d
}

func (ds *dialers) stats() wasmnet.Stats {
	ds.mu.Lock()
	all := []*wasmnet.Dialer{ds.base}
	for _, d := range ds.byWindow {
		all = append(all, d)
	}
	ds.mu.Unlock()
	var sum wasmnet.Stats
	for _, d := range all {
		st := d.Stats()
		sum.Streams += st.Streams
		sum.RecvBuffered += st.RecvBuffered
		sum.SendQueued += st.SendQueued
	}
	return sum
}
