// Package ratelimit keeps a client under a remote API's request limit, shared by every call of
// that client. The token bucket is golang.org/x/time/rate's; this package adds the budget as APIs
// state it ("1,200 requests per 5 minutes") and a pause that every caller honours once the backend
// has answered 429 with Retry-After, so one throttled call holds back all the others instead of
// each finding out on its own.
package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter spaces the calls of one client. It is safe for concurrent use; share one per remote
// API and credential.
type Limiter struct {
	bucket *rate.Limiter
	now    func() time.Time

	mu          sync.Mutex
	pausedUntil time.Time
}

// Budget is a request limit as an API documents it: Requests per Per. Burst is how many requests
// may go at once after a quiet spell; 0 means 1, which spreads calls evenly.
type Budget struct {
	// Requests is how many requests the API allows per period; positive.
	Requests int
	// Per is the period; positive.
	Per time.Duration
	// Burst is how many requests may go at once; 0 means 1.
	Burst int
}

// New returns a limiter enforcing b. Requests and Per must be positive.
func New(b Budget) (*Limiter, error) {
	if b.Requests <= 0 || b.Per <= 0 || b.Burst < 0 {
		return nil, fmt.Errorf("ratelimit: invalid budget %d per %v (burst %d): requests and period must be positive", b.Requests, b.Per, b.Burst)
	}
	burst := max(b.Burst, 1)
	every := b.Per / time.Duration(b.Requests)
	return &Limiter{bucket: rate.NewLimiter(rate.Every(every), burst), now: time.Now}, nil
}

// Unlimited returns a limiter that never waits (unless paused); for tests and local fakes.
func Unlimited() *Limiter {
	return &Limiter{bucket: rate.NewLimiter(rate.Inf, 1), now: time.Now}
}

// Wait blocks until a request may go: after any pause set by [Limiter.PauseUntil], and when the
// bucket has a token. It returns ctx's error if ctx is done first, and an error at once if the
// wait would outlast ctx's deadline; no token is consumed then.
func (l *Limiter) Wait(ctx context.Context) error {
	for {
		l.mu.Lock()
		until := l.pausedUntil
		l.mu.Unlock()
		d := until.Sub(l.now())
		if d <= 0 {
			break
		}
		if deadline, ok := ctx.Deadline(); ok && deadline.Before(until) {
			return fmt.Errorf("ratelimit: paused until %s, past the context deadline: %w", until.Format(time.RFC3339), context.DeadlineExceeded)
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		// Loop: another caller may have extended the pause meanwhile.
	}
	return l.bucket.Wait(ctx)
}

// PauseUntil holds back every caller of Wait until t, as a 429 response with a Retry-After hint
// demands. A pause never shortens one already set.
func (l *Limiter) PauseUntil(t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t.After(l.pausedUntil) {
		l.pausedUntil = t
	}
}

// Pause holds back every caller for d from now; see [Limiter.PauseUntil].
func (l *Limiter) Pause(d time.Duration) { l.PauseUntil(l.now().Add(d)) }

// PausedUntil returns the end of the current pause, or the zero time when there is none.
func (l *Limiter) PausedUntil() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pausedUntil.After(l.now()) {
		return l.pausedUntil
	}
	return time.Time{}
}

// Limit returns the sustained rate in requests per second.
func (l *Limiter) Limit() rate.Limit { return l.bucket.Limit() }
