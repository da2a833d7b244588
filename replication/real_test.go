package replication_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/internal/testbin"
	"github.com/webinfra/webinfra/internal/testutil"
	"github.com/webinfra/webinfra/replication"
	"github.com/webinfra/webinfra/replication/replicationtest"
)

// TestRealMetadataReplication runs three real syncthing instances on loopback, configures each
// with PlanNode/ApplyNode from desired states that share one folder between n1 and n2 only,
// and checks that a file written on n1 with mode 0640, uid/gid 1234 and a user xattr arrives on
// n2 identical, while n3 never gets the folder.
func TestRealMetadataReplication(t *testing.T) {
	testbin.RequireRoot(t)
	if testing.Short() {
		t.Skip("-short: starts three real syncthing instances")
	}
	ctx := t.Context()
	nodes := make([]*replicationtest.Instance, 3)
	for i := range nodes {
		nodes[i] = replicationtest.StartSyncthing(t, replicationtest.Options{Name: fmt.Sprintf("n%d", i+1)})
	}
	dirs := make([]string, 3)
	for i := range dirs {
		dirs[i] = filepath.Join(t.TempDir(), "web-data")
		require.NoError(t, os.MkdirAll(dirs[i], 0o755))
	}
	desired := func(i int) replication.NodeState {
		s := replication.NodeState{DeviceID: nodes[i].DeviceID}
		for j, n := range nodes {
			if j != i {
				s.Devices = append(s.Devices, replication.DeviceState{ID: n.DeviceID, Name: n.Name, Addresses: []string{n.ListenAddress}})
			}
		}
		if i < 2 {
			s.Folders = []replication.FolderState{{ID: "web-data", Label: "web data", Path: dirs[i],
				Devices: []string{nodes[1-i].DeviceID}, FSWatcherDelay: time.Second}}
		}
		return s
	}
	for i, n := range nodes {
		p, err := replication.PlanNode(ctx, n.Client, desired(i))
		require.NoError(t, err)
		t.Logf("plan of %s:\n%s", n.Name, p.Plan())
		require.NoError(t, replication.ApplyNode(ctx, n.Client, p))
		again, err := replication.PlanNode(ctx, n.Client, desired(i))
		require.NoError(t, err)
		require.True(t, again.Empty(), "second plan of %s:\n%s", n.Name, again.Plan())
	}

	src := filepath.Join(dirs[0], "index.html")
	content := []byte("<h1>replicated with its metadata</h1>\n")
	require.NoError(t, os.WriteFile(src, content, 0o600))
	require.NoError(t, os.Chmod(src, 0o640))
	require.NoError(t, os.Chown(src, 1234, 1234))
	require.NoError(t, unix.Setxattr(src, "user.webinfra", []byte("1"), 0))
	written := time.Now()
	require.NoError(t, nodes[0].Client.Scan(ctx, "web-data", ""))

	dst := filepath.Join(dirs[1], "index.html")
	testutil.Eventually(t, 60*time.Second, func() error {
		got, err := os.ReadFile(dst)
		if err != nil {
			return err
		}
		if !bytes.Equal(got, content) {
			return fmt.Errorf("content %q", got)
		}
		var st unix.Stat_t
		if err := unix.Lstat(dst, &st); err != nil {
			return err
		}
		if st.Mode&0o7777 != 0o640 || st.Uid != 1234 || st.Gid != 1234 {
			return fmt.Errorf("mode %o uid %d gid %d", st.Mode&0o7777, st.Uid, st.Gid)
		}
		buf := make([]byte, 16)
		n, err := unix.Getxattr(dst, "user.webinfra", buf)
		if err != nil {
			return fmt.Errorf("xattr: %w", err)
		}
		if string(buf[:n]) != "1" {
			return fmt.Errorf("xattr %q", buf[:n])
		}
		return nil
	})
	t.Logf("file arrived on n2 with mode, owner and xattr %v after the scan request", time.Since(written).Round(10*time.Millisecond))

	fv, err := nodes[1].Client.File(ctx, "web-data", "index.html")
	require.NoError(t, err)
	mode, err := fv.Local.Mode()
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), mode)
	require.NotNil(t, fv.Local.Platform.Unix)
	assert.Equal(t, 1234, fv.Local.Platform.Unix.UID)
	assert.Equal(t, 1234, fv.Local.Platform.Unix.GID)
	require.NotNil(t, fv.Local.Platform.Linux)
	assert.Equal(t, []replication.Xattr{{Name: "user.webinfra", Value: []byte("1")}}, fv.Local.Platform.Linux.Xattrs)
	testutil.Eventually(t, 30*time.Second, func() error {
		c, err := nodes[0].Client.Completion(ctx, "web-data", nodes[1].DeviceID)
		if err != nil {
			return err
		}
		if c.Completion != 100 {
			return fmt.Errorf("n2 at %v%%", c.Completion)
		}
		return nil
	})

	folders, err := nodes[2].Client.Folders(ctx)
	require.NoError(t, err)
	assert.Empty(t, folders, "n3 has no folder")
	pending, err := nodes[2].Client.PendingFolders(ctx, "")
	require.NoError(t, err)
	assert.NotContains(t, pending, "web-data", "nobody offered the folder to n3")
	_, err = nodes[2].Client.DBStatus(ctx, "web-data")
	assert.ErrorIs(t, err, webinfra.ErrNotFound)
	_, err = os.Stat(filepath.Join(dirs[2], "index.html"))
	assert.ErrorIs(t, err, os.ErrNotExist, "n3's directory stays empty")
}
