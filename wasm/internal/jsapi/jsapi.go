//go:build js && wasm

package jsapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"syscall"

	"github.com/hack-pad/safejs"

	"github.com/wasmnet/wasmnet/wasm/internal/webapi"
	"github.com/wasmnet/wasmnet/wasm/wasmnet"
)

// Version is reported to JavaScript as wasmnet.version.
const Version = "0.1.0"

// readSize is the most one read() returns.
const readSize = 64 << 10

// Register installs globalThis.wasmnet and keeps the functions alive for
// the life of the program.
func Register(d *wasmnet.Dialer) error {
	api, err := object(map[string]any{"version": Version})
	if err != nil {
		return err
	}
	if err := setFunc(api, "dial", func(args []safejs.Value) (any, error) {
		host, port, err := hostPort(args)
		if err != nil {
			return nil, err
		}
		conn, err := d.DialContext(context.Background(), "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return nil, domError(err)
		}
		return socketObject(conn)
	}); err != nil {
		return err
	}
	return safejs.Global().Set("wasmnet", api)
}

func hostPort(args []safejs.Value) (string, int, error) {
	if len(args) < 2 {
		return "", 0, typeError("dial(host, port) needs a host and a port")
	}
	host, err := args[0].String()
	if err != nil {
		return "", 0, typeError("host must be a string")
	}
	port, err := args[1].Int()
	if err != nil || port < 1 || port > 65535 {
		return "", 0, typeError("port must be a number from 1 to 65535")
	}
	return host, port, nil
}

// socketObject wraps conn for JavaScript.
func socketObject(conn net.Conn) (safejs.Value, error) {
	fields := map[string]any{}
	addAddr(fields, "remote", conn.RemoteAddr())
	addAddr(fields, "local", conn.LocalAddr())
	obj, err := object(fields)
	if err != nil {
		return obj, err
	}
	var rmu sync.Mutex
	buf := make([]byte, readSize)
	setFunc(obj, "read", func([]safejs.Value) (any, error) {
		rmu.Lock()
		defer rmu.Unlock()
		n, err := conn.Read(buf)
		if n > 0 {
			return webapi.Bytes(buf[:n])
		}
		if err == io.EOF {
			return safejs.Null(), nil
		}
		return nil, domError(err)
	})
	setFunc(obj, "write", func(args []safejs.Value) (any, error) {
		if len(args) < 1 {
			return nil, typeError("write(data) needs data")
		}
		b, err := webapi.ToBytes(args[0])
		if err != nil {
			return nil, typeError(err.Error())
		}
		if _, err := conn.Write(b); err != nil {
			return nil, domError(err)
		}
		return nil, nil
	})
	setFunc(obj, "closeWrite", func([]safejs.Value) (any, error) {
		cw, ok := conn.(interface{ CloseWrite() error })
		if !ok {
			return nil, domError(errors.New("this socket cannot half-close"))
		}
		if err := cw.CloseWrite(); err != nil {
			return nil, domError(err)
		}
		return nil, nil
	})
	setFunc(obj, "close", func([]safejs.Value) (any, error) {
		if err := conn.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			return nil, domError(err)
		}
		return nil, nil
	})
	return obj, nil
}

func addAddr(fields map[string]any, prefix string, a net.Addr) {
	if tcp, ok := a.(*net.TCPAddr); ok && tcp.IP != nil {
		fields[prefix+"Address"] = tcp.IP.String()
		fields[prefix+"Port"] = tcp.Port
		return
	}
	if host, port, err := net.SplitHostPort(a.String()); err == nil {
		fields[prefix+"Address"] = host
		fields[prefix+"Port"], _ = strconv.Atoi(port)
	}
}

// setFunc adds a method to obj that returns a Promise settled by fn. The
// function is never released: it lives as long as obj may be used.
func setFunc(obj safejs.Value, name string, fn func(args []safejs.Value) (any, error)) error {
	f, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		p, err := webapi.Promise(func() (any, error) { return fn(args) })
		if err != nil {
			return webapi.NewError(err)
		}
		return p
	})
	if err != nil {
		return err
	}
	return obj.Set(name, f.Value())
}

func object(fields map[string]any) (safejs.Value, error) {
	ctor, err := safejs.Global().Get("Object")
	if err != nil {
		return safejs.Undefined(), err
	}
	obj, err := ctor.New()
	if err != nil {
		return obj, err
	}
	for k, v := range fields {
		if err := obj.Set(k, v); err != nil {
			return obj, err
		}
	}
	return obj, nil
}

// namedError carries the DOMException name JavaScript should see.
type namedError struct {
	name string
	err  error
}

func (e *namedError) Error() string   { return e.err.Error() }
func (e *namedError) Unwrap() error   { return e.err }
func (e *namedError) DOMName() string { return e.name }

func typeError(msg string) error { return &namedError{"TypeError", errors.New(msg)} }

// domError names the DOMException for a socket error, as Direct Sockets
// would: a refused policy is NotAllowedError, a closed socket
// InvalidStateError, a timeout TimeoutError, and anything else on the
// network NetworkError.
func domError(err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, wasmnet.ErrBlocked):
		return &namedError{"NotAllowedError", err}
	case errors.Is(err, net.ErrClosed):
		return &namedError{"InvalidStateError", err}
	case errors.As(err, &ne) && ne.Timeout():
		return &namedError{"TimeoutError", err}
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ECONNRESET):
		return &namedError{"NetworkError", err}
	}
	return &namedError{"NetworkError", fmt.Errorf("%w", err)}
}
