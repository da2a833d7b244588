package backup_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/pkg/xattr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/backup"
	"github.com/webinfra/webinfra/backup/backuptest"
)

func restoreClient(t *testing.T) *backup.Client {
	c, err := backup.New(backup.Config{Remote: backuptest.LocalRemote(t), Key: webinfra.NewSecret("restore test"), Host: "h"})
	require.NoError(t, err)
	return c
}

// A name at the file system's limit restores: the temporary name beside it is short.
func TestRestoreNameOf255Bytes(t *testing.T) {
	c := restoreClient(t)
	src := t.TempDir()
	long := strings.Repeat("n", 255)
	require.NoError(t, os.WriteFile(filepath.Join(src, long), []byte("long"), 0o644))
	require.NoError(t, os.Symlink(long, filepath.Join(src, strings.Repeat("l", 255))))
	_, err := c.Snapshot(context.Background(), backup.Set{Name: "s", Paths: []string{src}}, nil)
	require.NoError(t, err)
	rep, err := c.Verify(context.Background(), backup.Ref{Set: "s"}, &backup.VerifyOptions{Full: true})
	require.NoError(t, err)
	require.True(t, rep.OK())
	target := t.TempDir()
	res, err := c.Restore(context.Background(), backup.Ref{Set: "s"}, target, nil)
	require.NoError(t, err)
	data, err := os.ReadFile(filepath.Join(target, src, long))
	require.NoError(t, err)
	assert.Equal(t, "long", string(data))
	assert.Equal(t, int64(1), res.Symlinks)
}

// setuid/setgid bits and security.*/trusted.* attributes of a manifest are left out unless the
// caller opts in; user attributes and a directory's setgid stay.
func TestRestoreStripsPrivilegeUnlessAsked(t *testing.T) {
	backuptest.RequireRoot(t)
	c := restoreClient(t)
	src := t.TempDir()
	dir := filepath.Join(src, "shared")
	require.NoError(t, os.Mkdir(dir, 0o755))
	require.NoError(t, syscall.Chmod(dir, 0o2775))
	bin := filepath.Join(dir, "tool")
	require.NoError(t, os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755))
	require.NoError(t, syscall.Chmod(bin, 0o6755))
	require.NoError(t, xattr.Set(bin, "user.note", []byte("kept")))
	require.NoError(t, xattr.Set(bin, "trusted.flag", []byte("t")))
	// A file capability (cap_net_raw+ep), as setcap writes it: VFS_CAP_REVISION_2.
	capab := []byte{0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0}
	require.NoError(t, xattr.Set(bin, "security.capability", capab))
	// Writing a capability clears setuid and setgid, as any write by root does: set them again.
	require.NoError(t, syscall.Chmod(bin, 0o6755))
	_, err := c.Snapshot(context.Background(), backup.Set{Name: "s", Paths: []string{src}}, nil)
	require.NoError(t, err)

	target := t.TempDir()
	res, err := c.Restore(context.Background(), backup.Ref{Set: "s"}, target, nil)
	require.NoError(t, err)
	got := filepath.Join(target, bin)
	fi, err := os.Stat(got)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o755), fi.Mode().Perm())
	assert.Zero(t, fi.Mode()&(os.ModeSetuid|os.ModeSetgid), "setuid/setgid restored by default")
	di, err := os.Stat(filepath.Join(target, dir))
	require.NoError(t, err)
	assert.NotZero(t, di.Mode()&os.ModeSetgid, "a directory's setgid is harmless and kept")
	names, err := xattr.List(got)
	require.NoError(t, err)
	assert.Equal(t, []string{"user.note"}, names)
	assert.Equal(t, int64(1), res.Stripped)

	target = t.TempDir()
	res, err = c.Restore(context.Background(), backup.Ref{Set: "s"}, target, &backup.RestoreOptions{SetID: true, XattrsInclude: []string{"security.capability", "trusted.*"}})
	require.NoError(t, err)
	got = filepath.Join(target, bin)
	fi, err = os.Stat(got)
	require.NoError(t, err)
	assert.NotZero(t, fi.Mode()&os.ModeSetuid)
	assert.NotZero(t, fi.Mode()&os.ModeSetgid)
	v, err := xattr.Get(got, "security.capability")
	require.NoError(t, err)
	assert.Equal(t, capab, v)
	_, err = xattr.Get(got, "trusted.flag")
	assert.NoError(t, err)
	assert.Zero(t, res.Stripped)
}

// The temporaries of a killed restore are removed by the next one; other dotfiles stay.
func TestRestoreRemovesLeftoverTemporaries(t *testing.T) {
	c := restoreClient(t)
	src := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(src, "f"), []byte("x"), 0o644))
	_, err := c.Snapshot(context.Background(), backup.Set{Name: "s", Paths: []string{src}}, nil)
	require.NoError(t, err)
	target := t.TempDir()
	dir := filepath.Join(target, src)
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for _, n := range []string{".wbr-0123456789ab.tmp", ".f.restore-0123456789ab", ".keep-me"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), []byte("partial"), 0o600))
	}
	_, err = c.Restore(context.Background(), backup.Ref{Set: "s"}, target, nil)
	require.NoError(t, err)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.Equal(t, []string{".keep-me", "f"}, names)
}
