package auth

import (
	"strings"
	"sync"
	"time"
)

// RateOptions bounds login attempts. Each login and each remote address has its own
// token bucket: Burst attempts at once, then one more every Every. The buckets are
// in process memory: behind several replicas the limit is per replica, and a restart
// forgets them — good enough to stop guessing, which needs millions of attempts.
type RateOptions struct {
	PerLoginBurst   int
	PerLoginEvery   time.Duration
	PerAddressBurst int
	PerAddressEvery time.Duration
}

func (o *RateOptions) defaults() {
	if o.PerLoginBurst == 0 {
		o.PerLoginBurst = 5
	}
	if o.PerLoginEvery == 0 {
		o.PerLoginEvery = 12 * time.Second
	}
	if o.PerAddressBurst == 0 {
		o.PerAddressBurst = 20
	}
	if o.PerAddressEvery == 0 {
		o.PerAddressEvery = 3 * time.Second
	}
}

type bucket struct {
	tokens float64
	at     time.Time
}

type loginLimiter struct {
	opts RateOptions
	now  func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

func newLoginLimiter(o RateOptions, now func() time.Time) *loginLimiter {
	return &loginLimiter{opts: o, now: now, buckets: map[string]*bucket{}}
}

// allow takes one token from the login's and the address's buckets, or none when
// either is empty.
func (l *loginLimiter) allow(login, addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.buckets) > 100_000 {
		l.sweep(now)
	}
	kl := "login:" + strings.ToLower(login)
	ka := "addr:" + addr
	bl := l.fill(kl, now, l.opts.PerLoginBurst, l.opts.PerLoginEvery)
	ba := l.fill(ka, now, l.opts.PerAddressBurst, l.opts.PerAddressEvery)
	if bl.tokens < 1 || ba.tokens < 1 {
		return false
	}
	bl.tokens--
	ba.tokens--
	return true
}

func (l *loginLimiter) fill(key string, now time.Time, burst int, every time.Duration) *bucket {
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: float64(burst), at: now}
		l.buckets[key] = b
		return b
	}
	if el := now.Sub(b.at); el > 0 {
		b.tokens = min(float64(burst), b.tokens+float64(el)/float64(every))
		b.at = now
	}
	return b
}

// sweep forgets buckets untouched for an hour (full again by then), so that a flood
// of made-up logins cannot grow the map without bound.
func (l *loginLimiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if now.Sub(b.at) > time.Hour {
			delete(l.buckets, k)
		}
	}
}
