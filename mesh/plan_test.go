package mesh_test

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/mesh"
	"github.com/webinfra/webinfra/mesh/meshtest"
)

func demoNetwork(names ...string) *mesh.Network {
	n := &mesh.Network{Name: "demo", Subnets: []netip.Prefix{netip.MustParsePrefix("10.88.0.0/16")}}
	for i, name := range names {
		n.Nodes = append(n.Nodes, mesh.Node{Name: name, Endpoints: []string{fmt.Sprintf("192.0.2.%d", i+1)}, Region: "eu"})
	}
	return n
}

type rig struct {
	targets *meshtest.Targets
	daemon  *meshtest.RecordingDaemon
	mgr     *mesh.Manager
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{targets: &meshtest.Targets{}, daemon: &meshtest.RecordingDaemon{}}
	var err error
	r.mgr, err = mesh.New(mesh.Config{Targets: r.targets, Daemon: r.daemon})
	require.NoError(t, err)
	return r
}

// converge plans and applies n and checks that a second plan is empty.
func (r *rig) converge(t *testing.T, n *mesh.Network, opts *mesh.PlanOptions) *mesh.Rollout {
	t.Helper()
	ro, err := r.mgr.Plan(t.Context(), n, opts)
	require.NoError(t, err)
	require.NoError(t, r.mgr.Apply(t.Context(), ro))
	again, err := r.mgr.Plan(t.Context(), n, nil)
	require.NoError(t, err)
	require.True(t, again.Empty(), "plan after apply:\n%s", again.Plan())
	return ro
}

func actions(ro *mesh.Rollout) map[string]string {
	out := map[string]string{}
	for _, np := range ro.Nodes {
		out[np.Node] = np.Action.String()
	}
	return out
}

func TestFirstRolloutStartsEveryNode(t *testing.T) {
	r := newRig(t)
	ro := r.converge(t, demoNetwork("a", "b", "c"), nil)
	assert.Equal(t, map[string]string{"a": "start", "b": "start", "c": "start"}, actions(ro))
	assert.ElementsMatch(t, []string{"start a", "start b", "start c"}, r.daemon.Calls())

	files := r.targets.Files("a")
	for _, p := range []string{"tinc.conf", "tinc-up", "tinc-down", "subnet-up", "subnet-down", "rsa_key.priv", "hosts/a", "hosts/b", "hosts/c"} {
		assert.Contains(t, files, p)
	}
	assert.NotContains(t, files, ".webinfra-pending", "markers are cleared after the signal")
	assert.Equal(t, fs.FileMode(0o600), files["rsa_key.priv"].Mode)
	assert.Equal(t, fs.FileMode(0o755), files["tinc-up"].Mode)
	assert.Equal(t, fs.FileMode(0o644), files["hosts/b"].Mode)

	conf, err := mesh.ParseServerConfig(files["tinc.conf"].Data)
	require.NoError(t, err)
	assert.Equal(t, "a", conf.Name)
	assert.Equal(t, "demo", conf.Interface)
	assert.Equal(t, []int{1, 1, 2}, []int{conf.PingInterval, conf.PingTimeout, conf.MaxTimeout})

	host, err := mesh.ParseHostConfig(files["hosts/b"].Data)
	require.NoError(t, err)
	assert.Equal(t, []mesh.HostAddress{{Host: "192.0.2.2"}}, host.Addresses)
	assert.Equal(t, 655, host.Port)
	assert.True(t, host.TCPOnly)
	assert.Equal(t, "aes-256-cbc", host.Cipher)
	require.Len(t, host.Subnets, 1)
	assert.Equal(t, ro.Network.Node("b").Address, host.Subnets[0].Addr())
	keyB, err := mesh.ParseRSAPrivateKey(r.targets.Files("b")["rsa_key.priv"].Data)
	require.NoError(t, err)
	assert.True(t, keyB.PublicKey.Equal(host.PublicKey), "hosts/b on a carries b's public key")

	up := string(files["tinc-up"].Data)
	assert.Contains(t, up, fmt.Sprintf("ip addr replace %s/16 dev \"$INTERFACE\"", ro.Network.Node("a").Address))
}

func TestPlanReadsOnly(t *testing.T) {
	r := newRig(t)
	_, err := r.mgr.Plan(t.Context(), demoNetwork("a", "b"), nil)
	require.NoError(t, err)
	assert.Zero(t, r.targets.Writes())
	assert.Empty(t, r.daemon.Calls())
}

func TestAddNodeReloadsTheOthers(t *testing.T) {
	r := newRig(t)
	n := demoNetwork("a", "b", "c")
	first := r.converge(t, n, nil)
	r.daemon.Reset()

	grown, err := first.Network.WithNode(mesh.Node{Name: "node-e", Endpoints: []string{"192.0.2.50"}})
	require.NoError(t, err)
	ro := r.converge(t, grown, nil)
	assert.Equal(t, map[string]string{"a": "reload", "b": "reload", "c": "reload", "node-e": "start"}, actions(ro))
	for _, name := range []string{"a", "b", "c"} {
		np := ro.Node(name)
		paths := filesOf(np.Put)
		assert.Contains(t, paths, "hosts/node_e", name)
		assert.NotContains(t, paths, "rsa_key.priv", "%s keeps its key", name)
		assert.NotContains(t, paths, "tinc-up", "%s keeps its address", name)
	}
	// Addresses of the existing nodes are read back from their host files and kept.
	for _, name := range []string{"a", "b", "c"} {
		assert.Equal(t, first.Network.Node(name).Address, ro.Network.Node(name).Address)
	}
	// Restarts would go before reloads; here there are none, and the new node starts last.
	calls := r.daemon.Calls()
	assert.Equal(t, "start node-e", calls[len(calls)-1])
}

func TestRemoveNodeStopsItAndCleansUp(t *testing.T) {
	r := newRig(t)
	n := demoNetwork("a", "b", "c")
	r.converge(t, n, nil)
	r.daemon.Reset()
	shrunk, err := n.WithoutNode("c")
	require.NoError(t, err)
	ro := r.converge(t, shrunk, nil)
	assert.Equal(t, map[string]string{"a": "reload", "b": "reload", "c": "stop"}, actions(ro))
	assert.Equal(t, []string{"hosts/c"}, ro.Node("a").Remove)
	assert.Empty(t, r.targets.Files("c"))
	assert.Equal(t, "stop c", r.daemon.Calls()[0], "stops go first")
	nodes, err := r.targets.Nodes(t.Context())
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, nodes)
}

func TestRotateKeyRestartsTheNodeAndReloadsTheOthers(t *testing.T) {
	r := newRig(t)
	n := demoNetwork("a", "b", "c")
	r.converge(t, n, nil)
	oldKey := r.targets.Files("b")["rsa_key.priv"].Data
	r.daemon.Reset()

	ro := r.converge(t, n, &mesh.PlanOptions{Rotate: []string{"b"}})
	assert.Equal(t, map[string]string{"a": "reload", "b": "restart", "c": "reload"}, actions(ro))
	assert.NotEqual(t, oldKey, r.targets.Files("b")["rsa_key.priv"].Data)
	assert.Equal(t, "restart b", r.daemon.Calls()[0], "restarts go before reloads")
	assert.Equal(t, []string{"hosts/b"}, filesOf(ro.Node("a").Put))

	_, err := r.mgr.Plan(t.Context(), n, &mesh.PlanOptions{Rotate: []string{"zz"}})
	assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
}

func TestChangeDecidesTheDaemonAction(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(n *mesh.Network)
		want map[string]string
	}{
		{"new endpoint of b: the others re-read hosts/b, b re-reads its own Address", func(n *mesh.Network) {
			n.Nodes[1].Endpoints = []string{"198.51.100.9"}
		}, map[string]string{"a": "reload", "b": "reload", "c": "reload"}},
		{"new subnet of b: b restarts (tinc 1.0), the others reload", func(n *mesh.Network) {
			n.Nodes[1].Subnets = []netip.Prefix{netip.MustParsePrefix("10.99.0.0/24")}
		}, map[string]string{"a": "reload", "b": "restart", "c": "reload"}},
		{"new ping timers: every tinc.conf changes beyond ConnectTo", func(n *mesh.Network) {
			n.Failover = mesh.Failover{PingInterval: 10e9, PingTimeout: 3e9, MaxTimeout: 30e9, TCPOnly: true}
		}, map[string]string{"a": "restart", "b": "restart", "c": "restart"}},
		{"new port: every host file changes", func(n *mesh.Network) { n.Port = 6655 },
			map[string]string{"a": "restart", "b": "restart", "c": "restart"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			n := demoNetwork("a", "b", "c")
			first := r.converge(t, n, nil)
			edited := *first.Network
			edited.Nodes = slices.Clone(first.Network.Nodes)
			tc.edit(&edited)
			ro := r.converge(t, &edited, nil)
			assert.Equal(t, tc.want, actions(ro))
		})
	}
}

func TestTopologyChangeIsAReload(t *testing.T) {
	r := newRig(t)
	n := demoNetwork("a", "b", "c", "d")
	r.converge(t, n, nil)
	hub := *n
	hub.Topology = mesh.Topology{Kind: mesh.TopologyHubs, HubsPerRegion: 1, Peers: 1}
	ro := r.converge(t, &hub, nil)
	require.False(t, ro.Empty())
	for _, np := range ro.Nodes {
		assert.Equal(t, mesh.ActionReload, np.Action, "%s: %s", np.Node, np.Reason)
		assert.Equal(t, []string{"tinc.conf"}, filesOf(np.Put))
	}
}

// An apply that fails at any write, or at any daemon call, loses nothing: the next plan and
// apply converge, and every node ends up with the daemon action it was owed.
func TestApplyResumesAfterFailureAtEveryStep(t *testing.T) {
	base := newRig(t)
	n := demoNetwork("a", "b", "c")
	base.converge(t, n, nil)
	grown, err := n.WithNode(mesh.Node{Name: "d", Endpoints: []string{"192.0.2.40"}})
	require.NoError(t, err)
	clean, err := base.mgr.Plan(t.Context(), grown, &mesh.PlanOptions{Rotate: []string{"a"}})
	require.NoError(t, err)
	want := actions(clean) // a restart, b and c reload, d start
	writesBefore := base.targets.Writes()
	require.NoError(t, base.mgr.Apply(t.Context(), clean))
	totalWrites := base.targets.Writes() - writesBefore
	require.Greater(t, totalWrites, 8)

	for k := 1; k <= totalWrites+4; k++ {
		t.Run(fmt.Sprintf("fail_%d", k), func(t *testing.T) {
			r := newRig(t)
			r.converge(t, n, nil)
			r.daemon.Reset()
			failAt := r.targets.Writes() + k
			crash := errors.New("crash")
			if k <= totalWrites {
				r.targets.FailWrite = func(_ string, call int) error {
					if call == failAt {
						return crash
					}
					return nil
				}
			} else {
				calls := 0
				r.daemon.Fail = func(string, string) error {
					if calls++; calls == k-totalWrites {
						return crash
					}
					return nil
				}
			}
			ro, err := r.mgr.Plan(t.Context(), grown, &mesh.PlanOptions{Rotate: []string{"a"}})
			require.NoError(t, err)
			require.ErrorIs(t, r.mgr.Apply(t.Context(), ro), crash)
			r.targets.FailWrite, r.daemon.Fail = nil, nil

			// The operator runs the same command again.
			ro, err = r.mgr.Plan(t.Context(), grown, &mesh.PlanOptions{Rotate: []string{"a"}})
			require.NoError(t, err)
			require.NoError(t, r.mgr.Apply(t.Context(), ro))
			again, err := r.mgr.Plan(t.Context(), grown, nil)
			require.NoError(t, err)
			require.True(t, again.Empty(), "not converged:\n%s", again.Plan())

			// Every node got (at least) its owed action, in one of the two applies.
			done := map[string]string{}
			for _, c := range r.daemon.Calls() {
				action, node, _ := strings.Cut(c, " ")
				if rank(action) >= rank(done[node]) {
					done[node] = action
				}
			}
			for node, a := range want {
				assert.GreaterOrEqual(t, rank(done[node]), rank(a), "node %s owed %s, got calls %v", node, a, r.daemon.Calls())
			}
			// The rotated key survived: a's host file everywhere matches a's key.
			keyA, err := mesh.ParseRSAPrivateKey(r.targets.Files("a")["rsa_key.priv"].Data)
			require.NoError(t, err)
			for _, node := range []string{"a", "b", "c", "d"} {
				h, err := mesh.ParseHostConfig(r.targets.Files(node)["hosts/a"].Data)
				require.NoError(t, err)
				assert.True(t, keyA.PublicKey.Equal(h.PublicKey), "hosts/a on %s", node)
			}
		})
	}
}

func rank(action string) int {
	return slices.Index([]string{"", "reload", "restart", "start"}, action)
}

func TestPlanRefusesABrokenKeyFile(t *testing.T) {
	r := newRig(t)
	n := demoNetwork("a", "b")
	r.converge(t, n, nil)
	r.targets.Put("b", mesh.File{Path: "rsa_key.priv", Data: []byte("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"), Mode: 0o600})
	_, err := r.mgr.Plan(t.Context(), n, nil)
	require.ErrorIs(t, err, webinfra.ErrInvalidArgument)
	assert.Contains(t, err.Error(), `node "b": rsa_key.priv`)
}

func TestWithoutDaemonOnlyFilesChange(t *testing.T) {
	targets := &meshtest.Targets{}
	mgr, err := mesh.New(mesh.Config{Targets: targets})
	require.NoError(t, err)
	n := demoNetwork("a", "b")
	ro, err := mgr.Plan(t.Context(), n, nil)
	require.NoError(t, err)
	for _, np := range ro.Nodes {
		assert.Equal(t, mesh.ActionNone, np.Action)
	}
	require.NoError(t, mgr.Apply(t.Context(), ro))
	again, err := mgr.Plan(t.Context(), n, nil)
	require.NoError(t, err)
	assert.True(t, again.Empty())
}

func TestRolloutNeverPrintsKeys(t *testing.T) {
	r := newRig(t)
	ro, err := r.mgr.Plan(t.Context(), demoNetwork("a", "b"), nil)
	require.NoError(t, err)
	var key []byte
	for _, f := range ro.Node("a").Put {
		if f.Path == "rsa_key.priv" {
			key = f.Data
		}
	}
	require.NotEmpty(t, key)
	secret := strings.Split(string(key), "\n")[1] // a line of the key's base64
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		for _, v := range []any{ro, *ro, ro.Nodes, ro.Node("a").Put, mesh.Keys{}} {
			out := fmt.Sprintf(verb, v)
			assert.NotContains(t, out, secret, "verb %s", verb)
			assert.NotContains(t, out, fmt.Sprintf("%x", key[:16]), "verb %s", verb)
		}
	}
	plan := ro.Plan()
	assert.NotContains(t, plan.String(), secret)
	assert.Contains(t, plan.String(), "+ mesh_file a rsa_key.priv")
	assert.Contains(t, plan.String(), `~ tincd a`)
	js, err := plan.MarshalJSON()
	require.NoError(t, err)
	assert.NotContains(t, string(js), secret)
}

func TestDirTarget(t *testing.T) {
	root := t.TempDir()
	mgr, err := mesh.New(mesh.Config{Targets: mesh.Dir{Root: root}})
	require.NoError(t, err)
	n := demoNetwork("node-a", "node-b")
	ro, err := mgr.Plan(t.Context(), n, nil)
	require.NoError(t, err)
	require.NoError(t, mgr.Apply(t.Context(), ro))

	fi, err := os.Stat(filepath.Join(root, "node-a", "rsa_key.priv"))
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o600), fi.Mode().Perm())
	fi, err = os.Stat(filepath.Join(root, "node-a", "tinc-up"))
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o755), fi.Mode().Perm())
	assert.FileExists(t, filepath.Join(root, "node-a", "hosts", "node_b"))
	again, err := mgr.Plan(t.Context(), n, nil)
	require.NoError(t, err)
	assert.True(t, again.Empty(), "%s", again.Plan())

	// Files the package does not manage are neither read nor written.
	require.NoError(t, os.WriteFile(filepath.Join(root, "node-a", "notes.txt"), []byte("mine"), 0o644))
	err = mesh.Dir{Root: root}.Target("node-a").Write(t.Context(), []mesh.File{{Path: "../evil", Data: []byte("x"), Mode: 0o644}}, nil)
	assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
	err = mesh.Dir{Root: root}.Target("node-a").Write(t.Context(), nil, []string{"notes.txt"})
	assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
	assert.FileExists(t, filepath.Join(root, "node-a", "notes.txt"))
	nodes, err := mesh.Dir{Root: root}.Nodes(t.Context())
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"node-a", "node-b"}, nodes)
}

func TestEd25519KeysArePublished(t *testing.T) {
	r := newRig(t)
	n := demoNetwork("a", "b")
	n.Ed25519 = true
	r.converge(t, n, nil)
	priv, err := mesh.ParseEd25519PrivateKey(r.targets.Files("b")["ed25519_key.priv"].Data)
	require.NoError(t, err)
	h, err := mesh.ParseHostConfig(r.targets.Files("a")["hosts/b"].Data)
	require.NoError(t, err)
	require.NotNil(t, h.Ed25519PublicKey)
	assert.True(t, priv.Matches(*h.Ed25519PublicKey))
	assert.Equal(t, fs.FileMode(0o600), r.targets.Files("b")["ed25519_key.priv"].Mode)
}

func TestSharedSubnetScripts(t *testing.T) {
	r := newRig(t)
	n := demoNetwork("a", "b", "c")
	pool := netip.MustParsePrefix("10.89.255.0/24")
	n.Nodes[1].Subnets = []netip.Prefix{pool}
	n.Nodes[2].Subnets = []netip.Prefix{pool}
	r.converge(t, n, nil)
	up := string(r.targets.Files("b")["subnet-up"].Data)
	assert.Contains(t, up, "case \"$SUBNET\" in 10.89.255.0/24) exit 0", "b's own range stays local")
	assert.NotContains(t, string(r.targets.Files("a")["subnet-up"].Data), "10.89.255.0/24")
	down := string(r.targets.Files("a")["subnet-down"].Data)
	assert.Contains(t, down, "10.89.255.0/24) exit 0", "a shared range keeps its route while one owner goes")
}

func filesOf(files []mesh.File) []string {
	var out []string
	for _, f := range files {
		out = append(out, f.Path)
	}
	return out
}
