// Package atomicfile writes files so that readers see the old content or the new, never a torn
// mix, and the new content survives a crash once the call returns: temp file in the same
// directory, fsync, rename over the target, fsync of the directory.
//
// The temp-file-and-rename part is github.com/google/renameio/v2; renameio does not fsync the
// directory after the rename, which a crash right after a return would need, so this package adds
// that step.
package atomicfile

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/google/renameio/v2"
)

// WriteFile atomically replaces path with data, with exactly the permission bits perm (the umask
// does not apply, so a key file gets 0600 even where the umask is 0). The directory must exist.
// On error the target is unchanged and no temp file is left behind.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	dir := filepath.Dir(path)
	t, err := renameio.NewPendingFile(path, renameio.WithTempDir(dir), renameio.WithStaticPermissions(perm))
	if err != nil {
		return fmt.Errorf("atomicfile: write %q: %w", path, err)
	}
	defer func() { _ = t.Cleanup() }() // removes the temp file unless it was renamed
	if _, err := t.Write(data); err != nil {
		return fmt.Errorf("atomicfile: write %q: %w", path, err)
	}
	if err := t.CloseAtomicallyReplace(); err != nil {
		return fmt.Errorf("atomicfile: replace %q: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("atomicfile: sync directory of %q: %w", path, err)
	}
	return nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
