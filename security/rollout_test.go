package security_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/security"
	"github.com/webinfra/webinfra/security/securitytest"
)

// memCluster is an in-memory cluster: nodes with Ready and Cordoned, drains that may be
// blocked, a lock, and a record of the most nodes out at once.
type memCluster struct {
	mu       sync.Mutex
	nodes    map[string]*security.NodeState
	blocked  map[string]bool
	maxOut   int
	log      []string
	lockHeld bool
}

func newMemCluster(names ...string) *memCluster {
	c := &memCluster{nodes: map[string]*security.NodeState{}, blocked: map[string]bool{}}
	for _, n := range names {
		c.nodes[n] = &security.NodeState{Name: n, Ready: true}
	}
	return c
}

func (c *memCluster) note(s string) {
	out := 0
	for _, n := range c.nodes {
		if !n.Ready || n.Cordoned {
			out++
		}
	}
	c.maxOut = max(c.maxOut, out)
	c.log = append(c.log, s)
}

func (c *memCluster) Cordon(_ context.Context, node string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nodes[node].Cordoned = true
	c.note("cordon " + node)
	return nil
}

func (c *memCluster) Uncordon(_ context.Context, node string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nodes[node].Cordoned = false
	c.note("uncordon " + node)
	return nil
}

func (c *memCluster) Drain(_ context.Context, node string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.note("drain " + node)
	if c.blocked[node] {
		return fmt.Errorf("drain of %s blocked by PodDisruptionBudget web: %w", node, webinfra.ErrFailedPrecondition)
	}
	return nil
}

func (c *memCluster) NodeStates(context.Context) ([]security.NodeState, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []security.NodeState
	for _, n := range c.nodes {
		out = append(out, *n)
	}
	return out, nil
}

func (c *memCluster) setReady(node string, ready bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nodes[node].Ready = ready
	c.note(fmt.Sprintf("ready=%t %s", ready, node))
}

type memLock struct{ c *memCluster }

func (l memLock) Renew(context.Context) error { return nil }
func (l memLock) Release(context.Context) error {
	l.c.mu.Lock()
	l.c.lockHeld = false
	l.c.mu.Unlock()
	return nil
}

func (c *memCluster) locker(ctx context.Context) (security.Lock, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lockHeld {
		return nil, fmt.Errorf("held: %w", webinfra.ErrFailedPrecondition)
	}
	c.lockHeld = true
	return memLock{c}, nil
}

func rolloutSetup(t *testing.T, pol security.UpdatePolicy, names ...string) (*memCluster, *securitytest.LandscapeServer, security.RolloutConfig) {
	cl := newMemCluster(names...)
	srv := securitytest.StartLandscape(t)
	for _, n := range names {
		srv.AddComputer(securitytest.FakeComputer{Hostname: n, Tags: []string{"k8s"}, RebootAfterUpgrade: true, Upgrades: []security.Package{{Name: "linux-image", Version: "6.8.0-60", Security: true}}})
	}
	srv.OnReboot(func(h string) {
		cl.setReady(h, false)
		go func() { time.Sleep(20 * time.Millisecond); cl.setReady(h, true) }()
	})
	ls, err := security.NewLandscape(srv.Config())
	require.NoError(t, err)
	if pol.Tag == "" {
		pol.Tag = "k8s"
	}
	return cl, srv, security.RolloutConfig{ID: "w19", Policy: pol, Lock: cl.locker, Nodes: cl, Drainer: cl, Lister: cl,
		Landscape: ls, State: &security.MemoryStateStore{}, Poll: 5 * time.Millisecond}
}

func TestRolloutNodeByNode(t *testing.T) {
	cl, srv, cfg := rolloutSetup(t, security.UpdatePolicy{}, "n1", "n2", "n3")
	r, err := security.NewRollout(cfg)
	require.NoError(t, err)
	res, err := r.Run(t.Context())
	require.NoError(t, err)
	assert.Equal(t, []string{"n1", "n2", "n3"}, res.Updated)
	assert.Equal(t, []string{"n1", "n2", "n3"}, res.Rebooted)
	assert.Equal(t, 1, cl.maxOut, "never more than one node out")
	assert.False(t, cl.lockHeld, "lock released")
	for _, n := range []string{"n1", "n2", "n3"} {
		c, _ := srv.Computer(n)
		assert.Empty(t, c.Upgrades)
		assert.False(t, c.RebootRequired)
	}
	// A second run of the same rollout has nothing to do.
	res, err = r.Run(t.Context())
	require.NoError(t, err)
	assert.Empty(t, res.Updated)
	assert.Equal(t, []string{"n1", "n2", "n3"}, res.Skipped)
}

func TestRolloutHaltsOnBlockedDrain(t *testing.T) {
	cl, srv, cfg := rolloutSetup(t, security.UpdatePolicy{}, "n1", "n2", "n3")
	cl.blocked["n2"] = true
	r, err := security.NewRollout(cfg)
	require.NoError(t, err)
	res, err := r.Run(t.Context())
	var re *security.RolloutError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "n2", re.Node)
	assert.Equal(t, "drain", re.Step)
	assert.Equal(t, []string{"n1"}, res.Updated)
	assert.False(t, cl.nodes["n2"].Cordoned, "the blocked node is back in service")
	assert.NotContains(t, cl.log, "cordon n3", "no other node taken out")
	c3, _ := srv.Computer("n3")
	assert.NotEmpty(t, c3.Upgrades)
	st, _ := cfg.State.Load(t.Context())
	require.NotNil(t, st.Failed)
	assert.Equal(t, "n2", st.Failed.Node)

	cl.blocked["n2"] = false // the budget allows it again: the next run resumes
	res, err = r.Run(t.Context())
	require.NoError(t, err)
	assert.Equal(t, []string{"n2", "n3"}, res.Updated)
	assert.Equal(t, []string{"n1"}, res.Skipped)
}

func TestRolloutResumesAfterCrash(t *testing.T) {
	cl, srv, cfg := rolloutSetup(t, security.UpdatePolicy{}, "n1", "n2", "n3")
	// A crashed run left n2 cordoned and drained, its upgrade started.
	n2, _ := srv.Computer("n2")
	ls, _ := security.NewLandscape(srv.Config())
	a, err := ls.UpgradePackages(t.Context(), []int{n2.ID}, false)
	require.NoError(t, err)
	require.NoError(t, cfg.State.Save(t.Context(), security.RolloutState{ID: "w19", Done: []string{"n1"},
		InProgress: map[string]security.NodeProgress{"n2": {Step: "upgrade", UpgradeActivity: a.ID}}}))
	cl.nodes["n2"].Cordoned = true

	r, err := security.NewRollout(cfg)
	require.NoError(t, err)
	res, err := r.Run(t.Context())
	require.NoError(t, err)
	assert.Equal(t, []string{"n2", "n3"}, res.Updated, "the interrupted node goes first")
	assert.Equal(t, []string{"n1"}, res.Skipped)
	assert.Equal(t, 2, srv.Count("UpgradePackages"), "n2's activity was awaited, not restarted")
	assert.NotContains(t, cl.log, "drain n2", "n2 was drained before the crash")
	assert.Equal(t, 1, cl.maxOut)
}

func TestRolloutRespectsBudgetAndWindows(t *testing.T) {
	cl, _, cfg := rolloutSetup(t, security.UpdatePolicy{}, "n1", "n2", "n3")
	cl.nodes["n3"].Ready = false // down already, for reasons of its own
	r, err := security.NewRollout(cfg)
	require.NoError(t, err)
	_, err = r.Run(t.Context())
	require.ErrorIs(t, err, security.ErrBudgetExceeded)
	assert.NotContains(t, cl.log, "cordon n1")

	cl2, _, cfg2 := rolloutSetup(t, security.UpdatePolicy{Concurrency: 2}, "n1", "n2", "n3", "n4")
	r2, err := security.NewRollout(cfg2)
	require.NoError(t, err)
	res, err := r2.Run(t.Context())
	require.NoError(t, err)
	assert.Len(t, res.Updated, 4)
	assert.LessOrEqual(t, cl2.maxOut, 2)

	_, _, cfg3 := rolloutSetup(t, security.UpdatePolicy{Windows: []security.Window{{Start: "03:00", Duration: time.Hour}}}, "n1")
	cfg3.Now = func() time.Time { return time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC) }
	r3, err := security.NewRollout(cfg3)
	require.NoError(t, err)
	_, err = r3.Run(t.Context())
	assert.ErrorIs(t, err, security.ErrOutsideWindow)
}

func TestRolloutStopsOnFailedUpgradeAndKeepsNodeCordoned(t *testing.T) {
	cl, srv, cfg := rolloutSetup(t, security.UpdatePolicy{Concurrency: 1}, "n1", "n2")
	srv.FailNext("n1", "upgrade", 1)
	r, err := security.NewRollout(cfg)
	require.NoError(t, err)
	_, err = r.Run(t.Context())
	var ae *security.ActivityError
	require.ErrorAs(t, err, &ae)
	assert.True(t, cl.nodes["n1"].Cordoned)
	assert.False(t, slices.Contains(cl.log, "cordon n2"))
	assert.False(t, errors.Is(err, security.ErrBudgetExceeded))
}
