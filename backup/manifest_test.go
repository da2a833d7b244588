package backup_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra/backup"
	"github.com/webinfra/webinfra/backup/backuptest"
)

func sampleManifest() *backup.Manifest {
	return &backup.Manifest{
		Version: backup.ManifestVersion, Host: "web-1", Set: "www", Time: time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC),
		Paths: []string{"/srv/www"},
		Entries: []backup.Entry{
			{Path: "srv/www", Type: backup.TypeDir, Mode: 0o2775, UID: 33, GID: 33, User: "www-data", Group: "www-data", MTime: time.Unix(1, 5).UTC()},
			{Path: "srv/www/a", Type: backup.TypeFile, Size: 3, SHA256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
				MD5: "900150983cd24fb0d6963f7d28e17f72", Mode: 0o644, MTime: time.Unix(2, 7).UTC(), Xattrs: map[string][]byte{"user.k": []byte("v\x00")}},
			{Path: "srv/www/l", Type: backup.TypeSymlink, Target: "a", MTime: time.Unix(3, 0).UTC()},
		},
	}
}

func encode(t testing.TB, m *backup.Manifest) []byte {
	var buf bytes.Buffer
	require.NoError(t, backup.EncodeManifest(&buf, m))
	return buf.Bytes()
}

func gz(s string) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, _ = w.Write([]byte(s))
	_ = w.Close()
	return buf.Bytes()
}

func TestManifestRoundTrip(t *testing.T) {
	m := sampleManifest()
	got, err := backup.DecodeManifest(bytes.NewReader(encode(t, m)))
	require.NoError(t, err)
	assert.Equal(t, m, got)
	files, size := got.Files()
	assert.Equal(t, int64(1), files)
	assert.Equal(t, int64(3), size)
}

func TestManifestDecodeRefuses(t *testing.T) {
	good := encode(t, sampleManifest())
	with := func(f func(*backup.Manifest)) []byte {
		m := sampleManifest()
		f(m)
		return encode(t, m)
	}
	for name, data := range map[string][]byte{
		"truncated":     good[:len(good)-4],
		"not gzip":      []byte(`{"version":1}`),
		"unknown field": gz(`{"version":1,"host":"h","set":"s","time":"2026-01-01T00:00:00Z","entries":[],"extra":1}`),
		"trailing data": gz(`{"version":1,"host":"h","set":"s","time":"2026-01-01T00:00:00Z","entries":[]} {}`),
		"version":       with(func(m *backup.Manifest) { m.Version = 2 }),
		"absolute":      with(func(m *backup.Manifest) { m.Entries[0].Path = "/etc" }),
		"dotdot":        with(func(m *backup.Manifest) { m.Entries[0].Path = "../etc" }),
		"inner dotdot":  with(func(m *backup.Manifest) { m.Entries[2].Path = "srv/www/../../x" }),
		"unsorted":      with(func(m *backup.Manifest) { m.Entries[0], m.Entries[1] = m.Entries[1], m.Entries[0] }),
		"bad hash":      with(func(m *backup.Manifest) { m.Entries[1].SHA256 = "XYZ" }),
		"mode bits":     with(func(m *backup.Manifest) { m.Entries[1].Mode = 0o170000 }),
		"type":          with(func(m *backup.Manifest) { m.Entries[1].Type = "fifo" }),
		"symlink":       with(func(m *backup.Manifest) { m.Entries[2].Target = "" }),
		"host":          with(func(m *backup.Manifest) { m.Host = "../x" }),
		"dot":           with(func(m *backup.Manifest) { m.Entries[0].Path = "." }),
		"empty":         with(func(m *backup.Manifest) { m.Entries[0].Path = "" }),
		"long name":     with(func(m *backup.Manifest) { m.Entries[2].Path = "srv/www/" + strings.Repeat("x", 256) }),
		"nul":           with(func(m *backup.Manifest) { m.Entries[2].Path = "srv/www/l\x00" }),
		"size overflow": with(func(m *backup.Manifest) {
			m.Entries = append(m.Entries, m.Entries[1], m.Entries[1])
			m.Entries[3].Path, m.Entries[4].Path = "srv/www/m", "srv/www/n"
			m.Entries[1].Size, m.Entries[3].Size, m.Entries[4].Size = math.MaxInt64/2, math.MaxInt64/2, math.MaxInt64/2
		}),
	} {
		_, err := backup.DecodeManifest(bytes.NewReader(data))
		assert.ErrorIs(t, err, backup.ErrCorrupt, name)
	}
}

// A manifest cut short (an upload interrupted on a backend that writes in place) is reported
// when "latest" resolves to it, never silently replaced by an older one; FallBack takes the
// previous good one, explicitly. With every manifest damaged, the error is ErrCorrupt.
func TestTruncatedManifestIsNotLatest(t *testing.T) {
	remote := backuptest.LocalRemote(t)
	c, err := backup.New(backup.Config{Remote: remote, Encryption: backup.EncryptionNone, Host: "h"})
	require.NoError(t, err)
	src := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(src, "f"), []byte("x"), 0o644))
	set := backup.Set{Name: "s", Paths: []string{src}}
	first, err := c.Snapshot(context.Background(), set, nil)
	require.NoError(t, err)
	second, err := c.Snapshot(context.Background(), set, nil)
	require.NoError(t, err)
	p := filepath.Join(remote, "snapshots/h/s", second.Info.ID+".json.gz")
	data, err := os.ReadFile(p)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(p, data[:len(data)/2], 0o644))
	_, err = c.Manifest(context.Background(), backup.Ref{Set: "s"})
	require.ErrorIs(t, err, backup.ErrCorrupt)
	assert.Contains(t, err.Error(), second.Info.ID)
	_, err = c.Restore(context.Background(), backup.Ref{Set: "s"}, t.TempDir(), nil)
	require.ErrorIs(t, err, backup.ErrCorrupt)
	m, err := c.Manifest(context.Background(), backup.Ref{Set: "s", FallBack: true})
	require.NoError(t, err)
	assert.Equal(t, first.Info.Time, m.Time.UTC())
	rr, err := c.Restore(context.Background(), backup.Ref{Set: "s", FallBack: true}, t.TempDir(), nil)
	require.NoError(t, err)
	assert.Equal(t, first.Info.ID, rr.Snapshot.ID)

	// A third snapshot still works (it falls back for its change check) and is the latest.
	third, err := c.Snapshot(context.Background(), set, nil)
	require.NoError(t, err)
	m, err = c.Manifest(context.Background(), backup.Ref{Set: "s"})
	require.NoError(t, err)
	assert.Equal(t, third.Info.ID, m.Info().ID)
	_, err = c.Manifest(context.Background(), backup.Ref{Set: "s", ID: second.Info.ID})
	assert.ErrorIs(t, err, backup.ErrCorrupt)
	plan, err := c.PlanPrune(context.Background(), "s", backup.Retention{Last: 5})
	require.NoError(t, err)
	require.Len(t, plan.Damaged, 1)
	_, err = c.Prune(context.Background(), plan)
	require.NoError(t, err)
	snaps, err := c.List(context.Background(), "", "s")
	require.NoError(t, err)
	assert.Equal(t, []backup.SnapshotInfo{first.Info, third.Info}, snaps)
}

// With every manifest damaged, "latest" is corrupt, not absent, even with FallBack.
func TestAllManifestsDamagedIsCorrupt(t *testing.T) {
	remote := backuptest.LocalRemote(t)
	c, err := backup.New(backup.Config{Remote: remote, Encryption: backup.EncryptionNone, Host: "h"})
	require.NoError(t, err)
	src := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(src, "f"), []byte("x"), 0o644))
	res, err := c.Snapshot(context.Background(), backup.Set{Name: "s", Paths: []string{src}}, nil)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(remote, "snapshots/h/s", res.Info.ID+".json.gz"), []byte("junk"), 0o644))
	for _, fb := range []bool{false, true} {
		_, err = c.Manifest(context.Background(), backup.Ref{Set: "s", FallBack: fb})
		assert.ErrorIs(t, err, backup.ErrCorrupt)
		assert.NotErrorIs(t, err, backup.ErrSnapshotNotFound)
	}
}

// A small gzip bomb is refused after a bounded amount of work and memory, and an honest
// manifest expands far less than the cap.
func TestManifestGzipBombRefused(t *testing.T) {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zeros := make([]byte, 1<<20)
	for range 512 { // 512 MiB of zeros in about half a megabyte
		_, _ = w.Write(zeros)
	}
	require.NoError(t, w.Close())
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := backup.DecodeManifest(bytes.NewReader(buf.Bytes()))
	runtime.ReadMemStats(&after)
	require.ErrorIs(t, err, backup.ErrCorrupt)
	assert.Contains(t, err.Error(), "expands at most")
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(256<<20), "bytes allocated decoding a %d-byte bomb", buf.Len())
}

func TestManifestCompressionRatio(t *testing.T) {
	m := &backup.Manifest{Version: backup.ManifestVersion, Host: "web-1", Set: "www", Time: time.Now().UTC()}
	for i := range 20000 {
		sum := sha256.Sum256([]byte(strconv.Itoa(i)))
		m.Entries = append(m.Entries, backup.Entry{Path: fmt.Sprintf("srv/www/d%03d/file-%05d.html", i/100, i), Type: backup.TypeFile,
			Size: int64(i * 37), SHA256: hex.EncodeToString(sum[:]), Mode: 0o644, UID: 33, GID: 33, User: "www-data", Group: "www-data",
			MTime: time.Unix(1767225600+int64(i), int64(i)*7919).UTC(), CTime: int64(i) * 1e9, Inode: uint64(1000 + i)})
	}
	slices.SortFunc(m.Entries, func(a, b backup.Entry) int { return strings.Compare(a.Path, b.Path) })
	data := encode(t, m)
	raw, err := io.ReadAll(must(gzip.NewReader(bytes.NewReader(data))))
	require.NoError(t, err)
	ratio := float64(len(raw)) / float64(len(data))
	t.Logf("manifest of %d entries: %d bytes, %d compressed, ratio %.1f", len(m.Entries), len(raw), len(data), ratio)
	assert.Less(t, ratio, 16.0, "honest manifests must stay well under the cap of 64")
	_, err = backup.DecodeManifest(bytes.NewReader(data))
	require.NoError(t, err)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
