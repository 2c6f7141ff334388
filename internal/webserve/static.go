// Package webserve serves the web app beside the bridge: static files,
// with precompressed variants (x.br, x.gz) chosen by Accept-Encoding, so
// that main.wasm, some megabytes raw, crosses the network at a fraction of
// that.
package webserve

import (
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

func init() {
	// Older mime tables lack it, and instantiateStreaming insists on it.
	mime.AddExtensionType(".wasm", "application/wasm")
	mime.AddExtensionType(".mjs", "text/javascript")
	mime.AddExtensionType(".webmanifest", "application/manifest+json")
}

// Static serves the files under dir. Directories serve their index.html
// and are never listed.
func Static(dir string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := path.Clean("/" + r.URL.Path)
		if strings.HasSuffix(r.URL.Path, "/") {
			name = path.Join(name, "index.html")
		}
		file := filepath.Join(dir, filepath.FromSlash(name))
		info, err := os.Stat(file)
		if err != nil || info.IsDir() {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if ct := mime.TypeByExtension(filepath.Ext(file)); ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		w.Header().Add("Vary", "Accept-Encoding")
		for _, enc := range []struct{ name, ext string }{{"br", ".br"}, {"gzip", ".gz"}} {
			if !accepts(r, enc.name) {
				continue
			}
			// A variant older than the file is stale. brotli gives its
			// output the input's time cut to whole seconds, so compare
			// whole seconds.
			if zinfo, err := os.Stat(file + enc.ext); err == nil && !zinfo.ModTime().Before(info.ModTime().Truncate(time.Second)) {
				w.Header().Set("Content-Encoding", enc.name)
				file = file + enc.ext
				break
			}
		}
		f, err := os.Open(file)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		defer f.Close()
		st, _ := f.Stat()
		http.ServeContent(w, r, "", st.ModTime(), f)
	})
}

// accepts reports whether the request accepts the content coding.
func accepts(r *http.Request, coding string) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), coding) {
			continue
		}
		for _, p := range strings.Split(params, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && k == "q" {
				q, err := strconv.ParseFloat(v, 64)
				return err == nil && q > 0
			}
		}
		return true
	}
	return false
}
