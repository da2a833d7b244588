package replication

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"time"

	_ "github.com/rclone/rclone/backend/local" // the local backend, registered by import
	_ "github.com/rclone/rclone/backend/sftp"  // sftp, for seeding from another server over the mesh
	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/accounting"
	"github.com/rclone/rclone/fs/filter"
	"github.com/rclone/rclone/fs/sync"

	"github.com/webinfra/webinfra"
)

// SeedTask is one replica to fill: a folder that the next placement puts on a node that does
// not hold it yet, with the node it should be copied from.
type SeedTask struct {
	// Folder is the folder ID.
	Folder string
	// From is a node holding the folder in both placements: the old primary when it stays,
	// otherwise the first remaining holder in preference order.
	From string
	// To is the node that gains the folder.
	To string
}

// SeedTasks lists the replicas that next adds to prev, in folder then node order. A folder
// with no holder left from prev (all replaced at once) has no source and gives no task:
// Syncthing fills such a replica itself from whatever holder comes up.
func SeedTasks(prev, next Placement) []SeedTask {
	var out []SeedTask
	for _, folder := range slices.Sorted(maps.Keys(next)) {
		old := prev[folder]
		var from string
		for _, n := range old {
			if slices.Contains(next[folder], n) {
				from = n
				break
			}
		}
		if from == "" {
			continue
		}
		for _, to := range next[folder] {
			if !slices.Contains(old, to) {
				out = append(out, SeedTask{Folder: folder, From: from, To: to})
			}
		}
	}
	return out
}

// SeedOptions are the optional inputs of [Seed]; nil means defaults.
type SeedOptions struct {
	// Transfers is how many files are copied at once; 0 means rclone's default, 4.
	Transfers int
	// DryRun reports what would be copied and copies nothing.
	DryRun bool
}

// SeedStats says what a [Seed] did.
type SeedStats struct {
	// Files is the number of files copied (or, in a dry run, to copy).
	Files int64
	// Bytes is the number of bytes transferred.
	Bytes int64
	// Checks is the number of files found identical and left alone.
	Checks int64
	// Elapsed is how long the copy took.
	Elapsed time.Duration
}

// seedExcludes are Syncthing's own files, which never belong to a replica's content.
var seedExcludes = []string{"/.stversions/**", ".syncthing.*.tmp", "~syncthing~*.tmp", "/.stfolder/**", "/.stignore"}

// Seed fills a new replica before Syncthing takes it over: a one-way copy of src into dst
// through the rclone library, with metadata (mode, owner, group and modification times; the
// local backend applies ownership when run as root) and symlinks kept as symlinks. Files
// already identical in dst (same size and modification time) are skipped, so a re-run after a
// failure only copies what is missing, and nothing in dst is deleted. Because the copy keeps
// contents, permissions and times, Syncthing's first scan of the new replica finds the files
// equal to the global version and transfers nothing again.
//
// src and dst are rclone paths: a local directory ("/srv/www"), or a connection string such as
// ":sftp,host=10.88.1.21,user=root,key_file=/root/.ssh/id_ed25519:/srv/www" for a directory on
// another server over the mesh. Only the local and sftp backends are linked in. Syncthing's own
// files (.stversions, temporary files, .stfolder, .stignore) are not copied. Errors name src
// and dst; cancelling ctx stops the copy with ctx's error.
func Seed(ctx context.Context, src, dst string, opts *SeedOptions) (SeedStats, error) {
	if opts == nil {
		opts = &SeedOptions{}
	}
	if src == "" || dst == "" || opts.Transfers < 0 {
		return SeedStats{}, fmt.Errorf("replication: seed %q to %q: want a source, a destination and Transfers >= 0: %w", src, dst, webinfra.ErrInvalidArgument)
	}
	ctx, ci := fs.AddConfig(ctx)
	ci.Metadata = true
	ci.DryRun = opts.DryRun
	if opts.Transfers > 0 {
		ci.Transfers = opts.Transfers
	}
	fi, err := filter.NewFilter(nil)
	if err != nil {
		return SeedStats{}, fmt.Errorf("replication: seed: %w", err)
	}
	for _, rule := range seedExcludes {
		if err := fi.Add(false, rule); err != nil {
			return SeedStats{}, fmt.Errorf("replication: seed: exclude %q: %w", rule, err)
		}
	}
	ctx = filter.ReplaceConfig(ctx, fi)
	// A stats group of our own, so concurrent seeds count separately.
	group := seedGroup()
	ctx = accounting.WithStatsGroup(ctx, group)
	fsrc, err := fs.NewFs(ctx, localLinks(src))
	if err != nil {
		return SeedStats{}, fmt.Errorf("replication: seed from %q: %w", src, err)
	}
	fdst, err := fs.NewFs(ctx, localLinks(dst))
	if err != nil {
		return SeedStats{}, fmt.Errorf("replication: seed to %q: %w", dst, err)
	}
	start := time.Now()
	err = sync.CopyDir(ctx, fdst, fsrc, true)
	stats := accounting.StatsGroup(ctx, group)
	out := SeedStats{Files: stats.GetTransfers(), Bytes: stats.GetBytes(), Checks: stats.GetChecks(), Elapsed: time.Since(start)}
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return out, fmt.Errorf("replication: seed %q to %q: %w", src, dst, err)
	}
	return out, nil
}

// localLinks turns a plain local path into a local-backend connection string that keeps
// symlinks as symlinks (rclone's local backend would otherwise skip them).
func localLinks(p string) string {
	if len(p) > 0 && p[0] == '/' {
		return ":local,links:" + p
	}
	return p
}

func seedGroup() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "webinfra-seed-" + hex.EncodeToString(b)
}
