package main

import (
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/webinfra/webinfra/examples/deploy/stack"
	"github.com/webinfra/webinfra/mesh"
)

// meshNetwork is the Tinc mesh of a validated stack: every node, its public addresses as the
// endpoints other nodes dial, and its region.
//
// Every worker announces the MetalLB pool as a tinc Subnet. tinc routes by IP (router mode)
// and carries no ARP, so MetalLB's layer-2 announcements never cross the mesh; with the pool
// announced by all workers, tinc delivers a service address to a worker that is up, and
// kube-proxy there takes it. The other nodes route the pool into the mesh (subnet-up).
func meshNetwork(st *stack.Stack) *mesh.Network {
	n := &mesh.Network{Name: st.Mesh.Network, Subnets: []netip.Prefix{netip.MustParsePrefix(st.Mesh.Subnet)}, Port: st.Mesh.Port}
	var pool netip.Prefix
	if st.Cluster.LoadBalancerPool != "" {
		pool = netip.MustParsePrefix(st.Cluster.LoadBalancerPool)
	}
	for _, sn := range st.Nodes {
		node := mesh.Node{Name: sn.Name, Endpoints: sn.PublicAddresses, Region: sn.Region}
		var roles []string
		for _, r := range sn.Roles {
			roles = append(roles, string(r))
		}
		node.Role = strings.Join(roles, ",")
		if sn.MeshAddress != "" {
			node.Address = netip.MustParseAddr(sn.MeshAddress)
		}
		if sn.Has(stack.RoleWorker) && pool.IsValid() {
			node.Subnets = []netip.Prefix{pool}
		}
		n.Nodes = append(n.Nodes, node)
	}
	return n
}

// meshManager writes each node's tinc directory under STATE/mesh/NODE, ready to be copied to
// /etc/tinc/NETWORK on the server. It controls no daemons: the servers are not reachable from
// here, so the plan carries file changes only.
func meshManager(sd *stateDir, log *slog.Logger) (*mesh.Manager, error) {
	return mesh.New(mesh.Config{Targets: meshTargets{dir: mesh.Dir{Root: filepath.Join(sd.root, "mesh")}, state: sd}, Logger: log})
}

// defaultStateDir is $XDG_STATE_HOME/webinfra/STACK, or ~/.local/state/webinfra/STACK.
func defaultStateDir(name string) string {
	base := os.Getenv("XDG_STATE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = os.TempDir()
		}
		base = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(base, "webinfra", name)
}
