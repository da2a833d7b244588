package security

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/webinfra/webinfra/internal/atomicfile"
)

// Quarantine moves infected files into a directory, out of reach of the services that read
// them, and records where each came from. The zero value is not usable; set Dir. Safe for
// concurrent use on distinct files.
type Quarantine struct {
	// Dir holds the quarantined files (<id>.bin, mode 000) and their records (<id>.json, 0600);
	// it is created 0700 when missing.
	Dir string
	// Now is the clock for records; nil means time.Now.
	Now func() time.Time
}

// QuarantineRecord describes one quarantined file: enough to judge the finding and to put the
// file back with its metadata.
type QuarantineRecord struct {
	// ID names the record and the file in Dir: the first 16 hex digits of SHA-256 over the
	// original path and the quarantine time.
	ID string `json:"id"`
	// OriginalPath is where the file was.
	OriginalPath string `json:"original_path"`
	// Mode, UID, GID and ModTime are the file's metadata before the move.
	Mode    os.FileMode `json:"mode"`
	UID     uint32      `json:"uid"`
	GID     uint32      `json:"gid"`
	ModTime time.Time   `json:"mtime"`
	// Size is in bytes; SHA256 is the hex digest of the content.
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// Finding is what the scanner reported.
	Finding Finding `json:"finding"`
	// QuarantinedAt is when the file was moved.
	QuarantinedAt time.Time `json:"quarantined_at"`
	// File is the quarantined file's path.
	File string `json:"file"`
}

// Move quarantines the file of f: it records its metadata and hash, renames it into Dir (or,
// across file systems, copies it with fsync and removes the original), makes it mode 000, and
// writes the record atomically. A file that no longer exists gives an error matching
// fs.ErrNotExist; a symbolic link or directory is refused.
func (q *Quarantine) Move(f Finding) (QuarantineRecord, error) {
	if q.Dir == "" {
		return QuarantineRecord{}, invalidf("quarantine directory is required")
	}
	if err := os.MkdirAll(q.Dir, 0o700); err != nil {
		return QuarantineRecord{}, fmt.Errorf("security: quarantine %q: %w", f.Path, err)
	}
	fi, err := os.Lstat(f.Path)
	if err != nil {
		return QuarantineRecord{}, fmt.Errorf("security: quarantine %q: %w", f.Path, err)
	}
	if !fi.Mode().IsRegular() {
		return QuarantineRecord{}, invalidf("quarantine %q: not a regular file (%s)", f.Path, fi.Mode().Type())
	}
	now := time.Now
	if q.Now != nil {
		now = q.Now
	}
	at := now().UTC()
	idSum := sha256.Sum256([]byte(f.Path + "\x00" + at.Format(time.RFC3339Nano)))
	rec := QuarantineRecord{
		ID: hex.EncodeToString(idSum[:8]), OriginalPath: f.Path, Mode: fi.Mode(), ModTime: fi.ModTime().UTC(),
		Size: fi.Size(), Finding: f, QuarantinedAt: at,
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		rec.UID, rec.GID = st.Uid, st.Gid
	}
	rec.File = filepath.Join(q.Dir, rec.ID+".bin")
	if rec.SHA256, err = hashFile(f.Path); err != nil {
		return QuarantineRecord{}, fmt.Errorf("security: quarantine %q: %w", f.Path, err)
	}
	if err := moveFile(f.Path, rec.File); err != nil {
		return QuarantineRecord{}, fmt.Errorf("security: quarantine %q: %w", f.Path, err)
	}
	if err := os.Chmod(rec.File, 0); err != nil {
		return QuarantineRecord{}, fmt.Errorf("security: quarantine %q: %w", f.Path, err)
	}
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return QuarantineRecord{}, err
	}
	if err := atomicfile.WriteFile(filepath.Join(q.Dir, rec.ID+".json"), append(data, '\n'), 0o600); err != nil {
		return QuarantineRecord{}, fmt.Errorf("security: quarantine record of %q: %w", f.Path, err)
	}
	return rec, nil
}

// Records lists the quarantine records in Dir, sorted by ID. A missing Dir gives none.
func (q *Quarantine) Records() ([]QuarantineRecord, error) {
	matches, err := filepath.Glob(filepath.Join(q.Dir, "*.json"))
	if err != nil {
		return nil, err
	}
	var out []QuarantineRecord
	for _, m := range matches {
		data, err := os.ReadFile(m)
		if err != nil {
			return nil, fmt.Errorf("security: quarantine record %s: %w", m, err)
		}
		var r QuarantineRecord
		if err := json.Unmarshal(data, &r); err != nil {
			return nil, fmt.Errorf("security: quarantine record %s: %w", m, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func hashFile(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// moveFile renames src to dst, or copies (with fsync) and removes src when they are on
// different file systems.
func moveFile(src, dst string) error {
	err := os.Rename(src, dst)
	if err == nil || !errors.Is(err, syscall.EXDEV) {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(dst)
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		os.Remove(dst)
		return err
	}
	if err := out.Close(); err != nil {
		os.Remove(dst)
		return err
	}
	return os.Remove(src)
}
