package main

import (
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra/examples/deploy/stack"
	"github.com/webinfra/webinfra/replication"
	"github.com/webinfra/webinfra/replication/replicationtest"
)

// Every data folder lives on exactly its replica count of workers, with one writer, shared
// with exactly its other holders at their mesh addresses; device IDs survive a second run.
func TestSyncthingStatesOfTheDemo(t *testing.T) {
	st, err := stack.Parse(demoStack)
	require.NoError(t, err)
	placement, err := placeData(st)
	require.NoError(t, err)
	state := t.TempDir()
	ids, err := syncthingIdentities(st, state)
	require.NoError(t, err)
	assert.Len(t, ids, 5)
	for node, k := range ids {
		assert.NotNil(t, k.change, "the identity of %s is new", node)
	}
	assert.NoDirExists(t, filepath.Join(state, "syncthing"), "planning writes nothing")
	sd := &stateDir{root: state, log: slog.New(slog.DiscardHandler)}
	for _, k := range ids {
		require.NoError(t, k.keep(sd))
	}
	again, err := syncthingIdentities(st, state)
	require.NoError(t, err)
	for node, k := range ids {
		assert.Nil(t, again[node].change, "identity of %s kept whole", node)
		assert.Equal(t, k.id.DeviceID(), again[node].id.DeviceID(), "identity of %s kept", node)
	}
	network, err := meshNetwork(st).Allocate(nil)
	require.NoError(t, err)
	states, err := syncthingStates(st, network, ids, placement)
	require.NoError(t, err)

	replicas := map[string]int{}
	for _, site := range st.Sites {
		for _, d := range site.Data {
			replicas[d.Name] = d.Replicas
		}
	}
	holders, writers := map[string]int{}, map[string]int{}
	empty := 0
	for node, s := range states {
		require.NoError(t, s.Validate(), node)
		if len(s.Folders) == 0 {
			empty++
		}
		for _, f := range s.Folders {
			holders[f.ID]++
			if f.Type == replication.SendReceive {
				writers[f.ID]++
			}
			assert.Len(t, f.Devices, replicas[f.ID]-1, "%s on %s is shared with its other holders", f.ID, node)
		}
		for _, d := range s.Devices {
			require.Len(t, d.Addresses, 1)
			assert.Equal(t, "tcp://"+network.Node(d.Name).Address.String()+":22000", d.Addresses[0])
		}
	}
	assert.Equal(t, replicas, holders)
	assert.Equal(t, map[string]int{"www-content": 1, "shop-uploads": 1, "shop-db": 1}, writers)
	assert.Positive(t, empty, "sharding: some worker holds no folder")
}

// A worker whose Syncthing is given by SYNCTHING_URL_NODE and SYNCTHING_API_KEY_NODE is planned
// and applied against that instance; the others stay simulated, and the plan says so.
func TestSyncthingCredentialsSelectTheRealInstance(t *testing.T) {
	simulated(t)
	state := t.TempDir()
	code, _, errOut := runDeploy(t, "--state", state) // makes and keeps the identities
	require.Equal(t, 0, code, errOut)
	id, err := replication.LoadIdentity(filepath.Join(state, "syncthing", "node-ams-1"))
	require.NoError(t, err)
	srv := replicationtest.NewServerWithID(id.DeviceID())
	t.Cleanup(srv.Close)
	t.Setenv("SYNCTHING_URL_NODE_AMS_1", srv.URL())
	t.Setenv("SYNCTHING_API_KEY_NODE_AMS_1", srv.APIKey().Reveal())

	code, out, errOut := runDeploy(t, "--state", state)
	require.Equal(t, 0, code, errOut)
	assert.Regexp(t, `(?m)^  replication\s+simulated\s+Syncthing REST API\s+real on node-ams-1 \(SYNCTHING_URL_NODE, SYNCTHING_API_KEY_NODE\), simulated on the other 4 workers$`, out)
	assert.Contains(t, out, "\n## replication node node-ams-1: ")
	var folders []string
	for _, f := range srv.Folders() {
		folders = append(folders, f.ID)
	}
	assert.NotEmpty(t, folders, "the instance given was configured")
	assert.Subset(t, []string{"www-content", "shop-db", "shop-uploads"}, folders)
}
