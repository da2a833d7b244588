package replication_test

import (
	"context"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra/internal/testutil"
	"github.com/webinfra/webinfra/replication"
	"github.com/webinfra/webinfra/replication/replicationtest"
)

// realCluster is a folder shared by real syncthing instances, one per node, configured through
// PlanNode/ApplyNode with the types FolderTypes gives for the active host.
type realCluster struct {
	folder string
	nodes  []string
	inst   map[string]*replicationtest.Instance
	dirs   map[string]string
	engine *replication.SyncthingEngine
}

func (c *realCluster) clients() map[string]*replication.Client {
	out := map[string]*replication.Client{}
	for n, in := range c.inst {
		out[n] = in.Client
	}
	return out
}

// startRealCluster starts one syncthing per node (a missing binary skips, or fails under
// CI=true), shares folder between all of them with active as the writer and waits until the
// writer sees every other node connected.
func startRealCluster(t testing.TB, folder, active string, nodes ...string) *realCluster {
	t.Helper()
	c := &realCluster{folder: folder, nodes: nodes, inst: map[string]*replicationtest.Instance{}, dirs: map[string]string{}}
	for _, n := range nodes {
		in := replicationtest.StartSyncthing(t, replicationtest.Options{Name: n})
		c.inst[n], c.dirs[n] = in, t.TempDir()
	}
	p := replication.Placement{folder: nodes}
	types, err := replication.FolderTypes(p, folder, active)
	require.NoError(t, err)
	desired := map[string]replication.NodeState{}
	for _, n := range nodes {
		st := replication.NodeState{DeviceID: c.inst[n].DeviceID}
		var devs []string
		for _, o := range nodes {
			if o != n {
				st.Devices = append(st.Devices, replication.DeviceState{ID: c.inst[o].DeviceID, Name: o, Addresses: []string{c.inst[o].ListenAddress}})
				devs = append(devs, c.inst[o].DeviceID)
			}
		}
		st.Folders = []replication.FolderState{{ID: folder, Path: c.dirs[n], Type: types[n], Devices: devs, FSWatcherDelay: time.Second}}
		desired[n] = st
	}
	c.engine, err = replication.NewSyncthingEngine(c.clients())
	require.NoError(t, err)
	plans, err := c.engine.Plan(t.Context(), desired)
	require.NoError(t, err)
	require.NoError(t, c.engine.Apply(t.Context(), plans))
	for _, n := range nodes {
		if n == active {
			continue
		}
		testutil.Eventually(t, 30*time.Second, func() error {
			comp, err := c.inst[active].Client.Completion(t.Context(), folder, c.inst[n].DeviceID)
			if err != nil {
				return err
			}
			if comp.RemoteState != "valid" {
				return fmt.Errorf("%s sees %s as %q", active, n, comp.RemoteState)
			}
			return nil
		})
	}
	return c
}

func writeSynced(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// conflictCopies lists the .sync-conflict files under dir.
func conflictCopies(dir string) []string {
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), ".sync-conflict-") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// appWriter is the application: it writes unique files, fsynced, on the current host at a
// steady rate, and can be paused (StopWrites) and moved to another host.
type appWriter struct {
	mu     sync.Mutex
	host   string
	dirs   map[string]string
	paused bool
	acked  map[string]string // name -> content
	order  []string
	where  map[string]string // name -> host that wrote it
	n      int
}

func (w *appWriter) writeOne() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.paused {
		return nil
	}
	name := fmt.Sprintf("f-%05d.txt", w.n)
	content := fmt.Sprintf("file %d written on %s at %s\n", w.n, w.host, time.Now().Format(time.RFC3339Nano))
	if err := writeSynced(filepath.Join(w.dirs[w.host], name), []byte(content), 0o640); err != nil {
		return err
	}
	w.n++
	w.acked[name], w.where[name] = content, w.host
	w.order = append(w.order, name)
	return nil
}

// stop blocks until no write is in progress and pauses the writer: what StopWrites does.
func (w *appWriter) stop(context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.paused = true
	return nil
}

func (w *appWriter) moveTo(host string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.host, w.paused = host, false
}

func (w *appWriter) run(ctx context.Context, every time.Duration, errc chan<- error) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			errc <- nil
			return
		case <-tick.C:
			if err := w.writeOne(); err != nil {
				errc <- err
				return
			}
		}
	}
}

// TestFailoverRealContinuousWrites moves the writer of a folder held by three real syncthing
// instances while an application writes a file every 20ms: it writes on a until Failover
// pauses it (StopWrites), then on b once Failover returns. Every acknowledged file must then
// be on every node with its content, and no conflict copy may exist anywhere.
func TestFailoverRealContinuousWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts three syncthing instances")
	}
	c := startRealCluster(t, "svc-data", "a", "a", "b", "c")
	ctx := t.Context()
	w := &appWriter{host: "a", dirs: c.dirs, acked: map[string]string{}, where: map[string]string{}}
	wctx, stopWriter := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go w.run(wctx, 20*time.Millisecond, errc)

	testutil.Eventually(t, 10*time.Second, func() error {
		if w.count() < 50 {
			return fmt.Errorf("%d files written", w.count())
		}
		return nil
	})
	rep, err := c.engine.Failover(ctx, c.folder, "a", "b", &replication.FailoverOptions{StopWrites: w.stop, Timeout: time.Minute})
	require.NoError(t, err)
	missing := 0
	w.mu.Lock()
	for name := range w.acked {
		if _, err := os.Stat(filepath.Join(c.dirs["b"], name)); err != nil {
			missing++
		}
	}
	w.mu.Unlock()
	assert.Zero(t, missing, "files acknowledged on a missing on b when Failover returned")
	w.moveTo("b")
	t.Logf("%v", rep)
	before := w.count()
	testutil.Eventually(t, 10*time.Second, func() error {
		if w.count() < before+50 {
			return fmt.Errorf("%d files written after the switch", w.count()-before)
		}
		return nil
	})
	stopWriter()
	require.NoError(t, <-errc)
	assert.Zero(t, rep.StrandedOnOld, "StopWrites paused the writer before the final scan")
	assert.False(t, rep.AlreadyDone)

	fo, err := c.inst["b"].Client.Folder(ctx, c.folder)
	require.NoError(t, err)
	assert.Equal(t, replication.WriterType, fo.Type)
	fo, err = c.inst["a"].Client.Folder(ctx, c.folder)
	require.NoError(t, err)
	assert.Equal(t, replication.ReceiveOnly, fo.Type)

	w.mu.Lock()
	acked := maps.Clone(w.acked)
	onA := 0
	for _, h := range w.where {
		if h == "a" {
			onA++
		}
	}
	w.mu.Unlock()
	t.Logf("%d acknowledged files: %d on a before the switch, %d on b after", len(acked), onA, len(acked)-onA)
	settleStart := time.Now()
	testutil.Eventually(t, 60*time.Second, func() error {
		for _, n := range c.nodes {
			for name, content := range acked {
				b, err := os.ReadFile(filepath.Join(c.dirs[n], name))
				if err != nil {
					return fmt.Errorf("node %s: %w", n, err)
				}
				if string(b) != content {
					return fmt.Errorf("node %s: %s has %q, want %q", n, name, b, content)
				}
			}
		}
		return nil
	})
	t.Logf("every node has every acknowledged file %v after the writer stopped", time.Since(settleStart).Round(time.Millisecond))
	for _, n := range c.nodes {
		assert.Empty(t, conflictCopies(c.dirs[n]), "conflict copies on %s", n)
	}
	audit, err := c.engine.Audit(ctx, c.folder)
	require.NoError(t, err)
	assert.True(t, audit.Clean(), "%v", audit)

	// Idempotent: again to b changes nothing.
	again, err := c.engine.Failover(ctx, c.folder, "a", "b", nil)
	require.NoError(t, err)
	assert.True(t, again.AlreadyDone)
}

func (w *appWriter) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}
