//go:build !js && !wasip1

package jstest

import (
	"flag"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wasmnet/wasmnet/internal/browser"
)

var figures = flag.Bool("figures", false, "measure and log the figures: main.wasm's size, time to the first socket, throughput, UDP round trips")

// TestFigures measures, for the record, and asserts nothing about time:
//
//	go test ./js/jstest -run Figures -figures -v
func TestFigures(t *testing.T) {
	if !*figures {
		t.Skip("figures are measured on request: go test ./js/jstest -run Figures -figures -v")
	}
	dir := root(t)
	for _, name := range []string{"main.wasm", "main.wasm.gz", "main.wasm.br"} {
		if st, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Logf("%-13s %9d bytes (%.2f MiB)", name, st.Size(), float64(st.Size())/(1<<20))
		} else {
			t.Logf("%-13s missing", name)
		}
	}
	e := startEnv(t)

	t.Run("FirstSocket", func(t *testing.T) {
		ctx := browser.New(t, 2*time.Minute)
		url := e.srv.URL + "/js/jstest/testdata/first.html?port=" + itoa(e.cfg["echoPort"])
		type first struct {
			MS          float64
			ScriptMS    float64 `json:"scriptMs"`
			LoadedMS    float64 `json:"loadedMs"`
			WasmFetchMS float64 `json:"wasmFetchMs"`
			WasmBytes   int64
			Error       string
		}
		for i := range 4 {
			if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
				t.Fatal(err)
			}
			f, err := chromedp.Run(ctx, chromedp.Poll[first](`window.firstSocket`))
			if err != nil || f.Error != "" {
				t.Fatalf("first socket: %v %s", err, f.Error)
			}
			what := "cold (new profile)"
			if i > 0 {
				what = "warm (reload)"
			}
			t.Logf("page load to first socket opened, %s: %.0f ms (script ran at %.0f ms; main.wasm fetched and compiled by %.0f ms, %d bytes on the wire; Go ready at %.0f ms)",
				what, f.MS, f.ScriptMS, f.ScriptMS+f.WasmFetchMS, f.WasmBytes, f.LoadedMS)
		}
	})

	t.Run("Throughput", func(t *testing.T) {
		ctx := e.page(t)
		const size = 64 << 20
		for _, where := range []string{"page", "worker"} {
			var runs []map[string]struct {
				Bytes int64
				MiBps float64
			}
			// The first run warms up: V8 compiles the hot wasm and
			// JavaScript in the background then, which cost the first
			// transfer of a fresh page or Worker twice the CPU per MiB
			// (see TestProfile). It is logged, and left out of the medians.
			for i := range 4 {
				var r map[string]struct {
					Bytes int64
					MiBps float64
				}
				run(t, ctx, where, "throughput", e.with("size", size), &r)
				if i == 0 {
					t.Logf("%-6s warm-up run, not in the medians: tcpDown %.1f, tcpUp %.1f, wsDown %.1f, wsUp %.1f MiB/s",
						where, r["tcpDown"].MiBps, r["tcpUp"].MiBps, r["wsDown"].MiBps, r["wsUp"].MiBps)
					continue
				}
				runs = append(runs, r)
			}
			// tlsEcho's bytes are four times what it echoed, a quarter of size.
			med := map[string]float64{}
			for _, k := range []string{"tcpDown", "tcpUp", "wsDown", "wsUp", "tlsEcho"} {
				var v []float64
				for _, r := range runs {
					if r[k].Bytes != size {
						t.Errorf("%s %s moved %d bytes, not %d", where, k, r[k].Bytes, size)
					}
					v = append(v, r[k].MiBps)
				}
				sort.Float64s(v)
				t.Logf("%-6s %-7s median %6.1f MiB/s  (runs %v)", where, k, v[len(v)/2], v)
				med[k] = v[len(v)/2]
			}
			t.Logf("%-6s TCPSocket against a plain WebSocket, medians: down %.2f, up %.2f", where, med["tcpDown"]/med["wsDown"], med["tcpUp"]/med["wsUp"])
		}
	})
	t.Run("UDP", func(t *testing.T) {
		ctx := e.page(t)
		for _, where := range []string{"page", "worker"} {
			var r struct {
				CallUs, RttUs, TCPRttUs float64
				Sent, Received          int
				MiBps                   float64
			}
			run(t, ctx, where, "udpFigures", e.with("rounds", 2000, "count", 20000, "size", 1200, "idleMs", 2000), &r)
			t.Logf("%-6s a call into Go (stats()) %.0f µs; round trip of 64 B, one at a time: UDP %.0f µs, TCP %.0f µs; UDP burst of %d × 1200 B: %d echoed (%.1f%%), %.1f MiB/s",
				where, r.CallUs, r.RttUs, r.TCPRttUs, r.Sent, r.Received, 100*float64(r.Received)/float64(r.Sent), r.MiBps)
		}
	})
}
