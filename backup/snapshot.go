package backup

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	rfs "github.com/rclone/rclone/fs"
	"golang.org/x/sync/errgroup"

	"github.com/webinfra/webinfra"
)

// SnapshotOptions are the optional inputs of [Client.Snapshot]; nil means defaults.
type SnapshotOptions struct {
	// Rehash reads and hashes every file even when the change check (size, mtime, ctime and
	// inode equal to the previous snapshot's) says it is unchanged.
	Rehash bool
}

// SnapshotResult says what a snapshot did.
type SnapshotResult struct {
	// Info identifies the new snapshot.
	Info SnapshotInfo
	// Manifest is the manifest written.
	Manifest *Manifest
	// Files and Bytes count the file entries and their content.
	Files, Bytes int64
	// Unchanged counts files the change check took from the previous snapshot without reading.
	Unchanged int64
	// Hashed counts files read and hashed.
	Hashed int64
	// Uploaded and UploadedBytes count data objects sent; the rest were on the remote already.
	Uploaded, UploadedBytes int64
	// Skipped counts special files (devices, sockets, FIFOs) left out.
	Skipped int64
	// Vanished counts files and directories that were listed but gone when read, and Changing
	// the files that changed on every read attempt; both are left out of the snapshot, which
	// still completes (as restic does). Left names them.
	Vanished, Changing int64
	// Left lists the paths (as in the manifest) of the vanished and changing entries, sorted.
	Left []string
	// Elapsed is how long the snapshot took.
	Elapsed time.Duration
}

// hookTimeout is the default [Hook.Timeout].
const hookTimeout = 10 * time.Minute

// uploadAttempts bounds the retries of a file that keeps changing while it is uploaded.
const uploadAttempts = 3

// Snapshot takes a snapshot of set under the client's host.
//
// It holds the set's lock for the whole run (a concurrent run gets a [*LockedError]), runs the
// hooks, walks the paths and uploads the content of each file not yet on the remote as a
// content-addressed object. One listing of the set's objects per snapshot tells which exist, so
// an unchanged file costs no request, and the change check against the previous manifest means
// it is not even read. The manifest is written last: until then, the previous snapshot stays
// the latest. A failed or cancelled snapshot (ctx cancellation returns ctx's error) leaves only
// objects without a manifest; the next snapshot reuses them (it resumes) and [Client.Prune]
// removes those nobody uses.
//
// Files that change while being uploaded are re-read up to three times, then left out and
// counted ([SnapshotResult.Changing]); files that vanish between listing and reading are left
// out and counted too ([SnapshotResult.Vanished]); the snapshot still completes. Special files
// are skipped and counted. The set is validated first (errors
// match webinfra.ErrInvalidArgument).
func (c *Client) Snapshot(ctx context.Context, set Set, opts *SnapshotOptions) (*SnapshotResult, error) {
	if opts == nil {
		opts = &SnapshotOptions{}
	}
	if err := set.Validate(); err != nil {
		return nil, err
	}
	start := time.Now()
	f, err := c.fs(ctx)
	if err != nil {
		return nil, err
	}
	lock, err := c.AcquireLock(ctx, set.Name, "snapshot")
	if err != nil {
		return nil, err
	}
	defer func() { _ = lock.Release(ctx) }()
	ctx = rcloneCtx(ctx)
	host := c.cfg.Host

	snaps, err := c.List(ctx, host, set.Name)
	if err != nil {
		return nil, err
	}
	prev := map[string]*Entry{}
	if len(snaps) > 0 {
		// The previous snapshot only saves reading unchanged files: a damaged newest one
		// falls back to an older one, and with all damaged every file is read again.
		m, err := c.Manifest(ctx, Ref{Host: host, Set: set.Name, FallBack: true})
		switch {
		case errors.Is(err, ErrSnapshotNotFound), errors.Is(err, ErrCorrupt):
		case err != nil:
			return nil, err
		default:
			for i := range m.Entries {
				prev[m.Entries[i].Path] = &m.Entries[i]
			}
		}
	}
	now := c.now().Truncate(time.Millisecond)
	if len(snaps) > 0 && !now.After(snaps[len(snaps)-1].Time) {
		now = snaps[len(snaps)-1].Time.Add(time.Millisecond) // IDs stay unique and increasing
	}

	objs, err := listObjects(ctx, f, dataDir(host, set.Name))
	if err != nil {
		return nil, err
	}
	res := &SnapshotResult{}
	tmp, err := os.MkdirTemp(c.cfg.TempDir, "webinfra-backup-hooks-")
	if err != nil {
		return nil, fmt.Errorf("backup: hook output directory: %w", err)
	}
	defer os.RemoveAll(tmp)
	nm := newNames()
	var entries []Entry
	var sources []string // local file of each entry; "" for non-files
	for _, h := range set.Hooks {
		out := filepath.Join(tmp, h.Name)
		if err := runHook(ctx, h, out); err != nil {
			return nil, err
		}
		fi, err := os.Lstat(out)
		if err != nil {
			return nil, fmt.Errorf("backup: hook %q: %w", h.Name, err)
		}
		e, _, err := entryFromInfo(out, HooksDir+"/"+h.Name, fi, nm)
		if err != nil {
			return nil, err
		}
		e.CTime, e.Inode = 0, 0 // a new file every run: never "unchanged"
		entries = append(entries, e)
		sources = append(sources, out)
	}
	if len(set.Hooks) > 0 {
		entries = append(entries, Entry{Path: HooksDir, Type: TypeDir, Mode: 0o700, MTime: now})
		sources = append(sources, "")
	}
	walked, walkedSrc, skipped, vanished, err := walkPaths(ctx, set, nm)
	if err != nil {
		return nil, err
	}
	res.Skipped = skipped
	res.Vanished = int64(len(vanished))
	res.Left = vanished
	entries = append(entries, walked...)
	sources = append(sources, walkedSrc...)
	order := make([]int, len(entries))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(entries[a].Path, entries[b].Path) })
	sortedE := make([]Entry, len(entries))
	sortedS := make([]string, len(entries))
	for i, j := range order {
		sortedE[i], sortedS[i] = entries[j], sources[j]
	}
	entries, sources = sortedE, sortedS
	for _, e := range entries {
		if e.Type == TypeFile {
			res.Files++
			res.Bytes += e.Size
		}
	}

	prog := c.startProgress("snapshot")
	prog.setTotal(res.Files, res.Bytes)
	up := &uploader{c: c, f: f, host: host, set: set.Name, objs: objs, inflight: map[string]chan struct{}{}, md5: cheapMD5(f), res: res}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.cfg.Transfers)
	for i := range entries {
		e := &entries[i]
		if e.Type != TypeFile {
			continue
		}
		if gctx.Err() != nil {
			break
		}
		src := sources[i]
		p := prev[e.Path]
		g.Go(func() error {
			defer prog.add(1, e.Size)
			if !opts.Rehash && p != nil && p.Type == TypeFile && p.Size == e.Size && p.MTime.Equal(e.MTime) &&
				p.CTime == e.CTime && p.Inode == e.Inode && e.Inode != 0 && (p.MD5 != "" || !up.md5) {
				e.SHA256, e.MD5 = p.SHA256, p.MD5
				up.count(&res.Unchanged, 1)
				if up.present(e.SHA256, e.Size) {
					return nil
				}
			}
			err := up.store(gctx, src, e)
			var left *leftOut
			if errors.As(err, &left) {
				up.leave(e, left.vanished)
				return nil
			}
			return err
		})
	}
	err = g.Wait()
	final := prog.finish()
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	if c.beforeCommit != nil {
		c.beforeCommit(lock)
	}
	// The manifest is what makes the snapshot exist: write it only while the lock still holds,
	// so that a prune that took the set meanwhile (and may have collected this run's objects)
	// never sees a snapshot whose data it removed.
	if err := lock.Check(ctx); err != nil {
		return nil, fmt.Errorf("backup: snapshot %s/%s: not committing: %w", host, set.Name, err)
	}
	if len(up.left) > 0 {
		kept := entries[:0]
		for i := range entries {
			if !up.left[&entries[i]] {
				kept = append(kept, entries[i])
			}
		}
		entries = kept
		res.Files, res.Bytes = 0, 0
		for _, e := range entries {
			if e.Type == TypeFile {
				res.Files++
				res.Bytes += e.Size
			}
		}
	}
	slices.Sort(res.Left)
	m := &Manifest{Version: ManifestVersion, Host: host, Set: set.Name, Time: now, Paths: set.Paths, Entries: entries}
	for _, h := range set.Hooks {
		m.Hooks = append(m.Hooks, h.Name)
	}
	var buf bytes.Buffer
	if err := EncodeManifest(&buf, m); err != nil {
		return nil, err
	}
	id := now.Format(idLayout)
	if _, err := putBytes(ctx, f, path.Join(snapDir(host, set.Name), id+manifestSuffix()), buf.Bytes(), now); err != nil {
		return nil, err
	}
	res.Info = SnapshotInfo{Host: host, Set: set.Name, ID: id, Time: now}
	res.Manifest = m
	res.Elapsed = time.Since(start)
	c.log.Info("backup: snapshot written", "host", host, "set", set.Name, "id", id, "files", res.Files,
		"bytes", res.Bytes, "uploaded", res.Uploaded, "unchanged", res.Unchanged, "rate", final.Rate)
	return res, nil
}

func runHook(ctx context.Context, h Hook, out string) error {
	timeout := h.Timeout
	if timeout == 0 {
		timeout = hookTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	file, err := os.OpenFile(out, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("backup: hook %q: %w", h.Name, err)
	}
	defer file.Close()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, h.Command[0], h.Command[1:]...)
	cmd.Stdout, cmd.Stderr = file, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("backup: hook %q: %w", h.Name, ctx.Err())
		}
		return fmt.Errorf("backup: hook %q: %w: %s", h.Name, err, strings.TrimSpace(stderr.String()))
	}
	if err := file.Sync(); err != nil {
		return fmt.Errorf("backup: hook %q: %w", h.Name, err)
	}
	return nil
}

// walkPaths lists every entry of the set's paths with its metadata, and the paths of entries
// that vanished while it listed them.
func walkPaths(ctx context.Context, set Set, nm *names) ([]Entry, []string, int64, []string, error) {
	fi, err := newFilter(set.Excludes)
	if err != nil {
		return nil, nil, 0, nil, fmt.Errorf("backup: excludes: %v: %w", err, webinfra.ErrInvalidArgument)
	}
	var vanished []string
	includeDir := fi.IncludeDirectory(ctx, nil)
	var entries []Entry
	var sources []string
	var skipped int64
	for _, root := range set.Paths {
		// WalkDir does not follow a root that is a symbolic link: the snapshot would hold the
		// link alone. Refuse it, naming where it points, rather than back up nothing.
		if fi, err := os.Lstat(root); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			target, _ := os.Readlink(root)
			return nil, nil, 0, nil, fmt.Errorf("backup: set path %q is a symbolic link to %q: name the directory itself: %w", root, target, webinfra.ErrInvalidArgument)
		}
		err := filepath.WalkDir(root, func(abs string, d fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) && abs != root {
				vanished = append(vanished, strings.TrimPrefix(filepath.ToSlash(abs), "/"))
				return nil
			}
			if err != nil {
				return fmt.Errorf("backup: walk %q: %w", abs, err)
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, abs)
			rel = filepath.ToSlash(rel)
			if rel != "." {
				if d.IsDir() {
					ok, err := includeDir(rel)
					if err != nil {
						return fmt.Errorf("backup: excludes at %q: %w", abs, err)
					}
					if !ok {
						return filepath.SkipDir
					}
				} else if !fi.IncludeRemote(rel) {
					return nil
				}
			}
			info, err := d.Info()
			if errors.Is(err, fs.ErrNotExist) {
				vanished = append(vanished, strings.TrimPrefix(filepath.ToSlash(abs), "/"))
				return nil
			}
			if err != nil {
				return fmt.Errorf("backup: stat %q: %w", abs, err)
			}
			e, ok, err := entryFromInfo(abs, strings.TrimPrefix(filepath.ToSlash(abs), "/"), info, nm)
			if errors.Is(err, fs.ErrNotExist) {
				vanished = append(vanished, strings.TrimPrefix(filepath.ToSlash(abs), "/"))
				return nil
			}
			if err != nil {
				return err
			}
			if !ok {
				skipped++
				return nil
			}
			entries = append(entries, e)
			src := ""
			if e.Type == TypeFile {
				src = abs
			}
			sources = append(sources, src)
			return nil
		})
		if err != nil {
			return nil, nil, 0, nil, err
		}
	}
	return entries, sources, skipped, vanished, nil
}

// uploader stores file contents as the set's data objects, once per content even when several
// files (or workers) share it.
type uploader struct {
	c         *Client
	f         rfs.Fs
	host, set string
	md5       bool
	res       *SnapshotResult
	mu        sync.Mutex
	objs      map[string]rfs.Object // remote path -> object, from the one listing plus uploads
	inflight  map[string]chan struct{}
	left      map[*Entry]bool // entries left out: vanished or always changing
}

// leftOut is store's answer for a file the snapshot leaves out instead of failing.
type leftOut struct{ vanished bool }

func (l *leftOut) Error() string {
	if l.vanished {
		return "vanished"
	}
	return ErrChanged.Error()
}

// leave records that e is left out of the snapshot.
func (u *uploader) leave(e *Entry, vanished bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.left == nil {
		u.left = map[*Entry]bool{}
	}
	u.left[e] = true
	u.res.Left = append(u.res.Left, e.Path)
	if vanished {
		u.res.Vanished++
	} else {
		u.res.Changing++
	}
	u.c.log.Warn("backup: file left out of the snapshot", "path", e.Path, "reason", (&leftOut{vanished}).Error())
}

func (u *uploader) count(p *int64, n int64) {
	u.mu.Lock()
	*p += n
	u.mu.Unlock()
}

// present reports whether the object of sum exists with the right size. The size check is what
// catches an object cut short by an interrupted upload on a backend that writes in place (local).
func (u *uploader) present(sum string, size int64) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	o, ok := u.objs[dataObject(u.host, u.set, sum)]
	return ok && o.Size() == size
}

// store hashes the file at src (filling e's sums) and uploads it when the remote lacks it.
func (u *uploader) store(ctx context.Context, src string, e *Entry) error {
	for range uploadAttempts {
		if u.c.beforeRead != nil {
			u.c.beforeRead(src)
		}
		sha, md, n, err := hashFile(src, u.md5)
		if errors.Is(err, fs.ErrNotExist) {
			return &leftOut{vanished: true}
		}
		if err != nil {
			return err
		}
		u.count(&u.res.Hashed, 1)
		e.SHA256, e.MD5, e.Size = sha, md, n
		if u.c.beforeRead != nil {
			u.c.beforeRead(src)
		}
		ok, err := u.upload(ctx, src, e)
		if errors.Is(err, fs.ErrNotExist) {
			return &leftOut{vanished: true}
		}
		if err != nil || ok {
			return err
		}
	}
	return &leftOut{}
}

// upload sends src as e's object unless it is present or being sent by another worker; false
// means the content read differed from e's hash (the file changed) and nothing was kept.
func (u *uploader) upload(ctx context.Context, src string, e *Entry) (bool, error) {
	remote := dataObject(u.host, u.set, e.SHA256)
	for {
		u.mu.Lock()
		o, ok := u.objs[remote]
		if ok && o.Size() == e.Size {
			u.mu.Unlock()
			return true, nil
		}
		wait, busy := u.inflight[remote]
		if !busy {
			u.inflight[remote] = make(chan struct{})
			u.mu.Unlock()
			break
		}
		u.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	defer func() {
		u.mu.Lock()
		close(u.inflight[remote])
		delete(u.inflight, remote)
		u.mu.Unlock()
	}()
	file, err := os.Open(src)
	if err != nil {
		return false, fmt.Errorf("backup: open %q: %w", src, err)
	}
	defer file.Close()
	h := sha256.New()
	u.mu.Lock()
	existing := u.objs[remote] // a short leftover to overwrite
	u.mu.Unlock()
	// An object's modification time is when it was uploaded (the manifest holds the file's):
	// prune leaves objects younger than a lock's TTL alone, as a run may still need them.
	obj, err := putObject(ctx, u.f, remote, io.TeeReader(io.LimitReader(file, e.Size), h), e.Size, u.c.now(), e.MD5, existing)
	if err != nil {
		return false, err
	}
	if hex.EncodeToString(h.Sum(nil)) != e.SHA256 {
		if err := obj.Remove(ctx); err != nil {
			return false, fmt.Errorf("backup: remove changed upload %q: %w", remote, err)
		}
		u.mu.Lock()
		delete(u.objs, remote)
		u.mu.Unlock()
		return false, nil
	}
	u.mu.Lock()
	u.objs[remote] = obj
	u.mu.Unlock()
	u.count(&u.res.Uploaded, 1)
	u.count(&u.res.UploadedBytes, e.Size)
	return true, nil
}

func hashFile(p string, withMD5 bool) (sha, md string, n int64, err error) {
	file, err := os.Open(p)
	if err != nil {
		return "", "", 0, fmt.Errorf("backup: open %q: %w", p, err)
	}
	defer file.Close()
	s := sha256.New()
	var w io.Writer = s
	var m hash.Hash
	if withMD5 {
		m = md5.New()
		w = io.MultiWriter(s, m)
	}
	n, err = io.Copy(w, file)
	if err != nil {
		return "", "", 0, fmt.Errorf("backup: read %q: %w", p, err)
	}
	if m != nil {
		md = hex.EncodeToString(m.Sum(nil))
	}
	return hex.EncodeToString(s.Sum(nil)), md, n, nil
}
