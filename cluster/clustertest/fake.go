package clustertest

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/webinfra/webinfra/cluster"
)

// NewFakeClient returns a cluster client over client-go's fake clientset seeded with objects
// (nodes, pods, leases, ...). Node, drain-free and lease calls work on it; apply calls need a
// real control plane ([StartControlPlane]), since the fake cannot dry-run server-side apply.
func NewFakeClient(objects ...runtime.Object) *cluster.Client {
	return cluster.NewWithClients(fake.NewClientset(objects...), nil, nil, cluster.Config{})
}
