// Package testutil holds small helpers shared by the SDK's tests.
package testutil

import (
	"context"
	"testing"
	"time"
)

// Eventually calls cond until it returns nil, every interval, for at most timeout; then it fails
// the test with cond's last error. Use it instead of sleeping when waiting for a real component.
func Eventually(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	if err := Poll(t.Context(), timeout, 50*time.Millisecond, cond); err != nil {
		t.Fatalf("condition not met within %v: %v", timeout, err)
	}
}

// Poll calls cond every interval until it returns nil (Poll returns nil), timeout passes or ctx is
// done (Poll returns cond's last error, or ctx's if cond never ran).
func Poll(ctx context.Context, timeout, interval time.Duration, cond func() error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		err := cond()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-tick.C:
		}
	}
}
