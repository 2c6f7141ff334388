//go:build js && wasm

package jsapi

import (
	"errors"
	"net"
	"strconv"

	"github.com/hack-pad/safejs"
)

// listener is a TCP listener on the bridge: a public port of the bridge
// host, or a named endpoint under .wasmnet.internal.
type listener struct {
	l net.Listener
}

// shut stops listening: the bridge frees the port or name at once.
func (l *listener) shut() error {
	if err := l.l.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

// listen(host, port?) asks the bridge to listen: on a public port when
// host is an IP address (the bridge binds its own address whatever it
// is; port 0 or none takes any port of the operator's range), or on a
// named endpoint when host ends in .wasmnet.internal. It resolves to
// {id, localAddress, localPort}: where clients reach the listener.
func (a *api) listen(args []safejs.Value) (any, error) {
	host := ""
	if h := arg(args, 0); !absent(h) {
		var ok bool
		if host, ok = text(h); !ok {
			return nil, typeError("the local address must be a string")
		}
	}
	port := 0
	if p := arg(args, 1); !absent(p) {
		var ok bool
		if port, ok = number(p); !ok || port < 0 || port > 65535 {
			return nil, typeError("the port must be a number from 0 to 65535")
		}
	}
	l, err := a.dialers.base.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return nil, domError(err)
	}
	fields := map[string]any{"id": a.handles.add(&listener{l: l})}
	addAddr(fields, "local", l.Addr())
	return object(fields)
}

// accept(id) resolves to the next connection, as a socket like dial's
// whose remote address is the peer's, or to null once the listener is
// closed.
func (a *api) accept(args []safejs.Value) (any, error) {
	l, err := lookup[*listener](&a.handles, args)
	if err != nil {
		return nil, err
	}
	c, err := l.l.Accept()
	if errors.Is(err, net.ErrClosed) {
		return safejs.Null(), nil
	}
	if err != nil {
		return nil, domError(err)
	}
	return a.addSocket(&socket{conn: c, stream: c})
}
