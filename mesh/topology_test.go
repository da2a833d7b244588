package mesh_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra/mesh"
)

// topoNetwork builds a network of count nodes spread over regions at random, with roughly
// noEndpoints of every 100 nodes behind NAT (no endpoints). r makes it deterministic.
func topoNetwork(r *rand.Rand, count, regions, noEndpoints int, topo mesh.Topology) mesh.Network {
	n := mesh.Network{Name: "topo", Subnets: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}, Topology: topo}
	for i := range count {
		node := mesh.Node{Name: fmt.Sprintf("n-%04d", i), Region: fmt.Sprintf("region-%d", r.IntN(regions))}
		if r.IntN(100) >= noEndpoints {
			node.Endpoints = []string{fmt.Sprintf("198.51.100.%d", i%250+1)}
		}
		n.Nodes = append(n.Nodes, node)
	}
	return n
}

// topoShuffled returns n with its nodes in another order.
func topoShuffled(r *rand.Rand, n mesh.Network) mesh.Network {
	n.Nodes = slices.Clone(n.Nodes)
	r.Shuffle(len(n.Nodes), func(i, j int) { n.Nodes[i], n.Nodes[j] = n.Nodes[j], n.Nodes[i] })
	return n
}

// topoDialable returns the names of the nodes with endpoints.
func topoDialable(n *mesh.Network) map[string]bool {
	out := map[string]bool{}
	for _, node := range n.Nodes {
		if len(node.Endpoints) > 0 {
			out[node.Name] = true
		}
	}
	return out
}

// topoCheck checks the invariants of every topology and returns the undirected graph: every
// node has an entry, sorted, without itself or unknown names; only nodes with endpoints are
// dialled; and each pair is connected from one side only, once.
func topoCheck(t *testing.T, n *mesh.Network, conns map[string][]string) map[string]map[string]bool {
	t.Helper()
	dialable := topoDialable(n)
	adj := map[string]map[string]bool{}
	for _, node := range n.Nodes {
		adj[node.Name] = map[string]bool{}
	}
	require.Len(t, conns, len(n.Nodes), "one entry per node")
	for from, tos := range conns {
		require.Contains(t, adj, from, "unknown node in Connections")
		assert.True(t, slices.IsSorted(tos), "ConnectTo of %s not sorted: %v", from, tos)
		for _, to := range tos {
			require.Contains(t, adj, to, "%s dials an unknown node", from)
			assert.NotEqual(t, from, to, "%s dials itself", from)
			assert.True(t, dialable[to], "%s dials %s, which has no endpoints", from, to)
			if adj[from][to] {
				t.Errorf("pair %s-%s connected twice (both directions or a repeated line)", from, to)
			}
			adj[from][to], adj[to][from] = true, true
		}
	}
	return adj
}

// topoComponents counts the connected components of adj without the node removed ("" for none).
func topoComponents(adj map[string]map[string]bool, removed string) int {
	seen := map[string]bool{removed: true}
	comps := 0
	for _, start := range slices.Sorted(maps.Keys(adj)) {
		if seen[start] {
			continue
		}
		comps++
		queue := []string{start}
		seen[start] = true
		for len(queue) > 0 {
			v := queue[0]
			queue = queue[1:]
			for w := range adj[v] {
				if !seen[w] {
					seen[w] = true
					queue = append(queue, w)
				}
			}
		}
	}
	return comps
}

// topoBruteResilience is Resilience by brute force: remove each node and count components.
func topoBruteResilience(adj map[string]map[string]bool) mesh.Resilience {
	r := mesh.Resilience{Components: topoComponents(adj, "")}
	for _, v := range slices.Sorted(maps.Keys(adj)) {
		if topoComponents(adj, v) > r.Components {
			r.Critical = append(r.Critical, v)
		}
	}
	return r
}

func TestConnectionsFullMesh(t *testing.T) {
	for _, tc := range []struct {
		count int
		topo  mesh.Topology
	}{
		{1, mesh.Topology{}},
		{2, mesh.Topology{}},
		{4, mesh.Topology{}},
		{16, mesh.Topology{}}, // TopologyAuto is a full mesh up to FullMeshMax (16) nodes
		{16, mesh.Topology{Kind: mesh.TopologyFull}},
		{40, mesh.Topology{Kind: mesh.TopologyFull}},
		{30, mesh.Topology{FullMeshMax: 30}},
	} {
		t.Run(fmt.Sprintf("%d nodes %+v", tc.count, tc.topo), func(t *testing.T) {
			n := mesh.Network{Name: "full", Topology: tc.topo}
			for i := range tc.count {
				node := mesh.Node{Name: fmt.Sprintf("node-%02d", i), Region: fmt.Sprintf("r%d", i%3)}
				if i%3 != 1 { // every third node is behind NAT
					node.Endpoints = []string{fmt.Sprintf("203.0.113.%d", i+1)}
				}
				n.Nodes = append(n.Nodes, node)
			}
			conns := n.Connections()
			adj := topoCheck(t, &n, conns)
			dialable := topoDialable(&n)
			pairs := 0
			for i, a := range n.Nodes {
				for _, b := range n.Nodes[i+1:] {
					want := dialable[a.Name] || dialable[b.Name]
					assert.Equal(t, want, adj[a.Name][b.Name], "pair %s-%s", a.Name, b.Name)
					if want {
						pairs++
					}
				}
			}
			lines := 0
			for _, tos := range conns {
				lines += len(tos)
			}
			assert.Equal(t, pairs, lines, "every connectable pair exactly once")

			// Independent of node order.
			r := rand.New(rand.NewPCG(uint64(tc.count), 7))
			for range 3 {
				s := topoShuffled(r, n)
				assert.Equal(t, conns, s.Connections())
			}
		})
	}
}

// Two nodes without endpoints cannot connect: neither is dialled.
func TestConnectionsNoEndpoints(t *testing.T) {
	n := mesh.Network{Name: "nat", Nodes: []mesh.Node{{Name: "a"}, {Name: "b"}, {Name: "c", Endpoints: []string{"203.0.113.3"}}}}
	conns := n.Connections()
	assert.Equal(t, map[string][]string{"a": {"c"}, "b": {"c"}, "c": nil}, conns)
	res := n.Resilience()
	assert.Equal(t, 1, res.Components)
	assert.Equal(t, []string{"c"}, res.Critical)
}

// A network where one node is the only one with endpoints: every other node can only dial it,
// so it is critical; and nodes that cannot connect at all each form a component.
func TestResilienceKnownCritical(t *testing.T) {
	for _, topo := range []mesh.Topology{{}, {Kind: mesh.TopologyFull}, {Kind: mesh.TopologyHubs}} {
		t.Run(string(topo.Kind), func(t *testing.T) {
			n := mesh.Network{Name: "star", Topology: topo}
			for i := range 10 {
				n.Nodes = append(n.Nodes, mesh.Node{Name: fmt.Sprintf("leaf-%d", i), Region: fmt.Sprintf("r%d", i%3)})
			}
			n.Nodes = append(n.Nodes, mesh.Node{Name: "center", Endpoints: []string{"203.0.113.1"}, Region: "r0"})
			conns := n.Connections()
			adj := topoCheck(t, &n, conns)
			for i := range 10 {
				assert.Equal(t, []string{"center"}, conns[fmt.Sprintf("leaf-%d", i)])
			}
			assert.Empty(t, conns["center"])
			res := n.Resilience()
			assert.Equal(t, mesh.Resilience{Components: 1, Critical: []string{"center"}}, res)
			assert.Equal(t, topoBruteResilience(adj), res)

			// Without the center nobody can dial anybody: 10 components, nothing critical.
			n.Nodes = n.Nodes[:10]
			res = n.Resilience()
			assert.Equal(t, 10, res.Components)
			assert.Empty(t, res.Critical)
			for name, tos := range n.Connections() {
				assert.Empty(t, tos, name)
			}
		})
	}

}

// A cycle hanging off a cut node: p-hub is the only link between the cycle p-hub, x1, x2 and
// the other region's hub. The other hub is named so that it sorts first and then last, so that
// the search for cut nodes starts outside the cycle and then at the cut node itself.
func TestResilienceCycleOffCutNode(t *testing.T) {
	for _, other := range []string{"a-hub", "z-hub"} {
		t.Run(other, func(t *testing.T) {
			n := mesh.Network{Name: "cycle", Topology: mesh.Topology{Kind: mesh.TopologyHubs, Peers: 1}, Nodes: []mesh.Node{
				{Name: "p-hub", Region: "x", Hub: true, Endpoints: []string{"203.0.113.1"}},
				{Name: "x1", Region: "x", Endpoints: []string{"203.0.113.2"}},
				{Name: "x2", Region: "x"},
				{Name: other, Region: "y", Hub: true},
			}}
			conns := n.Connections()
			// The other "hub" has no endpoints, so its mark is ignored: its region has no hub,
			// and it dials the nearest hub (p-hub) plus a peer (x1) like any other node; x1 has
			// no peer left to dial (nobody else has endpoints); x2 dials its hub and x1. The
			// triangles p-hub, x1, x2 and p-hub, x1, other leave no critical node.
			assert.Equal(t, map[string][]string{other: {"p-hub", "x1"}, "p-hub": nil, "x1": {"p-hub"}, "x2": {"p-hub", "x1"}}, conns)
			adj := topoCheck(t, &n, conns)
			res := n.Resilience()
			assert.Equal(t, mesh.Resilience{Components: 1}, res)
			assert.Equal(t, topoBruteResilience(adj), res)
		})
	}
}

func TestConnectionsHubs(t *testing.T) {
	for _, regions := range []int{8, 40} {
		t.Run(fmt.Sprintf("%d regions", regions), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(regions), 1000))
			n := topoNetwork(r, 1000, regions, 10, mesh.Topology{}) // TopologyAuto, defaults
			require.NoError(t, n.Validate())
			d := mesh.DefaultTopology()
			// Precondition: every region has at least HubsPerRegion nodes with endpoints, so
			// every region gets exactly HubsPerRegion hubs.
			dialableIn := map[string]int{}
			regionOf := map[string]string{}
			for _, node := range n.Nodes {
				regionOf[node.Name] = node.Region
				if len(node.Endpoints) > 0 {
					dialableIn[node.Region]++
				}
			}
			require.Len(t, dialableIn, regions)
			for region, c := range dialableIn {
				require.GreaterOrEqual(t, c, d.HubsPerRegion, region)
			}

			conns := n.Connections()
			adj := topoCheck(t, &n, conns)
			assert.Equal(t, mesh.Resilience{Components: 1}, n.Resilience())

			// Hubs are connected with every other hub and dialled by the nodes of their region,
			// so they are the only nodes with at least as many links as there are other hubs.
			hubCount := regions * d.HubsPerRegion
			var hubs []string
			hubsOf := map[string][]string{}
			for name, links := range adj {
				if len(links) >= hubCount-1 {
					hubs = append(hubs, name)
					hubsOf[regionOf[name]] = append(hubsOf[regionOf[name]], name)
				}
			}
			require.Len(t, hubs, hubCount, "hubs: %v", hubs)
			for region, hs := range hubsOf {
				assert.Len(t, hs, d.HubsPerRegion, "hubs of %s", region)
			}
			isHub := map[string]bool{}
			for _, h := range hubs {
				isHub[h] = true
				for _, o := range hubs {
					if o != h {
						assert.True(t, adj[h][o], "hubs %s and %s not connected", h, o)
					}
				}
			}
			maxDials := 0
			for name, tos := range conns {
				if isHub[name] {
					// Hubs dial only other hubs.
					for _, to := range tos {
						assert.True(t, isHub[to], "hub %s dials non-hub %s", name, to)
					}
					continue
				}
				maxDials = max(maxDials, len(tos))
				// Every other node dials the hubs of its region (they all have endpoints) and at
				// most Peers more.
				for _, h := range hubsOf[regionOf[name]] {
					assert.Contains(t, tos, h, "%s does not dial its region's hub", name)
				}
				assert.LessOrEqual(t, len(tos), d.HubsPerRegion+d.Peers, "%s dials %v", name, tos)
			}
			assert.LessOrEqual(t, maxDials, 4)

			// Independent of node order.
			shuffled := topoShuffled(r, n)
			assert.Equal(t, conns, shuffled.Connections())
		})
	}
}

// Adding a node to a hub network changes the ConnectTo lines of few existing nodes.
//
// Measured on this 200-node network (5 regions of 33 to 51 nodes, 10% behind NAT, defaults
// HubsPerRegion=2 and Peers=2), adding each of 40 new nodes in turn to the same base:
//
//   - 37 of the 40 did not become hubs. Then 0 to 5 existing nodes changed, 1.9 on average:
//     the nodes that now pick the new node as one of their 2 rendezvous peers (each of ~180
//     dialable nodes does with probability 2/181), plus rarely one whose skipped dial moved.
//     The bound is 10 per addition (twice the worst seen) and 3 on average.
//   - 3 of the 40 became a hub of their region (rendezvous hashing picks 2 of the region's
//     ~35 dialable members, so about 1 in 18 does): they changed 39, 42 and 46 nodes, because
//     every non-hub of the region now dials the new hub instead of the one it displaced, the
//     other hubs' lines change by the new and the displaced hub, and a few peers move. The bound
//     is the region's size plus the number of hubs (10) plus 10 for peers; at most 8 of the 40
//     may become hubs. Marking hubs (Node.Hub) is how an operator avoids that churn.
func TestConnectionsStability(t *testing.T) {
	r := rand.New(rand.NewPCG(200, 1))
	base := topoNetwork(r, 200, 5, 10, mesh.Topology{Kind: mesh.TopologyHubs})
	before := base.Connections()
	members := map[string]int{}
	for _, node := range base.Nodes {
		members[node.Region]++
	}
	const hubs = 5 * 2
	var changes, hubChanges []int
	for k := range 40 {
		added := base
		region := fmt.Sprintf("region-%d", k%5)
		name := fmt.Sprintf("new-%02d", k)
		added.Nodes = append(slices.Clone(base.Nodes), mesh.Node{Name: name, Region: region, Endpoints: []string{"192.0.2.1"}})
		after := added.Connections()
		topoCheck(t, &added, after)
		changed := 0
		for name, tos := range before {
			if !slices.Equal(tos, after[name]) {
				changed++
			}
		}
		// The new node is a hub when it is connected with all other hubs, as only hubs are.
		links := len(after[name])
		for _, tos := range after {
			if slices.Contains(tos, name) {
				links++
			}
		}
		if links >= hubs-1 {
			hubChanges = append(hubChanges, changed)
			assert.LessOrEqual(t, changed, members[region]+hubs+10, "new hub %s in %s (%d members) changed %d nodes", name, region, members[region], changed)
		} else {
			changes = append(changes, changed)
			assert.LessOrEqual(t, changed, 10, "new node %s changed %d nodes", name, changed)
		}
	}
	t.Logf("changed nodes per added non-hub: %v; per added hub: %v", changes, hubChanges)
	assert.LessOrEqual(t, len(hubChanges), 8, "added nodes that became hubs")
	require.NotEmpty(t, changes)
	mean := 0.0
	for _, c := range changes {
		mean += float64(c)
	}
	mean /= float64(len(changes))
	assert.LessOrEqual(t, mean, 3.0, "mean number of changed nodes per added non-hub")
}

// Resilience must agree with a brute force (remove each node, count components) on many small
// random networks of every topology.
func TestResilienceMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(42, 42))
	withCritical, split := 0, 0
	for i := range 200 {
		count := 5 + r.IntN(36)
		var topo mesh.Topology
		switch i % 3 {
		case 0:
			topo = mesh.Topology{Kind: mesh.TopologyFull}
		case 1:
			topo = mesh.Topology{Kind: mesh.TopologyHubs, HubsPerRegion: 1 + r.IntN(3), Peers: 1 + r.IntN(3)}
		default:
			topo = mesh.Topology{FullMeshMax: r.IntN(20) + 1} // auto, either side of the limit
		}
		n := topoNetwork(r, count, 1+r.IntN(5), r.IntN(101), topo)
		for j := range n.Nodes {
			n.Nodes[j].Hub = r.IntN(8) == 0
		}
		require.NoError(t, n.Validate())
		conns := n.Connections()
		adj := topoCheck(t, &n, conns)
		want := topoBruteResilience(adj)
		got := n.Resilience()
		if !assert.Equal(t, want, got, "network %d: %d nodes, %+v", i, count, topo) {
			t.Logf("connections: %v", conns)
		}
		if len(want.Critical) > 0 {
			withCritical++
		}
		if want.Components > 1 {
			split++
		}
	}
	// The sample must exercise the interesting cases.
	assert.GreaterOrEqual(t, withCritical, 10, "networks with critical nodes")
	assert.GreaterOrEqual(t, split, 5, "networks in several components")
	t.Logf("%d of 200 networks have critical nodes, %d are split", withCritical, split)
}

// A Hub mark on a node without endpoints is ignored, since nobody can dial it: the node dials
// out like any other (it was once left unconnected).
func TestConnectionsMarkedHubWithoutEndpoints(t *testing.T) {
	n := mesh.Network{Name: "hubnat", Subnets: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")}, Topology: mesh.Topology{Kind: mesh.TopologyHubs}, Nodes: []mesh.Node{
		{Name: "a", Hub: true},
		{Name: "b", Endpoints: []string{"203.0.113.2"}},
		{Name: "c"},
	}}
	require.NoError(t, n.Validate())
	conns := n.Connections()
	topoCheck(t, &n, conns)
	assert.Equal(t, []string{"b"}, conns["a"], "hub a behind NAT must dial b")
	assert.Equal(t, []string{"b"}, conns["c"])
	assert.Equal(t, 1, n.Resilience().Components)
}
