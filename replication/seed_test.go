package replication_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra/internal/testbin"
	"github.com/webinfra/webinfra/replication"
)

func TestSeedTasks(t *testing.T) {
	prev := replication.Placement{"www": {"a", "b", "c"}, "db": {"b", "c"}, "gone": {"x"}}
	next := replication.Placement{"www": {"a", "b", "d"}, "db": {"c", "e", "f"}, "gone": {"y"}}
	assert.Equal(t, []replication.SeedTask{
		{Folder: "db", From: "c", To: "e"}, // b, the old primary, left: the next holder seeds
		{Folder: "db", From: "c", To: "f"},
		{Folder: "www", From: "a", To: "d"},
	}, replication.SeedTasks(prev, next), "a folder with no holder left has no source")
	assert.Empty(t, replication.SeedTasks(next, next))
}

type entry struct {
	mode     fs.FileMode
	uid, gid uint32
	mtime    time.Time
	data     string
}

// tree reads every entry below root with what a replica must keep.
func tree(t *testing.T, root string) map[string]entry {
	t.Helper()
	out := map[string]entry{}
	require.NoError(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		if p == root {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		fi, err := os.Lstat(p)
		require.NoError(t, err)
		st := fi.Sys().(*syscall.Stat_t)
		e := entry{mode: fi.Mode(), uid: st.Uid, gid: st.Gid}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			e.data, err = os.Readlink(p)
			require.NoError(t, err)
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			e.data, e.mtime = string(b), fi.ModTime().UTC()
		}
		out[rel] = e
		return nil
	}))
	return out
}

// A seeded replica is the source's tree with its modes, owners, times and symlinks, without
// Syncthing's own files; a second seed copies nothing.
func TestSeedKeepsMetadata(t *testing.T) {
	testbin.RequireRoot(t) // ownership is applied only as root
	src, dst := t.TempDir(), t.TempDir()
	old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	write := func(rel, data string, mode fs.FileMode, uid, gid int) {
		p := filepath.Join(src, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(data), mode))
		require.NoError(t, os.Chmod(p, mode))
		require.NoError(t, os.Chown(p, uid, gid))
		require.NoError(t, os.Chtimes(p, old, old))
	}
	write("index.html", "<h1>hi</h1>", 0o644, 0, 0)
	write("uploads/secret.txt", "s3cret", 0o640, 1234, 1234)
	write("db/data.sqlite", string(make([]byte, 70000)), 0o600, 1234, 5678)
	require.NoError(t, os.Symlink("index.html", filepath.Join(src, "home.html")))
	write(".stversions/index.html~20200101", "old", 0o644, 0, 0)
	write("uploads/.syncthing.tmpfile.tmp", "partial", 0o644, 0, 0)

	stats, err := replication.Seed(t.Context(), src, dst, nil)
	require.NoError(t, err)
	assert.EqualValues(t, 4, stats.Files, "3 files and a symlink")

	want := tree(t, src)
	delete(want, ".stversions")
	delete(want, ".stversions/index.html~20200101")
	delete(want, "uploads/.syncthing.tmpfile.tmp")
	got := tree(t, dst)
	for _, dir := range []string{"uploads", "db"} { // directories: content only, not their times
		g, w := got[dir], want[dir]
		assert.Equal(t, w.mode, g.mode, dir)
		delete(got, dir)
		delete(want, dir)
	}
	assert.Equal(t, want, got)

	again, err := replication.Seed(t.Context(), src, dst, nil)
	require.NoError(t, err)
	assert.Zero(t, again.Files, "a second seed copies nothing")
	assert.EqualValues(t, 4, again.Checks)
}

func TestSeedDryRunAndErrors(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(src, "a"), []byte("x"), 0o644))
	stats, err := replication.Seed(t.Context(), src, dst, &replication.SeedOptions{DryRun: true})
	require.NoError(t, err)
	assert.NoFileExists(t, filepath.Join(dst, "a"))
	assert.EqualValues(t, 1, stats.Files)

	_, err = replication.Seed(t.Context(), "", dst, nil)
	assert.Error(t, err)
	_, err = replication.Seed(t.Context(), filepath.Join(src, "missing"), dst, nil)
	assert.ErrorContains(t, err, "missing")
}
