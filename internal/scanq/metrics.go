package scanq

import (
	"context"
	"io"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the scanner's Prometheus metrics. They are registered by
// the server in its own registry (Collectors).
type metrics struct {
	q         *Queue
	duration  prometheus.Histogram
	scans     *prometheus.CounterVec
	blobReads prometheus.Counter
	// blobReadsN mirrors blobReads for BlobReads.
	blobReadsN atomic.Int64
	blobBytes  prometheus.Counter
	rematch    prometheus.Histogram
	rematched  prometheus.Counter
	depth      *prometheus.Desc
	running    *prometheus.Desc
}

func newMetrics(q *Queue) *metrics {
	return &metrics{
		q: q,
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "seawall_scan_duration_seconds",
			Help:    "Time to scan one image from blob storage: read the layers, catalog, match, store.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900},
		}),
		scans: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seawall_scans_total",
			Help: "Scan jobs ended, by outcome: ok, failed (for good), retried, lost (lease taken over).",
		}, []string{"outcome"}),
		blobReads: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "seawall_scan_blob_reads_total",
			Help: "Blobs (configs and layers) the scanner opened in blob storage.",
		}),
		blobBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "seawall_scan_blob_read_bytes_total",
			Help: "Bytes the scanner read from blob storage.",
		}),
		rematch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "seawall_rematch_duration_seconds",
			Help:    "Time to rematch stored SBOMs against the vulnerability database after an update.",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2, 5, 10, 30, 60, 300},
		}),
		rematched: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "seawall_rematched_sboms_total",
			Help: "Stored SBOMs matched again after a database update, with no layer read.",
		}),
		depth: prometheus.NewDesc("seawall_scan_queue_depth",
			"Scan jobs waiting in the persistent queue, by priority (100 push, 50 manual, 10 bulk).", []string{"priority"}, nil),
		running: prometheus.NewDesc("seawall_scan_jobs_running",
			"Scan jobs under a live lease (being scanned by some worker or replica).", nil, nil),
	}
}

// Collectors are the metrics to register.
func (q *Queue) Collectors() []prometheus.Collector {
	m := q.metrics
	return []prometheus.Collector{m.duration, m.scans, m.blobReads, m.blobBytes, m.rematch, m.rematched, queueCollector{m}}
}

// BlobReads is how many blobs the scanner has opened since New.
func (q *Queue) BlobReads() int64 { return q.metrics.blobReadsN.Load() }

// queueCollector reads the queue's depth from the store at each scrape.
type queueCollector struct{ m *metrics }

func (c queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.m.depth
	ch <- c.m.running
}

func (c queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := c.m.q.st.ScanQueue(ctx, c.m.q.now())
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.m.depth, err)
		return
	}
	for _, p := range []int{100, 50, 10} {
		if _, ok := st.Waiting[p]; !ok {
			st.Waiting[p] = 0
		}
	}
	for p, n := range st.Waiting {
		ch <- prometheus.MustNewConstMetric(c.m.depth, prometheus.GaugeValue, float64(n), strconv.Itoa(p))
	}
	ch <- prometheus.MustNewConstMetric(c.m.running, prometheus.GaugeValue, float64(st.Running))
}

// countingReader counts the bytes read through it.
type countingReader struct {
	rc io.ReadCloser
	n  prometheus.Counter
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.rc.Read(p)
	r.n.Add(float64(n))
	return n, err
}

func (r *countingReader) Close() error { return r.rc.Close() }
