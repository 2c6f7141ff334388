package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/wasmnet/wasmnet/internal/load"
	"github.com/wasmnet/wasmnet/internal/services"
)

// many is issue 5's load: sessions of streams streams each, a wasmnet
// Dialer per session, first left idle, then moving checksummed data all
// at once, through a bridge process of its own.
func many(e *env, sessions, streams, bytes int) error {
	b, err := e.newBridge("WASMNET_MAX_SESSIONS_PER_IP=-1")
	if err != nil {
		return err
	}
	defer b.stop()
	echo, err := services.Echo("127.0.0.1:0")
	if err != nil {
		return err
	}
	defer echo.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	before, err := load.ReadProc(b.pid)
	if err != nil {
		return err
	}
	start := time.Now()
	f, err := load.Open(ctx, b.url, echo.Addr().String(), sessions, streams)
	if err != nil {
		return err
	}
	defer f.Close()
	opened := time.Since(start)
	time.Sleep(2 * time.Second) // let the bridge settle
	idle, err := load.ReadProc(b.pid)
	if err != nil {
		return err
	}
	fmt.Printf("\n%d sessions × %d idle streams (opened in %v, one round trip each):\n", sessions, streams, opened.Round(time.Millisecond))
	fmt.Printf("  bridge RSS %s before, %s with the streams open (%.2f KiB per stream); peak %s\n",
		load.MiB(before.RSS), load.MiB(idle.RSS), float64(idle.RSS-before.RSS)/float64(f.Streams())/1024, load.MiB(idle.Peak))

	start = time.Now()
	moved, err := f.Exchange(bytes, time.Now().Add(5*time.Minute))
	if err != nil {
		return err
	}
	wall := time.Since(start)
	busy, err := load.ReadProc(b.pid)
	if err != nil {
		return err
	}
	gib := float64(moved) / (1 << 30)
	cpu := busy.CPU - idle.CPU
	fmt.Printf("  then %d KiB each way on every stream at once, SHA-256 checked: %.2f GiB in %v (%.0f MiB/s)\n",
		bytes>>10, gib, wall.Round(time.Millisecond), float64(moved)/(1<<20)/wall.Seconds())
	fmt.Printf("  bridge CPU %v: %.2f s per GiB moved; bridge peak RSS %s\n", cpu.Round(10*time.Millisecond), cpu.Seconds()/gib, load.MiB(busy.Peak))
	return nil
}

// idle is issue 2's memory figure: what an idle stream costs the bridge,
// with as little per-session cost in it as can be: 10,000 streams over a
// few sessions, each after one round trip.
func idle(e *env, sessions, streams int) error {
	b, err := e.newBridge("WASMNET_MAX_SESSIONS_PER_IP=-1", fmt.Sprintf("WASMNET_MAX_STREAMS=%d", streams))
	if err != nil {
		return err
	}
	defer b.stop()
	echo, err := services.Echo("127.0.0.1:0")
	if err != nil {
		return err
	}
	defer echo.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	before, err := load.ReadProc(b.pid)
	if err != nil {
		return err
	}
	f, err := load.Open(ctx, b.url, echo.Addr().String(), sessions, streams)
	if err != nil {
		return err
	}
	defer f.Close()
	time.Sleep(2 * time.Second) // let the bridge settle
	after, err := load.ReadProc(b.pid)
	if err != nil {
		return err
	}
	fmt.Printf("\n%d idle streams over %d sessions: bridge RSS %s before, %s after: %.2f KiB per stream\n",
		f.Streams(), sessions, load.MiB(before.RSS), load.MiB(after.RSS), float64(after.RSS-before.RSS)/float64(f.Streams())/1024)
	return nil
}

// slow is issue 5's memory bound: clients that stop reading while their
// destinations keep sending, watched for a while. Half are wasmnet
// programs that never Read, half raw clients that never read their
// WebSocket (see load.StopReading).
func slow(e *env, clients int, watch time.Duration) error {
	b, err := e.newBridge("WASMNET_MAX_SESSIONS_PER_IP=-1")
	if err != nil {
		return err
	}
	defer b.stop()
	flood, err := services.Source("127.0.0.1:0")
	if err != nil {
		return err
	}
	defer flood.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	time.Sleep(time.Second)
	idle, err := load.ReadProc(b.pid)
	if err != nil {
		return err
	}
	r, err := load.StopReading(ctx, b.url, flood.Addr().String(), clients)
	if err != nil {
		return err
	}
	defer r.Close()
	var most int64
	for start := time.Now(); time.Since(start) < watch; time.Sleep(time.Second) {
		p, err := load.ReadProc(b.pid)
		if err != nil {
			return err
		}
		most = max(most, p.RSS)
		fmt.Fprintf(os.Stderr, "  %3.0fs: bridge RSS %s, floods sent %s\n", time.Since(start).Seconds(), load.MiB(p.RSS), load.MiB(flood.Sent.Load()))
	}
	fmt.Printf("\n%d clients that stop reading while their destinations flood them, watched for %v:\n", clients, watch)
	fmt.Printf("  bridge RSS %s idle, at most %s: %s above idle (issue 5's bound: 64 MiB); the floods sent %s, most of it held in kernel socket buffers\n",
		load.MiB(idle.RSS), load.MiB(most), load.MiB(most-idle.RSS), load.MiB(flood.Sent.Load()))
	return nil
}
