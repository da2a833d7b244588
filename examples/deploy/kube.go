package main

import (
	"context"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/webinfra/webinfra/cluster"
	"github.com/webinfra/webinfra/examples/deploy/stack"
)

// kubeObjectsStep server-side applies the ingress's Kubernetes objects (the same ones written
// under STATE/ingress/kubernetes) to the real cluster, as one inventory per stack so that
// objects dropped from the stack are pruned. objects returns what the ingress step's last plan
// rendered, so the step must come after it.
//
// The ingress namespace comes with the set, since this deployment owns it. MetalLB's namespace
// (with MetalLB's CRDs), Traefik's CRDs and the sites' own namespaces must exist already: they
// belong to the MetalLB and Traefik installs and to the sites' workloads.
func kubeObjectsStep(st *stack.Stack, kube *cluster.Client, svc service, objects func() []*unstructured.Unstructured) step {
	inv := cluster.Inventory{Name: "webinfra-" + st.Name}
	return &planner[*cluster.ApplyPlan]{
		name:  "cluster objects",
		where: placement{concern: "cluster", service: svc},
		plan: func(ctx context.Context) (*cluster.ApplyPlan, error) {
			ns := &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ingressNamespace},
			}}
			return kube.PlanApply(ctx, inv, append([]*unstructured.Unstructured{ns}, objects()...))
		},
		apply: func(ctx context.Context, p *cluster.ApplyPlan) error {
			_, err := kube.Apply(ctx, p)
			return err
		},
	}
}
