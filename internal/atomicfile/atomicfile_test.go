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
