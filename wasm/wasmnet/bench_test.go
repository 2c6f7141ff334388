//go:build !js && !wasip1

package wasmnet_test

import (
	"encoding/binary"
	"io"
	"net"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"log/slog"

	"github.com/wasmnet/wasmnet/bridge"
	"github.com/wasmnet/wasmnet/internal/services"
	"github.com/wasmnet/wasmnet/wasm/wasmnet"
)

// The benchmarks compare a stream through the bridge with raw loopback
// TCP, in the same run, with 32 KiB writes.
//
// The bridge runs in the test process unless WASMNET_BENCH_BRIDGE names
// one (ws://host:port/wisp/), such as bridge/cmd/bridge in a process of
// its own, started with -allow 127.0.0.1/32 and WASMNET_RATE=0; the
// destinations stay in the test process.

const benchChunk = 32 << 10

type benchEnv struct {
	bridge       string
	sink, source string
	echo         string
}

func newBenchEnv(b *testing.B) benchEnv {
	b.Helper()
	rules, _ := bridge.ParseRules("127.0.0.1/32")
	h := bridge.NewHandler(bridge.Config{
		Policy: bridge.Policy{Allow: rules},
		Logger: slog.New(slog.DiscardHandler),
	})
	srv := httptest.NewServer(h)
	b.Cleanup(func() { srv.Close(); h.Close() })
	sink, err := services.Sink("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sink.Close() })
	source, err := services.Source("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { source.Close() })
	echo, err := services.Echo("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { echo.Close() })
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/"
	if u := os.Getenv("WASMNET_BENCH_BRIDGE"); u != "" {
		url = u
	}
	return benchEnv{
		bridge: url,
		sink:   sink.Addr().String(),
		source: source.Addr().String(),
		echo:   echo.Addr().String(),
	}
}

type dialFunc func(network, addr string) (net.Conn, error)

func (e benchEnv) dialers(b *testing.B) map[string]dialFunc {
	d := &wasmnet.Dialer{Bridge: e.bridge}
	b.Cleanup(func() { d.Close() })
	return map[string]dialFunc{"raw": net.Dial, "bridge": d.Dial}
}

func BenchmarkUpload(b *testing.B) {
	e := newBenchEnv(b)
	for _, name := range []string{"raw", "bridge"} {
		b.Run(name, func(b *testing.B) {
			dial := e.dialers(b)[name]
			b.SetBytes(benchChunk)
			b.ReportAllocs()
			upload(b, dial, e.sink, b.N)
		})
	}
}

func upload(b *testing.B, dial dialFunc, addr string, chunks int) {
	c, err := dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	buf := services.Pattern(benchChunk)
	for range chunks {
		if _, err := c.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	if err := c.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
		b.Fatal(err)
	}
	var n uint64
	if err := binary.Read(c, binary.BigEndian, &n); err != nil {
		b.Fatal(err)
	}
	if n != uint64(chunks)*benchChunk {
		b.Fatalf("sink got %d bytes, sent %d", n, chunks*benchChunk)
	}
}

func BenchmarkDownload(b *testing.B) {
	e := newBenchEnv(b)
	for _, name := range []string{"raw", "bridge"} {
		b.Run(name, func(b *testing.B) {
			dial := e.dialers(b)[name]
			b.SetBytes(benchChunk)
			b.ReportAllocs()
			download(b, dial, e.source, uint64(b.N)*benchChunk)
		})
	}
}

func download(b *testing.B, dial dialFunc, addr string, n uint64) {
	c, err := dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := binary.Write(c, binary.BigEndian, n); err != nil {
		b.Fatal(err)
	}
	got, err := services.Drain(c, make([]byte, benchChunk))
	if err != nil {
		b.Fatal(err)
	}
	if uint64(got) != n {
		b.Fatalf("got %d bytes, want %d", got, n)
	}
}

// BenchmarkParallel64 moves data over 64 streams at once, half up and half
// down; the figure is the aggregate.
func BenchmarkParallel64(b *testing.B) {
	e := newBenchEnv(b)
	for _, name := range []string{"raw", "bridge"} {
		b.Run(name, func(b *testing.B) {
			dial := e.dialers(b)[name]
			b.SetBytes(benchChunk)
			b.ReportAllocs()
			const streams = 64
			var wg sync.WaitGroup
			for i := range streams {
				n := b.N / streams
				if i < b.N%streams {
					n++
				}
				if n == 0 {
					continue // the source takes 0 to mean endless
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					if i%2 == 0 {
						upload(b, dial, e.sink, n)
					} else {
						download(b, dial, e.source, uint64(n)*benchChunk)
					}
				}()
			}
			wg.Wait()
		})
	}
}

// BenchmarkFirstByte measures opening a stream to an echo server and
// reading its first echoed byte, reporting the median and 99th percentile.
func BenchmarkFirstByte(b *testing.B) {
	e := newBenchEnv(b)
	for _, name := range []string{"raw", "bridge"} {
		b.Run(name, func(b *testing.B) {
			dial := e.dialers(b)[name]
			if c, err := dial("tcp", e.echo); err == nil { // open the session first
				c.Close()
			}
			times := make([]time.Duration, 0, b.N)
			one := []byte{1}
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				c, err := dial("tcp", e.echo)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.Write(one); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(c, one); err != nil {
					b.Fatal(err)
				}
				times = append(times, time.Since(start))
				c.Close()
			}
			b.StopTimer()
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(times[len(times)*99/100].Microseconds()), "p99-µs")
		})
	}
}
