package auth

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// failureLimiter counts failed logins per key (a user name or a client
// IP) in token buckets: each failure takes a token, and a key whose bucket
// is empty is refused before its credentials are even checked, so
// guessing costs the attacker time and the server no hashing.
type failureLimiter struct {
	mu      sync.Mutex
	every   rate.Limit
	burst   int
	buckets map[string]*bucket
	max     int // entries kept; past it, idle ones are dropped
}

type bucket struct {
	lim  *rate.Limiter
	last time.Time
}

func newFailureLimiter(perMinute float64, burst, maxEntries int) *failureLimiter {
	return &failureLimiter{
		every:   rate.Limit(perMinute / 60),
		burst:   burst,
		buckets: map[string]*bucket{},
		max:     maxEntries,
	}
}

// blocked reports whether key has used up its failures at now, and when it
// may try again.
func (l *failureLimiter) blocked(key string, now time.Time) (bool, time.Duration) {
	if l == nil || l.burst <= 0 {
		return false, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		return false, 0
	}
	if b.lim.TokensAt(now) >= 1 {
		return false, 0
	}
	r := b.lim.ReserveN(now, 1)
	wait := r.DelayFrom(now)
	r.CancelAt(now)
	return true, wait
}

// fail records a failure for key at now.
func (l *failureLimiter) fail(key string, now time.Time) {
	if l == nil || l.burst <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= l.max {
			l.evict(now)
		}
		b = &bucket{lim: rate.NewLimiter(l.every, l.burst)}
		l.buckets[key] = b
	}
	b.last = now
	b.lim.AllowN(now, 1)
}

// evict drops buckets that have refilled (they hold no information), and
// if that is not enough, the whole map: under a flood of distinct keys
// forgetting is better than growing without bound.
func (l *failureLimiter) evict(now time.Time) {
	for k, b := range l.buckets {
		if b.lim.TokensAt(now) >= float64(l.burst) {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= l.max {
		clear(l.buckets)
	}
}
