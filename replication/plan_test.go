package replication_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/replication"
	"github.com/webinfra/webinfra/replication/replicationtest"
)

func TestPlanOrderAndPrint(t *testing.T) {
	srv, c := newFakeClient(t)
	ctx := t.Context()
	s := replication.NodeState{DeviceID: srv.DeviceID(),
		Devices: []replication.DeviceState{{ID: idB, Name: "b"}, {ID: idA, Name: "a"}},
		Folders: []replication.FolderState{{ID: "z", Path: "/srv/z", Devices: []string{idA}}, {ID: "y", Path: "/srv/y", Devices: []string{idB}}}}
	p, err := replication.PlanNode(ctx, c, s)
	require.NoError(t, err)
	var order []string
	for _, ch := range p.Changes {
		order = append(order, ch.Action.String()+" "+ch.ID)
	}
	assert.Equal(t, []string{"create " + min(idA, idB), "create " + max(idA, idB), "create y", "create z"}, order)
	out := p.Plan().String()
	assert.Contains(t, out, "+ syncthing_folder "+strings.SplitN(srv.DeviceID(), "-", 2)[0]+"/y")
	assert.Contains(t, out, "Plan: 4 to create, 0 to update, 0 to delete.")
	require.NoError(t, replication.ApplyNode(ctx, c, p))
	assert.Equal(t, 2, srv.Count("PUT /rest/config/devices/{id}"))
	assert.Equal(t, 2, srv.Count("PUT /rest/config/folders/{id}"))

	// Drop device a and folder z: the folder goes first, then the device.
	s.Devices, s.Folders = s.Devices[:1], s.Folders[1:]
	p, err = replication.PlanNode(ctx, c, s)
	require.NoError(t, err)
	require.Len(t, p.Changes, 2)
	assert.Equal(t, []string{replication.KindFolder, replication.KindDevice}, []string{p.Changes[0].Kind, p.Changes[1].Kind})
	assert.Equal(t, webinfra.Summary{Delete: 2}, p.Plan().Summary())
}

func TestPlanKeepsEncryptionPasswordsOfKeptDevices(t *testing.T) {
	srv, c := newFakeClient(t)
	ctx := t.Context()
	s := replication.NodeState{DeviceID: srv.DeviceID(),
		Devices: []replication.DeviceState{{ID: idA}, {ID: idB}},
		Folders: []replication.FolderState{{ID: "f", Path: "/srv/f", Devices: []string{idA}}}}
	require.NoError(t, planApply(ctx, c, s))
	f, err := c.Folder(ctx, "f")
	require.NoError(t, err)
	for i := range f.Devices {
		if f.Devices[i].DeviceID == idA {
			f.Devices[i].EncryptionPassword = webinfra.NewSecret("keep-me")
		}
	}
	require.NoError(t, c.PutFolder(ctx, *f))
	s.Folders[0].Devices = []string{idA, idB}
	p, err := replication.PlanNode(ctx, c, s)
	require.NoError(t, err)
	require.Len(t, p.Changes, 1)
	assert.NotContains(t, p.Plan().String(), "keep-me")
	require.NoError(t, replication.ApplyNode(ctx, c, p))
	f, err = c.Folder(ctx, "f")
	require.NoError(t, err)
	found := false
	for _, d := range f.Devices {
		if d.DeviceID == idA {
			found = d.EncryptionPassword.Reveal() == "keep-me"
		}
	}
	assert.True(t, found, "the kept device's entry is sent back unchanged")
}

func TestApplyEmptyPlanMakesNoCall(t *testing.T) {
	srv, c := newFakeClient(t)
	require.NoError(t, replication.ApplyNode(t.Context(), c, nil))
	require.NoError(t, replication.ApplyNode(t.Context(), c, &replication.NodePlan{}))
	assert.Empty(t, srv.Calls())
}

func TestPlanAdoptsUnmanagedObjectOfSameID(t *testing.T) {
	srv, c := newFakeClient(t)
	ctx := t.Context()
	d, err := c.DefaultDevice(ctx)
	require.NoError(t, err)
	d.DeviceID, d.Name = idA, "hand-made"
	require.NoError(t, c.PutDevice(ctx, *d))
	p, err := replication.PlanNode(ctx, c, replication.NodeState{DeviceID: srv.DeviceID(), Devices: []replication.DeviceState{{ID: idA, Name: "a"}}})
	require.NoError(t, err)
	require.Len(t, p.Changes, 1)
	assert.Equal(t, webinfra.Update, p.Changes[0].Action)
	assert.Equal(t, map[string]any{"name": replication.ManagedPrefix + "a"}, p.Changes[0].Body)
	_ = replicationtest.RandomDeviceID
}
