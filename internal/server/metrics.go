package server

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/seawall-dev/seawall/internal/registry"
)

// Metrics are the server's Prometheus metrics, in a registry of their own
// (no global state, so tests can run servers side by side).
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	inflight prometheus.Gauge
}

// newMetrics registers the HTTP metrics and the registry's counters.
func newMetrics(stats func() registry.Stats) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "seawall_http_requests_total",
		Help: "HTTP requests served, by route pattern, method and status code.",
	}, []string{"route", "method", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "seawall_http_request_duration_seconds",
		Help:    "Time to serve an HTTP request, by route pattern and method.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	}, []string{"route", "method"})
	m.inflight = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "seawall_http_requests_in_flight",
		Help: "HTTP requests being served now.",
	})
	m.reg.MustRegister(m.requests, m.latency, m.inflight,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "seawall_registry_bytes_pushed_total",
			Help: "Blob and manifest bytes received by the registry.",
		}, func() float64 { return float64(stats().BytesPushed) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "seawall_registry_bytes_pulled_total",
			Help: "Blob and manifest bytes sent by the registry.",
		}, func() float64 { return float64(stats().BytesPulled) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "seawall_registry_active_uploads",
			Help: "Blob upload requests (POST, PATCH, PUT) receiving data now.",
		}, func() float64 { return float64(stats().ActiveUploads) }),
	)
	return m
}

// handler serves the metrics in Prometheus' text format.
func (m *Metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

func (m *Metrics) observe(route, method string, code int, d time.Duration) {
	method = metricMethod(method)
	m.requests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	m.latency.WithLabelValues(route, method).Observe(d.Seconds())
}

// metricMethod keeps the method label's values few: a client can send
// any method name.
func metricMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}

// registryRoute names a /v2/ request by the spec's endpoint, so the route
// label has a handful of values and never a repository name.
func registryRoute(path string) string {
	rest, ok := strings.CutPrefix(path, "/v2/")
	switch {
	case !ok:
		return "other"
	case rest == "":
		return "/v2/"
	case rest == "_catalog":
		return "/v2/_catalog"
	case strings.HasSuffix(rest, "/tags/list"):
		return "/v2/{name}/tags/list"
	case strings.HasSuffix(rest, "/blobs/uploads/"):
		return "/v2/{name}/blobs/uploads/"
	}
	i := strings.LastIndex(rest, "/")
	if i < 0 {
		return "/v2/other"
	}
	dir := rest[:i]
	switch {
	case strings.HasSuffix(dir, "/blobs/uploads"):
		return "/v2/{name}/blobs/uploads/{reference}"
	case strings.HasSuffix(dir, "/blobs"):
		return "/v2/{name}/blobs/{digest}"
	case strings.HasSuffix(dir, "/manifests"):
		return "/v2/{name}/manifests/{reference}"
	case strings.HasSuffix(dir, "/referrers"):
		return "/v2/{name}/referrers/{digest}"
	}
	return "/v2/other"
}
