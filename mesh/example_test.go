package mesh_test

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/webinfra/webinfra/mesh"
	"github.com/webinfra/webinfra/mesh/meshtest"
)

// A first rollout starts every node; adding a node reloads the others and starts the new one.
func ExampleManager_Plan() {
	ctx := context.Background()
	network := &mesh.Network{
		Name:    "demo",
		Subnets: []netip.Prefix{netip.MustParsePrefix("10.88.0.0/16")},
		Nodes: []mesh.Node{
			{Name: "node-a", Endpoints: []string{"192.0.2.1"}, Address: netip.MustParseAddr("10.88.0.10")},
			{Name: "node-b", Endpoints: []string{"192.0.2.2"}},
		},
	}
	mgr, err := mesh.New(mesh.Config{Targets: &meshtest.Targets{}, Daemon: &meshtest.RecordingDaemon{}})
	if err != nil {
		panic(err)
	}
	rollout, err := mgr.Plan(ctx, network, nil)
	if err != nil {
		panic(err)
	}
	for _, np := range rollout.Nodes {
		fmt.Println(np.Node, len(np.Put), "files,", np.Action)
	}
	if err := mgr.Apply(ctx, rollout); err != nil {
		panic(err)
	}

	grown, _ := rollout.Network.WithNode(mesh.Node{Name: "node-c", Endpoints: []string{"192.0.2.3"}})
	rollout, _ = mgr.Plan(ctx, grown, nil)
	for _, np := range rollout.Nodes {
		fmt.Println(np.Node, np.Action, "("+np.Reason+")")
	}
	// Output:
	// node-a 8 files, start
	// node-b 8 files, start
	// node-a reload (host files changed, ConnectTo changed)
	// node-b reload (host files changed)
	// node-c start (new node)
}

// In large networks nodes dial their region's hubs and a few peers, and no single node's failure
// splits the mesh.
func ExampleNetwork_Resilience() {
	network := &mesh.Network{Name: "big", Subnets: []netip.Prefix{netip.MustParsePrefix("10.88.0.0/16")}}
	for i := range 300 {
		network.Nodes = append(network.Nodes, mesh.Node{
			Name:      fmt.Sprintf("node-%03d", i),
			Region:    []string{"eu", "us", "ap"}[i%3],
			Endpoints: []string{netip.AddrFrom4([4]byte{198, 18, byte(i / 200), byte(i%200 + 1)}).String()},
		})
	}
	r := network.Resilience()
	most := 0
	for _, dials := range network.Connections() {
		most = max(most, len(dials))
	}
	fmt.Println("components:", r.Components, "critical nodes:", len(r.Critical))
	fmt.Println("at most", most, "connections dialled by one node")
	// Output:
	// components: 1 critical nodes: 0
	// at most 5 connections dialled by one node
}
