package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"sync"
	"time"
)

const chunk = 32 << 10

// row is one relay's figures. Zero means the figure could not be taken.
type row struct {
	name             string
	up, down, par    float64 // MiB/s, medians
	p50, p99         time.Duration
	upErr, downErr   error
	parErr, firstErr error
}

func measure(r relay, e *env, cfg config) row {
	out := row{name: r.name}
	out.up, out.upErr = median(cfg.runs, func() (float64, error) { return upload(r.dial, e.sink, cfg.bytes) })
	out.down, out.downErr = median(cfg.runs, func() (float64, error) { return download(r.dial, e.source, cfg.bytes) })
	out.par, out.parErr = median(cfg.runs, func() (float64, error) {
		return parallel(r.dial, e.sink, e.source, cfg.parallelBytes, 64)
	})
	var times []time.Duration
	times, out.firstErr = firstByte(r.dial, e.echo, cfg.samples)
	if len(times) > 0 {
		out.p50, out.p99 = times[len(times)/2], times[len(times)*99/100]
	}
	for _, err := range []error{out.upErr, out.downErr, out.parErr, out.firstErr} {
		if err != nil {
			fmt.Fprintf(os.Stderr, "  %s: %v\n", r.name, err)
		}
	}
	return out
}

// median runs f n times and returns the median of its results.
func median(n int, f func() (float64, error)) (float64, error) {
	var vals []float64
	for range n {
		v, err := f()
		if err != nil {
			return 0, err
		}
		vals = append(vals, v)
	}
	slices.Sort(vals)
	return vals[len(vals)/2], nil
}

func ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 5*time.Minute)
}

// upload sends n bytes to the ack sink and waits for its acknowledgement;
// it returns MiB/s.
func upload(dial dialFunc, sink string, n int) (float64, error) {
	c, cancel := ctx()
	defer cancel()
	conn, err := dial(c, sink)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	stop := context.AfterFunc(c, func() { conn.Close() })
	defer stop()
	start := time.Now()
	if err := binary.Write(conn, binary.BigEndian, uint64(n)); err != nil {
		return 0, err
	}
	buf := make([]byte, chunk)
	for sent := 0; sent < n; sent += chunk {
		if _, err := conn.Write(buf[:min(chunk, n-sent)]); err != nil {
			return 0, err
		}
	}
	var ack uint64
	if err := binary.Read(conn, binary.BigEndian, &ack); err != nil {
		return 0, err
	}
	if ack != uint64(n) {
		return 0, fmt.Errorf("sink acknowledged %d of %d bytes", ack, n)
	}
	return mibps(n, time.Since(start)), nil
}

// download asks the source for n bytes and reads them; it returns MiB/s.
func download(dial dialFunc, source string, n int) (float64, error) {
	c, cancel := ctx()
	defer cancel()
	conn, err := dial(c, source)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	stop := context.AfterFunc(c, func() { conn.Close() })
	defer stop()
	start := time.Now()
	if err := binary.Write(conn, binary.BigEndian, uint64(n)); err != nil {
		return 0, err
	}
	got, err := io.CopyBuffer(io.Discard, io.LimitReader(conn, int64(n)), make([]byte, chunk))
	if err != nil {
		return 0, err
	}
	if got != int64(n) {
		return 0, fmt.Errorf("read %d of %d bytes", got, n)
	}
	return mibps(n, time.Since(start)), nil
}

// parallel moves total bytes over streams streams at once, half of them
// uploading and half downloading; it returns the aggregate MiB/s.
func parallel(dial dialFunc, sink, source string, total, streams int) (float64, error) {
	per := total / streams
	var wg sync.WaitGroup
	errs := make(chan error, streams)
	start := time.Now()
	for i := range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if i%2 == 0 {
				_, err = upload(dial, sink, per)
			} else {
				_, err = download(dial, source, per)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return mibps(per*streams, time.Since(start)), nil
}

// firstByte opens a stream to the echo server, sends a byte and reads it
// back, samples times; it returns the durations, sorted.
func firstByte(dial dialFunc, echo string, samples int) ([]time.Duration, error) {
	// Open the relay's session (if it has one) first.
	if c, err := dialOnce(dial, echo); err == nil {
		c.Close()
	}
	var out []time.Duration
	one := []byte{1}
	for range samples {
		start := time.Now()
		c, err := dialOnce(dial, echo)
		if err != nil {
			return out, err
		}
		if _, err := c.Write(one); err != nil {
			c.Close()
			return out, err
		}
		if _, err := io.ReadFull(c, one); err != nil {
			c.Close()
			return out, err
		}
		out = append(out, time.Since(start))
		c.Close()
	}
	slices.Sort(out)
	return out, nil
}

func dialOnce(dial dialFunc, target string) (net.Conn, error) {
	c, cancel := ctx()
	defer cancel()
	return dial(c, target)
}

func mibps(n int, d time.Duration) float64 { return float64(n) / (1 << 20) / d.Seconds() }

func printTable(rows []row) {
	raw := rows[0]
	fmt.Printf("%-22s %18s %18s %20s %26s\n", "relay", "up MiB/s", "down MiB/s", "64 streams MiB/s", "first byte p50 / p99")
	for _, r := range rows {
		fmt.Printf("%-22s %18s %18s %20s %26s\n", r.name,
			withRatio(r.up, raw.up, r.upErr), withRatio(r.down, raw.down, r.downErr),
			withRatio(r.par, raw.par, r.parErr), latency(r, raw))
	}
	fmt.Println("\n(percentages are of raw loopback TCP in the same run; first-byte ratios are how many times slower)")
}

func withRatio(v, raw float64, err error) string {
	if err != nil || v == 0 {
		return "failed"
	}
	if v == raw {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.0f (%3.0f%%)", v, 100*v/raw)
}

func latency(r, raw row) string {
	if r.firstErr != nil || r.p50 == 0 {
		return "failed"
	}
	s := fmt.Sprintf("%s / %s", round(r.p50), round(r.p99))
	if r.name != raw.name && raw.p50 > 0 {
		s += fmt.Sprintf(" (%.1fx)", float64(r.p50)/float64(raw.p50))
	}
	return s
}

func round(d time.Duration) time.Duration {
	if d > time.Millisecond {
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}
