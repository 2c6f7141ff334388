//go:build !js && !wasip1

package jstest

import (
	"fmt"
	"strings"
	"testing"
)

// TestLoader checks what wasmnet.js does when the runtime cannot serve: a
// Go panic or exit while starting, a panic later (every call must then
// reject, never hang), and a bridge that cannot be reached; and that the
// token reaches the bridge. Each case needs a runtime of its own, so each
// gets a fresh page, or a fresh Worker.
func TestLoader(t *testing.T) {
	e := startEnv(t)
	e.buildCrash(t)
	crashWasm := e.srv.URL + "/jstest/crash.wasm"
	dead := "ws://" + freePort(t) + "/wisp/"
	ctx := e.page(t)

	for _, where := range []string{"page", "worker"} {
		t.Run(where, func(t *testing.T) {
			t.Run("PanicAtStart", func(t *testing.T) {
				var r struct{ Load *checkError }
				run(t, e.reload(t, ctx), where, "loadFails", e.with("crashMode", "panic", "load", map[string]any{"wasm": crashWasm}), &r)
				wantError(t, "load()", r.Load, "OperationError", "crashed", "panic: boom at start")
			})
			t.Run("ExitAtStart", func(t *testing.T) {
				var r struct{ Load *checkError }
				run(t, e.reload(t, ctx), where, "loadFails", e.with("crashMode", "exit", "load", map[string]any{"wasm": crashWasm}), &r)
				wantError(t, "load()", r.Load, "OperationError", "exited with code 3")
			})
			t.Run("PanicLater", func(t *testing.T) {
				var r struct {
					Opened, Closed, Later, Stats *checkError
					Reload                       struct{ Error *checkError }
				}
				run(t, e.reload(t, ctx), where, "crashLater", e.with("crashMode", "later", "load", map[string]any{"wasm": crashWasm}), &r)
				for what, err := range map[string]*checkError{
					"opened of a socket opening when the runtime died": r.Opened,
					"its closed":                    r.Closed,
					"opened of a socket made after": r.Later,
					"stats() after":                 r.Stats,
					"load() after":                  r.Reload.Error,
				} {
					wantError(t, what, err, "OperationError", "crashed", "panic: boom later")
				}
			})
			t.Run("NoBridge", func(t *testing.T) {
				var r struct{ Opened struct{ Error *checkError } }
				ctx := e.reload(t, ctx)
				cfg := e.with("load", map[string]any{"bridge": dead})
				run(t, ctx, where, "dialOnly", cfg, &r)
				wantError(t, "opened with no bridge", r.Opened.Error, "NetworkError", "cannot reach the bridge", dead)
				var all map[string]struct{ Error *checkError }
				run(t, ctx, where, "openAll", cfg, &all)
				for _, kind := range []string{"udp", "bound", "server"} {
					wantError(t, kind+" opened with no bridge", all[kind].Error, "NetworkError", "cannot reach the bridge", dead)
				}
			})
			t.Run("Token", func(t *testing.T) {
				token := fmt.Sprintf("t0k.%s", where)
				var r struct{ Opened struct{ Error *checkError } }
				run(t, e.reload(t, ctx), where, "dialOnly", e.with("load", map[string]any{"token": token}), &r)
				if r.Opened.Error != nil {
					t.Fatalf("opened with a token: %s", r.Opened.Error)
				}
				e.mu.Lock()
				seen := strings.Join(e.protocols, ", ")
				e.mu.Unlock()
				if !strings.Contains(seen, "wasmnet.token."+token) {
					t.Errorf("the bridge saw the subprotocols %q; want the token %q among them", seen, token)
				}
			})
		})
	}
}

func wantError(t *testing.T, what string, got *checkError, name string, words ...string) {
	t.Helper()
	if got == nil {
		t.Errorf("%s did not fail; want a %s", what, name)
		return
	}
	if got.Name != name {
		t.Errorf("%s failed with %s; want a %s", what, got, name)
	}
	for _, w := range words {
		if !strings.Contains(got.Message, w) {
			t.Errorf("%s: %q does not say %q", what, got.Message, w)
		}
	}
}
