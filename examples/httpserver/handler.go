package main

import (
	"fmt"
	"html"
	"net/http"
	"runtime"
	"strconv"
)

// newHandler is the site: a page with a form, the form's answer, and
// /blob?size=N, which sends N bytes of a fixed pattern for tests to check.
func newHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, page, runtime.GOOS, html.EscapeString(r.RemoteAddr))
	})
	mux.HandleFunc("POST /greet", func(w http.ResponseWriter, r *http.Request) {
		name := r.FormValue("name")
		if name == "" {
			name = "stranger"
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><title>Hello</title><p id=greeting>Hello, %s, from a Go server inside WebAssembly (%s).</p>",
			html.EscapeString(name), runtime.GOOS)
	})
	mux.HandleFunc("GET /blob", func(w http.ResponseWriter, r *http.Request) {
		size, err := strconv.Atoi(r.URL.Query().Get("size"))
		if err != nil || size < 0 || size > 64<<20 {
			http.Error(w, "size must be 0 to 64 MiB", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(size))
		w.Write(Pattern(size))
	})
	return mux
}

const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A server in a tab</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto">
<h1>Served from inside WebAssembly</h1>
<p>This page comes from Go's net/http, running in a %s program behind a wasmnet bridge. You are %s.</p>
<form method="post" action="/greet">
  <label>Your name <input name="name" id="name" autofocus></label>
  <button id="send">Say hello</button>
</form>
</body></html>
`

// Pattern returns n bytes of a fixed pseudo-random pattern, so that a
// misplaced or repeated chunk shows up in a checksum.
func Pattern(n int) []byte {
	b := make([]byte, n)
	var x uint32 = 2463534242
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}
