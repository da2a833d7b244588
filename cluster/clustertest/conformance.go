package clustertest

import (
	"errors"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/cluster"
	"github.com/webinfra/webinfra/internal/testutil"
)

// Harness gives the conformance suite a cluster: the fake clientset or a real control plane.
type Harness interface {
	// New returns a client for one subtest.
	New(t *testing.T) *cluster.Client
}

// RunConformance checks the contracts of the node and lease calls, which work on both the fake
// and a real apiserver. Apply, prune and drain need a real apiserver (dry-runs, the Eviction
// API) and are tested against it in package cluster.
func RunConformance(t *testing.T, h Harness) {
	t.Run("Nodes/MetadataConverges", func(t *testing.T) { testNodeMetadata(t, h.New(t)) })
	t.Run("Nodes/Inventory", func(t *testing.T) { testInventory(t, h.New(t)) })
	t.Run("Lease/ContentionAndRelease", func(t *testing.T) { testLease(t, h.New(t)) })
}

// UniqueName returns prefix plus a random suffix, for objects a test creates in a shared
// control plane.
func UniqueName(prefix string) string { return testutil.UniqueName(prefix) }

func createNode(t *testing.T, c *cluster.Client, name string) {
	t.Helper()
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"foreign": "yes", cluster.RoleLabel("worker"): "", cluster.LabelRegion: "eu-west"}},
		Spec:       corev1.NodeSpec{Unschedulable: true},
		Status: corev1.NodeStatus{
			Addresses:  []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.88.1.21"}, {Type: corev1.NodeHostName, Address: name}},
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
		},
	}
	created, err := c.Typed().CoreV1().Nodes().Create(t.Context(), n, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// A real apiserver ignores status on create; write it as the kubelet would.
	created.Status = n.Status
	if _, err := c.Typed().CoreV1().Nodes().UpdateStatus(t.Context(), created, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func testNodeMetadata(t *testing.T, c *cluster.Client) {
	ctx := t.Context()
	node := UniqueName("n")
	createNode(t, c, node)
	desired := []cluster.NodeMetadata{{Name: node,
		Labels:      map[string]string{cluster.LabelZone: "eu-west-1a"},
		Annotations: map[string]string{"webinfra.io/mesh-address": "10.88.1.21"}}}
	p, err := c.PlanNodes(ctx, desired)
	if err != nil || p.Plan().Summary() != (webinfra.Summary{Update: 1}) {
		t.Fatalf("plan: %v %v", err, p)
	}
	if err := c.ApplyNodes(ctx, p); err != nil {
		t.Fatal(err)
	}
	if p, err = c.PlanNodes(ctx, desired); err != nil || !p.Plan().Empty() {
		t.Fatalf("second plan not empty: %v\n%v", err, p.Plan())
	}
	desired[0].Annotations = nil
	if p, err = c.PlanNodes(ctx, desired); err != nil {
		t.Fatal(err)
	}
	if err := c.ApplyNodes(ctx, p); err != nil {
		t.Fatal(err)
	}
	n, err := c.Typed().CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := n.Annotations["webinfra.io/mesh-address"]; ok {
		t.Error("a dropped annotation was not removed")
	}
	if n.Labels["foreign"] != "yes" || n.Labels[cluster.LabelZone] != "eu-west-1a" {
		t.Errorf("labels = %v", n.Labels)
	}
	if _, err := c.PlanNodes(ctx, []cluster.NodeMetadata{{Name: "absent-" + node}}); !errors.Is(err, webinfra.ErrNotFound) {
		t.Errorf("absent node: want ErrNotFound, got %v", err)
	}
}

func testInventory(t *testing.T, c *cluster.Client) {
	node := UniqueName("inv")
	createNode(t, c, node)
	nodes, err := c.Nodes(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(nodes, func(n cluster.NodeInfo) bool { return n.Name == node })
	if i < 0 {
		t.Fatalf("node %s not listed", node)
	}
	n := nodes[i]
	if !slices.Equal(n.Roles, []string{"worker"}) || n.Region != "eu-west" || n.InternalIP.String() != "10.88.1.21" || !n.Ready || !n.Cordoned {
		t.Errorf("inventory = %+v", n)
	}
}

func testLease(t *testing.T, c *cluster.Client) {
	ctx := t.Context()
	name := UniqueName("lease")
	a := cluster.LeaseSpec{Name: name, Holder: "a", TTL: time.Minute}
	held, err := c.TryAcquireLease(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.TryAcquireLease(ctx, cluster.LeaseSpec{Name: name, Holder: "b", TTL: time.Minute})
	var busy *cluster.LeaseHeldError
	if !errors.As(err, &busy) || busy.Holder != "a" {
		t.Fatalf("want the lease held by a, got %v", err)
	}
	if err := held.Renew(ctx); err != nil {
		t.Fatal(err)
	}
	if err := held.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TryAcquireLease(ctx, cluster.LeaseSpec{Name: name, Holder: "b", TTL: time.Minute}); err != nil {
		t.Fatalf("a released lease is free: %v", err)
	}
}
