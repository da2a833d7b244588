package replicationtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/internal/retry"
	"github.com/webinfra/webinfra/internal/testutil"
	"github.com/webinfra/webinfra/replication"
)

// Harness gives the conformance suite a Syncthing to run against: the fake or a real process.
type Harness interface {
	// New returns a fresh, isolated instance for one subtest; cleanup goes through t.Cleanup.
	New(t *testing.T) Target
	// Caps says which optional parts the backend supports.
	Caps() Caps
}

// Target is what [Harness.New] returns. The suite builds its own clients from it, with a
// transport that records every request, so it can count calls on any backend.
type Target struct {
	// BaseURL and APIKey reach the REST API.
	BaseURL string
	APIKey  webinfra.Secret
	// DeviceID is the instance's own device ID.
	DeviceID string
	// Dir is a directory the instance can create folders in.
	Dir string
	// Faults injects faults; nil when the backend cannot (Caps.Faults is false).
	Faults FaultInjector
}

// FaultInjector is the part of [Server] the fault cases use.
type FaultInjector interface {
	AddFault(Fault)
	ClearFaults()
}

// Caps declares optional behaviour, never guessed by the suite.
type Caps struct {
	// Faults: Target.Faults works (the fake only).
	Faults bool
}

// RunConformance checks the replication package's Syncthing contracts, and the Syncthing
// behaviours they rely on, against the harness's backend. Subtest names are stable
// (Area/Case), so one can run alone with -run.
func RunConformance(t *testing.T, h Harness) {
	t.Run("System/Status", func(t *testing.T) { testStatus(t, h) })
	t.Run("System/WrongKeyDenied", func(t *testing.T) { testWrongKey(t, h) })
	t.Run("Config/DevicePutGetDelete", func(t *testing.T) { testDevicePutGetDelete(t, h) })
	t.Run("Config/DeviceAbsent", func(t *testing.T) { testDeviceAbsent(t, h) })
	t.Run("Config/DeleteAbsent", func(t *testing.T) { testDeleteAbsent(t, h) })
	t.Run("Config/PutBodyIDWins", func(t *testing.T) { testPutBodyIDWins(t, h) })
	t.Run("Config/FolderPutFillsDefaults", func(t *testing.T) { testFolderDefaults(t, h) })
	t.Run("Config/FolderDropsUnknownDevices", func(t *testing.T) { testFolderUnknownDevices(t, h) })
	t.Run("Config/FolderPatchReplacesArrays", func(t *testing.T) { testFolderPatchArrays(t, h) })
	t.Run("Config/FolderWithoutPathRefused", func(t *testing.T) { testFolderWithoutPath(t, h) })
	t.Run("Config/FolderLegacyTypes", func(t *testing.T) { testFolderLegacyTypes(t, h) })
	t.Run("Config/FolderInvalidOrder", func(t *testing.T) { testFolderOrder(t, h) })
	t.Run("Config/FolderUnknownFieldsIgnored", func(t *testing.T) { testFolderUnknownFields(t, h) })
	t.Run("Config/FolderValuesNormalised", func(t *testing.T) { testFolderNormalised(t, h) })
	t.Run("Config/FolderPatchResetsTagDefaults", func(t *testing.T) { testFolderPatchResets(t, h) })
	t.Run("Config/OptionsAndDefaults", func(t *testing.T) { testOptionsDefaults(t, h) })
	t.Run("Plan/ReadOnly", func(t *testing.T) { testPlanReadOnly(t, h) })
	t.Run("Plan/ForeignUntouched", func(t *testing.T) { testForeign(t, h) })
	t.Run("Apply/Converges", func(t *testing.T) { testConverges(t, h) })
	t.Run("Apply/Idempotent", func(t *testing.T) { testIdempotent(t, h) })
	t.Run("Apply/PatchesOnlyChangedFields", func(t *testing.T) { testPatchOnlyChanged(t, h) })
	t.Run("Apply/DeletesManaged", func(t *testing.T) { testDeletesManaged(t, h) })
	t.Run("Apply/ResumesAfterFault", func(t *testing.T) { testResumes(t, h) })
	t.Run("DB/CompletionOfIdleFolder", func(t *testing.T) { testCompletion(t, h) })
	t.Run("DB/AbsentFolder", func(t *testing.T) { testDBAbsent(t, h) })
	t.Run("DB/ScanRevertOverride", func(t *testing.T) { testScanRevertOverride(t, h) })
	t.Run("Events/Since", func(t *testing.T) { testEventsSince(t, h) })
	t.Run("Cluster/PendingEmpty", func(t *testing.T) { testPending(t, h) })
}

// recorder counts requests as "METHOD /path".
type recorder struct {
	mu    sync.Mutex
	calls []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.calls = append(r.calls, req.Method+" "+req.URL.Path)
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func (r *recorder) reset() (calls []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	calls, r.calls = r.calls, nil
	return calls
}

func mutations(calls []string) []string {
	var out []string
	for _, c := range calls {
		if !strings.HasPrefix(c, "GET ") {
			out = append(out, c)
		}
	}
	return out
}

// env is one subtest's target and recording client.
type env struct {
	Target
	c   *replication.Client
	rec *recorder
}

func newEnv(t *testing.T, h Harness) env {
	t.Helper()
	tg := h.New(t)
	rec := &recorder{}
	c, err := replication.New(replication.Config{BaseURL: tg.BaseURL, APIKey: tg.APIKey,
		HTTPClient: &http.Client{Transport: rec, Timeout: 90 * time.Second},
		Retry:      retry.Policy{Attempts: 3, BaseDelay: time.Millisecond, MaxDelay: 20 * time.Millisecond}})
	require.NoError(t, err)
	return env{Target: tg, c: c, rec: rec}
}

// raw sends a request with the API key and returns status and body, for pinning wire quirks.
func (e env) raw(t *testing.T, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, strings.TrimRight(e.BaseURL, "/")+path, rd)
	require.NoError(t, err)
	req.Header.Set("X-API-Key", e.APIKey.Reveal())
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// Device IDs that no real device has; valid in form.
var (
	peerA = DeviceIDFromSeed("webinfra conformance peer A")
	peerB = DeviceIDFromSeed("webinfra conformance peer B")
	peerC = DeviceIDFromSeed("webinfra conformance peer C")
)

func (e env) state(folders ...replication.FolderState) replication.NodeState {
	return replication.NodeState{
		DeviceID: e.DeviceID,
		Devices: []replication.DeviceState{
			{ID: peerA, Name: "a", Addresses: []string{"tcp://127.0.0.1:1"}},
			{ID: peerB, Name: "b", Addresses: []string{"tcp://127.0.0.1:2"}},
		},
		Folders: folders,
	}
}

func (e env) folder(id string, devices ...string) replication.FolderState {
	return replication.FolderState{ID: id, Path: filepath.Join(e.Dir, id), Devices: devices}
}

func (e env) converge(t *testing.T, s replication.NodeState) *replication.NodePlan {
	t.Helper()
	p, err := replication.PlanNode(t.Context(), e.c, s)
	require.NoError(t, err)
	require.NoError(t, replication.ApplyNode(t.Context(), e.c, p))
	again, err := replication.PlanNode(t.Context(), e.c, s)
	require.NoError(t, err)
	require.True(t, again.Empty(), "second plan not empty:\n%s", again.Plan())
	return p
}

func testStatus(t *testing.T, h Harness) {
	e := newEnv(t, h)
	st, err := e.c.Status(t.Context())
	require.NoError(t, err)
	assert.Equal(t, e.DeviceID, st.MyID)
	assert.False(t, st.StartTime.IsZero())
	assert.NoError(t, e.c.Health(t.Context()))
	assert.NoError(t, e.c.Ping(t.Context()))
}

func testWrongKey(t *testing.T, h Harness) {
	e := newEnv(t, h)
	c, err := replication.New(replication.Config{BaseURL: e.BaseURL, APIKey: webinfra.NewSecret("wrong")})
	require.NoError(t, err)
	_, err = c.Status(t.Context())
	require.ErrorIs(t, err, webinfra.ErrPermissionDenied)
	var apiErr *replication.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusForbidden, apiErr.Status)
	assert.Equal(t, "CSRF Error", apiErr.Body)
	assert.NotContains(t, err.Error(), e.APIKey.Reveal())
	assert.NoError(t, c.Health(t.Context()), "health needs no key")
}

func testDevicePutGetDelete(t *testing.T, h Harness) {
	e := newEnv(t, h)
	ctx := t.Context()
	d, err := e.c.DefaultDevice(ctx)
	require.NoError(t, err)
	d.DeviceID, d.Name, d.Addresses = peerA, "peer-a", []string{"tcp://10.88.1.21:22000"}
	require.NoError(t, e.c.PutDevice(ctx, *d))
	got, err := e.c.Device(ctx, peerA)
	require.NoError(t, err)
	assert.Equal(t, "peer-a", got.Name)
	assert.Equal(t, []string{"tcp://10.88.1.21:22000"}, got.Addresses)
	assert.Equal(t, "metadata", got.Compression)
	assert.NotEmpty(t, got.Other, "fields the type does not name are kept")
	list, err := e.c.Devices(ctx)
	require.NoError(t, err)
	var ids []string
	for _, d := range list {
		ids = append(ids, d.DeviceID)
	}
	assert.ElementsMatch(t, []string{e.DeviceID, peerA}, ids)
	require.NoError(t, e.c.PatchDevice(ctx, peerA, map[string]any{"addresses": []string{"tcp://10.88.1.22:22000"}}))
	got, err = e.c.Device(ctx, peerA)
	require.NoError(t, err)
	assert.Equal(t, []string{"tcp://10.88.1.22:22000"}, got.Addresses)
	assert.Equal(t, "peer-a", got.Name, "PATCH leaves other fields")
	require.NoError(t, e.c.DeleteDevice(ctx, peerA))
	_, err = e.c.Device(ctx, peerA)
	assert.ErrorIs(t, err, webinfra.ErrNotFound)
}

func testDeviceAbsent(t *testing.T, h Harness) {
	e := newEnv(t, h)
	ctx := t.Context()
	_, err := e.c.Device(ctx, peerC)
	assert.ErrorIs(t, err, webinfra.ErrNotFound)
	err = e.c.PatchDevice(ctx, peerC, map[string]any{"name": "x"})
	assert.ErrorIs(t, err, webinfra.ErrNotFound)
	_, err = e.c.Device(ctx, "xyz")
	assert.ErrorIs(t, err, webinfra.ErrInvalidArgument, "a malformed device ID is a 400")
	_, err = e.c.Folder(ctx, "absent")
	assert.ErrorIs(t, err, webinfra.ErrNotFound)
	err = e.c.PatchFolder(ctx, "absent", map[string]any{"label": "x"})
	assert.ErrorIs(t, err, webinfra.ErrNotFound)
}

// testDeleteAbsent pins that Syncthing answers 200 to deleting what is not there.
func testDeleteAbsent(t *testing.T, h Harness) {
	e := newEnv(t, h)
	ctx := t.Context()
	for range 2 {
		assert.NoError(t, e.c.DeleteDevice(ctx, peerC))
		assert.NoError(t, e.c.DeleteFolder(ctx, "absent"))
	}
	status, _ := e.raw(t, http.MethodDelete, "/rest/config/devices/"+peerC, nil)
	assert.Equal(t, http.StatusOK, status)
	status, _ = e.raw(t, http.MethodDelete, "/rest/config/devices/xyz", nil)
	assert.Equal(t, http.StatusBadRequest, status)
}

// testPutBodyIDWins pins that Syncthing stores the object its body names, not the one in the
// path: a PUT without an ID in the body stores nothing, a PATCH with another ID changes that
// other object. The client always sends the ID and refuses a PATCH naming another.
func testPutBodyIDWins(t *testing.T, h Harness) {
	e := newEnv(t, h)
	ctx := t.Context()
	status, _ := e.raw(t, http.MethodPut, "/rest/config/devices/"+peerA, map[string]any{"name": "no-id"})
	assert.Equal(t, http.StatusOK, status)
	_, err := e.c.Device(ctx, peerA)
	assert.ErrorIs(t, err, webinfra.ErrNotFound, "a PUT body without deviceID stores nothing")

	d, err := e.c.DefaultDevice(ctx)
	require.NoError(t, err)
	for _, id := range []string{peerA, peerB} {
		d.DeviceID, d.Name = id, "orig"
		require.NoError(t, e.c.PutDevice(ctx, *d))
	}
	status, _ = e.raw(t, http.MethodPatch, "/rest/config/devices/"+peerA, map[string]any{"deviceID": peerB, "name": "changed"})
	assert.Equal(t, http.StatusOK, status)
	a, err := e.c.Device(ctx, peerA)
	require.NoError(t, err)
	b, err := e.c.Device(ctx, peerB)
	require.NoError(t, err)
	assert.Equal(t, "orig", a.Name)
	assert.Equal(t, "changed", b.Name, "the body's deviceID wins")

	err = e.c.PatchDevice(ctx, peerA, map[string]any{"deviceID": peerB})
	assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
}

func testFolderDefaults(t *testing.T, h Harness) {
	e := newEnv(t, h)
	status, body := e.raw(t, http.MethodPut, "/rest/config/folders/f1", map[string]any{"id": "f1", "label": "L", "path": filepath.Join(e.Dir, "f1")})
	require.Equal(t, http.StatusOK, status, string(body))
	f, err := e.c.Folder(t.Context(), "f1")
	require.NoError(t, err)
	assert.Equal(t, replication.SendReceive, f.Type)
	assert.Equal(t, 3600, f.RescanIntervalS)
	assert.True(t, f.FSWatcherEnabled)
	assert.InDelta(t, 10.0, f.FSWatcherDelayS, 0)
	assert.False(t, f.SyncOwnership)
	require.Len(t, f.Devices, 1)
	assert.Equal(t, e.DeviceID, f.Devices[0].DeviceID, "the own device is added")
}

func testFolderUnknownDevices(t *testing.T, h Harness) {
	e := newEnv(t, h)
	status, body := e.raw(t, http.MethodPut, "/rest/config/folders/f1", map[string]any{"id": "f1", "path": filepath.Join(e.Dir, "f1"),
		"devices": []any{map[string]any{"deviceID": peerC}}})
	require.Equal(t, http.StatusOK, status, string(body))
	f, err := e.c.Folder(t.Context(), "f1")
	require.NoError(t, err)
	require.Len(t, f.Devices, 1, "a device that is not configured is dropped silently")
	assert.Equal(t, e.DeviceID, f.Devices[0].DeviceID)
}

func folderDeviceIDs(f *replication.Folder) []string {
	var ids []string
	for _, d := range f.Devices {
		ids = append(ids, d.DeviceID)
	}
	return ids
}

func testFolderPatchArrays(t *testing.T, h Harness) {
	e := newEnv(t, h)
	ctx := t.Context()
	e.converge(t, e.state(e.folder("f1", peerA, peerB)))
	require.NoError(t, e.c.PatchFolder(ctx, "f1", map[string]any{"devices": []any{map[string]any{"deviceID": peerA}}}))
	f, err := e.c.Folder(ctx, "f1")
	require.NoError(t, err)
	want := []string{e.DeviceID, peerA}
	SortDeviceIDs(want)
	assert.Equal(t, want, folderDeviceIDs(f), "PATCH replaces the whole array; the own device is re-added; base32 order")
	require.NoError(t, e.c.PatchFolder(ctx, "f1", map[string]any{"rescanIntervalS": 60}))
	f, err = e.c.Folder(ctx, "f1")
	require.NoError(t, err)
	assert.Equal(t, want, folderDeviceIDs(f), "a PATCH without the array leaves it")
	assert.Equal(t, 60, f.RescanIntervalS)
	assert.True(t, f.SyncXattrs, "other fields stay")
}

func testFolderWithoutPath(t *testing.T, h Harness) {
	e := newEnv(t, h)
	status, body := e.raw(t, http.MethodPut, "/rest/config/folders/f1", map[string]any{"id": "f1"})
	assert.Equal(t, http.StatusInternalServerError, status)
	assert.Contains(t, string(body), "folder has empty path")
	status, _ = e.raw(t, http.MethodPut, "/rest/config/folders/f1", map[string]any{"path": filepath.Join(e.Dir, "f1")})
	assert.Equal(t, http.StatusInternalServerError, status, "empty ID")
	_, err := e.c.Folder(t.Context(), "f1")
	assert.ErrorIs(t, err, webinfra.ErrNotFound)
}

func testOptionsDefaults(t *testing.T, h Harness) {
	e := newEnv(t, h)
	ctx := t.Context()
	o, err := e.c.Options(ctx)
	require.NoError(t, err)
	assert.False(t, o.GlobalAnnounceEnabled)
	assert.False(t, o.RelaysEnabled)
	assert.Equal(t, -1, o.URAccepted)
	require.NoError(t, e.c.PatchOptions(ctx, map[string]any{"maxFolderConcurrency": 3}))
	o2, err := e.c.Options(ctx)
	require.NoError(t, err)
	assert.JSONEq(t, "3", string(o2.Other["maxFolderConcurrency"]))
	assert.Equal(t, o.ListenAddresses, o2.ListenAddresses)

	df, err := e.c.DefaultFolder(ctx)
	require.NoError(t, err)
	assert.Empty(t, df.ID)
	assert.Equal(t, []string{e.DeviceID}, folderDeviceIDs(df))
	df.RescanIntervalS = 120
	require.NoError(t, e.c.PutDefaultFolder(ctx, *df))
	df2, err := e.c.DefaultFolder(ctx)
	require.NoError(t, err)
	assert.Equal(t, 120, df2.RescanIntervalS)
	dd, err := e.c.DefaultDevice(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"dynamic"}, dd.Addresses)
}

func testPlanReadOnly(t *testing.T, h Harness) {
	e := newEnv(t, h)
	e.rec.reset()
	p, err := replication.PlanNode(t.Context(), e.c, e.state(e.folder("f1", peerA)))
	require.NoError(t, err)
	calls := e.rec.reset()
	assert.Equal(t, []string{"GET /rest/system/status", "GET /rest/config"}, calls, "exactly two reads")
	assert.Len(t, p.Changes, 3)
	_, err = replication.PlanNode(t.Context(), e.c, replication.NodeState{DeviceID: peerC})
	assert.ErrorIs(t, err, webinfra.ErrFailedPrecondition, "another instance's state")
	_, err = replication.PlanNode(t.Context(), e.c, replication.NodeState{})
	assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
	assert.Empty(t, mutations(e.rec.reset()))
}

func testForeign(t *testing.T, h Harness) {
	e := newEnv(t, h)
	ctx := t.Context()
	d, err := e.c.DefaultDevice(ctx)
	require.NoError(t, err)
	d.DeviceID, d.Name = peerC, "someone else's"
	require.NoError(t, e.c.PutDevice(ctx, *d))
	status, body := e.raw(t, http.MethodPut, "/rest/config/folders/theirs", map[string]any{"id": "theirs", "label": "theirs", "path": filepath.Join(e.Dir, "theirs")})
	require.Equal(t, http.StatusOK, status, string(body))
	e.converge(t, e.state(e.folder("ours", peerA)))
	e.converge(t, replication.NodeState{DeviceID: e.DeviceID})
	_, err = e.c.Device(ctx, peerC)
	assert.NoError(t, err, "foreign device kept")
	_, err = e.c.Folder(ctx, "theirs")
	assert.NoError(t, err, "foreign folder kept")
	_, err = e.c.Folder(ctx, "ours")
	assert.ErrorIs(t, err, webinfra.ErrNotFound, "managed folder deleted")
	_, err = e.c.Device(ctx, peerA)
	assert.ErrorIs(t, err, webinfra.ErrNotFound, "managed device deleted")
	_, err = e.c.Device(ctx, e.DeviceID)
	assert.NoError(t, err, "own device kept")
}

func testConverges(t *testing.T, h Harness) {
	e := newEnv(t, h)
	ctx := t.Context()
	fs := e.folder("web-data", peerA)
	fs.Type, fs.FSWatcherDelay, fs.RescanInterval = replication.SendOnly, 2*time.Second, 10*time.Minute
	p := e.converge(t, e.state(fs, e.folder("logs", peerA, peerB)))
	assert.Equal(t, webinfra.Summary{Create: 4}, p.Plan().Summary())
	f, err := e.c.Folder(ctx, "web-data")
	require.NoError(t, err)
	assert.Equal(t, replication.ManagedPrefix+"web-data", f.Label)
	assert.Equal(t, replication.SendOnly, f.Type)
	assert.True(t, f.SyncOwnership && f.SendOwnership && f.SyncXattrs && f.SendXattrs)
	assert.True(t, f.FSWatcherEnabled)
	assert.InDelta(t, 2.0, f.FSWatcherDelayS, 0)
	assert.Equal(t, 600, f.RescanIntervalS)
	want := []string{e.DeviceID, peerA}
	SortDeviceIDs(want)
	assert.Equal(t, want, folderDeviceIDs(f), "devices in base32 alphabet order (A-Z, 2-7)")
	d, err := e.c.Device(ctx, peerA)
	require.NoError(t, err)
	assert.Equal(t, replication.ManagedPrefix+"a", d.Name)
	assert.Equal(t, []string{"tcp://127.0.0.1:1"}, d.Addresses)
}

func testIdempotent(t *testing.T, h Harness) {
	e := newEnv(t, h)
	s := e.state(e.folder("f1", peerA))
	p, err := replication.PlanNode(t.Context(), e.c, s)
	require.NoError(t, err)
	require.NoError(t, replication.ApplyNode(t.Context(), e.c, p))
	require.NoError(t, replication.ApplyNode(t.Context(), e.c, p), "re-applying a plan succeeds")
	again, err := replication.PlanNode(t.Context(), e.c, s)
	require.NoError(t, err)
	require.True(t, again.Empty())
	e.rec.reset()
	require.NoError(t, replication.ApplyNode(t.Context(), e.c, again))
	assert.Empty(t, e.rec.reset(), "an empty plan makes no call")
}

func testPatchOnlyChanged(t *testing.T, h Harness) {
	e := newEnv(t, h)
	s := e.state(e.folder("f1", peerA))
	e.converge(t, s)
	s.Folders[0].Label = "renamed"
	p, err := replication.PlanNode(t.Context(), e.c, s)
	require.NoError(t, err)
	require.Len(t, p.Changes, 1)
	assert.Equal(t, map[string]any{"label": replication.ManagedPrefix + "renamed"}, p.Changes[0].Body)
	assert.False(t, p.Changes[0].Restart, "a label change does not restart")
	s.Folders[0].Type = replication.ReceiveOnly
	s.Folders[0].Devices = []string{peerA, peerB}
	s.Devices[0].Addresses = []string{"tcp://127.0.0.1:3"}
	p, err = replication.PlanNode(t.Context(), e.c, s)
	require.NoError(t, err)
	require.Len(t, p.Changes, 2)
	assert.Equal(t, []string{"addresses"}, keys(p.Changes[0].Body))
	assert.Equal(t, []string{"devices", "label", "type"}, keys(p.Changes[1].Body))
	assert.True(t, p.Changes[1].Restart)
	e.rec.reset()
	require.NoError(t, replication.ApplyNode(t.Context(), e.c, p))
	assert.Equal(t, []string{"PATCH /rest/config/devices/" + peerA, "PATCH /rest/config/folders/f1"}, e.rec.reset())
	again, err := replication.PlanNode(t.Context(), e.c, s)
	require.NoError(t, err)
	assert.True(t, again.Empty(), "%s", again.Plan())
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func testDeletesManaged(t *testing.T, h Harness) {
	e := newEnv(t, h)
	s := e.state(e.folder("f1", peerA), e.folder("f2", peerB))
	e.converge(t, s)
	s.Devices = s.Devices[:1]
	s.Folders = s.Folders[:1]
	p, err := replication.PlanNode(t.Context(), e.c, s)
	require.NoError(t, err)
	e.rec.reset()
	require.NoError(t, replication.ApplyNode(t.Context(), e.c, p))
	assert.Equal(t, []string{"DELETE /rest/config/folders/f2", "DELETE /rest/config/devices/" + peerB}, e.rec.reset(), "folder before the device it used")
	again, err := replication.PlanNode(t.Context(), e.c, s)
	require.NoError(t, err)
	assert.True(t, again.Empty())
}

func testResumes(t *testing.T, h Harness) {
	if !h.Caps().Faults {
		t.Skip("declared gap: this backend cannot inject faults (Caps.Faults is false)")
	}
	e := newEnv(t, h)
	s := e.state(e.folder("f1", peerA), e.folder("f2", peerB))
	p, err := replication.PlanNode(t.Context(), e.c, s)
	require.NoError(t, err)
	e.Faults.AddFault(Fault{Method: http.MethodPut, Path: "/rest/config/folders/f2", Status: http.StatusServiceUnavailable})
	err = replication.ApplyNode(t.Context(), e.c, p)
	require.ErrorIs(t, err, webinfra.ErrUnavailable)
	assert.Contains(t, err.Error(), `"f2"`)
	calls := e.rec.reset()
	assert.Equal(t, 3, countOf(calls, "PUT /rest/config/folders/f2"), "retried up to the policy's attempts")
	e.Faults.ClearFaults()
	e.Faults.AddFault(Fault{Method: http.MethodPut, Path: "/rest/config/folders/f2", Times: 1, Drop: true})
	e.converge(t, s)
	e.Faults.ClearFaults()
	e.Faults.AddFault(Fault{Method: http.MethodPost, Path: "/rest/db/scan", Status: http.StatusInternalServerError, Times: 1})
	e.rec.reset()
	assert.ErrorIs(t, e.c.Scan(t.Context(), "f1", ""), webinfra.ErrUnavailable)
	assert.Len(t, e.rec.reset(), 1, "a scan is never retried")
	e.Faults.AddFault(Fault{Method: http.MethodGet, Path: "/rest/config/folders/*", Status: http.StatusNotFound, Times: 1})
	_, err = e.c.Folder(t.Context(), "f1")
	assert.ErrorIs(t, err, webinfra.ErrNotFound)
	assert.Len(t, e.rec.reset(), 1, "a 4xx is never retried")
}

func countOf(calls []string, c string) int {
	n := 0
	for _, x := range calls {
		if x == c {
			n++
		}
	}
	return n
}

func testCompletion(t *testing.T, h Harness) {
	e := newEnv(t, h)
	ctx := t.Context()
	e.converge(t, e.state(e.folder("f1", peerA)))
	testutil.Eventually(t, 20*time.Second, func() error {
		st, err := e.c.DBStatus(ctx, "f1")
		if err != nil {
			return err
		}
		if st.State != "idle" {
			return errors.New("state " + st.State)
		}
		return nil
	})
	c, err := e.c.Completion(ctx, "f1", "")
	require.NoError(t, err)
	assert.InDelta(t, 100.0, c.Completion, 0)
	c, err = e.c.Completion(ctx, "f1", peerA)
	require.NoError(t, err)
	assert.InDelta(t, 100.0, c.Completion, 0)
	n, err := e.c.Need(ctx, "f1")
	require.NoError(t, err)
	assert.Empty(t, n.Rest)
	errs, err := e.c.FolderErrors(ctx, "f1")
	require.NoError(t, err)
	assert.Empty(t, errs)
	_, err = e.c.File(ctx, "f1", "absent.txt")
	assert.ErrorIs(t, err, webinfra.ErrNotFound)
}

func testDBAbsent(t *testing.T, h Harness) {
	e := newEnv(t, h)
	ctx := t.Context()
	_, err := e.c.DBStatus(ctx, "absent")
	assert.ErrorIs(t, err, webinfra.ErrNotFound)
	_, err = e.c.Completion(ctx, "absent", "")
	assert.ErrorIs(t, err, webinfra.ErrNotFound)
	_, err = e.c.Need(ctx, "absent")
	assert.ErrorIs(t, err, webinfra.ErrNotFound)
	_, err = e.c.FolderErrors(ctx, "absent")
	assert.ErrorIs(t, err, webinfra.ErrNotFound)
}

func testScanRevertOverride(t *testing.T, h Harness) {
	e := newEnv(t, h)
	ctx := t.Context()
	e.converge(t, e.state(e.folder("f1", peerA)))
	assert.NoError(t, e.c.Scan(ctx, "f1", ""))
	assert.NoError(t, e.c.Revert(ctx, "f1"), "revert of a sendreceive folder is accepted")
	assert.NoError(t, e.c.Override(ctx, "f1"))
	assert.NoError(t, e.c.Revert(ctx, "absent"), "revert of an absent folder answers 200")
	err := e.c.Scan(ctx, "absent", "")
	assert.ErrorIs(t, err, webinfra.ErrUnavailable, "a scan of an absent folder answers 500")
	status, _ := e.raw(t, http.MethodGet, "/rest/db/scan?folder=f1", nil)
	assert.Equal(t, http.StatusMethodNotAllowed, status)
}

func testEventsSince(t *testing.T, h Harness) {
	e := newEnv(t, h)
	ctx := t.Context()
	evs, err := e.c.Events(ctx, 0, &replication.EventsOptions{Timeout: time.Second})
	require.NoError(t, err)
	require.NotEmpty(t, evs, "startup events")
	last := evs[len(evs)-1].ID
	d, err := e.c.DefaultDevice(ctx)
	require.NoError(t, err)
	d.DeviceID, d.Name = peerA, "x"
	require.NoError(t, e.c.PutDevice(ctx, *d))
	var saved *replication.Event
	testutil.Eventually(t, 10*time.Second, func() error {
		evs, err := e.c.Events(ctx, last, &replication.EventsOptions{Timeout: time.Second})
		if err != nil {
			return err
		}
		for i, ev := range evs {
			if ev.ID <= last {
				return errors.New("event at or before since")
			}
			if ev.Type == "ConfigSaved" {
				saved = &evs[i]
				return nil
			}
		}
		return errors.New("no ConfigSaved yet")
	})
	assert.True(t, json.Valid(saved.Data))
	assert.False(t, saved.Time.IsZero())
	start := time.Now()
	evs, err = e.c.Events(ctx, saved.ID+1000, &replication.EventsOptions{Timeout: time.Second})
	require.NoError(t, err)
	assert.Empty(t, evs)
	assert.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond, "the poll waits for the timeout")
	evs, err = e.c.Events(ctx, 0, &replication.EventsOptions{Timeout: time.Second, Limit: 1})
	require.NoError(t, err)
	require.Len(t, evs, 1, "limit keeps the newest")
	assert.GreaterOrEqual(t, evs[0].ID, saved.ID)
}

func testPending(t *testing.T, h Harness) {
	e := newEnv(t, h)
	devs, err := e.c.PendingDevices(t.Context())
	require.NoError(t, err)
	assert.Empty(t, devs)
	folders, err := e.c.PendingFolders(t.Context(), "")
	require.NoError(t, err)
	assert.Empty(t, folders)
}

// getFolder reads a folder's raw JSON, as the server stores it.
func (e env) getFolder(t *testing.T, id string) map[string]any {
	t.Helper()
	status, body := e.raw(t, http.MethodGet, "/rest/config/folders/"+id, nil)
	require.Equal(t, http.StatusOK, status, string(body))
	var f map[string]any
	require.NoError(t, json.Unmarshal(body, &f))
	return f
}

func (e env) mustWrite(t *testing.T, method, id string, body map[string]any) {
	t.Helper()
	status, out := e.raw(t, method, "/rest/config/folders/"+id, body)
	require.Equal(t, http.StatusOK, status, string(out))
}

// testFolderLegacyTypes: the pre-1.0 names are accepted and stored under today's; a type
// Syncthing does not know is sendreceive, not an error, even over a sendonly folder.
func testFolderLegacyTypes(t *testing.T, h Harness) {
	e := newEnv(t, h)
	path := filepath.Join(e.Dir, "f1")
	e.mustWrite(t, http.MethodPut, "f1", map[string]any{"id": "f1", "path": path, "type": "readonly"})
	assert.Equal(t, "sendonly", e.getFolder(t, "f1")["type"], "readonly")
	e.mustWrite(t, http.MethodPatch, "f1", map[string]any{"type": "readwrite"})
	assert.Equal(t, "sendreceive", e.getFolder(t, "f1")["type"], "readwrite")
	e.mustWrite(t, http.MethodPatch, "f1", map[string]any{"type": "receiveonly"})
	e.mustWrite(t, http.MethodPatch, "f1", map[string]any{"type": "nonsense"})
	assert.Equal(t, "sendreceive", e.getFolder(t, "f1")["type"], "an unknown type")
}

// testFolderOrder: the six pull orders are kept; anything else becomes random.
func testFolderOrder(t *testing.T, h Harness) {
	e := newEnv(t, h)
	path := filepath.Join(e.Dir, "f1")
	for _, o := range []string{"alphabetic", "smallestFirst", "largestFirst", "oldestFirst", "newestFirst", "random"} {
		e.mustWrite(t, http.MethodPut, "f1", map[string]any{"id": "f1", "path": path, "order": o})
		assert.Equal(t, o, e.getFolder(t, "f1")["order"])
	}
	e.mustWrite(t, http.MethodPut, "f1", map[string]any{"id": "f1", "path": path, "order": "newestFirst"})
	for _, bad := range []string{"bogus", "Alphabetic", ""} {
		e.mustWrite(t, http.MethodPatch, "f1", map[string]any{"order": bad})
		assert.Equal(t, "random", e.getFolder(t, "f1")["order"], "order %q", bad)
	}
}

// testFolderUnknownFields: unknown fields are accepted (200) and dropped.
func testFolderUnknownFields(t *testing.T, h Harness) {
	e := newEnv(t, h)
	e.mustWrite(t, http.MethodPut, "f1", map[string]any{"id": "f1", "path": filepath.Join(e.Dir, "f1"), "bogusField": 1, "syncOwnerShip": true})
	e.mustWrite(t, http.MethodPatch, "f1", map[string]any{"anotherBogus": "x"})
	f := e.getFolder(t, "f1")
	assert.NotContains(t, f, "bogusField")
	assert.NotContains(t, f, "anotherBogus")
	assert.NotContains(t, f, "syncOwnerShip", "field names are matched case-insensitively by encoding/json")
	assert.Equal(t, true, f["syncOwnership"], "encoding/json matches syncOwnerShip to syncOwnership")
}

// testFolderNormalised: what FolderConfiguration.prepare rewrites. The path is kept as given.
func testFolderNormalised(t *testing.T, h Harness) {
	e := newEnv(t, h)
	path := filepath.Join(e.Dir, "a") + "/../b/"
	e.mustWrite(t, http.MethodPut, "f1", map[string]any{"id": "f1", "path": path, "rescanIntervalS": -5,
		"fsWatcherDelayS": 0, "maxConcurrentWrites": 100, "weakHashThresholdPct": 0, "markerName": "",
		"versioning": map[string]any{"cleanupIntervalS": -1}})
	f := e.getFolder(t, "f1")
	assert.Equal(t, path, f["path"], "the path is not cleaned")
	assert.InDelta(t, 0, f["rescanIntervalS"], 0, "a negative rescan interval is 0")
	assert.InDelta(t, 10, f["fsWatcherDelayS"], 0, "a watcher delay <= 0 is 10")
	assert.Equal(t, false, f["fsWatcherEnabled"], "and switches the watcher off")
	assert.InDelta(t, 64, f["maxConcurrentWrites"], 0, "capped at 64")
	assert.InDelta(t, 25, f["weakHashThresholdPct"], 0)
	assert.Equal(t, ".stfolder", f["markerName"])
	assert.InDelta(t, 0, f["versioning"].(map[string]any)["cleanupIntervalS"], 0)
	e.mustWrite(t, http.MethodPut, "f2", map[string]any{"id": "f2", "path": filepath.Join(e.Dir, "f2"), "type": "receiveencrypted",
		"rescanIntervalS": 999999999, "maxConcurrentWrites": -3, "versioning": map[string]any{"cleanupIntervalS": 999999999}})
	f = e.getFolder(t, "f2")
	assert.InDelta(t, 365*24*3600, f["rescanIntervalS"], 0, "capped at a year")
	assert.InDelta(t, 365*24*3600, f["versioning"].(map[string]any)["cleanupIntervalS"], 0, "capped at a year")
	assert.InDelta(t, 2, f["maxConcurrentWrites"], 0, "<= 0 is 2")
	assert.Equal(t, true, f["disableTempIndexes"], "receiveencrypted")
	assert.Equal(t, true, f["ignorePerms"], "receiveencrypted")
}

// testFolderPatchResetsTagDefaults: a PATCH decodes over the stored folder after resetting the
// fields with a default struct tag, so one that does not name them sets them back.
func testFolderPatchResets(t *testing.T, h Harness) {
	e := newEnv(t, h)
	e.mustWrite(t, http.MethodPut, "f1", map[string]any{"id": "f1", "path": filepath.Join(e.Dir, "f1"),
		"rescanIntervalS": 77, "maxConflicts": 3, "fsWatcherEnabled": false, "syncOwnership": true, "label": "L"})
	f := e.getFolder(t, "f1")
	assert.InDelta(t, 77, f["rescanIntervalS"], 0)
	assert.InDelta(t, 3, f["maxConflicts"], 0)
	e.mustWrite(t, http.MethodPatch, "f1", map[string]any{"label": "changed"})
	f = e.getFolder(t, "f1")
	assert.Equal(t, "changed", f["label"])
	assert.InDelta(t, 3600, f["rescanIntervalS"], 0, "reset to its tag default")
	assert.InDelta(t, 10, f["maxConflicts"], 0, "reset to its tag default")
	assert.Equal(t, true, f["fsWatcherEnabled"], "reset to its tag default")
	assert.Equal(t, true, f["syncOwnership"], "a field without a default tag stays")
}
