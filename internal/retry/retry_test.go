package retry_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra/internal/retry"
)

// fakeSleep records the waits instead of sleeping.
type fakeSleep struct{ waits []time.Duration }

func (f *fakeSleep) Sleep(ctx context.Context, d time.Duration) error {
	f.waits = append(f.waits, d)
	return ctx.Err()
}

func policy(s *fakeSleep) retry.Policy {
	return retry.Policy{
		Attempts:  5,
		BaseDelay: 100 * time.Millisecond,
		MaxDelay:  time.Second,
		Sleep:     s.Sleep,
		Jitter:    func(d time.Duration) time.Duration { return d }, // the ceiling, so waits are exact
	}
}

var errFlaky = errors.New("flaky")

type hinted struct{ wait time.Duration }

func (h hinted) Error() string                     { return "slow down" }
func (h hinted) RetryAfter() (time.Duration, bool) { return h.wait, true }

func TestDoSucceedsAfterTransientFailures(t *testing.T) {
	var s fakeSleep
	calls := 0
	err := retry.Do(t.Context(), policy(&s), func(context.Context) error {
		calls++
		if calls < 4 {
			return errFlaky
		}
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, 4, calls)
	assert.Equal(t, []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}, s.waits)
}

func TestDoBoundsAttemptsAndCapsBackoff(t *testing.T) {
	var s fakeSleep
	p := policy(&s)
	p.Attempts = 7
	calls := 0
	err := retry.Do(t.Context(), p, func(context.Context) error { calls++; return errFlaky })
	assert.ErrorIs(t, err, errFlaky)
	assert.Equal(t, 7, calls)
	assert.Equal(t, []time.Duration{
		100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond,
		time.Second, time.Second,
	}, s.waits)
}

func TestDoStopsOnPermanentAndNonRetryable(t *testing.T) {
	var s fakeSleep
	calls := 0
	err := retry.Do(t.Context(), policy(&s), func(context.Context) error { calls++; return retry.Permanent(errFlaky) })
	assert.Equal(t, errFlaky, err, "Permanent is unwrapped")
	assert.Equal(t, 1, calls)

	p := policy(&s)
	p.Retryable = func(err error) bool { return !errors.Is(err, errFlaky) }
	calls = 0
	err = retry.Do(t.Context(), p, func(context.Context) error { calls++; return errFlaky })
	assert.ErrorIs(t, err, errFlaky)
	assert.Equal(t, 1, calls)
	assert.Empty(t, s.waits)
	assert.NoError(t, retry.Permanent(nil))
}

func TestDoHonoursRetryAfter(t *testing.T) {
	var s fakeSleep
	p := policy(&s)
	p.Retryable = func(error) bool { return false } // a hint overrides the classifier
	calls := 0
	err := retry.Do(t.Context(), p, func(context.Context) error {
		calls++
		if calls == 1 {
			return hinted{wait: 750 * time.Millisecond}
		}
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{750 * time.Millisecond}, s.waits)
}

func TestDoGivesUpWhenHintExceedsCap(t *testing.T) {
	var s fakeSleep
	calls := 0
	err := retry.Do(t.Context(), policy(&s), func(context.Context) error { calls++; return hinted{wait: time.Hour} })
	assert.Equal(t, hinted{wait: time.Hour}, err)
	assert.Equal(t, 1, calls)
	assert.Empty(t, s.waits)
}

func TestDoRespectsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	calls := 0
	p := retry.Policy{Attempts: 10, BaseDelay: time.Hour, MaxDelay: time.Hour, Jitter: func(d time.Duration) time.Duration { return d }}
	done := make(chan error, 1)
	go func() {
		done <- retry.Do(ctx, p, func(context.Context) error { calls++; return errFlaky })
	}()
	time.AfterFunc(20*time.Millisecond, cancel)
	select {
	case err := <-done:
		assert.ErrorIs(t, err, context.Canceled)
		assert.ErrorIs(t, err, errFlaky, "the last failure is kept")
		assert.Equal(t, 1, calls)
	case <-time.After(10 * time.Second):
		t.Fatal("Do kept sleeping after cancel")
	}
}

func TestDoDoesNotWaitPastDeadline(t *testing.T) {
	var s fakeSleep
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	p := policy(&s)
	err := retry.Do(ctx, p, func(context.Context) error { return hinted{wait: 900 * time.Millisecond} })
	assert.Equal(t, hinted{wait: 900 * time.Millisecond}, err)
	assert.Empty(t, s.waits)
}

func TestDoDoesNotRetryContextErrors(t *testing.T) {
	var s fakeSleep
	calls := 0
	err := retry.Do(t.Context(), policy(&s), func(context.Context) error { calls++; return context.DeadlineExceeded })
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, 1, calls)
}

func TestBackoffJitterStaysInRange(t *testing.T) {
	p := retry.Policy{BaseDelay: 10 * time.Millisecond, MaxDelay: 80 * time.Millisecond}
	seen := map[time.Duration]bool{}
	for range 2000 {
		d := p.Backoff(3)
		require.GreaterOrEqual(t, d, time.Duration(0))
		require.LessOrEqual(t, d, 40*time.Millisecond)
		seen[d] = true
	}
	assert.Greater(t, len(seen), 100, "waits are spread, not fixed")
	for range 100 {
		assert.LessOrEqual(t, p.Backoff(40), 80*time.Millisecond)
	}
}

func TestOnRetry(t *testing.T) {
	var s fakeSleep
	p := policy(&s)
	p.Attempts = 3
	var attempts []int
	p.OnRetry = func(n int, err error, wait time.Duration) {
		attempts = append(attempts, n)
		assert.ErrorIs(t, err, errFlaky)
	}
	_ = retry.Do(t.Context(), p, func(context.Context) error { return errFlaky })
	assert.Equal(t, []int{1, 2}, attempts)
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"120", 2 * time.Minute, true},
		{" 0 ", 0, true},
		{"Tue, 24 Nov 2026 12:00:30 GMT", 30 * time.Second, true},
		{"Tuesday, 24-Nov-26 12:01:00 GMT", time.Minute, true}, // RFC 850, still accepted by HTTP
		{"Tue Nov 24 12:00:05 2026", 5 * time.Second, true},    // asctime
		{"Tue, 24 Nov 2026 11:00:00 GMT", 0, true},             // past: retry now
		{"", 0, false},
		{"-5", 0, false},
		{"soon", 0, false},
		{"1.5", 0, false},
		{"99999999999999999999", 0, false},
	}
	for _, tt := range tests {
		got, ok := retry.ParseRetryAfter(tt.in, now)
		assert.Equal(t, tt.ok, ok, "%q", tt.in)
		assert.Equal(t, tt.want, got, "%q", tt.in)
	}
}

func TestFromResponse(t *testing.T) {
	now := time.Now()
	h := http.Header{}
	_, ok := retry.FromResponse(h, now)
	assert.False(t, ok)

	h.Set("Retry-After", "3")
	got, ok := retry.FromResponse(h, now)
	assert.True(t, ok)
	assert.Equal(t, 3*time.Second, got)

	h.Set("Retry-After-Ms", "1500")
	got, _ = retry.FromResponse(h, now)
	assert.Equal(t, 1500*time.Millisecond, got, "milliseconds win")

	h.Set("Retry-After-Ms", "junk")
	got, _ = retry.FromResponse(h, now)
	assert.Equal(t, 3*time.Second, got, "a bad ms value falls back to Retry-After")
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"0", "120", "Tue, 24 Nov 2026 12:00:30 GMT", "", "-1", "1e3", "Mon, 99 Foo"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := retry.ParseRetryAfter(s, now)
		if d < 0 {
			t.Fatalf("negative wait %v for %q", d, s)
		}
		if !ok && d != 0 {
			t.Fatalf("wait %v without ok for %q", d, s)
		}
	})
}
