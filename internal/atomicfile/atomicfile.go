// Package atomicfile writes files so that readers see the old content or the new, never a torn
// mix, and the new content survives a crash once the call returns: temp file in the same
// directory, fsync, rename over the target, fsync of the directory. [WriteDir] does the same for
// a directory of files that must appear together (a certificate and its key).
//
// A process killed in the middle of a write leaves its temporary behind, named
// ".NAME~atomicfile-RANDOM" beside the target; [IsTemp] recognises such names and [RemoveTemps]
// deletes them, so the next run of a program can clean up after a crash of the last one.
//
// The package once used github.com/google/renameio/v2, whose temporaries (".NAME" followed by
// digits) cannot be told apart from a user's dotfiles; it now names its own.
package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// tempMarker is part of the name of every temporary this package makes.
const tempMarker = "~atomicfile-"

// Hooks are called at the points of a write where a crash leaves a distinct state on disk, for
// tests that kill a process there. A nil *Hooks or a nil field does nothing.
type Hooks struct {
	// BeforeRename is called with the target's path once the temporary is complete and synced,
	// just before it is renamed over the target: a crash here leaves the target as it was and
	// the temporary behind.
	BeforeRename func(path string)
	// AfterRename is called with the target's path right after the rename, before the
	// directory is synced: a crash here leaves the new content in place.
	AfterRename func(path string)
}

func (h *Hooks) beforeRename(path string) {
	if h != nil && h.BeforeRename != nil {
		h.BeforeRename(path)
	}
}

func (h *Hooks) afterRename(path string) {
	if h != nil && h.AfterRename != nil {
		h.AfterRename(path)
	}
}

// WriteFile atomically replaces path with data, with exactly the permission bits perm (the umask
// does not apply, so a key file gets 0600 even where the umask is 0). The directory must exist.
// On error the target is unchanged and no temp file is left behind.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return WriteFileHooks(path, data, perm, nil)
}

// WriteFileHooks is [WriteFile] calling h at the points where a crash matters; h may be nil.
func WriteFileHooks(path string, data []byte, perm fs.FileMode, h *Hooks) error {
	dir := filepath.Dir(path)
	tmp, err := writeTemp(dir, filepath.Base(path), data, perm)
	if err != nil {
		return fmt.Errorf("atomicfile: write %q: %w", path, err)
	}
	h.beforeRename(path)
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("atomicfile: replace %q: %w", path, err)
	}
	h.afterRename(path)
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("atomicfile: sync directory of %q: %w", path, err)
	}
	return nil
}

// WriteDir atomically creates the directory path holding exactly files (base names to
// contents), each with permission bits perm and the directory with dirPerm, whatever the umask:
// readers, and a process started after a crash, see either no directory (or the empty one that
// was there) or the whole set. The files are written into a temporary directory beside path,
// synced, and the directory renamed into place. path may be absent or an empty directory; a
// non-empty one is left as it is and the error matches [fs.ErrExist]. The parent must exist.
// On error no temporary is left behind.
func WriteDir(path string, files map[string][]byte, perm, dirPerm fs.FileMode, h *Hooks) (err error) {
	parent, base := filepath.Split(path)
	parent = filepath.Clean(parent)
	for name := range files {
		if name == "" || name != filepath.Base(name) || name == "." || name == ".." {
			return fmt.Errorf("atomicfile: write directory %q: %q is not a base name", path, name)
		}
	}
	tmp, err := tempName(parent, base)
	if err != nil {
		return fmt.Errorf("atomicfile: write directory %q: %w", path, err)
	}
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return fmt.Errorf("atomicfile: write directory %q: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(tmp)
		}
	}()
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if err := writeSynced(filepath.Join(tmp, name), files[name], perm); err != nil {
			return fmt.Errorf("atomicfile: write directory %q: %w", path, err)
		}
	}
	if err := os.Chmod(tmp, dirPerm); err != nil {
		return fmt.Errorf("atomicfile: write directory %q: %w", path, err)
	}
	if err := syncDir(tmp); err != nil {
		return fmt.Errorf("atomicfile: write directory %q: %w", path, err)
	}
	h.beforeRename(path)
	// rename(2) replaces an empty directory and refuses a non-empty one (ENOTEMPTY or EEXIST);
	// os.Rename refuses any existing directory, so the system call is made directly.
	if err := syscall.Rename(tmp, path); err != nil {
		if errors.Is(err, syscall.EEXIST) || errors.Is(err, syscall.ENOTEMPTY) {
			return fmt.Errorf("atomicfile: write directory %q: not empty: %w", path, fs.ErrExist)
		}
		return fmt.Errorf("atomicfile: write directory %q: %w", path, err)
	}
	h.afterRename(path)
	if err := syncDir(parent); err != nil {
		return fmt.Errorf("atomicfile: sync directory of %q: %w", path, err)
	}
	return nil
}

// IsTemp reports whether name, a base name, is that of a temporary file or directory this
// package makes.
func IsTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, tempMarker)
}

// RemoveTemps deletes every temporary this package left under root (a crashed write's), files
// and directories alike, and returns their paths in walk order. It does not follow symbolic
// links. A missing root has none. Call it only while no other process writes under root: a
// temporary being written at that moment would be deleted and that write would fail.
func RemoveTemps(root string) ([]string, error) {
	var removed []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == root {
			return fs.SkipAll
		}
		if err != nil {
			return err
		}
		if p == root || !IsTemp(d.Name()) {
			return nil
		}
		if err := os.RemoveAll(p); err != nil {
			return err
		}
		removed = append(removed, p)
		if d.IsDir() {
			return fs.SkipDir
		}
		return nil
	})
	if err != nil {
		return removed, fmt.Errorf("atomicfile: remove temporaries under %q: %w", root, err)
	}
	for _, dir := range uniqueDirs(removed) {
		if err := syncDir(dir); err != nil {
			return removed, fmt.Errorf("atomicfile: remove temporaries under %q: %w", root, err)
		}
	}
	return removed, nil
}

// writeTemp writes data to a new temporary beside base in dir, synced, with mode perm, and
// returns its path; on error nothing is left.
func writeTemp(dir, base string, data []byte, perm fs.FileMode) (string, error) {
	tmp, err := tempName(dir, base)
	if err != nil {
		return "", err
	}
	if err := writeSynced(tmp, data, perm); err != nil {
		_ = os.Remove(tmp)
		return "", err
	}
	return tmp, nil
}

// writeSynced creates path (which must not exist) with data and mode perm, and syncs it.
func writeSynced(path string, data []byte, perm fs.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(perm) // exact bits: the umask applied at creation does not
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// tempName is a fresh temporary's path for base in dir.
func tempName(dir, base string) (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return filepath.Join(dir, "."+base+tempMarker+hex.EncodeToString(b[:])), nil
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

func uniqueDirs(paths []string) []string {
	var out []string
	for _, p := range paths {
		if d := filepath.Dir(p); !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}
