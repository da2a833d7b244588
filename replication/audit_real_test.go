package replication_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra/internal/testutil"
	"github.com/webinfra/webinfra/replication"
)

// TestAuditRealDriftAndConflict injects, on three real syncthing instances with a as the
// writer, a metadata drift (chmod on the receive-only replica c behind Syncthing's back, then
// a rescan) and a conflict (a and b sendreceive for a moment, both writing the same file);
// Audit must find both, and Repair must fix the drift (a revert of c) and leave the conflict
// copy to a person.
func TestAuditRealDriftAndConflict(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts three syncthing instances")
	}
	c := startRealCluster(t, "svc-audit", "a", "a", "b", "c")
	ctx, cl := t.Context(), c.clients()
	require.NoError(t, writeSynced(filepath.Join(c.dirs["a"], "data.txt"), []byte("data\n"), 0o644))
	require.NoError(t, writeSynced(filepath.Join(c.dirs["a"], "same.txt"), []byte("v0\n"), 0o644))
	require.NoError(t, cl["a"].Scan(ctx, c.folder, ""))
	waitFiles(t, c, map[string]string{"data.txt": "data\n", "same.txt": "v0\n"})
	rep, err := c.engine.Audit(ctx, c.folder)
	require.NoError(t, err)
	require.True(t, rep.Clean(), "%v", rep)
	assert.Equal(t, 2, rep.Files[c.folder])

	// Drift: chmod on c, rescan.
	require.NoError(t, os.Chmod(filepath.Join(c.dirs["c"], "data.txt"), 0o600))
	require.NoError(t, cl["c"].Scan(ctx, c.folder, ""))
	// Conflict: a and b both writers, both change same.txt.
	require.NoError(t, cl["b"].PatchFolder(ctx, c.folder, map[string]any{"type": replication.SendReceive}))
	require.NoError(t, writeSynced(filepath.Join(c.dirs["a"], "same.txt"), []byte("from a\n"), 0o644))
	require.NoError(t, writeSynced(filepath.Join(c.dirs["b"], "same.txt"), []byte("from b\n"), 0o644))
	testutil.Eventually(t, 10*time.Second, func() error { return errors.Join(cl["a"].Scan(ctx, c.folder, ""), cl["b"].Scan(ctx, c.folder, "")) })

	var found *replication.AuditReport
	testutil.Eventually(t, 60*time.Second, func() error {
		r, err := c.engine.Audit(ctx, c.folder)
		if err != nil {
			return err
		}
		found = r
		if len(r.Of(replication.FindingConflictCopy)) == 0 || len(r.Of(replication.FindingMetadataDrift)) == 0 {
			return fmt.Errorf("not yet: %v", r)
		}
		return nil
	})
	t.Logf("%v", found)
	require.NoError(t, cl["b"].PatchFolder(ctx, c.folder, map[string]any{"type": replication.ReceiveOnly}))

	drift := found.Of(replication.FindingMetadataDrift)
	require.NotEmpty(t, drift)
	assert.Equal(t, "c", drift[0].Node)
	assert.Equal(t, "data.txt", drift[0].Path)
	assert.Contains(t, drift[0].Detail, "mode 0600, want 0644")
	assert.Equal(t, replication.RepairRevert, drift[0].Repair)
	local := found.Of(replication.FindingLocalChange)
	require.NotEmpty(t, local)
	assert.Equal(t, "c", local[0].Node)
	for _, f := range found.Of(replication.FindingConflictCopy) {
		assert.Regexp(t, `^same\.sync-conflict-\d{8}-\d{6}-[A-Z0-9]{7}\.txt$`, f.Path)
		assert.Empty(t, f.Repair)
	}

	// Repair: revert c; the conflict copy needs a person.
	fixed, err := c.engine.Repair(ctx, found)
	require.NoError(t, err)
	t.Logf("repair: %+v", fixed.Actions)
	assert.Contains(t, fixed.Actions, replication.RepairAction{Node: "c", Folder: c.folder, Action: replication.RepairRevert, Findings: len(drift) + len(local)})
	assert.NotEmpty(t, fixed.Skipped)
	testutil.Eventually(t, 30*time.Second, func() error {
		r, err := c.engine.Audit(ctx, c.folder)
		if err != nil {
			return err
		}
		if n := len(r.Of(replication.FindingMetadataDrift)) + len(r.Of(replication.FindingLocalChange)); n > 0 {
			return fmt.Errorf("still %d drift/local findings: %v", n, r)
		}
		if len(r.Of(replication.FindingConflictCopy)) == 0 {
			return fmt.Errorf("the conflict copy must stay reported: %v", r)
		}
		return nil
	})
	fi, err := os.Stat(filepath.Join(c.dirs["c"], "data.txt"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), fi.Mode().Perm(), "revert restored the writer's mode on disk")
}

// waitFiles polls until every node has every file with its content.
func waitFiles(t *testing.T, c *realCluster, files map[string]string) {
	t.Helper()
	testutil.Eventually(t, 30*time.Second, func() error {
		for _, n := range c.nodes {
			for name, want := range files {
				b, err := os.ReadFile(filepath.Join(c.dirs[n], name))
				if err != nil {
					return err
				}
				if string(b) != want {
					return fmt.Errorf("node %s: %s = %q, want %q", n, name, b, want)
				}
			}
		}
		return nil
	})
}
