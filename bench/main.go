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
// Then, each against a fresh bridge process: many sessions of idle
// streams (memory), the same streams moving checksummed data at once
// (throughput, CPU time per GiB, peak memory), and clients that stop
// reading while their destinations flood them (memory over a minute).
//
//	go run ./bench                # everything
//	go run ./bench -quick         # fewer, smaller runs
//	go run ./bench -compare=false # only the load and memory figures
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/wasmnet/wasmnet/internal/load"
)

func main() {
	quick := flag.Bool("quick", false, "fewer and smaller runs")
	compare := flag.Bool("compare", true, "compare throughput and latency with the other relays")
	sessions := flag.Int("sessions", 1000, "sessions for the load figures (0 skips them)")
	streams := flag.Int("streams", 10, "streams per session for the load figures")
	kib := flag.Int("kib", 64, "KiB each stream sends and gets back in the load figures")
	slowClients := flag.Int("slow", 100, "clients that stop reading (0 skips the figure)")
	slowFor := flag.Duration("slow-for", time.Minute, "how long to watch the clients that stop reading")
	flag.Parse()

	cfg := config{compare: *compare, runs: 5, bytes: 256 << 20, parallelBytes: 256 << 20, samples: 500,
		sessions: *sessions, streams: *streams, streamBytes: *kib << 10, slow: *slowClients, slowFor: *slowFor}
	if *quick {
		cfg.runs, cfg.bytes, cfg.parallelBytes, cfg.samples = 3, 64<<20, 64<<20, 200
		cfg.sessions, cfg.slowFor = min(cfg.sessions, 200), min(cfg.slowFor, 10*time.Second)
	}
	if _, err := load.RaiseOpenFiles(); err != nil {
		fmt.Fprintln(os.Stderr, "bench: open files:", err)
	}
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type config struct {
	compare       bool
	runs          int // runs per figure; the median is reported
	bytes         int // bytes per bulk run
	parallelBytes int // bytes per run over 64 streams
	samples       int // dial-to-first-byte samples

	sessions, streams, streamBytes int           // the load figures
	slow                           int           // clients that stop reading
	slowFor                        time.Duration // how long they are watched
}

func run(cfg config) error {
	env, err := startEnv()
	if err != nil {
		return err
	}
	defer env.close()

	fmt.Printf("wasmnet bench: %d runs of %d MiB, %d first-byte samples, 32 KiB writes, %s\n\n",
		cfg.runs, cfg.bytes>>20, cfg.samples, time.Now().UTC().Format(time.RFC3339))
	if cfg.compare {
		var rows []row
		for _, r := range env.relays() {
			fmt.Fprintf(os.Stderr, "measuring %s...\n", r.name)
			rows = append(rows, measure(r, env, cfg))
		}
		printTable(rows)
	}

	if cfg.sessions > 0 {
		fmt.Fprintf(os.Stderr, "opening %d sessions of %d streams...\n", cfg.sessions, cfg.streams)
		if err := many(env, cfg.sessions, cfg.streams, cfg.streamBytes); err != nil {
			return fmt.Errorf("load: %w", err)
		}
	}
	if cfg.slow > 0 {
		fmt.Fprintf(os.Stderr, "watching %d clients that stop reading for %v...\n", cfg.slow, cfg.slowFor)
		if err := slow(env, cfg.slow, cfg.slowFor); err != nil {
			return fmt.Errorf("slow readers: %w", err)
		}
	}
	return nil
}
