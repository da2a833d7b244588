package cluster_test

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/webinfra/webinfra/cluster"
	"github.com/webinfra/webinfra/cluster/clustertest"
)

func ExampleClient_PlanNodes() {
	c := clustertest.NewFakeClient(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-ams-1"}})
	desired := []cluster.NodeMetadata{{
		Name:   "node-ams-1",
		Labels: map[string]string{cluster.LabelRegion: "eu-west", cluster.RoleLabel("worker"): ""},
	}}
	ctx := context.Background()
	plan, err := c.PlanNodes(ctx, desired)
	if err != nil {
		panic(err)
	}
	fmt.Print(plan.Plan())
	if err := c.ApplyNodes(ctx, plan); err != nil {
		panic(err)
	}
	again, _ := c.PlanNodes(ctx, desired)
	fmt.Print(again.Plan())
	// Output:
	// ~ k8s_node node-ams-1
	//     label:node-role.kubernetes.io/worker = (none) -> ""
	//     label:topology.kubernetes.io/region  = (none) -> "eu-west"
	//
	// Plan: 0 to create, 1 to update, 0 to delete.
	// No changes.
}
