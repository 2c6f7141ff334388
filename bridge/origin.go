//go:build !js && !wasip1

package bridge

import (
	"fmt"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
)

// Browsers apply no CORS to WebSocket handshakes: any page may open a
// WebSocket to the bridge, and the browser says which page in Origin. So
// the bridge checks it itself, before the upgrade, and refuses a foreign
// page with 403 Forbidden.

// originAllowed reports whether the page that made r may open a session:
// a page of the bridge's own origin, or of an origin that patterns name.
// A request without Origin comes from a program, not a page; programs can
// send any header they like, so refusing them would protect nothing.
// Origin "null" (sandboxed frames, file: pages) is allowed only by the
// pattern "null". Why explains the decision, for the log.
func originAllowed(r *http.Request, patterns []string) (ok bool, why string) {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true, "no Origin: the client is a program, not a page"
	}
	if origin == "null" {
		if slices.Contains(patterns, "null") {
			return true, `the pattern "null" admits Origin "null"`
		}
		return false, `Origin "null" (a sandboxed frame or a file: page) needs the pattern "null"`
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false, "Origin is not an origin"
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true, "the bridge's own origin"
	}
	ok, err = originMatches(u, patterns)
	switch {
	case err != nil:
		return false, err.Error()
	case !ok:
		return false, fmt.Sprintf("neither the bridge's own origin (%s) nor matched by an origin pattern", r.Host)
	}
	return true, "an origin pattern matches"
}

// originMatches reports whether an origin matches one of patterns.
func originMatches(u *url.URL, patterns []string) (bool, error) {
	for _, p := range patterns {
		ok, err := matchOrigin(p, u.Scheme, u.Host)
		if err != nil {
			return false, err
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

// matchOrigin matches one pattern, in the syntax of
// github.com/coder/websocket's OriginPatterns: path.Match, case-insensitive,
// against the host (with port, if any), or against "scheme://host" when
// the pattern holds "://".
func matchOrigin(pattern, scheme, host string) (bool, error) {
	target := host
	if strings.Contains(pattern, "://") {
		target = scheme + "://" + host
	}
	ok, err := path.Match(strings.ToLower(pattern), strings.ToLower(target))
	if err != nil {
		return false, fmt.Errorf("origin pattern %q: %w", pattern, err)
	}
	return ok, nil
}

// tokenOriginAllowed reports whether a token bound to origins may be used
// by the page that made r. Without Origin the request is refused: the
// binding names pages, and a program can state any origin it likes.
func tokenOriginAllowed(r *http.Request, origins []string) bool {
	if len(origins) == 0 {
		return true
	}
	u, err := url.Parse(r.Header.Get("Origin"))
	if err != nil || u.Host == "" {
		return false
	}
	ok, _ := originMatches(u, origins)
	return ok
}
