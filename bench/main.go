// Command bench is the harness behind "make bench": it measures wasmnet
// against raw loopback TCP and against other WebSocket relays, in one run,
// and prints the figures with their ratios.
//
// It starts the bridge as a process of its own (built from
// bridge/cmd/bridge), so that its memory is its own, and the peers beside
// it: the wisp-js server (testdata/wispjs) and, when Debian's websockify is
// installed, websockify. Every relay is driven by Go clients in this
// process — wasmnet's native client for the two Wisp servers — with 32 KiB
// writes, over loopback.
//
//	go run ./bench            # the full comparison
//	go run ./bench -quick     # fewer, smaller runs
package main

import (
	"flag"
	"fmt"
	"os"
	"time"
)

func main() {
	quick := flag.Bool("quick", false, "fewer and smaller runs")
	idle := flag.Int("idle", 10000, "idle streams to open for the memory figure (0 skips it)")
	flag.Parse()

	cfg := config{runs: 5, bytes: 256 << 20, parallelBytes: 256 << 20, samples: 500, idle: *idle}
	if *quick {
		cfg = config{runs: 3, bytes: 64 << 20, parallelBytes: 64 << 20, samples: 200, idle: min(*idle, 2000)}
	}
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type config struct {
	runs          int // runs per figure; the median is reported
	bytes         int // bytes per bulk run
	parallelBytes int // bytes per run over 64 streams
	samples       int // dial-to-first-byte samples
	idle          int // idle streams for the memory figure
}

func run(cfg config) error {
	env, err := startEnv()
	if err != nil {
		return err
	}
	defer env.close()

	fmt.Printf("wasmnet bench: %d runs of %d MiB, %d first-byte samples, 32 KiB writes, %s\n\n",
		cfg.runs, cfg.bytes>>20, cfg.samples, time.Now().UTC().Format(time.RFC3339))
	var rows []row
	for _, r := range env.relays() {
		fmt.Fprintf(os.Stderr, "measuring %s...\n", r.name)
		rows = append(rows, measure(r, env, cfg))
	}
	printTable(rows)

	if cfg.idle > 0 {
		fmt.Fprintf(os.Stderr, "opening %d idle streams...\n", cfg.idle)
		m, err := idleStreams(env, cfg.idle)
		if err != nil {
			return err
		}
		fmt.Printf("\nIdle streams on the bridge: %d streams over %d sessions\n", m.streams, m.sessions)
		fmt.Printf("  bridge RSS %.1f MiB before, %.1f MiB with the streams open: %.2f KiB per stream\n",
			float64(m.before)/(1<<20), float64(m.after)/(1<<20), float64(m.after-m.before)/float64(m.streams)/1024)
		fmt.Printf("  bridge peak RSS over the whole run: %.1f MiB\n", float64(m.peak)/(1<<20))
	}
	return nil
}
