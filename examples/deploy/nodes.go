package main

import (
	"os"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/webinfra/webinfra/cluster"
	"github.com/webinfra/webinfra/cluster/clustertest"
	"github.com/webinfra/webinfra/examples/deploy/stack"
)

// nodeMetadata labels each stack node with its region and roles, and records its public
// addresses, so schedulers and the other concerns can find them.
func nodeMetadata(st *stack.Stack) []cluster.NodeMetadata {
	var out []cluster.NodeMetadata
	for _, n := range st.Nodes {
		labels := map[string]string{cluster.LabelRegion: n.Region}
		for _, r := range n.Roles {
			labels[cluster.RoleLabel(string(r))] = ""
		}
		out = append(out, cluster.NodeMetadata{
			Name:        n.Name,
			Labels:      labels,
			Annotations: map[string]string{"webinfra.io/public-addresses": strings.Join(n.PublicAddresses, ",")},
		})
	}
	return out
}

// clusterClient returns a client for the cluster KUBECONFIG names, or else one for a built-in
// simulated cluster in which the stack's nodes have joined.
func clusterClient(st *stack.Stack) (c *cluster.Client, svc service, err error) {
	if path := os.Getenv("KUBECONFIG"); path != "" {
		c, err = cluster.New(cluster.Config{})
		return c, service{name: "Kubernetes API", detail: "KUBECONFIG=" + path}, err
	}
	var nodes []runtime.Object
	for _, n := range st.Nodes {
		nodes = append(nodes, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.Name}})
	}
	return clustertest.NewFakeClient(nodes...), service{name: "Kubernetes API", simulated: true, detail: "set KUBECONFIG for a real cluster"}, nil
}
