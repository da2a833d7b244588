package replication_test

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra/internal/testbin"
	"github.com/webinfra/webinfra/internal/testutil"
	"github.com/webinfra/webinfra/replication"
	"github.com/webinfra/webinfra/replication/replicationtest"
)

// A replica seeded by Seed is taken over by Syncthing as it is: the new receive-only holder
// finds every file equal to the global version, so it reports no local change and fetches
// nothing, and the files keep their metadata.
func TestRealSeededReplicaNeedsNothing(t *testing.T) {
	testbin.RequireRoot(t)
	ctx := t.Context()
	a := replicationtest.StartSyncthing(t, replicationtest.Options{Name: "a"})
	b := replicationtest.StartSyncthing(t, replicationtest.Options{Name: "b"})
	dirA, dirB := filepath.Join(t.TempDir(), "site"), filepath.Join(t.TempDir(), "site")
	require.NoError(t, os.MkdirAll(filepath.Join(dirA, "uploads"), 0o755))
	for i := range 20 {
		p := filepath.Join(dirA, "uploads", fmt.Sprintf("f%02d.bin", i))
		data := make([]byte, 4096*(i+1)) // 860 KiB in all, random so nothing compresses it
		_, _ = rand.Read(data)
		require.NoError(t, os.WriteFile(p, data, 0o640))
		require.NoError(t, os.Chown(p, 1234, 1234))
	}
	folder := func(path, peer string, typ replication.FolderType) replication.FolderState {
		return replication.FolderState{ID: "site", Path: path, Type: typ, Devices: []string{peer}, FSWatcherDelay: time.Second}
	}
	apply := func(n *replicationtest.Instance, peer *replicationtest.Instance, folders ...replication.FolderState) {
		s := replication.NodeState{DeviceID: n.DeviceID, Devices: []replication.DeviceState{{ID: peer.DeviceID, Name: peer.Name, Addresses: []string{peer.ListenAddress}}}, Folders: folders}
		p, err := replication.PlanNode(ctx, n.Client, s)
		require.NoError(t, err)
		require.NoError(t, replication.ApplyNode(ctx, n.Client, p))
	}
	apply(a, b, folder(dirA, b.DeviceID, replication.SendReceive))
	apply(b, a)
	testutil.Eventually(t, 30*time.Second, func() error {
		st, err := a.Client.DBStatus(ctx, "site")
		if err != nil || st.State != "idle" || st.LocalFiles != 20 {
			return fmt.Errorf("a not scanned: %+v %v", st, err)
		}
		return nil
	})

	stats, err := replication.Seed(ctx, dirA, dirB, nil)
	require.NoError(t, err)
	assert.EqualValues(t, 20, stats.Files)

	apply(b, a, folder(dirB, a.DeviceID, replication.ReceiveOnly))
	testutil.Eventually(t, 60*time.Second, func() error {
		c, err := a.Client.Completion(ctx, "site", b.DeviceID)
		if err != nil {
			return err
		}
		st, err := b.Client.DBStatus(ctx, "site")
		if err != nil {
			return err
		}
		if c.RemoteState != "valid" || c.Completion != 100 || st.State != "idle" || st.NeedFiles != 0 || st.LocalFiles != 20 {
			return fmt.Errorf("b not in sync: completion %v (%s), state %s, need %d, local %d", c.Completion, c.RemoteState, st.State, st.NeedFiles, st.LocalFiles)
		}
		return nil
	})
	st, err := b.Client.DBStatus(ctx, "site")
	require.NoError(t, err)
	assert.Zero(t, st.ReceiveOnlyTotalItems, "the seeded files are not local changes")
	changed, err := b.Client.LocalChanged(ctx, "site")
	require.NoError(t, err)
	assert.Empty(t, changed)
	// Only indexes crossed the wire, not the 860 KiB of file data.
	received := inBytes(t, b, a.DeviceID)
	t.Logf("b received %d bytes from a after the seed (without it: about 860 KiB of data)", received)
	assert.Less(t, received, int64(200<<10), "b fetched file data that the seed had already put in place")
	fv, err := b.Client.File(ctx, "site", "uploads/f07.bin")
	require.NoError(t, err)
	require.NotNil(t, fv.Local.Platform.Unix)
	assert.Equal(t, 1234, fv.Local.Platform.Unix.UID)
	assert.Equal(t, fv.Global.Version, fv.Local.Version, "b's copy is the global version")
}

// inBytes is how many bytes n has received from the device over its connection
// (/rest/system/connections, which the client does not model).
func inBytes(t *testing.T, n *replicationtest.Instance, from string) int64 {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, n.BaseURL+"/rest/system/connections", nil)
	require.NoError(t, err)
	req.Header.Set("X-API-Key", n.APIKey.Reveal())
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out struct {
		Connections map[string]struct {
			InBytesTotal int64 `json:"inBytesTotal"`
		} `json:"connections"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	c, ok := out.Connections[from]
	require.True(t, ok, "no connection from %s", from)
	return c.InBytesTotal
}
