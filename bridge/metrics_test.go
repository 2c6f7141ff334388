//go:build !js && !wasip1

package bridge

// The bridge's Prometheus metrics, read the way Prometheus reads them: the
// collector registered in a real registry, served by promhttp, scraped
// over HTTP and parsed from the text format.

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/wasmnet/wasmnet/wisp"
)

// metricsEndpoint serves one bridge's collector from its own registry.
type metricsEndpoint struct{ url string }

func serveMetrics(t *testing.T, h *Handler) *metricsEndpoint {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(h.Collector())
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError}))
	t.Cleanup(srv.Close)
	return &metricsEndpoint{url: srv.URL + "/metrics"}
}

// samples are scraped values by series: the metric name and its labels as
// name{k="v",...}, labels sorted.
type samples map[string]float64

func seriesKey(name string, labels ...string) string {
	if len(labels) == 0 {
		return name
	}
	var pairs []string
	for i := 0; i+1 < len(labels); i += 2 {
		pairs = append(pairs, fmt.Sprintf("%s=%q", labels[i], labels[i+1]))
	}
	slices.Sort(pairs)
	return name + "{" + strings.Join(pairs, ",") + "}"
}

// get is the value of a series, 0 if absent, as Prometheus would take a
// counter that has not appeared yet.
func (s samples) get(name string, labels ...string) float64 { return s[seriesKey(name, labels...)] }

// scrape fetches the metrics and returns the exposition text as served and
// its samples.
func (m *metricsEndpoint) scrape(t *testing.T) (string, samples) {
	t.Helper()
	resp, err := http.Get(m.url)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %s %v: %s", resp.Status, err, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("scrape: the exposition does not parse: %v\n%s", err, body)
	}
	out := samples{}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName(), l.GetValue())
			}
			var v float64
			switch {
			case m.Counter != nil:
				v = m.GetCounter().GetValue()
			case m.Gauge != nil:
				v = m.GetGauge().GetValue()
			default:
				v = m.GetUntyped().GetValue()
			}
			out[seriesKey(name, labels...)] = v
		}
	}
	return string(body), out
}

// value scrapes one series.
func (m *metricsEndpoint) value(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	_, s := m.scrape(t)
	return s.get(name, labels...)
}

// waitValue scrapes until a series has the value want. Counters move
// after the packet that reports the event has gone out, so a test that
// has seen the event may still have to wait for the count.
func (m *metricsEndpoint) waitValue(t *testing.T, want float64, name string, labels ...string) {
	t.Helper()
	var got float64
	eventually(t, func() bool {
		got = m.value(t, name, labels...)
		return got == want
	}, func() string { return fmt.Sprintf("%s = %v, want %v", seriesKey(name, labels...), got, want) })
}

// eventually polls cond until it holds, failing the test with what() when
// hang has passed. It waits for the bridge to get somewhere; it does not
// judge how fast.
func eventually(t *testing.T, cond func() bool, what func() string) {
	t.Helper()
	deadline := time.Now().Add(hang)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", hang, what())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// limitHits is the name of the limit counter, which the limit tests check.
const limitHits = "wasmnet_bridge_limit_hits_total"

func TestMetricsSessionsStreamsBytes(t *testing.T) {
	b := loopbackBridge(t)
	m := serveMetrics(t, b.h)
	_, got := m.scrape(t)
	for _, series := range []string{"wasmnet_bridge_sessions", "wasmnet_bridge_sessions_total",
		`wasmnet_bridge_streams{kind="tcp"}`, `wasmnet_bridge_bytes_total{direction="up"}`} {
		if _, ok := got[series]; !ok {
			t.Errorf("a fresh bridge does not export %s", series)
		}
		if v := got[series]; v != 0 {
			t.Errorf("a fresh bridge has %s = %v", series, v)
		}
	}

	s := dialV2(t, b, wisp.ExtOpened)
	m.waitValue(t, 1, "wasmnet_bridge_sessions")
	m.waitValue(t, 1, "wasmnet_bridge_sessions_total")

	// Bytes each way, counted exactly: what went up came back down.
	s.connect(1, b.echo.String())
	up := make([]byte, 100_000)
	for i := range up {
		up[i] = byte(i)
	}
	for off := 0; off < len(up); off += 10_000 {
		s.data(1, up[off:off+10_000])
	}
	s.readData(1, len(up))
	m.waitValue(t, 1, "wasmnet_bridge_streams", "kind", "tcp")
	m.waitValue(t, 1, "wasmnet_bridge_streams_total", "kind", "tcp")
	m.waitValue(t, float64(len(up)), "wasmnet_bridge_bytes_total", "direction", "up")
	m.waitValue(t, float64(len(up)), "wasmnet_bridge_bytes_total", "direction", "down")
	s.close(1, wisp.ReasonVoluntary)
	m.waitValue(t, 0, "wasmnet_bridge_streams", "kind", "tcp")
	m.waitValue(t, 0, "wasmnet_bridge_buffered_bytes", "direction", "up")
	m.waitValue(t, 0, "wasmnet_bridge_buffered_bytes", "direction", "down")

	s.ws.Close(websocket.StatusNormalClosure, "")
	m.waitValue(t, 0, "wasmnet_bridge_sessions")
	if v := m.value(t, "wasmnet_bridge_sessions_total"); v != 1 {
		t.Errorf("sessions_total = %v after the session closed, want 1", v)
	}
}

func TestMetricsUDPStreams(t *testing.T) {
	b := loopbackBridge(t)
	m := serveMetrics(t, b.h)
	echo := udpEcho(t)
	s := dialV2(t, b, wisp.ExtUDP, wisp.ExtOpened)
	s.send(udpConnect(1, echo))
	if p := s.nextOn(1); p.Type != wisp.TypeOpened {
		t.Fatalf("UDP stream: got %v (reason %v), want OPENED", p.Type, p.Reason)
	}
	m.waitValue(t, 1, "wasmnet_bridge_streams", "kind", "udp")
	m.waitValue(t, 0, "wasmnet_bridge_streams", "kind", "tcp")
	m.waitValue(t, 1, "wasmnet_bridge_streams_total", "kind", "udp")
	s.data(1, []byte("datagram"))
	s.readData(1, len("datagram"))
	m.waitValue(t, 8, "wasmnet_bridge_bytes_total", "direction", "up")
	m.waitValue(t, 8, "wasmnet_bridge_bytes_total", "direction", "down")
	s.close(1, wisp.ReasonVoluntary)
	m.waitValue(t, 0, "wasmnet_bridge_streams", "kind", "udp")
}

// Each kind of failed connect is counted by its reason, and each policy
// refusal by what refused it.
func TestMetricsDialErrorsAndRefusals(t *testing.T) {
	closed := closedPort(t)
	denied := listen(t, nil)
	b := startBridge(t, Config{Policy: Policy{
		Allow: []Rule{mustRule(t, "127.0.0.1/32"), mustRule(t, "*")},
		Deny:  []Rule{mustRule(t, denied.addr())},
	}})
	m := serveMetrics(t, b.h)
	s := dialV2(t, b)

	s.connect(1, closed)
	s.expectClose(1, wisp.ReasonRefused)
	m.waitValue(t, 1, "wasmnet_bridge_dial_errors_total", "reason", "refused")

	s.connect(2, denied.addr())
	s.expectClose(2, wisp.ReasonBlocked)
	m.waitValue(t, 1, "wasmnet_bridge_policy_refusals_total", "kind", "deny_rule")

	// 127.0.0.2 is loopback too, which "*" does not open and the
	// 127.0.0.1/32 rule does not cover.
	s.connect(3, "127.0.0.2:80")
	s.expectClose(3, wisp.ReasonBlocked)
	m.waitValue(t, 1, "wasmnet_bridge_policy_refusals_total", "kind", "special_range")

	s.send(wisp.Packet{Type: wisp.TypeConnect, Stream: 4, Connect: wisp.Connect{StreamType: wisp.StreamTCP, Host: "not a name", Port: 80}})
	s.expectClose(4, wisp.ReasonInvalid)
	m.waitValue(t, 1, "wasmnet_bridge_dial_errors_total", "reason", "invalid")
	m.waitValue(t, 2, "wasmnet_bridge_dial_errors_total", "reason", "blocked")
	if v := m.value(t, "wasmnet_bridge_policy_refusals_total", "kind", "no_allow_rule"); v != 0 {
		t.Errorf("policy_refusals_total{kind=no_allow_rule} = %v, want 0", v)
	}

	// With no rule that covers it, a public address is refused for want
	// of one. The policy refuses before any socket exists (and the test's
	// socket guard would stop a packet anyway).
	nb := startBridge(t, Config{})
	nm := serveMetrics(t, nb.h)
	ns := dialV2(t, nb)
	ns.connect(1, "198.18.0.1:80") // the benchmarking range: special
	ns.expectClose(1, wisp.ReasonBlocked)
	ns.connect(2, "9.9.9.9:80")
	ns.expectClose(2, wisp.ReasonBlocked)
	nm.waitValue(t, 1, "wasmnet_bridge_policy_refusals_total", "kind", "no_allow_rule")
	nm.waitValue(t, 1, "wasmnet_bridge_policy_refusals_total", "kind", "special_range")
	nm.waitValue(t, 2, "wasmnet_bridge_dial_errors_total", "reason", "blocked")
}

func TestMetricsProtocolErrors(t *testing.T) {
	b := loopbackBridge(t)
	m := serveMetrics(t, b.h)
	s := dialV2(t, b)
	s.sendRaw([]byte{0x06, 1, 0, 0, 0}) // no such packet type
	s.expectSessionClosed(websocket.StatusProtocolError, "")
	m.waitValue(t, 1, "wasmnet_bridge_protocol_errors_total")
}

func TestMetricsHandshakeRefusals(t *testing.T) {
	b := loopbackBridge(t)
	m := serveMetrics(t, b.h)
	for i := range 3 {
		_, resp, err := dialOrigin(t, b.url, "https://evil.example")
		expectForbidden(t, "https://evil.example", resp, err)
		m.waitValue(t, float64(i+1), "wasmnet_bridge_handshake_refusals_total", "reason", "origin")
	}
	b.h.Shutdown(context.Background())
	_, resp, err := dialOrigin(t, b.url, "")
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("handshake while shutting down: %v, %v; want 503", err, resp)
	}
	if resp.Header.Get("Retry-After") == "" {
		t.Errorf("503 while shutting down has no Retry-After")
	}
	m.waitValue(t, 1, "wasmnet_bridge_handshake_refusals_total", "reason", "shutting_down")
	m.waitValue(t, 3, "wasmnet_bridge_handshake_refusals_total", "reason", "origin")
	if v := m.value(t, "wasmnet_bridge_sessions_total"); v != 0 {
		t.Errorf("sessions_total = %v, want 0: every handshake was refused", v)
	}
}

// /healthz answers 200 while the bridge takes sessions and 503 from the
// moment Shutdown begins, while open streams still drain.
func TestHealth(t *testing.T) {
	b := loopbackBridge(t)
	hs := httptest.NewServer(b.h.Health())
	t.Cleanup(hs.Close)
	health := func() int {
		resp, err := http.Get(hs.URL)
		if err != nil {
			t.Fatalf("healthz: %v", err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := health(); c != http.StatusOK {
		t.Fatalf("healthz = %d before shutdown, want 200", c)
	}

	s := dialV2(t, b)
	s.connect(1, b.echo.String())
	s.data(1, []byte("before"))
	s.readData(1, 6)

	done := make(chan error, 1)
	go func() { done <- b.h.Shutdown(context.Background()) }()
	eventually(t, func() bool { return health() == http.StatusServiceUnavailable },
		func() string { return "healthz still 200 after Shutdown began" })

	// The open stream still relays while the bridge drains.
	s.data(1, []byte("during"))
	if got := s.readData(1, 6); string(got) != "during" {
		t.Fatalf("echo while draining: %q", got)
	}
	s.close(1, wisp.ReasonVoluntary)
	s.expectSessionClosed(websocket.StatusGoingAway, "shutting down")
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	case <-time.After(hang):
		t.Fatal("Shutdown did not return once the last stream closed")
	}
	if c := health(); c != http.StatusServiceUnavailable {
		t.Fatalf("healthz = %d after shutdown, want 503", c)
	}
}

// closedPort returns a loopback address where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// udpEcho starts a UDP echo server on loopback and returns its address.
func udpEcho(t *testing.T) *net.UDPAddr {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(buf[:n], from)
		}
	}()
	return pc.LocalAddr().(*net.UDPAddr)
}

func udpConnect(id uint32, addr *net.UDPAddr) wisp.Packet {
	return wisp.Packet{Type: wisp.TypeConnect, Stream: id, Connect: wisp.Connect{
		StreamType: wisp.StreamUDP, Host: addr.IP.String(), Port: uint16(addr.Port)}}
}
