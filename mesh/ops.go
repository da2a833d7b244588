package mesh

import (
	"fmt"
	"slices"

	"github.com/webinfra/webinfra"
)

// The three everyday operations are edits of the desired state followed by a rollout:
//
//	grown, err := net.WithNode(mesh.Node{Name: "node-e", Endpoints: []string{"192.0.2.50"}})
//	rollout, err := mgr.Plan(ctx, grown, nil)   // node-e starts; every other node gets hosts/node_e and reloads
//
//	shrunk, err := net.WithoutNode("node-d")
//	rollout, err := mgr.Plan(ctx, shrunk, nil)  // node-d stops and its files go; the others drop hosts/node_d and reload
//
//	rollout, err := mgr.Plan(ctx, net, &mesh.PlanOptions{Rotate: []string{"node-b"}})
//	                                            // node-b restarts with a new key; the others reload its host file

// WithNode returns a copy of n with node added. It fails with an error matching
// webinfra.ErrAlreadyExists when a node of that name exists, and with the validation error when
// the result is not valid. n is not modified.
func (n *Network) WithNode(node Node) (*Network, error) {
	if n.Node(node.Name) != nil {
		return nil, fmt.Errorf("mesh: add node %q: %w", node.Name, webinfra.ErrAlreadyExists)
	}
	out := *n
	out.Nodes = append(slices.Clone(n.Nodes), node)
	if err := out.Validate(); err != nil {
		return nil, fmt.Errorf("mesh: add node %q: %w", node.Name, err)
	}
	return &out, nil
}

// WithoutNode returns a copy of n without the named node. It fails with an error matching
// webinfra.ErrNotFound when there is no such node. n is not modified.
func (n *Network) WithoutNode(name string) (*Network, error) {
	i := slices.IndexFunc(n.Nodes, func(x Node) bool { return x.Name == name })
	if i < 0 {
		return nil, fmt.Errorf("mesh: remove node %q: %w", name, webinfra.ErrNotFound)
	}
	out := *n
	out.Nodes = slices.Delete(slices.Clone(n.Nodes), i, i+1)
	return &out, nil
}
