package replication_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/replication"
	"github.com/webinfra/webinfra/replication/replicationtest"
)

// callLog records the REST calls of several clients in one order, as "node METHOD path".
type callLog struct {
	mu    sync.Mutex
	calls []string
}

func (l *callLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, s)
}

func (l *callLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.calls...)
}

func (l *callLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = nil
}

type recordingTransport struct {
	node string
	log  *callLog
}

func (rt recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.log.add(rt.node + " " + r.Method + " " + r.URL.Path)
	return http.DefaultTransport.RoundTrip(r)
}

// fakeCluster is a folder shared by fake syncthings, one per node.
type fakeCluster struct {
	folder  string
	srv     map[string]*replicationtest.Server
	clients map[string]*replication.Client
	log     *callLog
}

// validCompletion is what the old writer answers once the new one has everything: the fake
// answers remoteState "unknown", which Failover rightly refuses (real Syncthing answers 100%
// "unknown" for a device not connected yet).
const validCompletion = `{"completion":100,"globalItems":3,"needItems":0,"needDeletes":0,"remoteState":"valid","sequence":3}`

// newFakeCluster starts one fake per node (start: replicationtest.Start or a server closed at
// cleanup without failing on unimplemented routes), shares folder with the given types, and
// makes every old writer candidate answer a valid, complete /rest/db/completion.
func newFakeCluster(t *testing.T, strict bool, folder string, types map[string]replication.FolderType, nodes ...string) *fakeCluster {
	t.Helper()
	fc := &fakeCluster{folder: folder, srv: map[string]*replicationtest.Server{}, clients: map[string]*replication.Client{}, log: &callLog{}}
	for _, n := range nodes {
		var s *replicationtest.Server
		if strict {
			s = replicationtest.Start(t)
		} else {
			s = replicationtest.NewServer()
			t.Cleanup(s.Close)
		}
		fc.srv[n] = s
		cfg := s.Config()
		cfg.HTTPClient = &http.Client{Transport: recordingTransport{node: n, log: fc.log}, Timeout: 10 * time.Second}
		c, err := replication.New(cfg)
		require.NoError(t, err)
		fc.clients[n] = c
	}
	ctx := t.Context()
	for _, n := range nodes {
		c := fc.clients[n]
		var devs []replication.FolderDevice
		for _, o := range nodes {
			if o == n {
				continue
			}
			d, err := c.DefaultDevice(ctx)
			require.NoError(t, err)
			d.DeviceID, d.Name = fc.srv[o].DeviceID(), o
			require.NoError(t, c.PutDevice(ctx, *d))
			devs = append(devs, replication.FolderDevice{DeviceID: fc.srv[o].DeviceID()})
		}
		f, err := c.DefaultFolder(ctx)
		require.NoError(t, err)
		f.ID, f.Path, f.Type, f.Devices = folder, "/data/"+n+"/"+folder, types[n], devs
		require.NoError(t, c.PutFolder(ctx, *f))
		fc.srv[n].AddFault(replicationtest.Fault{Method: "GET", Path: "/rest/db/completion", Status: 200, Body: validCompletion})
		fc.srv[n].ResetCalls()
	}
	fc.log.reset()
	return fc
}

func (fc *fakeCluster) typeOf(t *testing.T, node string) replication.FolderType {
	t.Helper()
	f, err := fc.clients[node].Folder(t.Context(), fc.folder)
	require.NoError(t, err)
	return f.Type
}

func abc() map[string]replication.FolderType {
	return map[string]replication.FolderType{"a": replication.SendReceive, "b": replication.ReceiveOnly, "c": replication.ReceiveOnly}
}

func TestFailoverCallSequence(t *testing.T) {
	fc := newFakeCluster(t, true, "web", abc(), "a", "b", "c")
	rep, err := replication.Failover(t.Context(), fc.clients, "web", "a", "b", nil)
	require.NoError(t, err)
	assert.Equal(t, []string{
		// check: every holder's folder, then the new and the old writer's device IDs
		"a GET /rest/config/folders/web",
		"b GET /rest/config/folders/web",
		"c GET /rest/config/folders/web",
		"b GET /rest/system/status",
		"a GET /rest/system/status",
		// scan-old: the old writer, still a writer, announces its writes
		"a POST /rest/db/scan",
		// demote-old
		"a PATCH /rest/config/folders/web",
		// check-old: rescan and count stranded writes
		"a POST /rest/db/scan",
		"a GET /rest/db/status",
		// scan-new
		"b POST /rest/db/scan",
		"b GET /rest/db/status",
		// wait-sync: the old writer's index sequence, then its view of the new writer and the
		// new writer's own status (which holds how much of the old writer's index it has)
		"a GET /rest/db/status",
		"a GET /rest/db/completion",
		"b GET /rest/db/status",
		// promote-new
		"b PATCH /rest/config/folders/web",
	}, fc.log.get())
	assert.Equal(t, replication.ReceiveOnly, fc.typeOf(t, "a"))
	assert.Equal(t, replication.WriterType, fc.typeOf(t, "b"))
	assert.Equal(t, replication.ReceiveOnly, fc.typeOf(t, "c"))
	assert.Zero(t, fc.srv["c"].Mutations(), "a third holder is only read")
	assert.False(t, rep.AlreadyDone)
	var steps []string
	for _, s := range rep.Steps {
		steps = append(steps, s.Step)
	}
	assert.Equal(t, []string{replication.StepCheck, replication.StepScanOld, replication.StepDemoteOld, replication.StepCheckOld,
		replication.StepScanNew, replication.StepWaitSync, replication.StepPromoteNew}, steps)
	assert.Contains(t, rep.String(), "failover web: a -> b")
}

func TestFailoverStopWritesAfterCatchUp(t *testing.T) {
	fc := newFakeCluster(t, true, "web", abc(), "a", "b", "c")
	stop := func(context.Context) error { fc.log.add("app stop-writes"); return nil }
	_, err := replication.Failover(t.Context(), fc.clients, "web", "a", "b", &replication.FailoverOptions{StopWrites: stop})
	require.NoError(t, err)
	assert.Equal(t, []string{
		"a GET /rest/config/folders/web", "b GET /rest/config/folders/web", "c GET /rest/config/folders/web", "b GET /rest/system/status", "a GET /rest/system/status",
		// catch-up while the application still writes
		"a POST /rest/db/scan", "a GET /rest/db/status", "a GET /rest/db/completion", "b GET /rest/db/status",
		"app stop-writes",
		"a POST /rest/db/scan",
		"a PATCH /rest/config/folders/web",
		"a POST /rest/db/scan", "a GET /rest/db/status",
		"b POST /rest/db/scan", "b GET /rest/db/status",
		"a GET /rest/db/status", "a GET /rest/db/completion", "b GET /rest/db/status",
		"b PATCH /rest/config/folders/web",
	}, fc.log.get())
}

func TestFailoverIdempotent(t *testing.T) {
	fc := newFakeCluster(t, true, "web", abc(), "a", "b", "c")
	_, err := replication.Failover(t.Context(), fc.clients, "web", "a", "b", nil)
	require.NoError(t, err)
	for _, s := range fc.srv {
		s.ResetCalls()
	}
	fc.log.reset()
	called := false
	rep, err := replication.Failover(t.Context(), fc.clients, "web", "a", "b",
		&replication.FailoverOptions{StopWrites: func(context.Context) error { called = true; return nil }})
	require.NoError(t, err)
	assert.True(t, rep.AlreadyDone)
	assert.False(t, called, "nothing to stop when b already writes")
	for n, s := range fc.srv {
		assert.Zero(t, s.Mutations(), "node %s", n)
	}
	assert.Equal(t, []string{"a GET /rest/config/folders/web", "b GET /rest/config/folders/web", "c GET /rest/config/folders/web",
		"b GET /rest/system/status", "a GET /rest/system/status"}, fc.log.get())
}

func TestFailoverRevertsNewWritersLocalChanges(t *testing.T) {
	fc := newFakeCluster(t, true, "web", abc(), "a", "b", "c")
	// b's scan-new status shows 2 local changes; after the revert it is clean.
	fc.srv["b"].AddFault(replicationtest.Fault{Method: "GET", Path: "/rest/db/status", Status: 200, Times: 1,
		Body: `{"state":"idle","receiveOnlyTotalItems":2}`})
	rep, err := replication.Failover(t.Context(), fc.clients, "web", "a", "b", nil)
	require.NoError(t, err)
	assert.Equal(t, 2, rep.RevertedOnNew)
	assert.Equal(t, 1, fc.srv["b"].Count("POST /rest/db/revert"))
	assert.Zero(t, fc.srv["a"].Count("POST /rest/db/revert"))
	calls := fc.log.get()
	assert.Less(t, indexOf(calls, "b POST /rest/db/revert"), indexOf(calls, "a GET /rest/db/completion"), "revert before the final wait")
}

func TestFailoverReportsStrandedWritesOnOldWriter(t *testing.T) {
	fc := newFakeCluster(t, true, "web", abc(), "a", "b", "c")
	fc.srv["a"].AddFault(replicationtest.Fault{Method: "GET", Path: "/rest/db/status", Status: 200, Times: 1,
		Body: `{"state":"idle","receiveOnlyTotalItems":3}`})
	rep, err := replication.Failover(t.Context(), fc.clients, "web", "a", "b", nil)
	require.NoError(t, err)
	assert.Equal(t, 3, rep.StrandedOnOld)
	assert.Zero(t, fc.srv["a"].Count("POST /rest/db/revert"), "stranded writes are reported, never reverted")
}

func TestFailoverTimeoutThenResume(t *testing.T) {
	fc := newFakeCluster(t, true, "web", abc(), "a", "b", "c")
	fc.srv["a"].ClearFaults()
	fc.srv["a"].AddFault(replicationtest.Fault{Method: "GET", Path: "/rest/db/completion", Status: 200,
		Body: `{"completion":60,"needItems":4,"remoteState":"valid"}`})
	t0 := time.Now()
	rep, err := replication.Failover(t.Context(), fc.clients, "web", "a", "b",
		&replication.FailoverOptions{Timeout: 300 * time.Millisecond, PollInterval: 20 * time.Millisecond})
	require.Error(t, err)
	assert.Less(t, time.Since(t0), 3*time.Second)
	var fe *replication.FailoverError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, replication.StepWaitSync, fe.Step)
	assert.Equal(t, "b", fe.Node)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), `step wait-sync on node "b"`)
	assert.Contains(t, err.Error(), "need 4 items")
	assert.Equal(t, 4, rep.PendingItems)
	// No writer now, never two.
	assert.Equal(t, replication.ReceiveOnly, fc.typeOf(t, "a"))
	assert.Equal(t, replication.ReceiveOnly, fc.typeOf(t, "b"))

	// Resume once b caught up: the demotion is not repeated.
	fc.srv["a"].ClearFaults()
	fc.srv["a"].AddFault(replicationtest.Fault{Method: "GET", Path: "/rest/db/completion", Status: 200, Body: validCompletion})
	fc.srv["a"].ResetCalls()
	rep, err = replication.Failover(t.Context(), fc.clients, "web", "a", "b", nil)
	require.NoError(t, err)
	assert.Zero(t, fc.srv["a"].Count("PATCH /rest/config/folders/{id}"))
	assert.Equal(t, replication.WriterType, fc.typeOf(t, "b"))
	assert.False(t, rep.AlreadyDone)
}

func TestFailoverRemoteStateUnknownIsNotSynced(t *testing.T) {
	fc := newFakeCluster(t, true, "web", abc(), "a", "b", "c")
	fc.srv["a"].ClearFaults() // the fake's own answer: 100% but remoteState "unknown"
	_, err := replication.Failover(t.Context(), fc.clients, "web", "a", "b",
		&replication.FailoverOptions{Timeout: 200 * time.Millisecond, PollInterval: 20 * time.Millisecond})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `remote state "unknown"`)
	assert.Equal(t, replication.ReceiveOnly, fc.typeOf(t, "b"))
}

func TestFailoverErrorsNameStepAndNode(t *testing.T) {
	for _, tc := range []struct {
		name       string
		node       string
		fault      replicationtest.Fault
		step, at   string
		categories error
	}{
		{"scan old", "a", replicationtest.Fault{Method: "POST", Path: "/rest/db/scan", Status: 403}, replication.StepScanOld, "a", webinfra.ErrPermissionDenied},
		{"demote old", "a", replicationtest.Fault{Method: "PATCH", Status: 400}, replication.StepDemoteOld, "a", webinfra.ErrInvalidArgument},
		{"check old", "a", replicationtest.Fault{Method: "GET", Path: "/rest/db/status", Status: 404}, replication.StepCheckOld, "a", webinfra.ErrNotFound},
		{"scan new", "b", replicationtest.Fault{Method: "POST", Path: "/rest/db/scan", Status: 403}, replication.StepScanNew, "b", webinfra.ErrPermissionDenied},
		{"revert new", "b", replicationtest.Fault{Method: "POST", Path: "/rest/db/revert", Status: 403}, replication.StepRevertNew, "b", webinfra.ErrPermissionDenied},
		{"promote new", "b", replicationtest.Fault{Method: "PATCH", Status: 400}, replication.StepPromoteNew, "b", webinfra.ErrInvalidArgument},
		{"check", "c", replicationtest.Fault{Method: "GET", Path: "/rest/config/folders/*", Status: 404}, replication.StepCheck, "", webinfra.ErrFailedPrecondition},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fc := newFakeCluster(t, true, "web", abc(), "a", "b", "c")
			if tc.step == replication.StepRevertNew {
				fc.srv["b"].AddFault(replicationtest.Fault{Method: "GET", Path: "/rest/db/status", Status: 200, Times: 1, Body: `{"state":"idle","receiveOnlyTotalItems":1}`})
			}
			fc.srv[tc.node].AddFault(tc.fault)
			_, err := replication.Failover(t.Context(), fc.clients, "web", "a", "b", nil)
			var fe *replication.FailoverError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tc.step, fe.Step)
			assert.Equal(t, tc.at, fe.Node)
			assert.ErrorIs(t, err, tc.categories)
			assert.Contains(t, err.Error(), "step "+tc.step)
			if tc.step != replication.StepPromoteNew {
				assert.Equal(t, replication.ReceiveOnly, fc.typeOf(t, "b"), "b is promoted only last")
			}
		})
	}
}

func TestFailoverRefusesBadInput(t *testing.T) {
	t.Run("same node", func(t *testing.T) {
		fc := newFakeCluster(t, true, "web", abc(), "a", "b")
		_, err := replication.Failover(t.Context(), fc.clients, "web", "a", "a", nil)
		assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
	})
	t.Run("unknown node", func(t *testing.T) {
		fc := newFakeCluster(t, true, "web", abc(), "a", "b")
		_, err := replication.Failover(t.Context(), fc.clients, "web", "a", "x", nil)
		assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
		assert.Contains(t, err.Error(), `"x"`)
	})
	t.Run("third writer", func(t *testing.T) {
		types := abc()
		types["c"] = replication.SendReceive
		fc := newFakeCluster(t, true, "web", types, "a", "b", "c")
		_, err := replication.Failover(t.Context(), fc.clients, "web", "a", "b", nil)
		assert.ErrorIs(t, err, webinfra.ErrFailedPrecondition)
		assert.Contains(t, err.Error(), `node "c" is a writer too`)
		for n, s := range fc.srv {
			assert.Zero(t, s.Mutations(), "node %s", n)
		}
	})
	t.Run("stop writes fails", func(t *testing.T) {
		fc := newFakeCluster(t, true, "web", abc(), "a", "b")
		boom := errors.New("lease not released")
		_, err := replication.Failover(t.Context(), fc.clients, "web", "a", "b",
			&replication.FailoverOptions{StopWrites: func(context.Context) error { return boom }})
		assert.ErrorIs(t, err, boom)
		assert.Contains(t, err.Error(), "step stop-writes")
		assert.Equal(t, replication.SendReceive, fc.typeOf(t, "a"), "the old writer stays the writer")
	})
	t.Run("cancelled", func(t *testing.T) {
		fc := newFakeCluster(t, true, "web", abc(), "a", "b")
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := replication.Failover(ctx, fc.clients, "web", "a", "b", nil)
		assert.ErrorIs(t, err, context.Canceled)
		for n, s := range fc.srv {
			assert.Zero(t, s.Mutations(), "node %s", n)
		}
	})
}

func TestFailoverDemotesSecondWriterOnly(t *testing.T) {
	types := abc()
	types["b"] = replication.SendReceive // an earlier run promoted b, then failed; or someone did
	fc := newFakeCluster(t, true, "web", types, "a", "b", "c")
	rep, err := replication.Failover(t.Context(), fc.clients, "web", "a", "b", nil)
	require.NoError(t, err)
	assert.False(t, rep.AlreadyDone)
	assert.Equal(t, replication.ReceiveOnly, fc.typeOf(t, "a"))
	assert.Equal(t, replication.WriterType, fc.typeOf(t, "b"))
	assert.Zero(t, fc.srv["b"].Count("PATCH /rest/config/folders/{id}"))
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}
