package security_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/security"
	"github.com/webinfra/webinfra/security/securitytest"
)

// Schedule scans once per interval, passes each outcome on, keeps going after a failed scan,
// and returns ctx's error when ctx ends. The fake clock of synctest runs the intervals.
func TestHookScheduleScansEveryInterval(t *testing.T) {
	data := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(data, "a.txt"), []byte("evil()"), 0o644))
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var outcomes []*security.Outcome
		scanner := &securitytest.FakeScanner{Signatures: map[string][]byte{"PHP.Evil": []byte("evil()")}}
		breakable := &breakableScanner{Scanner: scanner}
		h, err := security.NewHook(security.HookConfig{
			Scanner: breakable,
			Policy:  security.ScanPolicy{Engine: "clamd", Paths: []string{data}, Interval: time.Hour},
			OnResult: func(_ context.Context, o *security.Outcome) {
				mu.Lock()
				defer mu.Unlock()
				outcomes = append(outcomes, o)
			},
		})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- h.Schedule(ctx) }()

		time.Sleep(59 * time.Minute)
		synctest.Wait()
		assert.Empty(t, scanner.Scans(), "nothing before the first interval")

		time.Sleep(2*time.Hour + time.Minute) // 3 intervals have passed
		synctest.Wait()
		mu.Lock()
		require.Len(t, outcomes, 3)
		for _, o := range outcomes {
			assert.Equal(t, "schedule", o.Trigger)
			require.Len(t, o.Report.Findings, 1)
			assert.Equal(t, "PHP.Evil", o.Report.Findings[0].Threat)
		}
		mu.Unlock()

		// A scanner that cannot run: the schedule logs it and goes on.
		breakable.fail(errors.New("clamd is down"))
		time.Sleep(time.Hour)
		synctest.Wait()
		assert.Equal(t, 4, breakable.calls())
		mu.Lock()
		assert.Len(t, outcomes, 3, "a failed scan has no outcome")
		mu.Unlock()
		select {
		case err := <-done:
			t.Fatalf("Schedule returned after a failed scan: %v", err)
		default:
		}

		cancel()
		assert.ErrorIs(t, <-done, context.Canceled)
	})
}

func TestHookScheduleWithoutIntervalIsRefused(t *testing.T) {
	h, err := security.NewHook(security.HookConfig{
		Scanner: &securitytest.FakeScanner{},
		Policy:  security.ScanPolicy{Engine: "clamd", Paths: []string{t.TempDir()}, AfterSync: true},
	})
	require.NoError(t, err)
	assert.ErrorIs(t, h.Schedule(t.Context()), webinfra.ErrInvalidArgument)
}

// breakableScanner passes scans on until told to fail.
type breakableScanner struct {
	security.Scanner
	mu  sync.Mutex
	err error
	n   int
}

func (b *breakableScanner) Scan(ctx context.Context, paths []string, opts *security.ScanOptions) (*security.Report, error) {
	b.mu.Lock()
	b.n++
	err := b.err
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return b.Scanner.Scan(ctx, paths, opts)
}

func (b *breakableScanner) fail(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.err = err
}

func (b *breakableScanner) calls() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.n
}
