package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/operations"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/backup"
)

func TestEncryptionMustBeChosen(t *testing.T) {
	t.Setenv("BACKUP_KEY", "")
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"-remote", t.TempDir(), "-host", "h1", "list"}, &out, &errb)
	assert.Equal(t, 2, code)
	assert.Contains(t, errb.String(), `key: required: backups are encrypted unless encryption is "none"`)
	code = run(context.Background(), []string{"-remote", t.TempDir(), "-host", "h1", "-encryption", "none", "list"}, &out, &errb)
	assert.Equal(t, 0, code, errb.String())
}

func TestCommands(t *testing.T) {
	remote := t.TempDir()
	src := t.TempDir()
	keyFile := filepath.Join(t.TempDir(), "key")
	require.NoError(t, os.WriteFile(keyFile, []byte("example key\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(src, "a.txt"), []byte("alpha"), 0o640))
	require.NoError(t, os.WriteFile(filepath.Join(src, "b.tmp"), []byte("skip"), 0o640))
	exec := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(context.Background(), append([]string{"-remote", remote, "-host", "h1", "-key-file", keyFile}, args...), &out, &errb)
		return code, out.String(), errb.String()
	}
	code, out, errs := exec("snapshot", "-set", "www", "-path", src, "-exclude", "*.tmp", "-hook", "db=echo dump")
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "2 files")
	code, _, errs = exec("snapshot", "-set", "www", "-path", src, "-exclude", "*.tmp")
	require.Equal(t, 0, code, errs)

	code, out, _ = exec("list")
	require.Equal(t, 0, code)
	assert.Equal(t, 2, strings.Count(out, "h1/www/"))

	code, out, _ = exec("verify", "-set", "www", "-full")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "0 missing, 0 corrupt")

	target := t.TempDir()
	code, out, errs = exec("restore", "-set", "www", "-target", target, "-include", "**/a.txt", "-dry-run")
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "would restore "+strings.TrimPrefix(src, "/")+"/a.txt")
	code, _, errs = exec("restore", "-set", "www", "-target", target)
	require.Equal(t, 0, code, errs)
	got, err := os.ReadFile(filepath.Join(target, src, "a.txt"))
	require.NoError(t, err)
	assert.Equal(t, "alpha", string(got))
	_, err = os.Stat(filepath.Join(target, src, "b.tmp"))
	assert.ErrorIs(t, err, os.ErrNotExist)

	code, out, _ = exec("prune", "-set", "www", "-keep-last", "1")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "remove ")
	code, _, _ = exec("list")
	require.Equal(t, 0, code)
	code, out, errs = exec("prune", "-set", "www", "-keep-last", "1", "-apply")
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "pruned 1 snapshots")

	// Damage shows in verify's exit status: the data objects go, through crypt with the key as
	// stock rclone would remove them (their names on disk are encrypted).
	conn, err := backup.CryptConnectionString(":local:"+remote, webinfra.NewSecret("example key"))
	require.NoError(t, err)
	f, err := fs.NewFs(context.Background(), conn)
	require.NoError(t, err)
	require.NoError(t, operations.Purge(context.Background(), f, "data"))
	code, out, _ = exec("verify", "-set", "www")
	assert.Equal(t, 3, code)
	assert.Contains(t, out, "missing ")

	code, _, _ = exec("bogus")
	assert.Equal(t, 2, code)
}
