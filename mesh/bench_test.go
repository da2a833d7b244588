package mesh_test

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/webinfra/webinfra/mesh"
	"github.com/webinfra/webinfra/mesh/meshtest"
)

// tincDefaults are tinc 1.0's own timers and UDP data, the baseline of the real benchmarks.
var tincDefaults = mesh.Failover{PingInterval: 60 * time.Second, PingTimeout: 5 * time.Second, MaxTimeout: 900 * time.Second}

func withFailover(f mesh.Failover) func(*mesh.Network) {
	return func(n *mesh.Network) { n.Failover = f }
}

// startConverged starts meshes until one has all pairs reaching each other within a minute,
// at most 4 tries, and returns it with the number of starts that got stuck. tinc 1.0's UDP
// defaults leave a pair stuck now and then (about 1 start in 16 here), until its keys expire an
// hour later.
func startConverged(b *testing.B, cfg meshtest.Config) (m *meshtest.Mesh, took time.Duration, stuck int) {
	for try := 1; ; try++ {
		m = meshtest.Start(b, cfg)
		took, err := m.AllPairsWithin(60 * time.Second)
		if err == nil {
			return m, took, stuck
		}
		stuck++
		b.Logf("start %d got stuck: %v", try, err)
		if try == 4 {
			b.Fatalf("no converged start in %d tries", try)
		}
		for _, n := range cfg.Nodes {
			_ = m.Daemon.Stop(context.Background(), n)
		}
	}
}

// rerouteAfterCut starts a 3-node mesh, makes sure a and b talk directly, cuts their link and
// returns how long until a reaches b again (through c), and how many starts got stuck first.
func rerouteAfterCut(b *testing.B, f mesh.Failover) (time.Duration, int) {
	m, _, stuck := startConverged(b, meshtest.Config{Nodes: []string{"a", "b", "c"}, Edit: withFailover(f)})
	for range 3 { // the direct path is in use, UDP included
		m.WaitReach("a", "b", 10*time.Second)
	}
	cut := time.Now()
	if err := m.Net.Cut(context.Background(), m.Net.Host("a"), m.Net.Host("b")); err != nil {
		b.Fatal(err)
	}
	m.WaitReach("a", "b", 240*time.Second)
	return time.Since(cut), stuck
}

// BenchmarkReroute measures how long a broken direct link takes to be routed around, with the
// SDK's failover defaults and with tinc's, in the same loop.
func BenchmarkReroute(b *testing.B) {
	var sdk, tinc time.Duration
	stuck := map[string]int{}
	for b.Loop() {
		d, s := rerouteAfterCut(b, mesh.Failover{})
		sdk, stuck["sdk"] = sdk+d, stuck["sdk"]+s
		d, s = rerouteAfterCut(b, tincDefaults)
		tinc, stuck["tinc"] = tinc+d, stuck["tinc"]+s
	}
	b.ReportMetric(sdk.Seconds()/float64(b.N), "sdk-s/op")
	b.ReportMetric(tinc.Seconds()/float64(b.N), "tinc-s/op")
	b.ReportMetric(float64(tinc)/float64(sdk), "tinc/sdk")
	b.ReportMetric(float64(stuck["sdk"])/float64(b.N), "sdk-stuck-starts/op")
	b.ReportMetric(float64(stuck["tinc"])/float64(b.N), "tinc-stuck-starts/op")
}

// allPairsAfterStart returns how long after the rollout (which starts every tincd) all pairs
// of an n-node mesh ping. A start still not converged after a minute counts that minute, and
// a fresh mesh is started.
func allPairsAfterStart(b *testing.B, nodes int, f mesh.Failover) time.Duration {
	var names []string
	for i := range nodes {
		names = append(names, fmt.Sprintf("n%d", i))
	}
	_, took, stuck := startConverged(b, meshtest.Config{Nodes: names, Edit: withFailover(f)})
	if stuck > 0 {
		took += time.Duration(stuck) * time.Minute // each stuck start cost its full minute
	}
	return took
}

// BenchmarkAllPairsAfterStart measures the time until every pair pings after a start, for 4
// and 6 nodes, with the SDK's defaults and with tinc's.
func BenchmarkAllPairsAfterStart(b *testing.B) {
	for _, nodes := range []int{4, 6} {
		b.Run(fmt.Sprintf("nodes=%d", nodes), func(b *testing.B) {
			var sdk, tinc time.Duration
			for b.Loop() {
				sdk += allPairsAfterStart(b, nodes, mesh.Failover{})
				tinc += allPairsAfterStart(b, nodes, tincDefaults)
			}
			b.ReportMetric(sdk.Seconds()/float64(b.N), "sdk-s/op")
			b.ReportMetric(tinc.Seconds()/float64(b.N), "tinc-s/op")
			b.ReportMetric(float64(tinc)/float64(sdk), "tinc/sdk")
		})
	}
}

// bigNetwork is a 1,000-node network over 8 regions, one in ten nodes without endpoints.
func bigNetwork(nodes int) *mesh.Network {
	n := &mesh.Network{Name: "big", Subnets: []netip.Prefix{netip.MustParsePrefix("10.88.0.0/16")}}
	for i := range nodes {
		node := mesh.Node{Name: fmt.Sprintf("node-%04d", i), Region: fmt.Sprintf("r%d", i%8)}
		if i%10 != 0 {
			node.Endpoints = []string{netip.AddrFrom4([4]byte{198, 18, byte(i / 250), byte(i%250 + 1)}).String()}
		}
		n.Nodes = append(n.Nodes, node)
	}
	return n
}

// BenchmarkConfig1000 plans the whole configuration of 1,000 nodes (allocation, topology,
// rendering, diff) from nothing, once generating every key (in parallel) and once with the keys
// already on the targets; the ratio shows what key generation costs.
func BenchmarkConfig1000(b *testing.B) {
	n := bigNetwork(1000)
	ctx := context.Background()
	var gen, given time.Duration
	var files float64
	for b.Loop() {
		empty, seeded := &meshtest.Targets{}, &meshtest.Targets{}
		mgr, _ := mesh.New(mesh.Config{Targets: empty})
		t0 := time.Now()
		r, err := mgr.Plan(ctx, n, nil)
		if err != nil {
			b.Fatal(err)
		}
		gen += time.Since(t0)
		for _, np := range r.Nodes {
			for _, f := range np.Put {
				if f.Path == mesh.FileRSAKey {
					seeded.Put(np.Node, f)
				}
			}
			files += float64(len(np.Put))
		}
		mgr, _ = mesh.New(mesh.Config{Targets: seeded})
		t1 := time.Now()
		if _, err := mgr.Plan(ctx, n, nil); err != nil {
			b.Fatal(err)
		}
		given += time.Since(t1)
	}
	b.ReportMetric(gen.Seconds()/float64(b.N), "keys-generated-s/op")
	b.ReportMetric(given.Seconds()/float64(b.N), "keys-given-s/op")
	b.ReportMetric(float64(gen)/float64(given), "generated/given")
	b.ReportMetric(files/float64(b.N), "files/op")
}
