package replication_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/replication"
	"github.com/webinfra/webinfra/replication/replicationtest"
)

// The fake does not implement /rest/db/browse nor /rest/db/localchanged: these tests answer
// them with injected 200 responses, on servers that do not fail the test on unimplemented
// routes (newFakeCluster(strict=false)).
func TestAuditFindsEachKindAndRepairs(t *testing.T) {
	fc := newFakeCluster(t, false, "web", abc(), "a", "b", "c")
	tree := `[{"name":"data.txt","type":"FILE_INFO_TYPE_FILE"},{"name":"d","type":"FILE_INFO_TYPE_DIRECTORY","children":[` +
		`{"name":"x.sync-conflict-20240101-000000-ABCDEFG.txt","type":"FILE_INFO_TYPE_FILE"}]}]`
	fc.srv["a"].AddFault(replicationtest.Fault{Method: "GET", Path: "/rest/db/browse", Status: 200, Body: tree})
	owner := &replication.Unix{OwnerName: "www", GroupName: "www", UID: 33, GID: 33}
	for n, perm := range map[string]string{"a": "0644", "b": "0644", "c": "0600"} {
		u := *owner
		if n == "b" {
			u.UID = 1000
		}
		fc.srv[n].SetFile("web", replication.FileInfo{Name: "data.txt", Type: "FILE_INFO_TYPE_FILE", Permissions: perm,
			Platform: replication.PlatformData{Unix: &u}})
		fc.srv[n].SetFile("web", replication.FileInfo{Name: "d", Type: "FILE_INFO_TYPE_DIRECTORY", Permissions: "0755"})
	}
	fc.srv["b"].SetFile("web", replication.FileInfo{Name: "d/x.sync-conflict-20240101-000000-ABCDEFG.txt", Type: "FILE_INFO_TYPE_FILE", Permissions: "0644"})
	fc.srv["b"].AddFault(replicationtest.Fault{Method: "GET", Path: "/rest/folder/errors", Status: 200,
		Body: `{"errors":[{"path":"data.txt","error":"syncing: lchown data.txt: operation not permitted"}]}`})
	fc.srv["c"].AddFault(replicationtest.Fault{Method: "GET", Path: "/rest/db/status", Status: 200, Body: `{"state":"idle","receiveOnlyTotalItems":1}`})
	fc.srv["c"].AddFault(replicationtest.Fault{Method: "GET", Path: "/rest/db/localchanged", Status: 200,
		Body: `{"files":[{"name":"data.txt","type":"FILE_INFO_TYPE_FILE","permissions":"0600","invalid":true}]}`})

	for _, s := range fc.srv {
		s.ResetCalls()
	}
	rep, err := replication.Audit(t.Context(), fc.clients, "web")
	require.NoError(t, err)
	for n, s := range fc.srv {
		assert.Zero(t, s.Mutations(), "audit only reads (node %s)", n)
	}
	var got []string
	for _, f := range rep.Findings {
		got = append(got, f.String())
	}
	assert.Equal(t, []string{ // by folder, path, node, kind
		`error conflict-copy node=b folder=web path="d/x.sync-conflict-20240101-000000-ABCDEFG.txt": conflict copy: two nodes wrote this file; keep one version and delete the copy`,
		`warning metadata-drift node=b folder=web path="data.txt": uid:gid 1000:33, want 33:33 (reference node a) (repair: revert)`,
		`error pull-error node=b folder=web path="data.txt": syncing: lchown data.txt: operation not permitted (repair: rescan)`,
		`warning local-change node=c folder=web path="data.txt": changed locally on a receive-only replica (file, mode 0600); not sent to the others (repair: revert)`,
		`warning metadata-drift node=c folder=web path="data.txt": mode 0600, want 0644 (reference node a) (repair: revert)`,
	}, got)
	assert.False(t, rep.Clean())
	assert.Equal(t, 3, rep.Files["web"])
	assert.Contains(t, rep.String(), "audit of 1 folder(s), 3 file(s): 5 finding(s)")

	fixed, err := replication.Repair(t.Context(), fc.clients, rep)
	require.NoError(t, err)
	assert.Equal(t, []replication.RepairAction{
		{Node: "b", Folder: "web", Action: replication.RepairRevert, Findings: 1},
		{Node: "b", Folder: "web", Action: replication.RepairRescan, Findings: 1},
		{Node: "c", Folder: "web", Action: replication.RepairRevert, Findings: 2},
	}, fixed.Actions)
	require.Len(t, fixed.Skipped, 1)
	assert.Equal(t, replication.FindingConflictCopy, fixed.Skipped[0].Kind)
	assert.Equal(t, 1, fc.srv["b"].Count("POST /rest/db/revert"))
	assert.Equal(t, 1, fc.srv["b"].Count("POST /rest/db/scan"))
	assert.Equal(t, 1, fc.srv["c"].Count("POST /rest/db/revert"))
	assert.Zero(t, fc.srv["a"].Mutations(), "the writer is not touched")
}

func TestAuditWritersAndSkipsNonHolders(t *testing.T) {
	types := abc()
	types["b"] = replication.SendOnly
	fc := newFakeCluster(t, false, "web", types, "a", "b")
	// a third node without the folder
	other := replicationtest.NewServer()
	t.Cleanup(other.Close)
	oc, err := replication.New(other.Config())
	require.NoError(t, err)
	fc.clients["z"] = oc
	fc.srv["a"].AddFault(replicationtest.Fault{Method: "GET", Path: "/rest/db/browse", Status: 200, Body: `[]`})
	rep, err := replication.Audit(t.Context(), fc.clients)
	require.NoError(t, err)
	assert.Equal(t, []string{"web"}, rep.Folders)
	require.Len(t, rep.Of(replication.FindingWriters), 2)
	for _, f := range rep.Findings {
		assert.NotEqual(t, "z", f.Node)
	}
	fixed, err := replication.Repair(t.Context(), fc.clients, rep)
	require.NoError(t, err)
	assert.Empty(t, fixed.Actions)
	assert.Len(t, fixed.Skipped, 2)
}

func TestAuditErrorsNameNodeAndFolder(t *testing.T) {
	fc := newFakeCluster(t, false, "web", abc(), "a", "b")
	fc.srv["b"].AddFault(replicationtest.Fault{Method: "GET", Path: "/rest/folder/errors", Status: 403})
	_, err := replication.Audit(t.Context(), fc.clients, "web")
	assert.ErrorIs(t, err, webinfra.ErrPermissionDenied)
	assert.Contains(t, err.Error(), `audit folder "web" on node "b"`)

	_, err = replication.Audit(t.Context(), nil)
	assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)

	_, err = replication.Repair(t.Context(), map[string]*replication.Client{}, &replication.AuditReport{
		Findings: []replication.Finding{{Node: "x", Folder: "web", Kind: replication.FindingLocalChange, Repair: replication.RepairRevert}}})
	assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
}

func TestRepairJoinsFailures(t *testing.T) {
	fc := newFakeCluster(t, false, "web", abc(), "a", "b", "c")
	fc.srv["b"].AddFault(replicationtest.Fault{Method: "POST", Path: "/rest/db/revert", Status: 403})
	rep := &replication.AuditReport{Findings: []replication.Finding{
		{Node: "b", Folder: "web", Kind: replication.FindingLocalChange, Repair: replication.RepairRevert},
		{Node: "c", Folder: "web", Kind: replication.FindingLocalChange, Repair: replication.RepairRevert},
	}}
	fixed, err := replication.Repair(t.Context(), fc.clients, rep)
	assert.ErrorIs(t, err, webinfra.ErrPermissionDenied)
	assert.Contains(t, err.Error(), `repair revert of folder "web" on node "b"`)
	require.Len(t, fixed.Actions, 2)
	assert.NotEmpty(t, fixed.Actions[0].Err)
	assert.Empty(t, fixed.Actions[1].Err, "c is repaired although b failed")
}
