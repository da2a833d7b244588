package backup

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
)

// A file that vanishes before it is read, and one that changes on every read, are left out and
// counted; the snapshot completes and restores without them.
func TestSnapshotLeavesOutVanishedAndChangingFiles(t *testing.T) {
	remote := t.TempDir()
	c, err := New(Config{Remote: remote, Encryption: EncryptionNone, Host: "h"})
	require.NoError(t, err)
	src := t.TempDir()
	for _, n := range []string{"gone", "busy", "calm"} {
		require.NoError(t, os.WriteFile(filepath.Join(src, n), []byte(n), 0o644))
	}
	n := 0
	c.beforeRead = func(p string) {
		switch filepath.Base(p) {
		case "gone":
			_ = os.Remove(p)
		case "busy": // rewritten in place, at the same size, before every read
			n++
			require.NoError(t, os.WriteFile(p, []byte{'b', 'u', 's', byte('a' + n%26)}, 0o644))
		}
	}
	res, err := c.Snapshot(context.Background(), Set{Name: "s", Paths: []string{src}}, nil)
	require.NoError(t, err)
	assert.Equal(t, int64(1), res.Vanished)
	assert.Equal(t, int64(1), res.Changing)
	rel := strings.TrimPrefix(src, "/")
	assert.Equal(t, []string{rel + "/busy", rel + "/gone"}, res.Left)
	assert.Equal(t, int64(1), res.Files)
	var paths []string
	for _, e := range res.Manifest.Entries {
		paths = append(paths, e.Path)
	}
	assert.Equal(t, []string{rel, rel + "/calm"}, paths)

	c.beforeRead = nil
	rep, err := c.Verify(context.Background(), Ref{Set: "s"}, &VerifyOptions{Full: true})
	require.NoError(t, err)
	assert.True(t, rep.OK())
	target := t.TempDir()
	_, err = c.Restore(context.Background(), Ref{Set: "s"}, target, nil)
	require.NoError(t, err)
	data, err := os.ReadFile(filepath.Join(target, rel, "calm"))
	require.NoError(t, err)
	assert.Equal(t, "calm", string(data))
}

// A snapshot paused past its lock's TTL (its refresh stopped, as in a frozen process) while a
// prune takes the set and collects the paused run's objects: the run, resumed, finds its lock
// lost and commits nothing, so no snapshot needs what prune removed; every one left verifies.
func TestSnapshotPausedPastLockTTLCommitsNothing(t *testing.T) {
	remote := t.TempDir()
	const ttl = 600 * time.Millisecond
	cfg := Config{Remote: remote, Encryption: EncryptionNone, Host: "h", LockTTL: ttl}
	c, err := New(cfg)
	require.NoError(t, err)
	src := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(src, "a"), []byte("first"), 0o644))
	set := Set{Name: "s", Paths: []string{src}}
	first, err := c.Snapshot(context.Background(), set, nil)
	require.NoError(t, err)

	require.NoError(t, os.WriteFile(filepath.Join(src, "a"), []byte("second version"), 0o644))
	paused, resume := make(chan struct{}), make(chan struct{})
	c.beforeCommit = func(l *Lock) {
		l.stopRefresh() // frozen: no refresh from here on
		close(paused)
		<-resume
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.Snapshot(context.Background(), set, nil)
		done <- err
	}()
	<-paused
	time.Sleep(ttl + 200*time.Millisecond)

	other, err := New(cfg)
	require.NoError(t, err)
	plan, err := other.PlanPrune(context.Background(), "s", Retention{Last: 1})
	require.NoError(t, err)
	res, err := other.Prune(context.Background(), plan) // takes the stale lock
	require.NoError(t, err)
	// Paused past the TTL, the run's upload is older than the TTL too, so prune collects it:
	// which is exactly why the run must not commit a manifest that needs it.
	assert.Equal(t, 1, res.Objects)
	close(resume)

	err = <-done
	require.ErrorIs(t, err, ErrLockLost)
	assert.ErrorIs(t, err, webinfra.ErrFailedPrecondition)
	snaps, err := c.List(context.Background(), "", "s")
	require.NoError(t, err)
	assert.Equal(t, []SnapshotInfo{first.Info}, snaps, "nothing committed")
	rep, err := c.Verify(context.Background(), Ref{Set: "s"}, &VerifyOptions{Full: true})
	require.NoError(t, err)
	assert.True(t, rep.OK())
	locks, err := c.Locks(context.Background(), "", "s")
	require.NoError(t, err)
	assert.Empty(t, locks, "the lost lock was not written back")
}
