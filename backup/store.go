package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/hash"
	"github.com/rclone/rclone/fs/object"
	"github.com/rclone/rclone/fs/walk"
)

// The layout on the remote. Data objects are content-addressed per set: the set's lock then
// covers everything a snapshot or a prune of that set touches, so garbage collection can never
// delete an object a concurrent snapshot of another set has just decided to reuse. The price is
// no deduplication across sets, which hold different services' files anyway.
//
//	data/<host>/<set>/<sha256[0:2]>/<sha256>     file contents, shared by all snapshots of the set
//	snapshots/<host>/<set>/<id>.json.gz         one manifest per complete snapshot, written last
//	locks/<host>/<set>/<lock id>.json           lock objects
func dataDir(host, set string) string         { return "data/" + host + "/" + set }
func snapDir(host, set string) string         { return "snapshots/" + host + "/" + set }
func lockDir(host, set string) string         { return "locks/" + host + "/" + set }
func manifestSuffix() string                  { return ".json.gz" }
func dataObject(host, set, sum string) string { return dataDir(host, set) + "/" + objectName(sum) }

// listObjects lists every object under dir (recursively, one ListR where the backend has it,
// as Google Cloud Storage and S3 do), keyed by remote path. A missing dir is empty.
func listObjects(ctx context.Context, f fs.Fs, dir string) (map[string]fs.Object, error) {
	out := map[string]fs.Object{}
	if f.Features().ListR == nil {
		// Without ListR rclone walks directory by directory and logs a missing top directory
		// at error level through its global logger, which cannot be turned off; one plain
		// List first answers "absent" quietly.
		if _, err := f.List(ctx, dir); errors.Is(err, fs.ErrorDirNotFound) {
			return out, nil
		}
	}
	err := walk.ListR(ctx, f, dir, true, -1, walk.ListObjects, func(entries fs.DirEntries) error {
		entries.ForObject(func(o fs.Object) { out[o.Remote()] = o })
		return nil
	})
	if errors.Is(err, fs.ErrorDirNotFound) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("backup: list %q: %w", dir, err)
	}
	return out, nil
}

// putObject uploads size bytes of r as remote, replacing existing when it is not nil (Drive
// would otherwise keep two objects of one name). md5, when known, lets the backend check the
// upload (Google Cloud Storage verifies it server-side).
func putObject(ctx context.Context, f fs.Fs, remote string, r io.Reader, size int64, mtime time.Time, md5 string, existing fs.Object) (fs.Object, error) {
	var hashes map[hash.Type]string
	if md5 != "" {
		hashes = map[hash.Type]string{hash.MD5: md5}
	}
	info := object.NewStaticObjectInfo(remote, mtime, size, true, hashes, f)
	if existing != nil {
		if err := existing.Update(ctx, r, info); err != nil {
			return nil, fmt.Errorf("backup: upload %q: %w", remote, err)
		}
		return existing, nil
	}
	o, err := f.Put(ctx, r, info)
	if err != nil {
		return nil, fmt.Errorf("backup: upload %q: %w", remote, err)
	}
	return o, nil
}

func putBytes(ctx context.Context, f fs.Fs, remote string, data []byte, mtime time.Time) (fs.Object, error) {
	return putObject(ctx, f, remote, bytes.NewReader(data), int64(len(data)), mtime, "", nil)
}

// readObject downloads a small object whole.
func readObject(ctx context.Context, f fs.Fs, remote string, limit int64) ([]byte, error) {
	o, err := f.NewObject(ctx, remote)
	if err != nil {
		return nil, fmt.Errorf("backup: open %q: %w", remote, err)
	}
	rc, err := o.Open(ctx)
	if err != nil {
		return nil, fmt.Errorf("backup: open %q: %w", remote, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("backup: read %q: %w", remote, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("backup: %q is larger than %d bytes: %w", remote, limit, ErrCorrupt)
	}
	return data, nil
}

// removeObject deletes remote; an absent object is not an error (idempotent delete).
func removeObject(ctx context.Context, f fs.Fs, remote string) error {
	o, err := f.NewObject(ctx, remote)
	if errors.Is(err, fs.ErrorObjectNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("backup: remove %q: %w", remote, err)
	}
	if err := o.Remove(ctx); err != nil && !errors.Is(err, fs.ErrorObjectNotFound) {
		return fmt.Errorf("backup: remove %q: %w", remote, err)
	}
	return nil
}

// cheapMD5 reports whether the remote stores MD5s that a listing returns without reading the
// data (Google Cloud Storage, S3, Drive; not the local backend, whose hashes are computed).
func cheapMD5(f fs.Fs) bool {
	return f.Hashes().Contains(hash.MD5) && !f.Features().SlowHash
}

func isNotFound(err error) bool {
	return errors.Is(err, fs.ErrorObjectNotFound) || errors.Is(err, fs.ErrorDirNotFound)
}
