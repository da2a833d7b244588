package backup_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra/backup"
	"github.com/webinfra/webinfra/backup/backuptest"
	"github.com/webinfra/webinfra/internal/testutil"
)

func TestProgressReportsTotals(t *testing.T) {
	src := t.TempDir()
	require.NoError(t, backuptest.WriteDataset(src, 50, 1<<20, 7))
	var mu sync.Mutex
	var reports []backup.Progress
	c, err := backup.New(backup.Config{Remote: backuptest.LocalRemote(t), Encryption: backup.EncryptionNone, Host: "h", ProgressInterval: time.Millisecond,
		Progress: func(p backup.Progress) { mu.Lock(); reports = append(reports, p); mu.Unlock() }})
	require.NoError(t, err)
	res, err := c.Snapshot(context.Background(), backup.Set{Name: "s", Paths: []string{src}}, nil)
	require.NoError(t, err)
	_, err = c.Restore(context.Background(), backup.Ref{Set: "s"}, t.TempDir(), nil)
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	var finals []backup.Progress
	for i, p := range reports {
		assert.LessOrEqual(t, p.FilesDone, p.FilesTotal)
		if i > 0 && reports[i-1].Phase == p.Phase && !reports[i-1].Done {
			assert.GreaterOrEqual(t, p.BytesDone, reports[i-1].BytesDone, "monotonic")
		}
		if p.Done {
			finals = append(finals, p)
		}
	}
	require.Len(t, finals, 2)
	for i, phase := range []string{"snapshot", "restore"} {
		f := finals[i]
		assert.Equal(t, phase, f.Phase)
		assert.Equal(t, res.Files, f.FilesDone)
		assert.Equal(t, res.Files, f.FilesTotal)
		assert.Equal(t, res.Bytes, f.BytesDone)
		assert.Equal(t, res.Bytes, f.BytesTotal)
		assert.Zero(t, f.ETA)
	}
}

func TestLockIsRefreshedWhileHeld(t *testing.T) {
	remote := backuptest.LocalRemote(t)
	c, err := backup.New(backup.Config{Remote: remote, Encryption: backup.EncryptionNone, Host: "h", LockTTL: 300 * time.Millisecond})
	require.NoError(t, err)
	l, err := c.AcquireLock(context.Background(), "s", "test")
	require.NoError(t, err)
	defer l.Release(context.Background())
	first := l.Info().Expires
	// Wait for the refresh to move the expiry, then check that the remote has it: a second
	// client reads the refreshed lock and is refused.
	testutil.Eventually(t, 10*time.Second, func() error {
		locks, err := c.Locks(context.Background(), "", "s")
		if err != nil {
			return err
		}
		if len(locks) != 1 || !locks[0].Expires.After(first) {
			return assert.AnError
		}
		return nil
	})
	other, err := backup.New(backup.Config{Remote: remote, Encryption: backup.EncryptionNone, Host: "h"})
	require.NoError(t, err)
	_, err = other.AcquireLock(context.Background(), "s", "other")
	var locked *backup.LockedError
	require.ErrorAs(t, err, &locked)
	assert.Equal(t, "test", locked.Holder.Owner)
	assert.NoError(t, l.Err())
}

func TestClientWithRcloneConfig(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "rclone.conf")
	require.NoError(t, os.WriteFile(conf, []byte("[vault]\ntype = local\n"), 0o600))
	store := filepath.Join(dir, "store")
	c, err := backup.New(backup.Config{Remote: "vault:" + store, RcloneConfig: conf, Encryption: backup.EncryptionNone, Host: "h"})
	require.NoError(t, err)
	require.NoError(t, c.Check(context.Background()))
	src := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(src, "f"), []byte("x"), 0o644))
	res, err := c.Snapshot(context.Background(), backup.Set{Name: "s", Paths: []string{src}}, nil)
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(store, "snapshots/h/s", res.Info.ID+".json.gz"))
	require.NoError(t, err, "the named remote's path is where the manifest lands")
}

func TestSnapshotOfSpecialFilesAndRehash(t *testing.T) {
	src := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(src, "f"), []byte("x"), 0o644))
	require.NoError(t, syscallMkfifo(filepath.Join(src, "fifo")))
	c, err := backup.New(backup.Config{Remote: backuptest.LocalRemote(t), Encryption: backup.EncryptionNone, Host: "h"})
	require.NoError(t, err)
	set := backup.Set{Name: "s", Paths: []string{src}}
	res, err := c.Snapshot(context.Background(), set, nil)
	require.NoError(t, err)
	assert.Equal(t, int64(1), res.Skipped)
	res, err = c.Snapshot(context.Background(), set, &backup.SnapshotOptions{Rehash: true})
	require.NoError(t, err)
	assert.Equal(t, int64(1), res.Hashed)
	assert.Zero(t, res.Uploaded)
}
