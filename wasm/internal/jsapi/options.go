//go:build js && wasm

package jsapi

import (
	"github.com/hack-pad/safejs"
)

// dialOptions are the options of dial(host, port, options).
type dialOptions struct {
	window int         // receive window asked for (receiveBufferSize); 0: the default
	tls    *tlsOptions // nil: no TLS
}

// tlsOptions are {serverName, caCerts}: the name the certificate
// must be valid for, and PEM certificates to trust besides the built-in
// roots.
type tlsOptions struct {
	serverName string
	caPEM      string
}

func parseDialOptions(v safejs.Value) (dialOptions, error) {
	var o dialOptions
	if absent(v) {
		return o, nil
	}
	if w, ok := prop(v, "receiveBufferSize"); ok {
		n, ok := number(w)
		if !ok || n < 1 {
			return o, typeError("receiveBufferSize must be a positive number of bytes")
		}
		o.window = n
	}
	if t, ok := prop(v, "tls"); ok {
		opts, err := parseTLSOptions(t)
		if err != nil {
			return o, err
		}
		o.tls = &opts
	}
	return o, nil
}

func parseTLSOptions(v safejs.Value) (tlsOptions, error) {
	var o tlsOptions
	if absent(v) {
		return o, nil
	}
	if s, ok := prop(v, "serverName"); ok {
		name, ok := text(s)
		if !ok {
			return o, typeError("tls.serverName must be a string")
		}
		o.serverName = name
	}
	if s, ok := prop(v, "caCerts"); ok {
		pem, ok := text(s)
		if !ok {
			return o, typeError("tls.caCerts must be a string of PEM certificates")
		}
		o.caPEM = pem
	}
	return o, nil
}
