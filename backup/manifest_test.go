package backup_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
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
	} {
		_, err := backup.DecodeManifest(bytes.NewReader(data))
		assert.ErrorIs(t, err, backup.ErrCorrupt, name)
	}
}

// A manifest cut short (an upload interrupted on a backend that writes in place) never becomes
// the latest: the previous good one stays.
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
	m, err := c.Manifest(context.Background(), backup.Ref{Set: "s"})
	require.NoError(t, err)
	assert.Equal(t, first.Info.Time, m.Time.UTC())
	_, err = c.Manifest(context.Background(), backup.Ref{Set: "s", ID: second.Info.ID})
	assert.ErrorIs(t, err, backup.ErrCorrupt)
	plan, err := c.PlanPrune(context.Background(), "s", backup.Retention{Last: 5})
	require.NoError(t, err)
	require.Len(t, plan.Damaged, 1)
	_, err = c.Prune(context.Background(), plan)
	require.NoError(t, err)
	snaps, err := c.List(context.Background(), "", "s")
	require.NoError(t, err)
	assert.Equal(t, []backup.SnapshotInfo{first.Info}, snaps)
}
