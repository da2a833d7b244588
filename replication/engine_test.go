package replication_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/replication"
	"github.com/webinfra/webinfra/replication/replicationtest"
)

func TestNewSyncthingEngineRefusesBadNodes(t *testing.T) {
	_, err := replication.NewSyncthingEngine(nil)
	assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
	_, err = replication.NewSyncthingEngine(map[string]*replication.Client{"a": nil})
	assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
}

// TestSyncthingEnginePlanApplyFailover drives the engine end to end against fakes: Plan/Apply
// converge (a second Plan is empty), Failover moves the writer, Audit runs, and unknown nodes
// are refused.
func TestSyncthingEnginePlanApplyFailover(t *testing.T) {
	fc := newFakeCluster(t, false, "web", abc(), "a", "b")
	e, err := replication.NewSyncthingEngine(fc.clients)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, e.Nodes())

	p := replication.Placement{"web": {"a", "b"}}
	types, err := replication.FolderTypes(p, "web", "a")
	require.NoError(t, err)
	desired := map[string]replication.NodeState{}
	for _, n := range []string{"a", "b"} {
		o := map[string]string{"a": "b", "b": "a"}[n]
		desired[n] = replication.NodeState{DeviceID: fc.srv[n].DeviceID(),
			Devices: []replication.DeviceState{{ID: fc.srv[o].DeviceID(), Name: o}},
			Folders: []replication.FolderState{{ID: "web", Path: "/data/" + n + "/web", Type: types[n], Devices: []string{fc.srv[o].DeviceID()}}}}
	}
	plans, err := e.Plan(t.Context(), desired)
	require.NoError(t, err)
	require.NoError(t, e.Apply(t.Context(), plans))
	again, err := e.Plan(t.Context(), desired)
	require.NoError(t, err)
	for n, pl := range again {
		assert.True(t, pl.Empty(), "node %s: %v", n, pl.Plan())
	}

	rep, err := e.Failover(t.Context(), "web", "a", "b", nil)
	require.NoError(t, err)
	assert.False(t, rep.AlreadyDone)
	assert.Equal(t, replication.WriterType, fc.typeOf(t, "b"))

	fc.srv["b"].AddFault(replicationFaultBrowseEmpty)
	audit, err := e.Audit(t.Context(), "web")
	require.NoError(t, err)
	assert.True(t, audit.Clean(), "%v", audit)
	fixed, err := e.Repair(t.Context(), audit)
	require.NoError(t, err)
	assert.Empty(t, fixed.Actions)

	_, err = e.Plan(t.Context(), map[string]replication.NodeState{"x": {}})
	assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
	assert.ErrorIs(t, e.Apply(t.Context(), map[string]*replication.NodePlan{"x": {}}), webinfra.ErrInvalidArgument)
}

var replicationFaultBrowseEmpty = replicationtest.Fault{Method: "GET", Path: "/rest/db/browse", Status: 200, Body: `[]`}
