package main

import (
	"fmt"
	"io"
	"log"
	"slices"
	"strings"
	"time"
)

// measurement is one timed run.
type measurement struct {
	Target  string  `json:"target"`
	Metric  string  `json:"metric"`
	Bytes   int64   `json:"bytes,omitempty"`
	Seconds float64 `json:"seconds,omitempty"`
	MiBps   float64 `json:"mibps,omitempty"`
	P50ms   float64 `json:"p50_ms,omitempty"`
	P99ms   float64 `json:"p99_ms,omitempty"`
	RPS     float64 `json:"rps,omitempty"`
}

type results struct {
	raw []measurement
}

func newResults() *results { return &results{} }

func (r *results) add(target, metric string, bytes int64, d time.Duration) {
	m := measurement{Target: target, Metric: metric, Bytes: bytes, Seconds: d.Seconds(),
		MiBps: float64(bytes) / (1 << 20) / d.Seconds()}
	log.Printf("%s %s: %.0f MiB in %.2fs = %.0f MiB/s", target, metric, float64(bytes)/(1<<20), d.Seconds(), m.MiBps)
	r.raw = append(r.raw, m)
}

func (r *results) addLatency(target string, p50, p99 time.Duration, rps float64) {
	r.raw = append(r.raw, measurement{Target: target, Metric: "manifest GET",
		P50ms: ms(p50), P99ms: ms(p99), RPS: rps})
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// median of the values f picks from target's metric measurements; ok is
// false when there are none.
func (r *results) median(target, metric string, f func(measurement) float64) (float64, bool) {
	var v []float64
	for _, m := range r.raw {
		if m.Target == target && m.Metric == metric {
			v = append(v, f(m))
		}
	}
	if len(v) == 0 {
		return 0, false
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2], true
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2, true
}

// print writes the markdown table: one column per target, then the ratio
// of each later target to the first (higher is better for throughput,
// lower for latency).
func (r *results) print(w io.Writer, targets targetList, levels []int, conns int, dur string, size int64, layers, reps int) {
	base := targets[0].name
	others := targets[1:]
	fmt.Fprintf(w, "Image: %d layers, %.0f MiB in all; median of %d rounds; throughput in MiB/s (higher is better), latency in ms (lower is better).\n\n",
		layers, float64(size)/(1<<20), reps)
	head := []string{"Measurement"}
	for _, t := range targets {
		head = append(head, t.name)
	}
	for _, t := range others {
		head = append(head, t.name+" / "+base)
	}
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat("---|", len(head)))
	mibps := func(m measurement) float64 { return m.MiBps }
	row := func(label, metric string, f func(measurement) float64, format string, lowerBetter bool) {
		cells := []string{label}
		b, bok := r.median(base, metric, f)
		for _, t := range targets {
			if v, ok := r.median(t.name, metric, f); ok {
				cells = append(cells, fmt.Sprintf(format, v))
			} else {
				cells = append(cells, "n/a")
			}
		}
		for _, t := range others {
			v, ok := r.median(t.name, metric, f)
			switch {
			case !ok:
				cells = append(cells, "n/a")
			case !bok:
				// The baseline does not do this (e.g. anonymous pushes):
				// compare with the first target's authenticated figure.
				cells = append(cells, "n/a")
			case lowerBetter:
				cells = append(cells, fmt.Sprintf("%.2f× (lower is better)", v/b))
			default:
				cells = append(cells, fmt.Sprintf("**%.2f×**", v/b))
			}
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
	for _, c := range levels {
		row(fmt.Sprintf("push, concurrency %d", c), fmt.Sprintf("push c%d", c), mibps, "%.0f", false)
	}
	for _, c := range levels {
		row(fmt.Sprintf("pull, concurrency %d", c), fmt.Sprintf("pull c%d", c), mibps, "%.0f", false)
	}
	if conns > 0 {
		lat := fmt.Sprintf("manifest GET, wrk %d conns %s", conns, dur)
		row(lat+": p50", "manifest GET", func(m measurement) float64 { return m.P50ms }, "%.2f", true)
		row(lat+": p99", "manifest GET", func(m measurement) float64 { return m.P99ms }, "%.2f", true)
		row(lat+": req/s", "manifest GET", func(m measurement) float64 { return m.RPS }, "%.0f", false)
	}
}
