package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/rclone/rclone/fs/hash"
	"golang.org/x/sync/errgroup"
)

// VerifyOptions are the optional inputs of [Client.Verify]; nil means a quick verify.
type VerifyOptions struct {
	// Full downloads every object and checks its SHA-256. Without it, the check compares the
	// manifest with one listing of the remote: presence, sizes and, where the remote stores
	// them without reading the data (Google Cloud Storage, S3), MD5s.
	Full bool
}

// Problem is one damaged object found by [Client.Verify].
type Problem struct {
	// Object is the object's remote path.
	Object string `json:"object"`
	// Paths are the snapshot entries with that content.
	Paths []string `json:"paths"`
	// Reason says what is wrong ("size 10, want 12", "sha256 ab..., want cd...").
	Reason string `json:"reason,omitempty"`
}

// VerifyReport lists what a verify found; both lists empty means the snapshot is intact.
type VerifyReport struct {
	// Snapshot is the snapshot verified.
	Snapshot SnapshotInfo `json:"snapshot"`
	// Objects is the number of distinct objects checked.
	Objects int `json:"objects"`
	// Missing are objects the manifest needs and the remote lacks, sorted by Object.
	Missing []Problem `json:"missing,omitempty"`
	// Corrupt are objects present with the wrong size or hash, sorted by Object.
	Corrupt []Problem `json:"corrupt,omitempty"`
}

// OK reports whether nothing is missing or corrupt.
func (r VerifyReport) OK() bool { return len(r.Missing) == 0 && len(r.Corrupt) == 0 }

// Verify checks that the objects of snapshot ref are all on the remote and intact, and reports
// exactly the missing and corrupt ones. A damaged object is reported, not returned as an error;
// errors are for a verify that could not run (absent snapshot: [ErrSnapshotNotFound]; ctx
// cancellation: ctx's error). It reads only; it takes no lock.
func (c *Client) Verify(ctx context.Context, ref Ref, opts *VerifyOptions) (*VerifyReport, error) {
	if opts == nil {
		opts = &VerifyOptions{}
	}
	m, err := c.Manifest(ctx, ref)
	if err != nil {
		return nil, err
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
	type want struct {
		e     *Entry
		paths []string
	}
	wants := map[string]*want{}
	var names []string
	var total int64
	for i := range m.Entries {
		e := &m.Entries[i]
		if e.Type != TypeFile {
			continue
		}
		remote := dataObject(m.Host, m.Set, e.SHA256)
		w, ok := wants[remote]
		if !ok {
			w = &want{e: e}
			wants[remote] = w
			names = append(names, remote)
			total += e.Size
		}
		w.paths = append(w.paths, e.Path)
	}
	slices.Sort(names)
	rep := &VerifyReport{Snapshot: SnapshotInfo{Host: m.Host, Set: m.Set, ID: m.Time.UTC().Format(idLayout), Time: m.Time}, Objects: len(names)}
	prog := c.startProgress("verify")
	prog.setTotal(int64(len(names)), total)
	// corrupt is written by the main loop and by the full-verify goroutines: every write goes
	// through markCorrupt, which holds mu.
	var mu sync.Mutex
	corrupt := map[string]string{}
	markCorrupt := func(remote, reason string) {
		mu.Lock()
		corrupt[remote] = reason
		mu.Unlock()
	}
	md5ok := cheapMD5(f)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.cfg.Transfers)
	for _, remote := range names {
		w := wants[remote]
		o, ok := objs[remote]
		if !ok {
			rep.Missing = append(rep.Missing, Problem{Object: remote, Paths: w.paths, Reason: "absent"})
			prog.add(1, w.e.Size)
			continue
		}
		if o.Size() != w.e.Size {
			markCorrupt(remote, fmt.Sprintf("size %d, want %d", o.Size(), w.e.Size))
			prog.add(1, w.e.Size)
			continue
		}
		if !opts.Full {
			if md5ok && w.e.MD5 != "" {
				got, err := o.Hash(ctx, hash.MD5)
				if err != nil {
					return nil, fmt.Errorf("backup: md5 of %q: %w", remote, err)
				}
				if got != "" && got != w.e.MD5 {
					markCorrupt(remote, fmt.Sprintf("md5 %s, want %s", got, w.e.MD5))
				}
			}
			prog.add(1, w.e.Size)
			continue
		}
		g.Go(func() error {
			defer prog.add(1, w.e.Size)
			rc, err := o.Open(gctx)
			if err != nil {
				return fmt.Errorf("backup: open %q: %w", remote, err)
			}
			defer rc.Close()
			// Read at most one byte past the size the manifest claims: a remote that
			// serves more than it listed is corrupt, and must not make verify read forever.
			h := sha256.New()
			n, err := io.Copy(h, io.LimitReader(rc, w.e.Size+1))
			if isDamage(err) {
				markCorrupt(remote, err.Error())
				return nil
			}
			if err != nil {
				return fmt.Errorf("backup: read %q: %w", remote, err)
			}
			if n != w.e.Size {
				markCorrupt(remote, fmt.Sprintf("read %d bytes, want %d", n, w.e.Size))
			} else if got := hex.EncodeToString(h.Sum(nil)); got != w.e.SHA256 {
				markCorrupt(remote, fmt.Sprintf("sha256 %s, want %s", got, w.e.SHA256))
			}
			return nil
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
	for _, remote := range names {
		if reason, bad := corrupt[remote]; bad {
			rep.Corrupt = append(rep.Corrupt, Problem{Object: remote, Paths: wants[remote].paths, Reason: reason})
		}
	}
	return rep, nil
}
