package replication_test

import (
	"fmt"
	"hash/fnv"
	"slices"
	"testing"

	"github.com/webinfra/webinfra/replication"
)

// benchFleet returns n nodes spread round-robin over regions, capacities cycling through caps
// (nil: all 1).
func benchFleet(n, regions int, caps []float64) []replication.Candidate {
	nodes := make([]replication.Candidate, n)
	for i := range nodes {
		nodes[i] = replication.Candidate{Name: fmt.Sprintf("node-%03d", i), Region: fmt.Sprintf("region-%d", i%regions)}
		if caps != nil {
			nodes[i].Capacity = caps[i%len(caps)]
		}
	}
	return nodes
}

func benchFolders(f, r int) []replication.FolderSpec {
	folders := make([]replication.FolderSpec, f)
	for i := range folders {
		folders[i] = replication.FolderSpec{ID: fmt.Sprintf("site-%05d", i), Replicas: r}
	}
	return folders
}

func benchPlace(b *testing.B, folders []replication.FolderSpec, nodes []replication.Candidate) replication.Placement {
	p, err := replication.Place(folders, nodes)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// naivePlace is the baseline: hash(folder) mod N picks the first of R consecutive nodes in
// name order, ignoring regions and capacities.
func naivePlace(folders []replication.FolderSpec, nodes []replication.Candidate) replication.Placement {
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.Name
	}
	slices.Sort(names)
	out := make(replication.Placement, len(folders))
	for _, f := range folders {
		h := fnv.New64a()
		h.Write([]byte(f.ID))
		start := h.Sum64() % uint64(len(names))
		for k := range f.Replicas {
			out[f.ID] = append(out[f.ID], names[(start+uint64(k))%uint64(len(names))])
		}
	}
	return out
}

// BenchmarkPlacementMoves measures the replica placements moved when one node joins and when
// one leaves a fleet of N nodes (10,000 folders, R = 3), against the minimum (R·F/(N+1) for a
// join; the leaving node's replicas for a leave), for Place and, in the same loop, for naive
// modulo hashing. Metrics: *-moved/min (1 is optimal) and *-moved-frac (share of all R·F
// replica placements that move), hrw/naive-time (time of Place relative to the baseline).
//
// The fleet has 5 regions; "newregion" joins a node in a sixth region, "3regions" has only 3
// regions (= R) and joins a fourth, and "2regions" has fewer regions than R, so the node joining
// in a third region takes a replica of every folder (the cost of region spreading).
func BenchmarkPlacementMoves(b *testing.B) {
	const F, R = 10000, 3
	cases := []struct {
		name       string
		n, regions int
		joinRegion string
	}{
		{"nodes=10", 10, 5, "region-1"},
		{"nodes=30", 30, 5, "region-1"},
		{"nodes=100", 100, 5, "region-1"},
		{"nodes=30/newregion", 30, 5, "region-new"},
		{"nodes=30/3regions-newregion", 30, 3, "region-new"},
		{"nodes=30/2regions-newregion", 30, 2, "region-new"},
	}
	folders := benchFolders(F, R)
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			nodes := benchFleet(tc.n, tc.regions, nil)
			joined := append(slices.Clone(nodes), replication.Candidate{Name: "node-new", Region: tc.joinRegion})
			leaving := nodes[tc.n/2].Name
			left := slices.Delete(slices.Clone(nodes), tc.n/2, tc.n/2+1)
			joinMin := float64(R*F) / float64(tc.n+1)

			var hrwJoin, hrwLeave, naiveJoin, naiveLeave, hrwLeaveMin, naiveLeaveMin float64
			var hrwTime, naiveTime int64
			for b.Loop() {
				t0 := b.Elapsed()
				nb, nj, nl := naivePlace(folders, nodes), naivePlace(folders, joined), naivePlace(folders, left)
				t1 := b.Elapsed()
				hb, hj, hl := benchPlace(b, folders, nodes), benchPlace(b, folders, joined), benchPlace(b, folders, left)
				t2 := b.Elapsed()
				naiveTime += int64(t1 - t0)
				hrwTime += int64(t2 - t1)
				hrwJoin += float64(hb.Moves(hj))
				hrwLeave += float64(hb.Moves(hl))
				hrwLeaveMin += float64(hb.Load()[leaving])
				naiveJoin += float64(nb.Moves(nj))
				naiveLeave += float64(nb.Moves(nl))
				naiveLeaveMin += float64(nb.Load()[leaving])
			}
			n := float64(b.N)
			b.ReportMetric(hrwJoin/n/joinMin, "join-moved/min")
			b.ReportMetric(hrwLeave/hrwLeaveMin, "leave-moved/min")
			b.ReportMetric(naiveJoin/n/joinMin, "naive-join-moved/min")
			b.ReportMetric(naiveLeave/naiveLeaveMin, "naive-leave-moved/min")
			b.ReportMetric(hrwJoin/n/(R*F), "join-moved-frac")
			b.ReportMetric(naiveJoin/n/(R*F), "naive-join-moved-frac")
			b.ReportMetric(float64(hrwTime)/float64(naiveTime), "hrw/naive-time")
		})
	}
}

// BenchmarkStorage places 10,000 folders of synthetic sizes (R = 3) on a 30-node fleet over 5
// regions with capacities 1, 2 and 4, and reports storage/full (bytes stored over bytes stored
// by replicating everything everywhere; R/N is the target), max/ideal (the worst node's bytes
// over its capacity-proportional share R·size·c/ΣC; 1 is perfect balance), the same max/ideal
// for the fleet placed ignoring capacities and for naive modulo hashing, measured in the same
// loop, and maxnode/full (the worst node's bytes over the whole data set, which every node
// would hold under full replication).
func BenchmarkStorage(b *testing.B) {
	const F, R, N = 10000, 3, 30
	folders := benchFolders(F, R)
	size := make(map[string]float64, F)
	total := 0.0
	for i, f := range folders {
		// A skewed but deterministic spread of sizes: 1 to 64 units, many small, few large.
		s := float64(int64(1) << (i * 7919 % 97 % 7))
		size[f.ID] = s
		total += s
	}
	nodes := benchFleet(N, 5, []float64{1, 2, 4})
	flat := benchFleet(N, 5, nil)
	capacity := map[string]float64{}
	sumCap := 0.0
	for _, n := range nodes {
		capacity[n.Name] = n.Capacity
		sumCap += n.Capacity
	}
	// stats returns stored bytes over full replication, the worst node's bytes over its ideal
	// share, and the worst node's bytes over the whole data set.
	stats := func(p replication.Placement) (storage, balance, maxnode float64) {
		bytes := map[string]float64{}
		stored := 0.0
		for id, holders := range p {
			for _, n := range holders {
				bytes[n] += size[id]
				stored += size[id]
			}
		}
		for n, v := range bytes {
			balance = max(balance, v/(R*total*capacity[n]/sumCap))
			maxnode = max(maxnode, v/total)
		}
		return stored / (N * total), balance, maxnode
	}
	var storage, balance, flatBalance, naiveBalance, maxnode float64
	for b.Loop() {
		s, bal, m := stats(benchPlace(b, folders, nodes))
		_, fb, _ := stats(benchPlace(b, folders, flat))
		_, nbal, _ := stats(naivePlace(folders, nodes))
		storage += s
		balance += bal
		maxnode += m
		flatBalance += fb
		naiveBalance += nbal
	}
	n := float64(b.N)
	b.ReportMetric(storage/n, "storage/full")
	b.ReportMetric(float64(R)/N, "R/N")
	b.ReportMetric(balance/n, "max/ideal")
	b.ReportMetric(flatBalance/n, "unweighted-max/ideal")
	b.ReportMetric(naiveBalance/n, "naive-max/ideal")
	b.ReportMetric(maxnode/n, "maxnode/full")
}
