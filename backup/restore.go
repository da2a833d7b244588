package backup

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	rfs "github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/filter"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"

	"github.com/webinfra/webinfra"
)

// RestoreOptions are the optional inputs of [Client.Restore]; nil restores everything.
type RestoreOptions struct {
	// Include selects entries: a pattern without glob characters is a path prefix
	// ("srv/www" takes srv/www and everything under it); one with them (* ? [ {) is an rclone
	// filter glob anchored at the snapshot root ("srv/*/index.html", "**/*.sql", where *
	// stays within a directory and ** crosses them), and a directory it matches brings its
	// contents. Empty means all.
	// The directories above a selected entry are restored too, with their metadata.
	Include []string
	// DryRun lists what would be restored in [RestoreResult.Paths] and writes nothing.
	DryRun bool
	// NumericIDs applies the recorded uid/gid even where the recorded user or group name
	// resolves to another id on this host (by default names win, as with tar and rsync).
	NumericIDs bool
	// SetID restores setuid bits, and setgid bits of files, as recorded. By default they are
	// cleared (setgid stays on directories, where it only passes the group on), since a
	// manifest is only as trustworthy as the remote it came from and restores run as root.
	SetID bool
	// XattrsInclude are path.Match patterns of extended attribute names to restore besides the
	// default user.* and POSIX ACLs, as tar's --xattrs-include: "security.capability" for file
	// capabilities, "security.*", "trusted.*", or "*" for all. Others are left out.
	XattrsInclude []string
}

// RestoreResult says what a restore did (or, in a dry run, would do).
type RestoreResult struct {
	// Files, Dirs and Symlinks count the entries restored.
	Files, Dirs, Symlinks int64
	// Bytes is the content restored.
	Bytes int64
	// Paths lists the selected entries in a dry run; nil otherwise.
	Paths []string
	// Owner is false when ownership was not applied because the process is not root.
	Owner bool
	// Stripped counts entries restored without a recorded setuid/setgid bit or extended
	// attribute that [RestoreOptions] did not allow.
	Stripped int64
	// Snapshot is the snapshot restored (the one "latest" resolved to).
	Snapshot SnapshotInfo
	// Elapsed is how long it took.
	Elapsed time.Duration
}

// Restore writes the entries of snapshot ref selected by opts under target (created if absent),
// each at target/<entry path>, with its recorded mode, owner and group (as root), extended
// attributes and modification time, whatever the remote kept. Every file is downloaded to a
// temporary name beside its destination, checked against its SHA-256, given its metadata and
// then renamed into place, so a file is either absent, the old one, or wholly restored.
// Directory metadata is applied last, deepest first. Symbolic links are made after all files.
//
// Content writes, directory creation and renames go through an os.Root on target, so no entry
// can be written outside it even if target holds symlinks; metadata is then applied by path
// (xattrs and nanosecond times have no os.Root call), so restore into a target that no
// untrusted user can change while it runs. An object that is missing or does not match its hash fails the restore with
// [ErrCorrupt] naming it; ctx cancellation stops it with ctx's error, leaving files already
// renamed and no temporary files.
func (c *Client) Restore(ctx context.Context, ref Ref, target string, opts *RestoreOptions) (*RestoreResult, error) {
	if opts == nil {
		opts = &RestoreOptions{}
	}
	start := time.Now()
	if target == "" {
		return nil, fmt.Errorf("backup: restore: empty target: %w", webinfra.ErrInvalidArgument)
	}
	globs, err := compileIncludes(opts.Include)
	if err != nil {
		return nil, err
	}
	m, err := c.Manifest(ctx, ref)
	if err != nil {
		return nil, err
	}
	sel := selectEntries(m.Entries, opts.Include, globs)
	res := &RestoreResult{Owner: os.Geteuid() == 0, Snapshot: m.Info()}
	for _, e := range sel {
		switch e.Type {
		case TypeFile:
			res.Files++
			res.Bytes += e.Size
		case TypeDir:
			res.Dirs++
		case TypeSymlink:
			res.Symlinks++
		}
	}
	if opts.DryRun {
		for _, e := range sel {
			res.Paths = append(res.Paths, e.Path)
		}
		res.Elapsed = time.Since(start)
		return res, nil
	}
	f, err := c.fs(ctx)
	if err != nil {
		return nil, err
	}
	ctx = rcloneCtx(ctx)
	objs, err := listObjects(ctx, f, dataDir(m.Host, m.Set))
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(target, 0o755); err != nil {
		return nil, fmt.Errorf("backup: restore target: %w", err)
	}
	root, err := os.OpenRoot(target)
	if err != nil {
		return nil, fmt.Errorf("backup: restore target: %w", err)
	}
	defer root.Close()
	mp := &metaPolicy{nm: newNames(), owner: res.Owner, numeric: opts.NumericIDs, setID: opts.SetID, xattrs: opts.XattrsInclude}
	full := func(p string) string { return filepath.Join(target, filepath.FromSlash(p)) }
	for _, e := range sel {
		if e.Type == TypeDir {
			if err := root.MkdirAll(filepath.FromSlash(e.Path), 0o700); err != nil {
				return nil, fmt.Errorf("backup: restore %q: %w", e.Path, err)
			}
		}
	}
	removeLeftovers(root, sel)
	prog := c.startProgress("restore")
	prog.setTotal(res.Files, res.Bytes)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.cfg.Transfers)
	for _, e := range sel {
		if e.Type != TypeFile {
			continue
		}
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			defer prog.add(1, e.Size)
			remote := dataObject(m.Host, m.Set, e.SHA256)
			o, ok := objs[remote]
			if !ok {
				return fmt.Errorf("backup: restore %q: object %q missing: %w", e.Path, remote, ErrCorrupt)
			}
			return restoreFile(gctx, root, full, e, o.Open, mp)
		})
	}
	err = g.Wait()
	prog.finish()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	for _, e := range sel {
		if e.Type != TypeSymlink {
			continue
		}
		if err := restoreSymlink(root, full, e, mp); err != nil {
			return nil, err
		}
	}
	for _, e := range slices.Backward(sel) {
		if e.Type == TypeDir {
			if err := applyMeta(full(e.Path), e, mp); err != nil {
				return nil, err
			}
		}
	}
	// One sync of the file system instead of an fsync per file: renames already make each
	// file appear whole, and this makes the lot durable before Restore returns.
	if fd, err := unix.Open(target, unix.O_RDONLY|unix.O_DIRECTORY, 0); err == nil {
		_ = unix.Syncfs(fd)
		_ = unix.Close(fd)
	}
	res.Stripped = mp.stripped.Load()
	res.Elapsed = time.Since(start)
	return res, nil
}

// tempName is a restore's temporary name beside a destination: short and fixed in length, so
// that a destination name at the file system's limit (255 bytes) still has one.
func tempName(dir string) string { return dir + ".wbr-" + randHex() + ".tmp" }

// leftoverTemp matches the temporary names of a restore that was killed: this version's, and
// the ".NAME.restore-HEX" of earlier ones.
var leftoverTemp = regexp.MustCompile(`^(\.wbr-[0-9a-f]{12}\.tmp|\..*\.restore-[0-9a-f]{12})$`)

// removeLeftovers deletes the temporaries a killed restore left in the directories this one
// restores into (the next run cleans up, as rsync's --delay-updates does).
func removeLeftovers(root *os.Root, sel []*Entry) {
	dirs := map[string]bool{".": true}
	for _, e := range sel {
		dirs[path.Dir(e.Path)] = true
	}
	for d := range dirs {
		f, err := root.Open(filepath.FromSlash(d))
		if err != nil {
			continue
		}
		names, _ := f.Readdirnames(-1)
		_ = f.Close()
		for _, n := range names {
			if leftoverTemp.MatchString(n) {
				_ = root.Remove(filepath.Join(filepath.FromSlash(d), n))
			}
		}
	}
}

func restoreFile(ctx context.Context, root *os.Root, full func(string) string, e *Entry,
	open func(context.Context, ...rfs.OpenOption) (io.ReadCloser, error), mp *metaPolicy) error {
	dir, _ := path.Split(e.Path)
	if dir != "" {
		if err := root.MkdirAll(filepath.FromSlash(strings.TrimSuffix(dir, "/")), 0o755); err != nil {
			return fmt.Errorf("backup: restore %q: %w", e.Path, err)
		}
	}
	tmp := tempName(dir)
	file, err := root.OpenFile(filepath.FromSlash(tmp), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("backup: restore %q: %w", e.Path, err)
	}
	done := false
	defer func() {
		if !done {
			_ = file.Close()
			_ = root.Remove(filepath.FromSlash(tmp))
		}
	}()
	rc, err := open(ctx)
	if err != nil {
		return fmt.Errorf("backup: restore %q: download: %w", e.Path, err)
	}
	h := sha256.New()
	// Never write more than the manifest promises: one byte past its size is enough to know
	// the object is not the one recorded.
	n, err := io.Copy(io.MultiWriter(file, h), io.LimitReader(rc, e.Size+1))
	_ = rc.Close()
	if isDamage(err) {
		return fmt.Errorf("backup: restore %q: %v: %w", e.Path, err, ErrCorrupt)
	}
	if err != nil {
		return fmt.Errorf("backup: restore %q: download: %w", e.Path, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != e.SHA256 || n != e.Size {
		return fmt.Errorf("backup: restore %q: object has sha256 %s (%d bytes), want %s (%d bytes): %w", e.Path, got, n, e.SHA256, e.Size, ErrCorrupt)
	}
	if err := file.Close(); err != nil {
		return fmt.Errorf("backup: restore %q: %w", e.Path, err)
	}
	if err := applyMeta(full(tmp), e, mp); err != nil {
		return err
	}
	if err := root.Rename(filepath.FromSlash(tmp), filepath.FromSlash(e.Path)); err != nil {
		return fmt.Errorf("backup: restore %q: %w", e.Path, err)
	}
	done = true
	return nil
}

func restoreSymlink(root *os.Root, full func(string) string, e *Entry, mp *metaPolicy) error {
	dir, _ := path.Split(e.Path)
	if dir != "" {
		if err := root.MkdirAll(filepath.FromSlash(strings.TrimSuffix(dir, "/")), 0o755); err != nil {
			return fmt.Errorf("backup: restore %q: %w", e.Path, err)
		}
	}
	tmp := tempName(dir)
	if err := root.Symlink(e.Target, filepath.FromSlash(tmp)); err != nil {
		return fmt.Errorf("backup: restore %q: %w", e.Path, err)
	}
	if err := applyMeta(full(tmp), e, mp); err != nil {
		_ = root.Remove(filepath.FromSlash(tmp))
		return err
	}
	if err := root.Rename(filepath.FromSlash(tmp), filepath.FromSlash(e.Path)); err != nil {
		_ = root.Remove(filepath.FromSlash(tmp))
		return fmt.Errorf("backup: restore %q: %w", e.Path, err)
	}
	return nil
}

func isGlob(p string) bool { return strings.ContainsAny(p, "*?[{") }

// compileIncludes turns the glob patterns of include into regexps with rclone's own glob
// syntax, so that restore patterns read like the excludes of a set.
func compileIncludes(include []string) (map[string]*regexp.Regexp, error) {
	globs := map[string]*regexp.Regexp{}
	for _, p := range include {
		if !isGlob(p) {
			continue
		}
		re, err := filter.GlobPathToRegexp("/"+strings.TrimPrefix(p, "/"), false)
		if err != nil {
			return nil, fmt.Errorf("backup: restore: include %q: %v: %w", p, err, webinfra.ErrInvalidArgument)
		}
		globs[p] = re
	}
	return globs, nil
}

// selectEntries returns the entries include selects, with the directories above them, in
// manifest order.
func selectEntries(entries []Entry, include []string, globs map[string]*regexp.Regexp) []*Entry {
	var out []*Entry
	if len(include) == 0 {
		for i := range entries {
			out = append(out, &entries[i])
		}
		return out
	}
	matched := map[string]bool{}
	var dirs []string // matched directories: their contents come along
	for i := range entries {
		p := entries[i].Path
		ok := false
		for _, d := range dirs {
			ok = ok || strings.HasPrefix(p, d+"/")
		}
		for _, pat := range include {
			if re := globs[pat]; re != nil {
				ok = ok || re.MatchString(p)
			} else {
				pat = strings.Trim(pat, "/")
				ok = ok || p == pat || strings.HasPrefix(p, pat+"/")
			}
		}
		if ok {
			matched[p] = true
			if entries[i].Type == TypeDir {
				dirs = append(dirs, p)
			}
			for d := path.Dir(p); d != "." && d != "/"; d = path.Dir(d) {
				matched[d] = true
			}
		}
	}
	for i := range entries {
		if matched[entries[i].Path] {
			out = append(out, &entries[i])
		}
	}
	return out
}

func randHex() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
