// Package retry runs an operation again after transient failures: bounded attempts, exponential
// backoff with full jitter, Retry-After hints honoured, and context cancellation respected.
//
// It is written here rather than taken from github.com/cenkalti/backoff because the SDK's tests
// need an injectable clock (to check waits without sleeping) and Retry-After values finer than the
// whole seconds that library's RetryAfter error carries.
package retry

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// Policy says how often and how long to retry. The zero Policy is usable: it takes the defaults
// named on each field.
type Policy struct {
	// Attempts is the total number of calls, the first included; 0 means 5, 1 means no retry.
	Attempts int
	// BaseDelay is the backoff before the second attempt, doubled for each further one;
	// 0 means 200ms.
	BaseDelay time.Duration
	// MaxDelay caps the backoff and any Retry-After hint; 0 means 30s. A hint above the cap means
	// the backend wants more patience than the policy allows, so the error is returned instead of
	// sleeping.
	MaxDelay time.Duration
	// Retryable says whether an error is worth another attempt. nil retries every error except
	// context errors and those marked with [Permanent]. Errors carrying a Retry-After hint are
	// retried whatever it says.
	Retryable func(error) bool
	// Sleep waits for d or until ctx is done, returning ctx.Err() in that case. nil uses a real
	// timer; tests inject a fake.
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter returns a random duration in [0, d]; nil uses math/rand/v2. Tests pin it.
	Jitter func(d time.Duration) time.Duration
	// OnRetry, if set, is called before each wait with the attempt that failed (1-based), its
	// error and the wait; use it for logging.
	OnRetry func(attempt int, err error, wait time.Duration)
}

func (p Policy) withDefaults() Policy {
	if p.Attempts <= 0 {
		p.Attempts = 5
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = 200 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 30 * time.Second
	}
	if p.Sleep == nil {
		p.Sleep = sleep
	}
	if p.Jitter == nil {
		p.Jitter = func(d time.Duration) time.Duration { return rand.N(d + 1) }
	}
	return p
}

// Backoff returns the wait before attempt n+1 after n failed attempts, without a hint: full
// jitter over min(MaxDelay, BaseDelay*2^(n-1)), which spreads the retries of many clients.
func (p Policy) Backoff(n int) time.Duration {
	p = p.withDefaults()
	d := p.BaseDelay
	for i := 1; i < n && d < p.MaxDelay; i++ {
		d *= 2
	}
	return p.Jitter(min(d, p.MaxDelay))
}

// Do calls op until it succeeds, returns an error not worth retrying, or runs out of attempts,
// and returns op's last error (nil on success). Between attempts it waits the error's Retry-After
// hint (see [After]) if it has one, otherwise the policy's backoff. A done ctx stops the waits
// and Do returns an error for which errors.Is(err, ctx.Err()) holds, wrapping op's last error too.
// Do never waits past ctx's deadline: when the next wait would end after it, Do returns op's
// last error at once.
func Do(ctx context.Context, p Policy, op func(context.Context) error) error {
	p = p.withDefaults()
	var err error
	for attempt := 1; ; attempt++ {
		if cerr := ctx.Err(); cerr != nil {
			return join(cerr, err)
		}
		err = op(ctx)
		if err == nil {
			return nil
		}
		if attempt >= p.Attempts || !p.retryable(err) {
			return unwrapPermanent(err)
		}
		wait, hinted := After(err)
		if hinted {
			if wait > p.MaxDelay {
				return err
			}
		} else {
			wait = p.Backoff(attempt)
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return err
		}
		if p.OnRetry != nil {
			p.OnRetry(attempt, err, wait)
		}
		if serr := p.Sleep(ctx, wait); serr != nil {
			return join(serr, err)
		}
	}
}

func (p Policy) retryable(err error) bool {
	var perm *permanentError
	switch {
	case errors.As(err, &perm):
		return false
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return false
	}
	if _, hinted := After(err); hinted {
		return true
	}
	return p.Retryable == nil || p.Retryable(err)
}

func join(ctxErr, last error) error {
	if last == nil {
		return ctxErr
	}
	return errors.Join(ctxErr, unwrapPermanent(last))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Permanent marks err as not worth retrying: [Do] returns it (unwrapped) at once.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func unwrapPermanent(err error) error {
	if p, ok := err.(*permanentError); ok {
		return p.err
	}
	return err
}

// RetryAfterer is implemented by errors that carry the backend's hint of when to try again,
// such as a rate-limit error built from an HTTP 429 response.
type RetryAfterer interface {
	// RetryAfter returns how long to wait; ok is false when the error carries no hint.
	RetryAfter() (wait time.Duration, ok bool)
}

// After returns the Retry-After hint carried by err or any error it wraps.
func After(err error) (time.Duration, bool) {
	var ra RetryAfterer
	if errors.As(err, &ra) {
		d, ok := ra.RetryAfter()
		return max(d, 0), ok
	}
	return 0, false
}
