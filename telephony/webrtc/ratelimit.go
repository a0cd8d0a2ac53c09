package webrtc

import (
	"sync"
	"time"
)

// rateLimiter is a token bucket per client address: each may start burst
// calls at once and then perMinute a minute. Its memory is bounded: buckets
// that have refilled are forgotten when the table grows.
type rateLimiter struct {
	perSec float64
	burst  float64
	now    func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// maxBuckets bounds the table; beyond it full buckets are swept, and if
// none are full the newcomer is refused (a flood of addresses).
const maxBuckets = 10000

func newRateLimiter(perMinute float64, burst int, now func() time.Time) *rateLimiter {
	if perMinute < 0 {
		return nil
	}
	return &rateLimiter{perSec: perMinute / 60, burst: float64(burst), now: now, buckets: map[string]*bucket{}}
}

// allow takes a token for key. When it refuses, wait says when one will
// be available. A nil limiter allows everything.
func (l *rateLimiter) allow(key string) (ok bool, wait time.Duration) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			l.sweepLocked(now)
			if len(l.buckets) >= maxBuckets {
				return false, time.Minute
			}
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	l.refill(b, now)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	if l.perSec <= 0 {
		return false, time.Hour
	}
	return false, time.Duration((1 - b.tokens) / l.perSec * float64(time.Second))
}

func (l *rateLimiter) refill(b *bucket, now time.Time) {
	if d := now.Sub(b.at); d > 0 {
		b.tokens = min(l.burst, b.tokens+d.Seconds()*l.perSec)
	}
	b.at = now
}

func (l *rateLimiter) sweepLocked(now time.Time) {
	for k, b := range l.buckets {
		l.refill(b, now)
		if b.tokens >= l.burst {
			delete(l.buckets, k)
		}
	}
}
