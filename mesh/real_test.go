package mesh_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra/internal/testbin"
	"github.com/webinfra/webinfra/internal/testutil"
	"github.com/webinfra/webinfra/mesh"
	"github.com/webinfra/webinfra/mesh/meshtest"
)

// The real tests run tincd 1.0 in network namespaces (root, tincd, ip, nft and ping needed;
// scripts/testbin.sh installs them).

func TestRealAllPairsPing(t *testing.T) {
	m := meshtest.Start(t, meshtest.Config{Nodes: []string{"a", "b", "c", "d"}})
	took := m.WaitAllPairs(20 * time.Second)
	t.Logf("all pairs ping %v after the rollout", took)
	again, err := m.Manager.Plan(t.Context(), m.Network, nil)
	require.NoError(t, err)
	assert.True(t, again.Empty(), "plan after apply: %s", again.Plan())
}

// A cut direct link is routed around through the other nodes within seconds.
func TestRealLinkCutReroutes(t *testing.T) {
	m := meshtest.Start(t, meshtest.Config{Nodes: []string{"a", "b", "c", "d"}})
	m.WaitAllPairs(20 * time.Second)
	conns := m.Network.Connections()
	require.True(t, slices.Contains(conns["a"], "b") || slices.Contains(conns["b"], "a"), "a and b must be connected directly: %v", conns)

	require.NoError(t, m.Net.Cut(t.Context(), m.Net.Host("a"), m.Net.Host("b")))
	took := m.WaitReach("a", "b", 15*time.Second)
	m.WaitReach("b", "a", 5*time.Second)
	t.Logf("a reaches b through the others %v after the cut", took)
	mx, err := m.Reachability(t.Context())
	require.NoError(t, err)
	assert.True(t, mx.OK(), "after the cut:\n%s", mx)
}

// When one node's tincd dies, the others keep reaching each other, even where they also lost
// their direct link.
func TestRealNodeFailure(t *testing.T) {
	m := meshtest.Start(t, meshtest.Config{Nodes: []string{"a", "b", "c", "d"}})
	m.WaitAllPairs(20 * time.Second)
	require.NoError(t, m.Daemon.Kill("c"))
	require.NoError(t, m.Net.Cut(t.Context(), m.Net.Host("a"), m.Net.Host("b")))
	rest, err := m.Network.WithoutNode("c")
	require.NoError(t, err)
	testutil.Eventually(t, 15*time.Second, func() error {
		mx, err := mesh.Reachability(t.Context(), rest, m.Pinger(), 0)
		if err != nil {
			return err
		}
		if !mx.OK() {
			return fmt.Errorf("unreachable: %v", mx.Unreachable())
		}
		return nil
	})
	assert.Error(t, m.Ping(t.Context(), "a", "c"), "c's tincd is dead")
}

// Adding a node restarts nobody: the others reload, and the new node is reachable from all.
func TestRealAddNodeReloadsOnly(t *testing.T) {
	m := meshtest.Start(t, meshtest.Config{Nodes: []string{"a", "b", "c", "d"}, Spare: []string{"e"}})
	m.WaitAllPairs(20 * time.Second)
	pids := map[string]int{}
	for _, n := range []string{"a", "b", "c", "d"} {
		pids[n] = m.Daemon.Pid(n)
		require.NotZero(t, pids[n])
	}
	grown, err := m.Network.WithNode(meshtest.Node(m.Net, "e"))
	require.NoError(t, err)
	r := m.Apply(grown, nil)
	for _, np := range r.Nodes {
		want := mesh.ActionReload
		if np.Node == "e" {
			want = mesh.ActionStart
		}
		assert.Equal(t, want, np.Action, "node %s: %s", np.Node, np.Reason)
	}
	require.Len(t, r.Nodes, 5)
	m.WaitAllPairs(20 * time.Second)
	for n, pid := range pids {
		assert.Equal(t, pid, m.Daemon.Pid(n), "tincd of %s was restarted", n)
	}
}

// A removed node is stopped, its host file leaves every other node, and the others refuse it
// even when it comes back with its old files.
func TestRealRemoveNode(t *testing.T) {
	m := meshtest.Start(t, meshtest.Config{Nodes: []string{"a", "b", "c", "d"}})
	m.WaitAllPairs(20 * time.Second)
	saved := t.TempDir()
	require.NoError(t, os.CopyFS(saved, os.DirFS(filepath.Join(m.Root, "d"))))

	shrunk, err := m.Network.WithoutNode("d")
	require.NoError(t, err)
	r := m.Apply(shrunk, nil)
	require.NotNil(t, r.Node("d"))
	assert.Equal(t, mesh.ActionStop, r.Node("d").Action)
	for _, n := range []string{"a", "b", "c"} {
		require.NotNil(t, r.Node(n))
		assert.Equal(t, []string{"hosts/d"}, r.Node(n).Remove)
		assert.Equal(t, mesh.ActionReload, r.Node(n).Action)
		assert.NoFileExists(t, filepath.Join(m.Root, n, "hosts", "d"))
	}
	assert.Zero(t, m.Daemon.Pid("d"))
	again, err := m.Manager.Plan(t.Context(), shrunk, nil)
	require.NoError(t, err)
	assert.True(t, again.Empty(), "plan after removal: %s", again.Plan())
	m.WaitAllPairs(10 * time.Second)

	// d comes back with its old files and dials the others: they no longer know it.
	require.NoError(t, os.CopyFS(filepath.Join(m.Root, "d"), os.DirFS(saved)))
	require.NoError(t, m.Daemon.Start(t.Context(), "d"))
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		require.Error(t, m.Pinger().Probe(t.Context(), "d", m.Addr("a")), "the removed node reached a")
	}
	assert.Contains(t, m.Daemon.Log("a")+m.Daemon.Log("b")+m.Daemon.Log("c"), "unknown identity")
}

// Rotating a node's key restarts that node, reloads the others, and keeps the mesh up.
func TestRealRotateKey(t *testing.T) {
	m := meshtest.Start(t, meshtest.Config{Nodes: []string{"a", "b", "c", "d"}})
	m.WaitAllPairs(20 * time.Second)
	oldKey, err := os.ReadFile(filepath.Join(m.Root, "b", mesh.FileRSAKey))
	require.NoError(t, err)

	r := m.Apply(m.Network, &mesh.PlanOptions{Rotate: []string{"b"}})
	assert.Equal(t, mesh.ActionRestart, r.Node("b").Action)
	for _, n := range []string{"a", "c", "d"} {
		assert.Equal(t, mesh.ActionReload, r.Node(n).Action, n)
	}
	m.WaitAllPairs(20 * time.Second)

	newKey, err := os.ReadFile(filepath.Join(m.Root, "b", mesh.FileRSAKey))
	require.NoError(t, err)
	assert.NotEqual(t, oldKey, newKey)
	priv, err := mesh.ParseRSAPrivateKey(newKey)
	require.NoError(t, err)
	for _, n := range []string{"a", "b", "c", "d"} {
		data, err := os.ReadFile(filepath.Join(m.Root, n, "hosts", "b"))
		require.NoError(t, err)
		h, err := mesh.ParseHostConfig(data)
		require.NoError(t, err)
		assert.True(t, priv.PublicKey.Equal(h.PublicKey), "hosts/b on %s has the old key", n)
	}
}

// tincd -K writes keys that the SDK parses and writes back byte for byte.
func TestRealTincdGeneratedKeys(t *testing.T) {
	tincd := testbin.Require(t, "tincd")
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tinc.conf"), []byte("Name = a\n"), 0o644))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "hosts"), 0o755))
	cmd := exec.CommandContext(t.Context(), tincd, "-c", dir, "-K2048")
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)

	privFile, err := os.ReadFile(filepath.Join(dir, "rsa_key.priv"))
	require.NoError(t, err)
	priv, err := mesh.ParseRSAPrivateKey(privFile)
	require.NoError(t, err)
	// tincd appends to the file, starting with a newline.
	assert.Equal(t, string(privFile), "\n"+string(mesh.MarshalRSAPrivateKey(priv)))

	hostFile, err := os.ReadFile(filepath.Join(dir, "hosts", "a"))
	require.NoError(t, err)
	h, err := mesh.ParseHostConfig(hostFile)
	require.NoError(t, err)
	require.NotNil(t, h.PublicKey)
	assert.True(t, priv.PublicKey.Equal(h.PublicKey))
	assert.Equal(t, strings.TrimPrefix(string(hostFile), "\n"), string(h.Marshal()))
	assert.Equal(t, string(h.Marshal()), string(mesh.MarshalRSAPublicKey(&priv.PublicKey)))
}
