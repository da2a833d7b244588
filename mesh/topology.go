package mesh

import (
	"cmp"
	"hash/fnv"
	"maps"
	"slices"
)

// Connections returns, for every node, the names of the nodes it dials (its ConnectTo lines),
// sorted. It depends only on the names, regions, endpoints and hub marks of the nodes, not on
// their order. Each pair is dialled from one side only, and only a node with endpoints is
// dialled. With [TopologyHubs] (or [TopologyAuto] above [Topology.FullMeshMax] nodes) the hubs of
// every region dial each other, and every other node dials the hubs of its region (or, in a
// region without reachable hubs, the nearest hubs by hashing) plus [Topology.Peers] peers chosen
// by rendezvous hashing, so that adding or removing a node changes few other nodes' lines.
func (n *Network) Connections() map[string][]string {
	t := n.Topology.effective()
	nodes := n.sortedNodes()
	g := newDialGraph(nodes)
	if t.Kind == TopologyFull || (t.Kind == TopologyAuto && len(nodes) <= t.FullMeshMax) {
		for i := range nodes {
			for j := i + 1; j < len(nodes); j++ {
				g.pair(i, j)
			}
		}
		return g.result()
	}
	byRegion := map[string][]int{}
	for i, node := range nodes {
		byRegion[node.Region] = append(byRegion[node.Region], i)
	}
	isHub := make([]bool, len(nodes))
	regionHubs := map[string][]int{}
	var hubs []int
	for _, region := range slices.Sorted(maps.Keys(byRegion)) {
		members := byRegion[region]
		var chosen []int
		for _, i := range members {
			if nodes[i].Hub && g.dialable[i] { // nobody can dial a hub without endpoints
				chosen = append(chosen, i)
			}
		}
		if len(chosen) == 0 {
			chosen = g.top(members, "region\x00"+region, t.HubsPerRegion, nil)
		}
		for _, i := range chosen {
			isHub[i] = true
		}
		regionHubs[region] = chosen
		hubs = append(hubs, chosen...)
	}
	slices.Sort(hubs)
	for a, i := range hubs {
		for _, j := range hubs[a+1:] {
			g.pair(i, j)
		}
	}
	for i, node := range nodes {
		if isHub[i] {
			continue
		}
		targets := slices.DeleteFunc(slices.Clone(regionHubs[node.Region]), func(h int) bool { return !g.dialable[h] })
		if len(targets) == 0 {
			targets = g.top(hubs, node.Name, t.HubsPerRegion, nil)
		}
		all := make([]int, len(nodes))
		for k := range all {
			all[k] = k
		}
		targets = append(targets, g.top(all, node.Name, t.Peers, append(targets, i))...)
		for _, j := range targets {
			g.dial(i, j)
		}
	}
	return g.result()
}

// dialGraph collects who dials whom, at most one direction per pair.
type dialGraph struct {
	nodes    []Node
	dialable []bool
	dials    map[[2]int]bool
}

func newDialGraph(nodes []Node) *dialGraph {
	g := &dialGraph{nodes: nodes, dialable: make([]bool, len(nodes)), dials: map[[2]int]bool{}}
	for i, node := range nodes {
		g.dialable[i] = len(node.Endpoints) > 0
	}
	return g
}

// pair connects i and j from whichever side can dial the other; when both can, a hash of the
// pair picks the side, which spreads the dialling evenly.
func (g *dialGraph) pair(i, j int) {
	switch {
	case g.dialable[i] && g.dialable[j]:
		if weight(g.nodes[min(i, j)].Name, g.nodes[max(i, j)].Name)&1 == 0 {
			g.dial(i, j)
		} else {
			g.dial(j, i)
		}
	case g.dialable[j]:
		g.dial(i, j)
	case g.dialable[i]:
		g.dial(j, i)
	}
}

// dial records that i dials j, unless the pair is already connected.
func (g *dialGraph) dial(i, j int) {
	if i == j || !g.dialable[j] || g.dials[[2]int{i, j}] || g.dials[[2]int{j, i}] {
		return
	}
	g.dials[[2]int{i, j}] = true
}

// top returns the k dialable candidates with the highest rendezvous weight for key, skipping
// those in except.
func (g *dialGraph) top(candidates []int, key string, k int, except []int) []int {
	type scored struct {
		i int
		w uint64
	}
	var s []scored
	for _, c := range candidates {
		if g.dialable[c] && !slices.Contains(except, c) {
			s = append(s, scored{c, weight(key, g.nodes[c].Name)})
		}
	}
	slices.SortFunc(s, func(a, b scored) int { return cmp.Compare(b.w, a.w) })
	out := make([]int, 0, k)
	for _, x := range s[:min(k, len(s))] {
		out = append(out, x.i)
	}
	return out
}

func (g *dialGraph) result() map[string][]string {
	out := make(map[string][]string, len(g.nodes))
	for _, node := range g.nodes {
		out[node.Name] = nil
	}
	for d := range g.dials {
		out[g.nodes[d[0]].Name] = append(out[g.nodes[d[0]].Name], g.nodes[d[1]].Name)
	}
	for _, v := range out {
		slices.Sort(v)
	}
	return out
}

// weight is the rendezvous (highest-random-weight) score of candidate for key: FNV-1a, then
// SplitMix64's finaliser, because FNV alone leaves similar names with similar high bits.
func weight(key, candidate string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(key))
	h.Write([]byte{0})
	h.Write([]byte(candidate))
	z := h.Sum64()
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Resilience describes how the connection graph of [Network.Connections] survives failures.
type Resilience struct {
	// Components is the number of connected parts; 1 when every node can reach every other.
	Components int
	// Critical are the nodes whose failure alone would split the rest (articulation points),
	// sorted.
	Critical []string
}

// Resilience analyses the connection graph: a healthy mesh has one component and no critical
// node, so any single node can fail and the others still reach each other. It runs in time
// linear in nodes and connections.
func (n *Network) Resilience() Resilience {
	conns := n.Connections()
	names := slices.Sorted(maps.Keys(conns))
	index := make(map[string]int, len(names))
	for i, name := range names {
		index[name] = i
	}
	adj := make([][]int, len(names))
	for from, tos := range conns {
		for _, to := range tos {
			a, b := index[from], index[to]
			adj[a] = append(adj[a], b)
			adj[b] = append(adj[b], a)
		}
	}
	comps, cut := articulation(adj)
	r := Resilience{Components: comps}
	for i, c := range cut {
		if c {
			r.Critical = append(r.Critical, names[i])
		}
	}
	return r
}

// articulation finds the connected components and articulation points of an undirected graph
// with Tarjan's low-link method, iteratively so that deep graphs cannot overflow the stack.
func articulation(adj [][]int) (components int, cut []bool) {
	n := len(adj)
	disc, low, parent := make([]int, n), make([]int, n), make([]int, n)
	next := make([]int, n) // next neighbour index to visit
	cut = make([]bool, n)
	for i := range disc {
		disc[i], parent[i] = -1, -1
	}
	clock := 0
	for root := range n {
		if disc[root] >= 0 {
			continue
		}
		components++
		rootChildren := 0
		stack := []int{root}
		disc[root], low[root] = clock, clock
		clock++
		for len(stack) > 0 {
			v := stack[len(stack)-1]
			if next[v] < len(adj[v]) {
				w := adj[v][next[v]]
				next[v]++
				switch {
				case disc[w] < 0:
					parent[w] = v
					disc[w], low[w] = clock, clock
					clock++
					if v == root {
						rootChildren++
					}
					stack = append(stack, w)
				case w != parent[v]:
					low[v] = min(low[v], disc[w])
				}
				continue
			}
			stack = stack[:len(stack)-1]
			if p := parent[v]; p >= 0 {
				low[p] = min(low[p], low[v])
				if p != root && low[v] >= disc[p] {
					cut[p] = true
				}
			}
		}
		cut[root] = rootChildren > 1
	}
	return components, cut
}
