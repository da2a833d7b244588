package backup

import (
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"strings"
	"time"
)

// ManifestVersion is the manifest format this package writes and the only one it reads.
const ManifestVersion = 1

// maxManifestBytes bounds a decoded manifest, so that a hostile or broken object cannot
// exhaust memory (about 2 million entries).
const maxManifestBytes = 1 << 30

// maxManifestRatio bounds how much a manifest may expand when decompressed, per compressed
// byte, beyond the first manifestSlack bytes. An honest manifest is JSON with a random
// 64-digit hash per file and expands a few times (TestManifestCompressionRatio measures it);
// gzip can reach about 1,000. A small gzip bomb is refused after at most
// manifestSlack + maxManifestRatio times its own size.
const (
	maxManifestRatio = 64
	manifestSlack    = 1 << 20
)

// Manifest describes one complete snapshot: every entry with the metadata a restore re-applies,
// since remotes such as Google Cloud Storage keep none of it. It is written last, so its
// presence is what makes a snapshot complete.
type Manifest struct {
	// Version is [ManifestVersion].
	Version int `json:"version"`
	// Host and Set name the snapshot's set.
	Host string `json:"host"`
	Set  string `json:"set"`
	// Time is when the snapshot started, in UTC; it is also its ID.
	Time time.Time `json:"time"`
	// Paths are the set's paths as they were snapshotted.
	Paths []string `json:"paths,omitempty"`
	// Hooks name the hooks whose outputs are under ".hooks/".
	Hooks []string `json:"hooks,omitempty"`
	// Entries are sorted by Path, directories before their contents.
	Entries []Entry `json:"entries"`
}

// EntryType is the kind of a manifest entry.
type EntryType string

// Entry types.
const (
	TypeFile    EntryType = "file"
	TypeDir     EntryType = "dir"
	TypeSymlink EntryType = "symlink"
)

// Entry is one file, directory or symbolic link of a snapshot.
type Entry struct {
	// Path is slash-separated and relative ("srv/www/index.html"); never absolute, never "..".
	Path string `json:"path"`
	// Type is the kind of entry.
	Type EntryType `json:"type"`
	// Size is the content length of a file; 0 for others.
	Size int64 `json:"size,omitempty"`
	// SHA256 is the hex SHA-256 of a file's content, which is also its object name.
	SHA256 string `json:"sha256,omitempty"`
	// MD5 is the hex MD5 of the content when the remote keeps MD5s (Google Cloud Storage, S3),
	// so a quick verify can compare without downloading; "" otherwise.
	MD5 string `json:"md5,omitempty"`
	// Mode holds the permission bits plus setuid, setgid and sticky (07777).
	Mode uint32 `json:"mode"`
	// UID and GID are the numeric owner and group; User and Group their names on the source
	// host, "" when unknown. A restore prefers names that resolve on the target host.
	UID   uint32 `json:"uid"`
	GID   uint32 `json:"gid"`
	User  string `json:"user,omitempty"`
	Group string `json:"group,omitempty"`
	// MTime is the modification time, to the nanosecond.
	MTime time.Time `json:"mtime"`
	// Target is a symbolic link's target, as stored in the link.
	Target string `json:"target,omitempty"`
	// Xattrs are the extended attributes (name to value).
	Xattrs map[string][]byte `json:"xattrs,omitempty"`
	// CTime and Inode identify the file's state on the source, for the next snapshot's change
	// check (size, mtime, ctime and inode unchanged means the content is unchanged, as restic
	// assumes); they are not restored.
	CTime int64  `json:"ctime,omitempty"`
	Inode uint64 `json:"inode,omitempty"`
}

// Info identifies the manifest's snapshot.
func (m *Manifest) Info() SnapshotInfo {
	return SnapshotInfo{Host: m.Host, Set: m.Set, ID: m.Time.UTC().Format(idLayout), Time: m.Time}
}

// objectName is the data object of a file entry, relative to the set's data directory.
func objectName(sum string) string { return sum[:2] + "/" + sum }

// Files returns the number of file entries and their total size.
func (m *Manifest) Files() (files, bytes int64) {
	for _, e := range m.Entries {
		if e.Type == TypeFile {
			files++
			bytes += e.Size
		}
	}
	return files, bytes
}

// EncodeManifest writes m as gzip-compressed JSON. The gzip trailer (CRC-32 and length) is what
// lets [DecodeManifest] refuse a manifest cut short by an interrupted upload.
func EncodeManifest(w io.Writer, m *Manifest) error {
	zw := gzip.NewWriter(w)
	enc := json.NewEncoder(zw)
	if err := enc.Encode(m); err != nil {
		return fmt.Errorf("backup: encode manifest: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("backup: encode manifest: %w", err)
	}
	return nil
}

// DecodeManifest reads a manifest written by [EncodeManifest]. Decoding is strict: truncated or
// corrupt gzip, unknown fields, trailing data, another version, and entries that could escape a
// restore target (absolute paths, ".." elements, unclean paths), duplicate or unsorted paths,
// or files without a valid hash are errors matching [ErrCorrupt].
func DecodeManifest(r io.Reader) (*Manifest, error) {
	in := &countingReader{r: r}
	zr, err := gzip.NewReader(in)
	if err != nil {
		return nil, fmt.Errorf("backup: decode manifest: %v: %w", err, ErrCorrupt)
	}
	out := &ratioReader{r: zr, in: in}
	raw, err := io.ReadAll(out)
	if err != nil {
		return nil, fmt.Errorf("backup: decode manifest: %v: %w", err, ErrCorrupt)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("backup: decode manifest: %v: %w", err, ErrCorrupt)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("backup: decode manifest: trailing data: %w", ErrCorrupt)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("backup: decode manifest: %v: %w", err, ErrCorrupt)
	}
	return &m, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// ratioReader fails once more has come out of the decompressor than an honest manifest of
// the compressed bytes read so far could hold (see maxManifestRatio), or than maxManifestBytes.
type ratioReader struct {
	r  io.Reader
	in *countingReader
	n  int64
}

func (z *ratioReader) Read(p []byte) (int, error) {
	n, err := z.r.Read(p)
	z.n += int64(n)
	if limit := min(manifestSlack+maxManifestRatio*z.in.n, maxManifestBytes); z.n > limit {
		return n, fmt.Errorf("decompresses to more than %d bytes from %d (a manifest expands at most %d times)", limit, z.in.n, maxManifestRatio)
	}
	return n, err
}

func (m *Manifest) check() error {
	if m.Version != ManifestVersion {
		return fmt.Errorf("version %d, want %d", m.Version, ManifestVersion)
	}
	if !nameRE.MatchString(m.Host) || !nameRE.MatchString(m.Set) {
		return fmt.Errorf("bad host %q or set %q", m.Host, m.Set)
	}
	var total int64
	for i, e := range m.Entries {
		if e.Path == "" || e.Path == "." || path.IsAbs(e.Path) || path.Clean(e.Path) != e.Path || e.Path == ".." || strings.HasPrefix(e.Path, "../") {
			return fmt.Errorf("entry %d: bad path %q", i, e.Path)
		}
		for _, part := range strings.Split(e.Path, "/") {
			if len(part) > 255 || strings.ContainsRune(part, 0) {
				return fmt.Errorf("entry %d: path %q has a name no file system holds", i, e.Path)
			}
		}
		if i > 0 && m.Entries[i-1].Path >= e.Path {
			return fmt.Errorf("entry %d: path %q not after %q", i, e.Path, m.Entries[i-1].Path)
		}
		if e.Mode&^0o7777 != 0 {
			return fmt.Errorf("entry %q: mode %o has bits beyond 07777", e.Path, e.Mode)
		}
		switch e.Type {
		case TypeFile:
			if b, err := hex.DecodeString(e.SHA256); err != nil || len(b) != 32 || e.SHA256 != strings.ToLower(e.SHA256) {
				return fmt.Errorf("entry %q: bad sha256 %q", e.Path, e.SHA256)
			}
			if e.Size < 0 {
				return fmt.Errorf("entry %q: negative size", e.Path)
			}
			if total > math.MaxInt64-e.Size {
				return fmt.Errorf("entry %q: sizes add up past %d bytes", e.Path, int64(math.MaxInt64))
			}
			total += e.Size
			if b, err := hex.DecodeString(e.MD5); err != nil || (len(b) != 16 && len(b) != 0) {
				return fmt.Errorf("entry %q: bad md5 %q", e.Path, e.MD5)
			}
		case TypeDir:
		case TypeSymlink:
			if e.Target == "" || strings.ContainsRune(e.Target, 0) {
				return fmt.Errorf("entry %q: symlink without target", e.Path)
			}
		default:
			return fmt.Errorf("entry %q: unknown type %q", e.Path, e.Type)
		}
	}
	return nil
}
