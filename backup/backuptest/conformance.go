package backuptest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/object"
	"github.com/rclone/rclone/fs/walk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/backup"
)

// Harness gives the conformance suite a remote to run against.
type Harness interface {
	// Remote returns a fresh, empty remote (a connection string or a path) for one subtest.
	Remote(t *testing.T) string
	// Caps says which optional behaviour the remote has.
	Caps() Caps
}

// Caps declares optional behaviour, never guessed by the suite.
type Caps struct {
	// ListingHashes: the remote's listing carries MD5s (Google Cloud Storage, S3), so a quick
	// verify also finds content changed at the same size.
	ListingHashes bool
	// Key, when set, makes every client of the suite encrypt with it (rclone crypt over the
	// remote); empty runs the suite with encryption "none".
	Key webinfra.Secret
}

// LocalHarness runs the suite against local directories.
type LocalHarness struct {
	// Key, if set, encrypts every set of the suite with it.
	Key webinfra.Secret
}

// Remote returns a fresh directory.
func (LocalHarness) Remote(t *testing.T) string { return LocalRemote(t) }

// Caps: local hashes are computed by reading, so quick verify compares sizes only.
func (h LocalHarness) Caps() Caps { return Caps{Key: h.Key} }

// GCSHarness runs the suite against one fake Google Cloud Storage, a fresh prefix per subtest.
type GCSHarness struct {
	GCS *GCS
	// Key, if set, encrypts every set of the suite with it.
	Key webinfra.Secret
	n   atomic.Int64
}

// Remote returns a fresh prefix of the fake's bucket.
func (h *GCSHarness) Remote(t *testing.T) string {
	return h.GCS.Remote("t" + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "") + "-" + string(rune('a'+h.n.Add(1)%26)))
}

// Caps: GCS lists MD5s, of the stored bytes: with encryption they say nothing of the content.
func (h *GCSHarness) Caps() Caps { return Caps{ListingHashes: h.Key.IsZero(), Key: h.Key} }

const confHost = "conf-host"

// RunConformance checks the backup package's contracts against the harness's remote. Subtest
// names are stable (Area/Case). Ownership cases need root and fail (never skip) without it.
func RunConformance(t *testing.T, h Harness) {
	t.Run("Snapshot/RoundTripMetadata", func(t *testing.T) { testRoundTrip(t, h) })
	t.Run("Snapshot/IncrementalReadsAndUploadsNothing", func(t *testing.T) { testIncremental(t, h) })
	t.Run("Snapshot/ChangedFileUploadedAlone", func(t *testing.T) { testChanged(t, h) })
	t.Run("Snapshot/HookOutputIncluded", func(t *testing.T) { testHook(t, h) })
	t.Run("Snapshot/CancelledKeepsLatestAndResumes", func(t *testing.T) { testCancelled(t, h) })
	t.Run("Verify/ReportsExactlyTheDamage", func(t *testing.T) { testVerify(t, h) })
	t.Run("Verify/ManyDamagedObjectsAtOnce", func(t *testing.T) { testVerifyMany(t, h) })
	t.Run("Lock/ExcludesSecondRun", func(t *testing.T) { testLockExcludes(t, h) })
	t.Run("Lock/StaleLockExpires", func(t *testing.T) { testLockStale(t, h) })
	t.Run("Lock/RaceHasOneWinner", func(t *testing.T) { testLockRace(t, h) })
	t.Run("Prune/PlanThenApply", func(t *testing.T) { testPrune(t, h) })
	t.Run("Prune/CollectsOrphansOfInterruptedSnapshot", func(t *testing.T) { testPruneOrphans(t, h) })
	t.Run("Restore/SubsetAndDryRun", func(t *testing.T) { testRestoreSubset(t, h) })
	t.Run("Restore/CorruptObjectFails", func(t *testing.T) { testRestoreCorrupt(t, h) })
	t.Run("Manifest/AbsentIsNotFound", func(t *testing.T) { testAbsent(t, h) })
	t.Run("Encryption/RemoteHoldsNoPlaintext", func(t *testing.T) { testEncryption(t, h) })
}

func newClient(t *testing.T, h Harness, remote string, mod func(*backup.Config)) *backup.Client {
	t.Helper()
	cfg := backup.Config{Remote: remote, Host: confHost, ProgressInterval: time.Millisecond, Key: h.Caps().Key}
	if cfg.Key.IsZero() {
		cfg.Encryption = backup.EncryptionNone
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := backup.New(cfg)
	require.NoError(t, err)
	return c
}

func sampleSet(t *testing.T) (backup.Set, string) {
	src := filepath.Join(t.TempDir(), "src")
	require.NoError(t, os.MkdirAll(src, 0o755))
	WriteSampleTree(t, src)
	return backup.Set{Name: "site", Paths: []string{src}}, src
}

func rel(abs string) string { return strings.TrimPrefix(abs, "/") }

// rcloneFs opens the remote with rclone directly (through crypt with the harness's key, as
// stock rclone would), to damage objects behind the client's back.
func rcloneFs(t *testing.T, h Harness, remote string) fs.Fs {
	conn, err := backup.ConnectionString(remote, "")
	require.NoError(t, err)
	if key := h.Caps().Key; !key.IsZero() {
		conn, err = backup.CryptConnectionString(conn, key)
		require.NoError(t, err)
	}
	f, err := fs.NewFs(context.Background(), conn)
	require.NoError(t, err)
	return f
}

func dataObject(sum string) string { return "data/" + confHost + "/site/" + sum[:2] + "/" + sum }

func testRoundTrip(t *testing.T, h Harness) {
	RequireRoot(t)
	remote := h.Remote(t)
	c := newClient(t, h, remote, nil)
	set, src := sampleSet(t)
	res, err := c.Snapshot(context.Background(), set, nil)
	require.NoError(t, err)
	assert.Equal(t, int64(7), res.Files)
	// Two files share content: one object fewer than files.
	assert.Equal(t, int64(6), res.Uploaded)
	target := t.TempDir()
	// Every recorded bit and attribute, as tar --same-permissions --xattrs-include='*'.
	rr, err := c.Restore(context.Background(), backup.Ref{Set: "site"}, target, &backup.RestoreOptions{SetID: true, XattrsInclude: []string{"*"}})
	require.NoError(t, err)
	assert.True(t, rr.Owner)
	assert.Equal(t, res.Info, rr.Snapshot)
	RequireSameTree(t, src, filepath.Join(target, rel(src)))
}

func testIncremental(t *testing.T, h Harness) {
	c := newClient(t, h, h.Remote(t), nil)
	set, _ := sampleSet(t)
	first, err := c.Snapshot(context.Background(), set, nil)
	require.NoError(t, err)
	second, err := c.Snapshot(context.Background(), set, nil)
	require.NoError(t, err)
	assert.Equal(t, first.Files, second.Files)
	assert.Zero(t, second.Uploaded)
	assert.Zero(t, second.Hashed)
	assert.Equal(t, second.Files, second.Unchanged)
	assert.True(t, second.Info.Time.After(first.Info.Time))
	snaps, err := c.List(context.Background(), "", "site")
	require.NoError(t, err)
	require.Len(t, snaps, 2)
	assert.Equal(t, second.Info, snaps[1])
}

func testChanged(t *testing.T, h Harness) {
	c := newClient(t, h, h.Remote(t), nil)
	set, src := sampleSet(t)
	_, err := c.Snapshot(context.Background(), set, nil)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(src, "www/index.html"), []byte("<h1>changed</h1>\n"), 0o644))
	res, err := c.Snapshot(context.Background(), set, nil)
	require.NoError(t, err)
	assert.Equal(t, int64(1), res.Uploaded)
	assert.Equal(t, int64(1), res.Hashed)
	assert.Equal(t, res.Files-1, res.Unchanged)
}

func testHook(t *testing.T, h Harness) {
	c := newClient(t, h, h.Remote(t), nil)
	set, _ := sampleSet(t)
	set.Hooks = []backup.Hook{{Name: "db.sql", Command: []string{"sh", "-c", "echo 'CREATE TABLE t;'"}}}
	_, err := c.Snapshot(context.Background(), set, nil)
	require.NoError(t, err)
	target := t.TempDir()
	_, err = c.Restore(context.Background(), backup.Ref{Set: "site"}, target, &backup.RestoreOptions{Include: []string{backup.HooksDir}})
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join(target, backup.HooksDir, "db.sql"))
	require.NoError(t, err)
	assert.Equal(t, "CREATE TABLE t;\n", string(got))

	set.Hooks = []backup.Hook{{Name: "fails", Command: []string{"sh", "-c", "echo broken >&2; exit 3"}}}
	_, err = c.Snapshot(context.Background(), set, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "broken")
}

func testCancelled(t *testing.T, h Harness) {
	remote := h.Remote(t)
	c := newClient(t, h, remote, nil)
	set, src := sampleSet(t)
	good, err := c.Snapshot(context.Background(), set, nil)
	require.NoError(t, err)
	require.NoError(t, WriteDataset(filepath.Join(src, "data"), 60, 2<<20, 1))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Cancelled once half the files are done, or at the latest in the final report, which
	// comes before the manifest is written: the cancellation point is deterministic.
	cc := newClient(t, h, remote, func(cfg *backup.Config) {
		cfg.Transfers = 1
		cfg.Progress = func(p backup.Progress) {
			if p.FilesTotal > 0 && (p.FilesDone*2 >= p.FilesTotal || p.Done) {
				cancel()
			}
		}
	})
	_, err = cc.Snapshot(ctx, set, nil)
	require.ErrorIs(t, err, context.Canceled)
	m, err := c.Manifest(context.Background(), backup.Ref{Set: "site"})
	require.NoError(t, err)
	assert.Equal(t, good.Info.Time, m.Time.UTC(), "the cancelled snapshot must not become the latest")
	locks, err := c.Locks(context.Background(), "", "site")
	require.NoError(t, err)
	assert.Empty(t, locks, "a cancelled snapshot releases its lock")

	res, err := c.Snapshot(context.Background(), set, nil)
	require.NoError(t, err)
	assert.Less(t, res.Uploaded, int64(60), "the next snapshot reuses what the cancelled one uploaded")
	rep, err := c.Verify(context.Background(), backup.Ref{Set: "site"}, &backup.VerifyOptions{Full: true})
	require.NoError(t, err)
	assert.True(t, rep.OK(), "%+v", rep)
}

func testVerify(t *testing.T, h Harness) {
	remote := h.Remote(t)
	c := newClient(t, h, remote, nil)
	set, _ := sampleSet(t)
	res, err := c.Snapshot(context.Background(), set, nil)
	require.NoError(t, err)
	rep, err := c.Verify(context.Background(), backup.Ref{Set: "site"}, &backup.VerifyOptions{Full: true})
	require.NoError(t, err)
	require.True(t, rep.OK(), "%+v", rep)
	assert.Equal(t, 6, rep.Objects)

	byName := map[string]backup.Entry{}
	for _, e := range res.Manifest.Entries {
		byName[filepath.Base(e.Path)] = e
	}
	deleted := dataObject(byName["key"].SHA256)
	sameSize := dataObject(byName["run.sh"].SHA256)
	resized := dataObject(byName["file.txt"].SHA256)
	f := rcloneFs(t, h, remote)
	ctx := context.Background()
	o, err := f.NewObject(ctx, deleted)
	require.NoError(t, err)
	require.NoError(t, o.Remove(ctx))
	overwrite := func(remote string, data []byte) {
		o, err := f.NewObject(ctx, remote)
		require.NoError(t, err)
		require.NoError(t, o.Update(ctx, bytes.NewReader(data), object.NewStaticObjectInfo(remote, time.Now(), int64(len(data)), true, nil, f)))
	}
	overwrite(sameSize, []byte("#!/bin/sh\necho HI\n"))
	overwrite(resized, []byte("deeper\n"))

	names := func(ps []backup.Problem) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Object)
		}
		return out
	}
	full, err := c.Verify(ctx, backup.Ref{Set: "site"}, &backup.VerifyOptions{Full: true})
	require.NoError(t, err)
	assert.Equal(t, []string{deleted}, names(full.Missing))
	assert.Equal(t, sorted(sameSize, resized), names(full.Corrupt))
	assert.Equal(t, []string{rel(set.Paths[0]) + "/private/key"}, full.Missing[0].Paths)

	quick, err := c.Verify(ctx, backup.Ref{Set: "site"}, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{deleted}, names(quick.Missing))
	want := []string{resized}
	if h.Caps().ListingHashes {
		want = sorted(sameSize, resized)
	}
	assert.Equal(t, want, names(quick.Corrupt))
}

func sorted(s ...string) []string { slices.Sort(s); return s }

// testVerifyMany damages many objects, alternately at the same size (found by the concurrent
// full reads) and at another size (found from the listing), so both kinds of finding are
// recorded at once; under -race this is what caught an unguarded write.
func testVerifyMany(t *testing.T, h Harness) {
	remote := h.Remote(t)
	c := newClient(t, h, remote, func(cfg *backup.Config) { cfg.Transfers = 8 })
	src := filepath.Join(t.TempDir(), "src")
	require.NoError(t, os.MkdirAll(src, 0o755))
	const n = 64
	for i := range n {
		require.NoError(t, os.WriteFile(filepath.Join(src, fmt.Sprintf("f%02d", i)), []byte(fmt.Sprintf("content %02d\n", i)), 0o644))
	}
	res, err := c.Snapshot(context.Background(), backup.Set{Name: "site", Paths: []string{src}}, nil)
	require.NoError(t, err)
	f := rcloneFs(t, h, remote)
	ctx := context.Background()
	var want []string
	for _, e := range res.Manifest.Entries {
		if e.Type != backup.TypeFile {
			continue
		}
		obj := dataObject(e.SHA256)
		data := []byte(strings.ToUpper(fmt.Sprintf("content %s\n", filepath.Base(e.Path)[1:])))
		if len(want)%2 == 1 {
			data = append(data, '!')
		}
		o, err := f.NewObject(ctx, obj)
		require.NoError(t, err)
		require.NoError(t, o.Update(ctx, bytes.NewReader(data), object.NewStaticObjectInfo(obj, time.Now(), int64(len(data)), true, nil, f)))
		want = append(want, obj)
	}
	slices.Sort(want)
	rep, err := c.Verify(ctx, backup.Ref{Set: "site"}, &backup.VerifyOptions{Full: true})
	require.NoError(t, err)
	var got []string
	for _, p := range rep.Corrupt {
		got = append(got, p.Object)
	}
	assert.Equal(t, want, got)
	assert.Empty(t, rep.Missing)
}

func testLockExcludes(t *testing.T, h Harness) {
	remote := h.Remote(t)
	c := newClient(t, h, remote, nil)
	set, _ := sampleSet(t)
	l, err := c.AcquireLock(context.Background(), "site", "test")
	require.NoError(t, err)
	_, err = newClient(t, h, remote, nil).Snapshot(context.Background(), set, nil)
	var locked *backup.LockedError
	require.ErrorAs(t, err, &locked)
	assert.ErrorIs(t, err, webinfra.ErrFailedPrecondition)
	assert.Equal(t, l.Info().ID, locked.Holder.ID)
	require.NoError(t, l.Release(context.Background()))
	require.NoError(t, l.Release(context.Background()), "Release is idempotent")
	_, err = c.Snapshot(context.Background(), set, nil)
	require.NoError(t, err)
}

func testLockStale(t *testing.T, h Harness) {
	remote := h.Remote(t)
	old := newClient(t, h, remote, func(cfg *backup.Config) { cfg.LockTTL = time.Hour })
	l, err := old.AcquireLock(context.Background(), "site", "crashed")
	require.NoError(t, err)
	defer l.Release(context.Background())
	later := newClient(t, h, remote, func(cfg *backup.Config) {
		cfg.Clock = func() time.Time { return time.Now().Add(2 * time.Hour) }
	})
	l2, err := later.AcquireLock(context.Background(), "site", "fresh")
	require.NoError(t, err, "a lock past its expiry must not block")
	defer l2.Release(context.Background())
	locks, err := later.Locks(context.Background(), "", "site")
	require.NoError(t, err)
	require.Len(t, locks, 1)
	assert.Equal(t, l2.Info().ID, locks[0].ID)
}

func testLockRace(t *testing.T, h Harness) {
	remote := h.Remote(t)
	for round := range 5 {
		var wg sync.WaitGroup
		var mu sync.Mutex
		var won []*backup.Lock
		for range 3 {
			wg.Go(func() {
				l, err := newClient(t, h, remote, nil).AcquireLock(context.Background(), "site", "race")
				if err == nil {
					mu.Lock()
					won = append(won, l)
					mu.Unlock()
					return
				}
				var locked *backup.LockedError
				assert.ErrorAs(t, err, &locked)
			})
		}
		wg.Wait()
		assert.LessOrEqual(t, len(won), 1, "round %d", round)
		for _, l := range won {
			require.NoError(t, l.Release(context.Background()))
		}
	}
}

func testPrune(t *testing.T, h Harness) {
	remote := h.Remote(t)
	c := newClient(t, h, remote, nil)
	set, src := sampleSet(t)
	ctx := context.Background()
	var ids []string
	for i := range 3 {
		require.NoError(t, os.WriteFile(filepath.Join(src, "www/index.html"), []byte(strings.Repeat("v", i+1)), 0o644))
		res, err := c.Snapshot(ctx, set, nil)
		require.NoError(t, err)
		ids = append(ids, res.Info.ID)
	}
	plan, err := c.PlanPrune(ctx, "site", backup.Retention{Last: 1})
	require.NoError(t, err)
	var gone []string
	for _, s := range plan.Remove() {
		gone = append(gone, s.ID)
	}
	assert.Equal(t, []string{ids[1], ids[0]}, gone)
	assert.Zero(t, plan.Objects, "objects younger than the lock TTL are never collected")
	assert.Equal(t, 2, plan.Recent, "the two old versions of index.html, too recent")
	// An hour later (past the lock TTL) they go.
	c = newClient(t, h, remote, func(cfg *backup.Config) { cfg.Clock = func() time.Time { return time.Now().Add(time.Hour) } })
	plan, err = c.PlanPrune(ctx, "site", backup.Retention{Last: 1})
	require.NoError(t, err)
	assert.Equal(t, 2, plan.Objects, "the two old versions of index.html")
	snaps, err := c.List(ctx, "", "site")
	require.NoError(t, err)
	assert.Len(t, snaps, 3, "planning removes nothing")

	res, err := c.Prune(ctx, plan)
	require.NoError(t, err)
	assert.Equal(t, 2, res.Snapshots)
	assert.Equal(t, 2, res.Objects)
	snaps, err = c.List(ctx, "", "site")
	require.NoError(t, err)
	require.Len(t, snaps, 1)
	assert.Equal(t, ids[2], snaps[0].ID)
	rep, err := c.Verify(ctx, backup.Ref{Set: "site"}, &backup.VerifyOptions{Full: true})
	require.NoError(t, err)
	assert.True(t, rep.OK())

	again, err := c.PlanPrune(ctx, "site", backup.Retention{Last: 1})
	require.NoError(t, err)
	assert.Empty(t, again.Remove())
	assert.Zero(t, again.Objects)
	// Even a rule that keeps nothing keeps the newest.
	none, err := c.PlanPrune(ctx, "site", backup.Retention{Hourly: 0, Daily: 0, Yearly: 0, Last: 0, Weekly: 0, Monthly: 0})
	require.NoError(t, err)
	assert.Empty(t, none.Remove())
}

func testPruneOrphans(t *testing.T, h Harness) {
	remote := h.Remote(t)
	c := newClient(t, h, remote, nil)
	set, src := sampleSet(t)
	ctx := context.Background()
	_, err := c.Snapshot(ctx, set, nil)
	require.NoError(t, err)
	extra := filepath.Join(src, "extra")
	require.NoError(t, WriteDataset(extra, 20, 256<<10, 3))
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cc := newClient(t, h, remote, func(cfg *backup.Config) {
		cfg.Progress = func(p backup.Progress) {
			if p.Done {
				cancel() // after every object is up, before the manifest
			}
		}
	})
	_, err = cc.Snapshot(cctx, set, nil)
	require.ErrorIs(t, err, context.Canceled)
	require.NoError(t, os.RemoveAll(extra))

	plan, err := c.PlanPrune(ctx, "site", backup.Retention{Last: 1})
	require.NoError(t, err)
	assert.Empty(t, plan.Remove())
	assert.Equal(t, 20, plan.Recent, "an interrupted run's objects are left while its lock could still be live")
	res, err := c.Prune(ctx, plan)
	require.NoError(t, err)
	assert.Zero(t, res.Objects)
	assert.Equal(t, 20, res.Recent)

	later := newClient(t, h, remote, func(cfg *backup.Config) { cfg.Clock = func() time.Time { return time.Now().Add(time.Hour) } })
	plan, err = later.PlanPrune(ctx, "site", backup.Retention{Last: 1})
	require.NoError(t, err)
	assert.Equal(t, 20, plan.Objects, "the interrupted snapshot's objects are garbage once no snapshot needs them")
	res, err = later.Prune(ctx, plan)
	require.NoError(t, err)
	assert.Equal(t, 20, res.Objects)
	rep, err := c.Verify(ctx, backup.Ref{Set: "site"}, &backup.VerifyOptions{Full: true})
	require.NoError(t, err)
	assert.True(t, rep.OK(), "%+v", rep)
}

func testRestoreSubset(t *testing.T, h Harness) {
	c := newClient(t, h, h.Remote(t), nil)
	set, src := sampleSet(t)
	ctx := context.Background()
	_, err := c.Snapshot(ctx, set, nil)
	require.NoError(t, err)
	base := rel(src)
	dry, err := c.Restore(ctx, backup.Ref{Set: "site"}, filepath.Join(t.TempDir(), "never"), &backup.RestoreOptions{
		Include: []string{base + "/www/*.html", base + "/private"}, DryRun: true})
	require.NoError(t, err)
	want := []string{base, base + "/private", base + "/private/key", base + "/www", base + "/www/copy.html", base + "/www/index.html"}
	assert.Equal(t, want, dry.Paths)
	_, err = os.Stat(filepath.Join(t.TempDir(), "never"))
	assert.ErrorIs(t, err, os.ErrNotExist)

	target := t.TempDir()
	res, err := c.Restore(ctx, backup.Ref{Set: "site"}, target, &backup.RestoreOptions{Include: []string{base + "/www/*.html", base + "/private"}})
	require.NoError(t, err)
	assert.Equal(t, int64(3), res.Files)
	var got []string
	for p := range ReadTree(t, filepath.Join(target, base)) {
		got = append(got, p)
	}
	slices.Sort(got)
	assert.Equal(t, []string{".", "private", "private/key", "www", "www/copy.html", "www/index.html"}, got)
}

func testRestoreCorrupt(t *testing.T, h Harness) {
	remote := h.Remote(t)
	c := newClient(t, h, remote, nil)
	set, src := sampleSet(t)
	ctx := context.Background()
	res, err := c.Snapshot(ctx, set, nil)
	require.NoError(t, err)
	var sum string
	for _, e := range res.Manifest.Entries {
		if strings.HasSuffix(e.Path, "/private/key") {
			sum = e.SHA256
		}
	}
	f := rcloneFs(t, h, remote)
	o, err := f.NewObject(ctx, dataObject(sum))
	require.NoError(t, err)
	data := []byte("SECRET-ISH\n")
	require.NoError(t, o.Update(ctx, bytes.NewReader(data), object.NewStaticObjectInfo(o.Remote(), time.Now(), int64(len(data)), true, nil, f)))
	target := t.TempDir()
	_, err = c.Restore(ctx, backup.Ref{Set: "site"}, target, nil)
	require.ErrorIs(t, err, backup.ErrCorrupt)
	_, err = os.Stat(filepath.Join(target, rel(src), "private/key"))
	assert.True(t, errors.Is(err, os.ErrNotExist), "a corrupt file is never put in place")

	// Over an existing file, the old content stays.
	old := filepath.Join(target, rel(src), "private/key")
	require.NoError(t, os.WriteFile(old, []byte("old\n"), 0o600))
	_, err = c.Restore(ctx, backup.Ref{Set: "site"}, target, &backup.RestoreOptions{Include: []string{rel(src) + "/private"}})
	require.ErrorIs(t, err, backup.ErrCorrupt)
	got, err := os.ReadFile(old)
	require.NoError(t, err)
	assert.Equal(t, "old\n", string(got))
	entries, err := os.ReadDir(filepath.Join(target, rel(src), "private"))
	if err == nil {
		for _, e := range entries {
			assert.NotContains(t, e.Name(), ".restore-", "no temporary file left")
		}
	}
}

func testAbsent(t *testing.T, h Harness) {
	c := newClient(t, h, h.Remote(t), nil)
	_, err := c.Manifest(context.Background(), backup.Ref{Set: "nothing"})
	require.ErrorIs(t, err, backup.ErrSnapshotNotFound)
	assert.ErrorIs(t, err, webinfra.ErrNotFound)
	_, err = c.Verify(context.Background(), backup.Ref{Set: "nothing", ID: "20250101T000000.000Z"}, nil)
	assert.ErrorIs(t, err, backup.ErrSnapshotNotFound)
	snaps, err := c.List(context.Background(), "", "nothing")
	require.NoError(t, err)
	assert.Empty(t, snaps)
}

// testEncryption looks at the remote without the key: with a key, no object's name or content
// shows a path, the set's name or a file's bytes, and stock rclone with the key reads the
// snapshot; without one, the plain layout is there to see.
func testEncryption(t *testing.T, h Harness) {
	remote := h.Remote(t)
	c := newClient(t, h, remote, nil)
	src := filepath.Join(t.TempDir(), "src")
	require.NoError(t, os.MkdirAll(filepath.Join(src, "secret-dir"), 0o755))
	const marker = "PLAINTEXT-MARKER-0123456789"
	require.NoError(t, os.WriteFile(filepath.Join(src, "secret-dir", "secret-name.txt"), []byte(strings.Repeat(marker, 100)), 0o644))
	res, err := c.Snapshot(context.Background(), backup.Set{Name: "site", Paths: []string{src}}, nil)
	require.NoError(t, err)
	conn, err := backup.ConnectionString(remote, "")
	require.NoError(t, err)
	raw, err := fs.NewFs(context.Background(), conn)
	require.NoError(t, err)
	var names []string
	var contents bytes.Buffer
	require.NoError(t, walk.ListR(context.Background(), raw, "", true, -1, walk.ListObjects, func(entries fs.DirEntries) error {
		for _, e := range entries {
			o := e.(fs.Object)
			names = append(names, o.Remote())
			rc, err := o.Open(context.Background())
			if err != nil {
				return err
			}
			_, err = contents.ReadFrom(rc)
			_ = rc.Close()
			if err != nil {
				return err
			}
		}
		return nil
	}))
	require.NotEmpty(t, names)
	all := strings.Join(names, "\n")
	if h.Caps().Key.IsZero() {
		assert.Contains(t, all, "site")
		assert.Contains(t, contents.String(), marker)
		return
	}
	assert.True(t, c.Encrypted())
	for _, leak := range []string{"site", confHost, "secret-dir", "secret-name", "snapshots", "data", res.Manifest.Entries[len(res.Manifest.Entries)-1].SHA256[:16]} {
		assert.NotContains(t, all, leak, "object names on the remote")
	}
	assert.NotContains(t, contents.String(), marker)
	assert.NotContains(t, contents.String(), "secret-name")

	// Stock rclone with the key: the manifest is there under its plain name.
	f := rcloneFs(t, h, remote)
	o, err := f.NewObject(context.Background(), "snapshots/"+confHost+"/site/"+res.Info.ID+".json.gz")
	require.NoError(t, err)
	rc, err := o.Open(context.Background())
	require.NoError(t, err)
	m, err := backup.DecodeManifest(rc)
	_ = rc.Close()
	require.NoError(t, err)
	assert.Equal(t, res.Info.ID, m.Time.UTC().Format("20060102T150405.000Z"))

	// Another key finds nothing.
	other := newClient(t, h, remote, func(cfg *backup.Config) { cfg.Key = webinfra.NewSecret("another key") })
	_, err = other.Manifest(context.Background(), backup.Ref{Set: "site"})
	assert.ErrorIs(t, err, backup.ErrSnapshotNotFound)
}
