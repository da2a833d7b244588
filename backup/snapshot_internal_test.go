package backup

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A file that vanishes before it is read, and one that changes on every read, are left out and
// counted; the snapshot completes and restores without them.
func TestSnapshotLeavesOutVanishedAndChangingFiles(t *testing.T) {
	remote := t.TempDir()
	c, err := New(Config{Remote: remote, Encryption: EncryptionNone, Host: "h"})
	require.NoError(t, err)
	src := t.TempDir()
	for _, n := range []string{"gone", "busy", "calm"} {
		require.NoError(t, os.WriteFile(filepath.Join(src, n), []byte(n), 0o644))
	}
	n := 0
	c.beforeRead = func(p string) {
		switch filepath.Base(p) {
		case "gone":
			_ = os.Remove(p)
		case "busy": // rewritten in place, at the same size, before every read
			n++
			require.NoError(t, os.WriteFile(p, []byte{'b', 'u', 's', byte('a' + n%26)}, 0o644))
		}
	}
	res, err := c.Snapshot(context.Background(), Set{Name: "s", Paths: []string{src}}, nil)
	require.NoError(t, err)
	assert.Equal(t, int64(1), res.Vanished)
	assert.Equal(t, int64(1), res.Changing)
	rel := strings.TrimPrefix(src, "/")
	assert.Equal(t, []string{rel + "/busy", rel + "/gone"}, res.Left)
	assert.Equal(t, int64(1), res.Files)
	var paths []string
	for _, e := range res.Manifest.Entries {
		paths = append(paths, e.Path)
	}
	assert.Equal(t, []string{rel, rel + "/calm"}, paths)

	c.beforeRead = nil
	rep, err := c.Verify(context.Background(), Ref{Set: "s"}, &VerifyOptions{Full: true})
	require.NoError(t, err)
	assert.True(t, rep.OK())
	target := t.TempDir()
	_, err = c.Restore(context.Background(), Ref{Set: "s"}, target, nil)
	require.NoError(t, err)
	data, err := os.ReadFile(filepath.Join(target, rel, "calm"))
	require.NoError(t, err)
	assert.Equal(t, "calm", string(data))
}
