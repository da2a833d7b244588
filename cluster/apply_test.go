package cluster_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/cluster"
	"github.com/webinfra/webinfra/cluster/clustertest"
)

func newClient(t *testing.T) *cluster.Client {
	t.Helper()
	c, err := cluster.New(cluster.Config{REST: controlPlane.Config(t)})
	require.NoError(t, err)
	return c
}

// unique names an object of one test in the shared control plane.
func unique(prefix string) string { return clustertest.UniqueName(prefix) }

func appObjects(t *testing.T, ns string, replicas int32, withConfig bool) []*unstructured.Unstructured {
	t.Helper()
	labels := map[string]string{"app": "web"}
	objs := []runtime.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		&appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
			Spec: appsv1.DeploymentSpec{
				Replicas: &replicas,
				Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "traefik/whoami:v1.10"}}},
				},
			},
		},
	}
	if withConfig {
		objs = append(objs, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "web-config", Namespace: ns}, Data: map[string]string{"mode": "prod"}})
	}
	out, err := cluster.FromTyped(objs...)
	require.NoError(t, err)
	return out
}

func TestApplyPlanConvergeAndPrune(t *testing.T) {
	c := newClient(t)
	ctx := t.Context()
	ns := unique("app")
	inv := cluster.Inventory{Name: ns}

	p, err := c.PlanApply(ctx, inv, appObjects(t, ns, 2, true))
	require.NoError(t, err)
	assert.Equal(t, webinfra.Summary{Create: 3}, p.Plan().Summary(), "%s", p.Plan())
	_, err = c.Typed().CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "Plan persists nothing")

	res, err := c.Apply(ctx, p)
	require.NoError(t, err)
	assert.Equal(t, cluster.ApplyResult{Applied: 3, Changed: 3}, res)
	dep, err := c.Typed().AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, ns, dep.Labels[cluster.LabelInventory])
	assert.Equal(t, "webinfra", dep.ManagedFields[0].Manager)

	// No-op: the plan is empty and a re-apply changes nothing.
	p, err = c.PlanApply(ctx, inv, appObjects(t, ns, 2, true))
	require.NoError(t, err)
	assert.True(t, p.Empty(), "%s", p.Plan())
	res, err = c.Apply(ctx, p)
	require.NoError(t, err)
	assert.Equal(t, cluster.ApplyResult{}, res, "nothing sent, nothing changed")

	// An update shows the changed field; the dropped ConfigMap is pruned.
	p, err = c.PlanApply(ctx, inv, appObjects(t, ns, 3, false))
	require.NoError(t, err)
	assert.Equal(t, webinfra.Summary{Update: 1, Delete: 1}, p.Plan().Summary(), "%s", p.Plan())
	for _, o := range p.Objects() {
		if o.Ref.Kind == "Deployment" {
			assert.Equal(t, []string{"spec.replicas"}, o.Fields)
		}
	}
	res, err = c.Apply(ctx, p)
	require.NoError(t, err)
	assert.Equal(t, 1, res.Pruned)
	_, err = c.Typed().CoreV1().ConfigMaps(ns).Get(ctx, "web-config", metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err))

	p, err = c.PlanApply(ctx, inv, appObjects(t, ns, 3, false))
	require.NoError(t, err)
	assert.True(t, p.Empty(), "%s", p.Plan())
}

func TestPruneNeverTouchesObjectsWithoutTheLabel(t *testing.T) {
	c := newClient(t)
	ctx := t.Context()
	ns := unique("keep")
	inv := cluster.Inventory{Name: ns}
	p, err := c.PlanApply(ctx, inv, appObjects(t, ns, 1, true))
	require.NoError(t, err)
	_, err = c.Apply(ctx, p)
	require.NoError(t, err)

	// Someone takes the ConfigMap over: it loses the inventory label.
	cm, err := c.Typed().CoreV1().ConfigMaps(ns).Get(ctx, "web-config", metav1.GetOptions{})
	require.NoError(t, err)
	delete(cm.Labels, cluster.LabelInventory)
	_, err = c.Typed().CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{})
	require.NoError(t, err)

	p, err = c.PlanApply(ctx, inv, appObjects(t, ns, 1, false))
	require.NoError(t, err)
	assert.True(t, p.Empty(), "the unlabelled object is not pruned:\n%s", p.Plan())
	_, err = c.Apply(ctx, p)
	require.NoError(t, err)
	_, err = c.Typed().CoreV1().ConfigMaps(ns).Get(ctx, "web-config", metav1.GetOptions{})
	assert.NoError(t, err)
}

const crdYAML = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: %[1]ss.webinfra.test
spec:
  group: webinfra.test
  scope: Namespaced
  names: {plural: %[1]ss, singular: %[1]s, kind: %[2]s, listKind: %[2]sList}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: {type: integer}
---
apiVersion: webinfra.test/v1
kind: %[2]s
metadata:
  name: first
  namespace: default
spec:
  size: %[3]d
`

func TestCRDAndItsObjectsFromOneYAML(t *testing.T) {
	c := newClient(t)
	ctx := t.Context()
	id := unique("w")
	plural := "widget" + id[2:]
	kind := "Widget" + id[2:]
	objs, err := cluster.DecodeYAML([]byte(fmt.Sprintf(crdYAML, plural, kind, 1)))
	require.NoError(t, err)
	require.Len(t, objs, 2)
	inv := cluster.Inventory{Name: id}

	p, err := c.PlanApply(ctx, inv, objs)
	require.NoError(t, err)
	assert.Equal(t, webinfra.Summary{Create: 2}, p.Plan().Summary(), "the CR is planned although its CRD does not exist yet")
	_, err = c.Apply(ctx, p)
	require.NoError(t, err)

	gvr := schema.GroupVersionResource{Group: "webinfra.test", Version: "v1", Resource: plural + "s"}
	got, err := c.Dynamic().Resource(gvr).Namespace("default").Get(ctx, "first", metav1.GetOptions{})
	require.NoError(t, err)
	size, _, _ := unstructured.NestedInt64(got.Object, "spec", "size")
	assert.Equal(t, int64(1), size)

	objs, err = cluster.DecodeYAML([]byte(fmt.Sprintf(crdYAML, plural, kind, 2)))
	require.NoError(t, err)
	p, err = c.PlanApply(ctx, inv, objs)
	require.NoError(t, err)
	assert.Equal(t, webinfra.Summary{Update: 1}, p.Plan().Summary(), "%s", p.Plan())
	_, err = c.Apply(ctx, p)
	require.NoError(t, err)

	// Dropping everything prunes the CR before its CRD.
	p, err = c.PlanApply(ctx, inv, nil)
	require.NoError(t, err)
	require.Equal(t, webinfra.Summary{Delete: 2}, p.Plan().Summary())
	assert.Contains(t, p.Plan().Changes[1].ID, "CustomResourceDefinition")
	_, err = c.Apply(ctx, p)
	require.NoError(t, err)
}

func TestDecodeYAMLNamesBadDocuments(t *testing.T) {
	_, err := cluster.DecodeYAML([]byte("apiVersion: v1\nkind: ConfigMap\n---\n---\nkind: Secret\nmetadata: {name: x}\n"))
	require.ErrorIs(t, err, webinfra.ErrInvalidArgument)
	assert.Contains(t, err.Error(), "documents[0].metadata.name: required")
	assert.Contains(t, err.Error(), "documents[1].apiVersion: required", "empty documents are not counted")
}
