package waf

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the WAF's Prometheus series. They live in their own
// registry, so that embedding the WAF twice, or in tests, never collides
// with the process-wide default registry.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	blocks   *prometheus.CounterVec
	matches  *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	reloads  *prometheus.CounterVec
	rules    prometheus.Gauge
	degraded prometheus.Gauge
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seawall_waf_requests_total",
			Help: "Requests handled, by outcome: allowed, detected or blocked.",
		}, []string{"outcome"}),
		blocks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seawall_waf_blocks_total",
			Help: "Blocked requests, by each rule ID that matched them.",
		}, []string{"rule_id"}),
		matches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seawall_waf_rule_matches_total",
			Help: "Logged rule matches, blocked or not, by rule ID.",
		}, []string{"rule_id"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "seawall_waf_request_duration_seconds",
			Help:    "Time from request to the end of the response, including the upstream, by outcome.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"outcome"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seawall_waf_reloads_total",
			Help: "Rule reloads, by result: ok or error.",
		}, []string{"result"}),
		rules: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "seawall_waf_rules_loaded",
			Help: "Rules in the active engine.",
		}),
		degraded: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "seawall_waf_fail_open",
			Help: "1 while the WAF serves without inspection because rules failed to load (fail_mode: open).",
		}),
	}
	// The @rx automata are shared by every WAF in the process, as the
	// operator is.
	dfaBytes := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "seawall_waf_regex_automaton_bytes",
		Help: "Memory the @rx automata have built states in, of their 64 MiB budget.",
	}, func() float64 { return float64(dfaBudget.Used()) })
	fallbacks := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "seawall_waf_regex_fallbacks_total",
		Help: "@rx evaluations the automata had no state budget left for, answered by Go's regexp instead.",
	}, func() float64 { return float64(dfaFallbacks.Load()) })
	m.reg.MustRegister(m.requests, m.blocks, m.matches, m.latency, m.reloads, m.rules, m.degraded,
		dfaBytes, fallbacks,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observe(ev *Event, outcome string, seconds float64) {
	m.requests.WithLabelValues(outcome).Inc()
	m.latency.WithLabelValues(outcome).Observe(seconds)
	if ev == nil {
		return
	}
	for _, id := range ev.RuleIDs {
		s := strconv.Itoa(id)
		m.matches.WithLabelValues(s).Inc()
		if outcome == ActionBlocked {
			m.blocks.WithLabelValues(s).Inc()
		}
	}
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}
