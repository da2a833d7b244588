package meshtest

import (
	"context"
	"fmt"
	"sync"

	"github.com/webinfra/webinfra/mesh"
)

// RecordingDaemon is a [mesh.Daemon] that runs nothing and records every call as
// "ACTION NODE" ("reload node-a"). Safe for concurrent use; the zero value is ready to use.
type RecordingDaemon struct {
	// Fail, if set, is asked before each call; a non-nil result fails the call, which is still
	// recorded. It is called with the daemon's lock held, one call at a time, so it may count
	// calls without locking of its own.
	Fail func(action, node string) error

	mu    sync.Mutex
	calls []string
}

var _ mesh.Daemon = (*RecordingDaemon)(nil)

func (d *RecordingDaemon) record(action, node string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, action+" "+node)
	if d.Fail != nil {
		if err := d.Fail(action, node); err != nil {
			return fmt.Errorf("meshtest: %s %s: %w", action, node, err)
		}
	}
	return nil
}

// Calls returns the calls so far, in order.
func (d *RecordingDaemon) Calls() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.calls...)
}

// Reset forgets the calls recorded so far.
func (d *RecordingDaemon) Reset() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = nil
}

// Start implements [mesh.Daemon].
func (d *RecordingDaemon) Start(_ context.Context, node string) error { return d.record("start", node) }

// Reload implements [mesh.Daemon].
func (d *RecordingDaemon) Reload(_ context.Context, node string) error {
	return d.record("reload", node)
}

// Restart implements [mesh.Daemon].
func (d *RecordingDaemon) Restart(_ context.Context, node string) error {
	return d.record("restart", node)
}

// Stop implements [mesh.Daemon].
func (d *RecordingDaemon) Stop(_ context.Context, node string) error { return d.record("stop", node) }
