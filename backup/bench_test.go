package backup_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/sync"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/backup"
	"github.com/webinfra/webinfra/backup/backuptest"
)

// benchSize is the dataset: WEBINFRA_BACKUP_BENCH_FILES files (default 1,000) of mixed sizes
// totalling WEBINFRA_BACKUP_BENCH_BYTES (default 64 MiB), so one -benchtime 1x iteration stays
// well under a minute in CI; the reported figures use 20000 and 1073741824.
func benchSize(b *testing.B) (int, int64) {
	files, size := 1000, int64(64<<20)
	if v := os.Getenv("WEBINFRA_BACKUP_BENCH_FILES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatal(err)
		}
		files = n
	}
	if v := os.Getenv("WEBINFRA_BACKUP_BENCH_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			b.Fatal(err)
		}
		size = n
	}
	return files, size
}

type benchRemote struct {
	name string
	// fresh returns an empty remote and a function releasing it.
	fresh func(b *testing.B) (string, func())
}

func benchRemotes() []benchRemote {
	return []benchRemote{
		{"local", func(b *testing.B) (string, func()) {
			d, err := os.MkdirTemp(b.TempDir(), "remote")
			if err != nil {
				b.Fatal(err)
			}
			return d, func() { _ = os.RemoveAll(d) }
		}},
		{"fakegcs", func(b *testing.B) (string, func()) {
			g, err := backuptest.NewGCS("bench")
			if err != nil {
				b.Fatal(err)
			}
			return g.Remote("r"), g.Close
		}},
	}
}

// timed runs fn between two syncs of all file systems and returns its duration including the
// second sync: every phase starts with no dirty pages of an earlier one and pays for writing its
// own data out, so the order of the phases does not move the figures (without this, cp -a ran
// into the writeback of the snapshot before it).
func timed(fn func()) time.Duration {
	syscall.Sync()
	t0 := time.Now()
	fn()
	syscall.Sync()
	return time.Since(t0)
}

// walkTree is the floor of a no-change snapshot: a walk with one lstat per entry.
func walkTree(b *testing.B, dir string) {
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		_, err = d.Info()
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkSnapshot runs, on one dataset and per remote: a full snapshot, a plain rclone copy
// of the same tree (sync.CopyDir, the library call), `cp -a` to a local directory (the floor),
// a no-change incremental snapshot and a restore, then the snapshot and restore again with
// encryption (rclone crypt), and reports the ratios between them.
func BenchmarkSnapshot(b *testing.B) {
	files, size := benchSize(b)
	src := filepath.Join(b.TempDir(), "src")
	if err := backuptest.WriteDataset(src, files, size, 42); err != nil {
		b.Fatal(err)
	}
	set := backup.Set{Name: "bench", Paths: []string{src}}
	for _, r := range benchRemotes() {
		b.Run(r.name, func(b *testing.B) {
			var full, copyT, cpa, incr, restore, walk, encFull, encRestore time.Duration
			for b.Loop() {
				walk += timed(func() { walkTree(b, src) })
				remote, release := r.fresh(b)
				c, err := backup.New(backup.Config{Remote: remote, Encryption: backup.EncryptionNone, Host: "bench"})
				if err != nil {
					b.Fatal(err)
				}
				var res *backup.SnapshotResult
				full += timed(func() {
					if res, err = c.Snapshot(context.Background(), set, nil); err != nil {
						b.Fatal(err)
					}
				})
				if res.Uploaded == 0 || res.Files != int64(files) {
					b.Fatalf("full snapshot: %+v", res)
				}

				incr += timed(func() {
					if res, err = c.Snapshot(context.Background(), set, nil); err != nil {
						b.Fatal(err)
					}
				})
				if res.Uploaded != 0 || res.Hashed != 0 {
					b.Fatalf("incremental snapshot did work: %+v", res)
				}

				target := filepath.Join(b.TempDir(), "restore")
				restore += timed(func() {
					if _, err := c.Restore(context.Background(), backup.Ref{Set: "bench"}, target, nil); err != nil {
						b.Fatal(err)
					}
				})
				_ = os.RemoveAll(target)
				release()

				// The same snapshot and restore, encrypted with rclone crypt.
				remote, release = r.fresh(b)
				ec, err := backup.New(backup.Config{Remote: remote, Key: webinfra.NewSecret("bench key"), Host: "bench"})
				if err != nil {
					b.Fatal(err)
				}
				encFull += timed(func() {
					if res, err = ec.Snapshot(context.Background(), set, nil); err != nil {
						b.Fatal(err)
					}
				})
				if res.Uploaded == 0 || res.Files != int64(files) {
					b.Fatalf("encrypted snapshot: %+v", res)
				}
				encRestore += timed(func() {
					if _, err := ec.Restore(context.Background(), backup.Ref{Set: "bench"}, target, nil); err != nil {
						b.Fatal(err)
					}
				})
				_ = os.RemoveAll(target)
				if rep, err := ec.Verify(context.Background(), backup.Ref{Set: "bench"}, &backup.VerifyOptions{Full: true}); err != nil || !rep.OK() {
					b.Fatalf("encrypted verify: %v %+v", err, rep)
				}
				release()

				remote, release = r.fresh(b)
				conn, err := backup.ConnectionString(remote, "")
				if err != nil {
					b.Fatal(err)
				}
				ctx, ci := fs.AddConfig(context.Background())
				ci.LogLevel = fs.LogLevelError
				fsrc, err := fs.NewFs(ctx, src)
				if err != nil {
					b.Fatal(err)
				}
				fdst, err := fs.NewFs(ctx, conn)
				if err != nil {
					b.Fatal(err)
				}
				copyT += timed(func() {
					if err := sync.CopyDir(ctx, fdst, fsrc, false); err != nil {
						b.Fatal(err)
					}
				})
				release()

				dst := filepath.Join(b.TempDir(), "cp")
				cpa += timed(func() {
					if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
						b.Fatalf("cp -a: %v: %s", err, out)
					}
				})
				_ = os.RemoveAll(dst)
			}
			b.ReportMetric(full.Seconds()/float64(b.N), "snapshot-s")
			b.ReportMetric(float64(size)/(1<<20)/(full.Seconds()/float64(b.N)), "snapshot-MiB/s")
			b.ReportMetric(full.Seconds()/copyT.Seconds(), "snapshot/rclone-copy")
			b.ReportMetric(full.Seconds()/cpa.Seconds(), "snapshot/cp-a")
			b.ReportMetric(incr.Seconds()/full.Seconds(), "incremental/full")
			b.ReportMetric(restore.Seconds()/full.Seconds(), "restore/snapshot")
			b.ReportMetric(incr.Seconds()/walk.Seconds(), "incremental/walk")
			b.ReportMetric(encFull.Seconds()/full.Seconds(), "encrypted/plain-snapshot")
			b.ReportMetric(encRestore.Seconds()/restore.Seconds(), "encrypted/plain-restore")
		})
	}
}
