//go:build !js && !wasip1

package bridge

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wasmnet/wasmnet/wisp"
)

// Collector returns a Prometheus collector of the bridge's metrics, named
// wasmnet_bridge_*. Register it with a registry and serve that with
// promhttp. The metrics name tokens by fingerprint only, and not at all
// per token: their labels are fixed sets.
func (h *Handler) Collector() prometheus.Collector { return collector{h} }

type collector struct{ h *Handler }

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("wasmnet_bridge_"+name, help, labels, nil)
}

var (
	descSessions       = desc("sessions", "Sessions open.")
	descSessionsTotal  = desc("sessions_total", "Sessions opened.")
	descStreams        = desc("streams", "Streams open.", "kind")
	descStreamsTotal   = desc("streams_total", "Streams opened.", "kind")
	descListeners      = desc("listeners", "Listeners open.")
	descBuffered       = desc("buffered_bytes", "Stream bytes the bridge holds.", "direction")
	descBytes          = desc("bytes_total", "Stream bytes relayed; up is from clients to destinations.", "direction")
	descDialErrors     = desc("dial_errors_total", "Streams whose connect failed, by close reason.", "reason")
	descPolicyRefusals = desc("policy_refusals_total", "Destinations refused, by what refused them.", "kind")
	descLimitHits      = desc("limit_hits_total", "Times a limit or timeout was hit.", "limit")
	descRefusals       = desc("handshake_refusals_total", "WebSockets refused at the handshake.", "reason")
	descProtocolErrors = desc("protocol_errors_total", "Sessions ended for breaking the protocol.")
)

func (collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descSessions, descSessionsTotal, descStreams, descStreamsTotal,
		descListeners, descBuffered, descBytes, descDialErrors, descPolicyRefusals, descLimitHits,
		descRefusals, descProtocolErrors} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	st := &c.h.stats
	gauge := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	count := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge(descSessions, st.sessions.Load())
	count(descSessionsTotal, st.sessionsTotal.Load())
	udp := st.udp.Load()
	gauge(descStreams, st.streams.Load()-udp, "tcp")
	gauge(descStreams, udp, "udp")
	count(descStreamsTotal, st.streamsTotal[0].Load(), "tcp")
	count(descStreamsTotal, st.streamsTotal[1].Load(), "udp")
	gauge(descListeners, st.listeners.Load())
	gauge(descBuffered, st.bufferedIn.Load(), "up")
	gauge(descBuffered, st.bufferedOut.Load(), "down")
	count(descBytes, st.bytesUp.Load(), "up")
	count(descBytes, st.bytesDown.Load(), "down")
	dial := map[string]uint64{}
	for r := range st.dialErrors {
		if n := st.dialErrors[r].Load(); n > 0 {
			dial[reasonLabel(wisp.Reason(r))] += n
		}
	}
	for label, n := range dial {
		count(descDialErrors, n, label)
	}
	for k := range st.policyRefused {
		label := refusal(k).String()
		if refusal(k) == outOfScope {
			label = "token_scope"
		}
		count(descPolicyRefusals, st.policyRefused[k].Load(), label)
	}
	for l := limitKind(1); l < numLimits; l++ {
		count(descLimitHits, st.limitHits[l].Load(), l.String())
	}
	for r := range numHandshakeRefusals {
		count(descRefusals, st.refusals[r].Load(), handshakeRefusalNames[r])
	}
	count(descProtocolErrors, st.protocolErrors.Load())
}

// reasonLabel names a close reason in a label: short and stable.
func reasonLabel(r wisp.Reason) string {
	switch r {
	case wisp.ReasonInvalid:
		return "invalid"
	case wisp.ReasonUnreachable:
		return "unreachable"
	case wisp.ReasonConnectTimeout:
		return "timeout"
	case wisp.ReasonRefused:
		return "refused"
	case wisp.ReasonBlocked:
		return "blocked"
	case wisp.ReasonOutOfScope:
		return "out_of_scope"
	case wisp.ReasonNetworkError:
		return "network_error"
	case wisp.ReasonThrottled:
		return "throttled"
	case wisp.ReasonShutdown:
		return "shutdown"
	}
	return "other"
}
