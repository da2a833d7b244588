package atomicfile_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra/internal/atomicfile"
)

func TestWriteFileCreatesWithExactMode(t *testing.T) {
	old := syscall.Umask(0o077)
	t.Cleanup(func() { syscall.Umask(old) })

	dir := t.TempDir()
	for _, mode := range []os.FileMode{0o600, 0o644, 0o755} {
		p := filepath.Join(dir, "f"+mode.String())
		require.NoError(t, atomicfile.WriteFile(p, []byte("hello"), mode))
		fi, err := os.Stat(p)
		require.NoError(t, err)
		assert.Equal(t, mode, fi.Mode().Perm(), "umask must not apply")
		got, err := os.ReadFile(p)
		require.NoError(t, err)
		assert.Equal(t, "hello", string(got))
	}
}

func TestWriteFileReplacesAndLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "rsa_key.priv")
	require.NoError(t, os.WriteFile(p, []byte("old"), 0o644))
	require.NoError(t, atomicfile.WriteFile(p, []byte("new"), 0o600))

	got, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "new", string(got))
	fi, err := os.Stat(p)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "mode of the replaced file is the given one")

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temp file left")
}

func TestWriteFileFailureChangesNothing(t *testing.T) {
	dir := t.TempDir()
	err := atomicfile.WriteFile(filepath.Join(dir, "missing", "f"), []byte("x"), 0o600)
	assert.Error(t, err)
	assert.Contains(t, err.Error(), "missing/f")

	// A directory in the way: rename fails, the directory stays, nothing is left behind.
	target := filepath.Join(dir, "target")
	require.NoError(t, os.Mkdir(target, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(target, "keep"), []byte("k"), 0o644))
	assert.Error(t, atomicfile.WriteFile(target, []byte("x"), 0o600))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.True(t, entries[0].IsDir())
}

func TestConcurrentReadersNeverSeeTornFiles(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "hosts")
	a := make([]byte, 1<<16)
	b := make([]byte, 1<<16)
	for i := range a {
		a[i], b[i] = 'a', 'b'
	}
	require.NoError(t, atomicfile.WriteFile(p, a, 0o644))

	// The writer replaces the file a few times (each write syncs to disk, which is slow on
	// shared machines); the reader reads as often as it can meanwhile.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 20 {
			data := a
			if i%2 == 0 {
				data = b
			}
			assert.NoError(t, atomicfile.WriteFile(p, data, 0o644))
		}
	}()
	reads := 0
	for {
		select {
		case <-done:
			assert.Positive(t, reads)
			return
		default:
		}
		got, err := os.ReadFile(p)
		require.NoError(t, err)
		require.Len(t, got, len(a))
		for _, c := range got[1:] {
			require.Equal(t, got[0], c, "torn read")
		}
		reads++
	}
}

// A write killed before its rename leaves only a temporary RemoveTemps recognises; the target
// keeps its old content and the user's own dotfiles stay.
func TestCrashedWriteLeavesATemporaryRemoveTempsDeletes(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "node")
	require.NoError(t, os.Mkdir(sub, 0o755))
	p := filepath.Join(sub, "rsa_key.priv")
	require.NoError(t, atomicfile.WriteFile(p, []byte("old"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(sub, ".rsa_key.priv123"), []byte("user's"), 0o600))

	// A panic in the hook stands in for the kill: the write stops at that point.
	crash := &atomicfile.Hooks{BeforeRename: func(string) { panic("killed") }}
	assert.PanicsWithValue(t, "killed", func() { _ = atomicfile.WriteFileHooks(p, []byte("new"), 0o600, crash) })
	assert.PanicsWithValue(t, "killed", func() {
		_ = atomicfile.WriteDir(filepath.Join(dir, "identity"), map[string][]byte{"key.pem": []byte("k"), "cert.pem": []byte("c")}, 0o600, 0o700, crash)
	})
	var temps []string
	for _, d := range []string{dir, sub} {
		entries, err := os.ReadDir(d)
		require.NoError(t, err)
		for _, e := range entries {
			if atomicfile.IsTemp(e.Name()) {
				temps = append(temps, filepath.Join(d, e.Name()))
			}
		}
	}
	require.Len(t, temps, 2, "one temporary file and one temporary directory")

	removed, err := atomicfile.RemoveTemps(dir)
	require.NoError(t, err)
	assert.ElementsMatch(t, temps, removed)
	got, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "old", string(got))
	assert.FileExists(t, filepath.Join(sub, ".rsa_key.priv123"), "not a temporary of this package")
	assert.NoDirExists(t, filepath.Join(dir, "identity"))

	removed, err = atomicfile.RemoveTemps(filepath.Join(dir, "missing"))
	require.NoError(t, err)
	assert.Empty(t, removed)
}

// WriteDir makes the whole set appear at once, over nothing or an empty directory, with exact
// modes; a non-empty directory is refused and kept.
func TestWriteDir(t *testing.T) {
	old := syscall.Umask(0o077)
	t.Cleanup(func() { syscall.Umask(old) })
	dir := t.TempDir()
	files := map[string][]byte{"key.pem": []byte("k"), "cert.pem": []byte("c")}

	p := filepath.Join(dir, "a")
	require.NoError(t, atomicfile.WriteDir(p, files, 0o640, 0o750, nil))
	fi, err := os.Stat(p)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o750), fi.Mode().Perm())
	for name, data := range files {
		got, err := os.ReadFile(filepath.Join(p, name))
		require.NoError(t, err)
		assert.Equal(t, data, got)
		fi, err := os.Stat(filepath.Join(p, name))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o640), fi.Mode().Perm())
	}

	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.Mkdir(empty, 0o755))
	require.NoError(t, atomicfile.WriteDir(empty, files, 0o600, 0o700, nil))
	assert.FileExists(t, filepath.Join(empty, "key.pem"))

	err = atomicfile.WriteDir(p, map[string][]byte{"other": []byte("x")}, 0o600, 0o700, nil)
	require.ErrorIs(t, err, os.ErrExist)
	assert.NoFileExists(t, filepath.Join(p, "other"))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 2, "no temporary left")

	assert.Error(t, atomicfile.WriteDir(filepath.Join(dir, "b"), map[string][]byte{"../x": nil}, 0o600, 0o700, nil))
}
