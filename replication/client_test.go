package replication_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/replication"
	"github.com/webinfra/webinfra/replication/replicationtest"
)

func TestNewValidatesConfig(t *testing.T) {
	key := webinfra.NewSecret("k")
	for name, cfg := range map[string]replication.Config{
		"no base URL": {APIKey: key},
		"relative":    {BaseURL: "127.0.0.1:8384", APIKey: key},
		"ftp":         {BaseURL: "ftp://127.0.0.1", APIKey: key},
		"no key":      {BaseURL: "http://127.0.0.1:8384"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := replication.New(cfg)
			assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
		})
	}
	_, err := replication.New(replication.Config{BaseURL: "http://127.0.0.1:1/", APIKey: key})
	assert.NoError(t, err, "New does no I/O")
}

func TestAPIErrorCategories(t *testing.T) {
	for status, want := range map[int]error{
		404: webinfra.ErrNotFound, 401: webinfra.ErrPermissionDenied, 403: webinfra.ErrPermissionDenied,
		400: webinfra.ErrInvalidArgument, 429: webinfra.ErrRateLimited, 500: webinfra.ErrUnavailable, 503: webinfra.ErrUnavailable,
	} {
		err := fmt.Errorf("wrapped: %w", &replication.APIError{Status: status})
		assert.ErrorIs(t, err, want, "status %d", status)
	}
	assert.NotErrorIs(t, &replication.APIError{Status: 404}, webinfra.ErrUnavailable)
	assert.NotErrorIs(t, &replication.APIError{Status: 500}, webinfra.ErrNotFound)
}

func newFakeClient(t *testing.T) (*replicationtest.Server, *replication.Client) {
	srv := replicationtest.Start(t)
	c, err := replication.New(srv.Config())
	require.NoError(t, err)
	return srv, c
}

func TestRetriesIdempotentOn5xxOnly(t *testing.T) {
	srv, c := newFakeClient(t)
	ctx := t.Context()
	srv.AddFault(replicationtest.Fault{Method: "GET", Path: "/rest/system/status", Status: 502, Times: 2})
	st, err := c.Status(ctx)
	require.NoError(t, err)
	assert.Equal(t, srv.DeviceID(), st.MyID)
	assert.Equal(t, 3, srv.Count("GET /rest/system/status"), "two 502s, then success")

	srv.AddFault(replicationtest.Fault{Method: "DELETE", Times: 1, Drop: true})
	require.NoError(t, c.DeleteFolder(ctx, "x"), "a dropped connection is retried")
	assert.Equal(t, 2, srv.Count("DELETE /rest/config/folders/{id}"))

	srv.AddFault(replicationtest.Fault{Method: "PATCH", Status: 409})
	err = c.PatchFolder(ctx, "x", map[string]any{"label": "y"})
	require.Error(t, err)
	assert.Equal(t, 1, srv.Count("PATCH /rest/config/folders/{id}"), "4xx never retried")

	for _, op := range []func() error{
		func() error { return c.Scan(ctx, "x", "") },
		func() error { return c.Revert(ctx, "x") },
		func() error { return c.Override(ctx, "x") },
	} {
		srv.AddFault(replicationtest.Fault{Method: "POST", Status: 503, Times: 1})
		assert.ErrorIs(t, op(), webinfra.ErrUnavailable)
	}
	assert.Equal(t, 1, srv.Count("POST /rest/db/scan"))
	assert.Equal(t, 1, srv.Count("POST /rest/db/revert"))
	assert.Equal(t, 1, srv.Count("POST /rest/db/override"))
}

func TestContextCancelStopsRetries(t *testing.T) {
	srv, c := newFakeClient(t)
	srv.AddFault(replicationtest.Fault{Status: 500})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := c.Folders(ctx)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestAPIKeyNeverLogged(t *testing.T) {
	srv := replicationtest.Start(t)
	var logs bytes.Buffer
	cfg := srv.Config()
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := replication.New(cfg)
	require.NoError(t, err)
	srv.AddFault(replicationtest.Fault{Method: "GET", Path: "/rest/config/devices", Status: 500, Times: 1})
	_, err = c.Devices(t.Context())
	require.NoError(t, err)
	p, err := replication.PlanNode(t.Context(), c, replication.NodeState{DeviceID: srv.DeviceID(),
		Devices: []replication.DeviceState{{ID: replicationtest.DeviceIDFromSeed("x")}}})
	require.NoError(t, err)
	require.NoError(t, replication.ApplyNode(t.Context(), c, p))
	bad, err := replication.New(replication.Config{BaseURL: srv.URL(), APIKey: webinfra.NewSecret("wrong-key-123")})
	require.NoError(t, err)
	_, err = bad.Status(t.Context())
	require.Error(t, err)

	key := srv.APIKey().Reveal()
	assert.NotEmpty(t, logs.String())
	assert.NotContains(t, logs.String(), key)
	assert.NotContains(t, err.Error(), "wrong-key-123")
	assert.NotContains(t, fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg), key)
	b, _ := json.Marshal(p.Plan())
	assert.NotContains(t, string(b), key)
}

func TestRoundTripKeepsUnnamedFields(t *testing.T) {
	_, c := newFakeClient(t)
	ctx := t.Context()
	f, err := c.DefaultFolder(ctx)
	require.NoError(t, err)
	f.ID, f.Path = "rt", t.TempDir()
	f.Other["maxConflicts"] = json.RawMessage("3")
	f.Devices[0].EncryptionPassword = webinfra.NewSecret("pw")
	require.NoError(t, c.PutFolder(ctx, *f))
	got, err := c.Folder(ctx, "rt")
	require.NoError(t, err)
	assert.JSONEq(t, "3", string(got.Other["maxConflicts"]))
	assert.JSONEq(t, `{"cleanupIntervalS":3600,"fsPath":"","fsType":"basic","params":{},"type":""}`, string(got.Other["versioning"]))
	assert.Equal(t, "pw", got.Devices[0].EncryptionPassword.Reveal())
	assert.NotContains(t, fmt.Sprintf("%v %+v", got.Devices, got.Devices), "pw", "printing redacts the password")
}

func TestPatchNamingAnotherObjectRefused(t *testing.T) {
	srv, c := newFakeClient(t)
	err := c.PatchFolder(t.Context(), "a", map[string]any{"id": "b"})
	assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
	assert.Zero(t, srv.Mutations())
	assert.ErrorIs(t, c.PatchFolder(t.Context(), "absent", map[string]any{"id": "absent"}), webinfra.ErrNotFound)
}

func TestUnknownRouteIsRecorded(t *testing.T) {
	srv := replicationtest.NewServer()
	defer srv.Close()
	resp, err := http.Get(srv.URL() + "/rest/nope")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotImplemented, resp.StatusCode)
	assert.Equal(t, []string{"unimplemented route GET /rest/nope"}, srv.Errors())
}

func TestBrowseAndLocalChangedOnTheFake(t *testing.T) {
	srv := replicationtest.Start(t)
	c, err := replication.New(replication.Config{BaseURL: srv.URL(), APIKey: srv.APIKey()})
	require.NoError(t, err)
	require.NoError(t, c.PutFolder(t.Context(), replication.Folder{ID: "f", Path: "/srv/f"}))
	for _, name := range []string{"b/c.txt", "a.txt", "b/d/e.txt"} {
		srv.SetFile("f", replication.FileInfo{Name: name})
	}
	paths, err := c.Browse(t.Context(), "f")
	require.NoError(t, err)
	assert.Equal(t, []string{"a.txt", "b", "b/c.txt", "b/d", "b/d/e.txt"}, paths)
	changed, err := c.LocalChanged(t.Context(), "f")
	require.NoError(t, err)
	assert.Empty(t, changed)
	_, err = c.Browse(t.Context(), "nope")
	assert.ErrorIs(t, err, webinfra.ErrNotFound)
}
