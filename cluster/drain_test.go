package cluster_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/cluster"
)

// pod makes a pod bound to node (envtest has no scheduler or kubelet).
func pod(name, node string, labels map[string]string, mutate ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: labels},
		Spec:       corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Image: "traefik/whoami:v1.10"}}},
	}
	for _, m := range mutate {
		m(p)
	}
	return p
}

func TestDrainHonoursBudgetsAndReportsTheBlock(t *testing.T) {
	c := newClient(t)
	ctx := t.Context()
	node := unique("node")
	core := c.Typed().CoreV1()
	_, err := core.Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node}}, metav1.CreateOptions{})
	require.NoError(t, err)

	guarded := map[string]string{"app": node + "-db"}
	yes := true
	for _, p := range []*corev1.Pod{
		pod(node+"-db", node, guarded),
		pod(node+"-web", node, nil),
		pod(node+"-cache", node, nil, func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
		}),
		pod(node+"-agent", node, nil, func(p *corev1.Pod) {
			p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "agent", UID: "0b7c3c2e-0000-4000-8000-000000000001", Controller: &yes}}
		}),
	} {
		_, err := core.Pods("default").Create(ctx, p, metav1.CreateOptions{})
		require.NoError(t, err)
	}
	// Budgets guard only ready pods (an unready one may always go): mark the guarded pod ready,
	// as its kubelet would.
	db, err := core.Pods("default").Get(ctx, node+"-db", metav1.GetOptions{})
	require.NoError(t, err)
	db.Status.Phase = corev1.PodRunning
	db.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	_, err = core.Pods("default").UpdateStatus(ctx, db, metav1.UpdateOptions{})
	require.NoError(t, err)
	minAvailable := intstr.FromInt32(1)
	_, err = c.Typed().PolicyV1().PodDisruptionBudgets("default").Create(ctx, &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: node + "-db-pdb", Namespace: "default"},
		Spec:       policyv1.PodDisruptionBudgetSpec{MinAvailable: &minAvailable, Selector: &metav1.LabelSelector{MatchLabels: guarded}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	// And the status the disruption controller would write: one healthy pod, none to spare.
	pdb, err := c.Typed().PolicyV1().PodDisruptionBudgets("default").Get(ctx, node+"-db-pdb", metav1.GetOptions{})
	require.NoError(t, err)
	pdb.Status = policyv1.PodDisruptionBudgetStatus{ObservedGeneration: pdb.Generation, CurrentHealthy: 1, DesiredHealthy: 1, ExpectedPods: 1}
	_, err = c.Typed().PolicyV1().PodDisruptionBudgets("default").UpdateStatus(ctx, pdb, metav1.UpdateOptions{})
	require.NoError(t, err)

	zero := time.Duration(0)
	// Without DeleteEmptyDir nothing is evicted and the emptyDir pod is named.
	err = c.Drain(ctx, node, cluster.DrainOptions{Timeout: 10 * time.Second, GracePeriod: &zero})
	require.ErrorIs(t, err, webinfra.ErrFailedPrecondition)
	assert.Contains(t, err.Error(), "default/"+node+"-cache")
	_, err = core.Pods("default").Get(ctx, node+"-web", metav1.GetOptions{})
	require.NoError(t, err, "nothing evicted")

	rounds := 0
	start := time.Now()
	err = c.Drain(ctx, node, cluster.DrainOptions{
		Timeout: 3 * time.Second, GracePeriod: &zero, DeleteEmptyDir: true, PollInterval: 200 * time.Millisecond,
		OnProgress: func([]string, []cluster.BlockedEviction) { rounds++ },
	})
	var drainErr *cluster.DrainError
	require.ErrorAs(t, err, &drainErr)
	t.Logf("blocked drain: %v", err)
	assert.Less(t, time.Since(start), 10*time.Second, "a blocked drain returns at its timeout")
	assert.Equal(t, []string{"default/" + node + "-db"}, drainErr.Remaining)
	require.Len(t, drainErr.Blocked, 1)
	assert.Equal(t, []string{node + "-db-pdb"}, drainErr.Blocked[0].Budgets)
	assert.GreaterOrEqual(t, drainErr.Blocked[0].Since, 2*time.Second)
	assert.True(t, errors.Is(err, webinfra.ErrFailedPrecondition))
	assert.Greater(t, rounds, 3)
	assert.Contains(t, err.Error(), "blocked for")

	for _, gone := range []string{"-web", "-cache"} {
		_, err := core.Pods("default").Get(ctx, node+gone, metav1.GetOptions{})
		assert.True(t, apierrors.IsNotFound(err), "%s evicted", gone)
	}
	_, err = core.Pods("default").Get(ctx, node+"-agent", metav1.GetOptions{})
	assert.NoError(t, err, "DaemonSet pods stay")
	n, err := core.Nodes().Get(ctx, node, metav1.GetOptions{})
	require.NoError(t, err)
	assert.True(t, n.Spec.Unschedulable, "cordoned")

	// The budget goes: the drain completes, and draining again is a no-op.
	require.NoError(t, c.Typed().PolicyV1().PodDisruptionBudgets("default").Delete(ctx, node+"-db-pdb", metav1.DeleteOptions{}))
	require.NoError(t, c.Drain(ctx, node, cluster.DrainOptions{Timeout: 10 * time.Second, GracePeriod: &zero, DeleteEmptyDir: true, PollInterval: 100 * time.Millisecond}))
	require.NoError(t, c.Drain(ctx, node, cluster.DrainOptions{Timeout: 10 * time.Second}))

	require.NoError(t, c.Uncordon(ctx, node))
	n, err = core.Nodes().Get(ctx, node, metav1.GetOptions{})
	require.NoError(t, err)
	assert.False(t, n.Spec.Unschedulable)
	assert.ErrorIs(t, c.Cordon(ctx, "no-such-node"), webinfra.ErrNotFound)
}
