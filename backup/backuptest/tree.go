package backuptest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pkg/xattr"
	"golang.org/x/sys/unix"
)

// TreeEntry is what [ReadTree] records of one file, directory or symlink: everything a
// restore must reproduce.
type TreeEntry struct {
	Type   string
	Mode   uint32 // 07777 bits
	UID    uint32
	GID    uint32
	MTime  int64 // nanoseconds; directories and files, symlinks too
	Size   int64
	SHA256 string
	Target string
	Xattrs map[string]string
}

// String renders the entry on one line, for diffs.
func (e TreeEntry) String() string {
	var x []string
	for k, v := range e.Xattrs {
		x = append(x, k+"="+v)
	}
	slices.Sort(x)
	return fmt.Sprintf("%s %04o %d:%d mtime=%d size=%d sha=%.12s ->%q xattrs=%v", e.Type, e.Mode, e.UID, e.GID, e.MTime, e.Size, e.SHA256, e.Target, x)
}

// ReadTree walks dir and returns each entry by slash path relative to dir ("." for dir itself).
func ReadTree(t testing.TB, dir string) map[string]TreeEntry {
	t.Helper()
	out := map[string]TreeEntry{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		e := TreeEntry{Mode: uint32(st.Mode) & 0o7777, UID: st.Uid, GID: st.Gid, MTime: st.Mtim.Sec*1e9 + st.Mtim.Nsec}
		switch {
		case fi.Mode().IsRegular():
			e.Type, e.Size = "file", fi.Size()
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			h := sha256.New()
			_, err = io.Copy(h, f)
			f.Close()
			if err != nil {
				return err
			}
			e.SHA256 = hex.EncodeToString(h.Sum(nil))
		case fi.IsDir():
			e.Type = "dir"
		case fi.Mode()&fs.ModeSymlink != 0:
			e.Type, e.Mode = "symlink", 0
			if e.Target, err = os.Readlink(p); err != nil {
				return err
			}
		default:
			e.Type = "special"
		}
		names, err := xattr.LList(p)
		if err != nil && !errors.Is(err, unix.ENOTSUP) {
			return err
		}
		for _, n := range names {
			v, err := xattr.LGet(p, n)
			if err != nil {
				return err
			}
			if e.Xattrs == nil {
				e.Xattrs = map[string]string{}
			}
			e.Xattrs[n] = string(v)
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = e
		return nil
	})
	if err != nil {
		t.Fatalf("backuptest: read tree %s: %v", dir, err)
	}
	return out
}

// DiffTrees lists every difference between two trees read by [ReadTree], one line each, sorted;
// nil when they are identical.
func DiffTrees(want, got map[string]TreeEntry) []string {
	var diffs []string
	for p, w := range want {
		g, ok := got[p]
		switch {
		case !ok:
			diffs = append(diffs, "missing "+p+": "+w.String())
		case w.String() != g.String():
			diffs = append(diffs, "differs "+p+":\n  want "+w.String()+"\n  got  "+g.String())
		}
	}
	for p, g := range got {
		if _, ok := want[p]; !ok {
			diffs = append(diffs, "extra "+p+": "+g.String())
		}
	}
	slices.Sort(diffs)
	return diffs
}

// RequireSameTree fails t unless the trees at want and got are identical: same entries, types,
// content, mode, owner, group, modification time (to the nanosecond), symlink targets and
// extended attributes.
func RequireSameTree(t testing.TB, want, got string) {
	t.Helper()
	if d := DiffTrees(ReadTree(t, want), ReadTree(t, got)); len(d) > 0 {
		t.Fatalf("backuptest: tree %s differs from %s:\n%s", got, want, strings.Join(d, "\n"))
	}
}

// RequireRoot fails t (never skips) when the process is not root: ownership tests need it, and
// CI runs as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("backuptest: this test chowns files to other users and must run as root")
	}
}

// WriteSampleTree fills dir with a small tree exercising every kind of metadata: nested
// directories with unusual modes, files of several sizes (one empty, two with the same
// content), a setgid directory, a symlink to a file and a dangling one, extended attributes,
// times with nanoseconds, and (as root) owners 1001:1002, 0:65534 and 4242:4243 that have no
// names here. It returns the paths it wrote, relative to dir.
func WriteSampleTree(t testing.TB, dir string) []string {
	t.Helper()
	root := os.Geteuid() == 0
	type item struct {
		path, kind, content, target string
		mode                        os.FileMode
		uid, gid                    int
		xattrs                      map[string]string
	}
	big := strings.Repeat("0123456789abcdef", 70000) // 1.1 MB, several upload chunks
	items := []item{
		{path: "www", kind: "dir", mode: 0o755, uid: 1001, gid: 1002},
		{path: "www/index.html", kind: "file", content: "<h1>hello</h1>\n", mode: 0o644, uid: 1001, gid: 1002, xattrs: map[string]string{"user.origin": "sample"}},
		{path: "www/copy.html", kind: "file", content: "<h1>hello</h1>\n", mode: 0o600, uid: 0, gid: 65534},
		{path: "www/empty", kind: "file", content: "", mode: 0o444, uid: 4242, gid: 4243},
		{path: "www/big.bin", kind: "file", content: big, mode: 0o640, uid: 1001, gid: 1002},
		{path: "www/link", kind: "symlink", target: "index.html", uid: 1001, gid: 1002},
		{path: "www/dangling", kind: "symlink", target: "../nowhere", uid: 4242, gid: 4243},
		{path: "shared", kind: "dir", mode: 0o2775 | os.ModeSetgid, uid: 0, gid: 1002, xattrs: map[string]string{"user.note": "setgid dir"}},
		{path: "shared/run.sh", kind: "file", content: "#!/bin/sh\necho hi\n", mode: 0o4755, uid: 0, gid: 0},
		{path: "shared/deep/er/file.txt", kind: "file", content: "deep\n", mode: 0o664, uid: 1001, gid: 1002},
		{path: "private", kind: "dir", mode: 0o700, uid: 4242, gid: 4243},
		{path: "private/key", kind: "file", content: "secret-ish\n", mode: 0o600, uid: 4242, gid: 4243},
	}
	base := time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.UTC)
	var paths []string
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("backuptest: write sample tree: %v", err)
		}
	}
	for _, it := range items {
		p := filepath.Join(dir, it.path)
		must(os.MkdirAll(filepath.Dir(p), 0o755))
		switch it.kind {
		case "dir":
			must(os.MkdirAll(p, 0o755))
		case "file":
			must(os.WriteFile(p, []byte(it.content), 0o600))
		case "symlink":
			must(os.Symlink(it.target, p))
		}
		paths = append(paths, it.path)
	}
	// Metadata after content, deepest first, so directory times stick.
	for i := len(items) - 1; i >= 0; i-- {
		it := items[i]
		p := filepath.Join(dir, it.path)
		if root {
			must(os.Lchown(p, it.uid, it.gid))
		}
		if it.kind != "symlink" {
			must(unix.Fchmodat(unix.AT_FDCWD, p, uint32(it.mode.Perm())|modeBits(it.mode), 0))
		}
		for k, v := range it.xattrs {
			must(xattr.LSet(p, k, []byte(v)))
		}
		ts := unix.NsecToTimespec(base.Add(time.Duration(i) * time.Hour).UnixNano())
		must(unix.UtimesNanoAt(unix.AT_FDCWD, p, []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW))
	}
	ts := unix.NsecToTimespec(base.UnixNano())
	must(unix.UtimesNanoAt(unix.AT_FDCWD, dir, []unix.Timespec{ts, ts}, 0))
	return paths
}

func modeBits(m os.FileMode) uint32 {
	var b uint32
	if m&os.ModeSetuid != 0 || m&0o4000 != 0 {
		b |= 0o4000
	}
	if m&os.ModeSetgid != 0 || m&0o2000 != 0 {
		b |= 0o2000
	}
	if m&os.ModeSticky != 0 {
		b |= 0o1000
	}
	return b
}

// WriteDataset fills dir with files files of mixed sizes totalling about bytes (many small
// files, a few large ones, as service data goes), in nested directories, from a seeded
// generator so runs are comparable. Content is random, so it neither compresses nor
// deduplicates.
func WriteDataset(dir string, files int, bytes int64, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	// Sizes: 90% small (0-16 KiB), 9% medium (16 KiB-1 MiB), 1% large; then scaled to bytes.
	sizes := make([]int64, files)
	var sum int64
	for i := range sizes {
		switch r := rng.IntN(100); {
		case r < 90:
			sizes[i] = rng.Int64N(16 << 10)
		case r < 99:
			sizes[i] = 16<<10 + rng.Int64N(1<<20)
		default:
			sizes[i] = 1<<20 + rng.Int64N(32<<20)
		}
		sum += sizes[i]
	}
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(rng.UintN(256))
	}
	for i, s := range sizes {
		s = s * bytes / max(sum, 1)
		p := filepath.Join(dir, fmt.Sprintf("d%02d/s%03d/f%05d.dat", i%37, i%311, i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		f, err := os.Create(p)
		if err != nil {
			return err
		}
		var hdr [8]byte
		for j := range hdr {
			hdr[j] = byte(uint64(i) >> (8 * j))
		}
		_, err = f.Write(hdr[:min(s, 8)]) // unique per file: no accidental deduplication
		for left := s - min(s, 8); err == nil && left > 0; {
			off := rng.IntN(len(buf) / 2)
			n := min(left, int64(len(buf)-off))
			_, err = f.Write(buf[off : off+int(n)])
			left -= n
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}
