package waf

import (
	"fmt"
	"hash/maphash"
	"sync"
	"time"
)

// rateLimiter keeps one token bucket per client for all routes, and one per
// client and configured route. Buckets live in shards so that concurrent
// requests rarely wait on the same lock; each shard holds at most its share
// of MaxClients buckets and drops full (idle) buckets first.
type rateLimiter struct {
	rate   float64
	burst  float64
	routes []RouteRate
	max    int
	seed   maphash.Seed
	shards [64]limiterShard
}

type limiterShard struct {
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
	rate   float64
	burst  float64
}

func newRateLimiter(cfg RateLimitConfig) *rateLimiter {
	l := &rateLimiter{rate: cfg.Rate, burst: float64(cfg.Burst), routes: cfg.Routes, max: cfg.MaxClients, seed: maphash.MakeSeed()}
	if l.max < len(l.shards) {
		l.max = len(l.shards)
	}
	for i := range l.shards {
		l.shards[i].buckets = map[string]*bucket{}
	}
	return l
}

// allow takes a token for the client from the all-routes bucket and from
// the first configured route that matches. It returns which limit refused
// the request, if one did.
func (l *rateLimiter) allow(client, method, cleaned string, now time.Time) (bool, string) {
	if !l.take(client, l.rate, l.burst, now) {
		return false, fmt.Sprintf("%g requests/s per client (burst %g)", l.rate, l.burst)
	}
	for i := range l.routes {
		r := &l.routes[i]
		if r.Route.match(method, cleaned) {
			if !l.take(fmt.Sprintf("%s\x00%d", client, i), r.Rate, float64(r.Burst), now) {
				return false, fmt.Sprintf("%g requests/s per client on route %d (burst %d)", r.Rate, i+1, r.Burst)
			}
			break
		}
	}
	return true, ""
}

func (l *rateLimiter) take(key string, rate, burst float64, now time.Time) bool {
	sh := &l.shards[maphash.String(l.seed, key)%uint64(len(l.shards))]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	b, ok := sh.buckets[key]
	if !ok {
		if limit := l.max / len(l.shards); len(sh.buckets) >= limit {
			sh.evict(now, limit)
		}
		b = &bucket{tokens: burst, last: now, rate: rate, burst: burst}
		sh.buckets[key] = b
	}
	b.tokens += now.Sub(b.last).Seconds() * b.rate
	if b.tokens > b.burst {
		b.tokens = b.burst
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// evict drops buckets that have refilled, since they hold no state worth
// keeping; if none has, it drops an arbitrary half, so memory stays bounded
// even under a flood of new clients.
func (sh *limiterShard) evict(now time.Time, limit int) {
	for k, b := range sh.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*b.rate >= b.burst {
			delete(sh.buckets, k)
		}
	}
	if len(sh.buckets) >= limit {
		n := len(sh.buckets) / 2
		for k := range sh.buckets {
			if n <= 0 {
				break
			}
			delete(sh.buckets, k)
			n--
		}
	}
}
