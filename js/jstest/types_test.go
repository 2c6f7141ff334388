//go:build !js && !wasip1

package jstest

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestTypesMatchRuntime checks that js/wasmnet.d.ts names exactly what the
// running code has: the functions main.wasm registers on
// globalThis.wasmnet (GoRuntime), what load() resolves to (Runtime), the
// runtime's sockets and listeners (RawSocket, RawUDPSocket,
// RawPacketSocket, RawListener), a datagram (Datagram) and stats()
// (Stats), on a page and in a Worker. tsc, run by make test, checks the declarations' own sense.
func TestTypesMatchRuntime(t *testing.T) {
	src, err := os.ReadFile("../wasmnet.d.ts")
	if err != nil {
		t.Fatal(err)
	}
	e := startEnv(t)
	ctx := e.page(t)
	for _, where := range []string{"page", "worker"} {
		var r struct {
			Global, Runtime, Socket, Stats              []string
			UDPSocket, PacketSocket, Datagram, Listener []string
		}
		run(t, ctx, where, "types", e.cfg, &r)
		for _, c := range []struct {
			iface string
			have  []string
		}{
			{"GoRuntime", r.Global}, {"Runtime", r.Runtime}, {"RawSocket", r.Socket}, {"Stats", r.Stats},
			{"RawUDPSocket", r.UDPSocket}, {"RawPacketSocket", r.PacketSocket}, {"Datagram", r.Datagram}, {"RawListener", r.Listener},
		} {
			required, optional := members(t, string(src), c.iface)
			for _, m := range required {
				if !slices.Contains(c.have, m) {
					t.Errorf("%s: wasmnet.d.ts declares %s.%s, which the runtime lacks (it has %v)", where, c.iface, m, c.have)
				}
			}
			for _, m := range c.have {
				if !slices.Contains(required, m) && !slices.Contains(optional, m) {
					t.Errorf("%s: the runtime's %s has %s, which wasmnet.d.ts does not declare", where, c.iface, m)
				}
			}
		}
	}
}

// members lists the members of interface name in a .d.ts: those that must
// be present, and those marked optional.
func members(t *testing.T, src, name string) (required, optional []string) {
	t.Helper()
	body := regexp.MustCompile(`(?s)export interface ` + name + ` \{\n(.*?)\n\}`).FindStringSubmatch(src)
	if body == nil {
		t.Fatalf("wasmnet.d.ts has no interface %s", name)
	}
	member := regexp.MustCompile(`^  (?:readonly )?(\w+)(\??)[:(]`)
	for _, line := range strings.Split(body[1], "\n") {
		if m := member.FindStringSubmatch(line); m != nil {
			if m[2] == "?" {
				optional = append(optional, m[1])
			} else {
				required = append(required, m[1])
			}
		}
	}
	return required, optional
}
