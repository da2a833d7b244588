package ratelimit_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/webinfra/webinfra/internal/ratelimit"
)

func TestNewRejectsBadBudgets(t *testing.T) {
	for _, b := range []ratelimit.Budget{{}, {Requests: 1}, {Per: time.Second}, {Requests: -1, Per: time.Second}, {Requests: 1, Per: time.Second, Burst: -1}} {
		_, err := ratelimit.New(b)
		assert.Error(t, err, "%+v", b)
	}
}

func TestBudgetBecomesRate(t *testing.T) {
	// Cloudflare's documented limit: 1,200 requests per 5 minutes.
	l, err := ratelimit.New(ratelimit.Budget{Requests: 1200, Per: 5 * time.Minute})
	require.NoError(t, err)
	assert.InDelta(t, 4.0, float64(l.Limit()), 1e-9)
	assert.Equal(t, rate.Inf, ratelimit.Unlimited().Limit())
}

func TestWaitSpacesCalls(t *testing.T) {
	l, err := ratelimit.New(ratelimit.Budget{Requests: 50, Per: time.Second, Burst: 1}) // one per 20ms
	require.NoError(t, err)
	start := time.Now()
	for range 6 {
		require.NoError(t, l.Wait(t.Context()))
	}
	// The first token is there; the other five each wait 20ms. Only a lower bound is robust.
	assert.GreaterOrEqual(t, time.Since(start), 90*time.Millisecond)
}

func TestWaitHonoursContextDeadline(t *testing.T) {
	l, err := ratelimit.New(ratelimit.Budget{Requests: 1, Per: time.Hour})
	require.NoError(t, err)
	require.NoError(t, l.Wait(t.Context()))
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	assert.Error(t, l.Wait(ctx))
	assert.Less(t, time.Since(start), 5*time.Second, "fails fast rather than waiting an hour")
}

func TestPauseHoldsEveryCaller(t *testing.T) {
	l := ratelimit.Unlimited()
	l.Pause(150 * time.Millisecond)
	require.False(t, l.PausedUntil().IsZero())

	var wg sync.WaitGroup
	var early atomic.Int32
	start := time.Now()
	for range 5 {
		wg.Go(func() {
			assert.NoError(t, l.Wait(t.Context()))
			if time.Since(start) < 140*time.Millisecond {
				early.Add(1)
			}
		})
	}
	wg.Wait()
	assert.Zero(t, early.Load(), "no caller went before the pause ended")
	assert.True(t, l.PausedUntil().IsZero(), "pause is over")
}

func TestPauseNeverShortens(t *testing.T) {
	l := ratelimit.Unlimited()
	far := time.Now().Add(time.Hour)
	l.PauseUntil(far)
	l.Pause(time.Second)
	assert.Equal(t, far, l.PausedUntil())
}

func TestPausePastDeadlineFailsAtOnce(t *testing.T) {
	l := ratelimit.Unlimited()
	l.Pause(time.Hour)
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	err := l.Wait(ctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NoError(t, ctx.Err(), "returned before the deadline")
}

func TestWaitCancelDuringPause(t *testing.T) {
	l := ratelimit.Unlimited()
	l.Pause(time.Hour)
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(20*time.Millisecond, cancel)
	assert.ErrorIs(t, l.Wait(ctx), context.Canceled)
}
