package cluster_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/webinfra/webinfra/cluster"
)

// TestWaitReadyFollowsTheRollout writes the Deployment status a controller would write (envtest
// runs none) and checks the wait ends then, reporting progress meanwhile.
func TestWaitReadyFollowsTheRollout(t *testing.T) {
	c := newClient(t)
	ctx := t.Context()
	ns := unique("ready")
	p, err := c.PlanApply(ctx, cluster.Inventory{Name: ns}, appObjects(t, ns, 3, false))
	require.NoError(t, err)
	_, err = c.Apply(ctx, p)
	require.NoError(t, err)
	ref := cluster.ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: ns, Name: "web"}

	err = c.WaitReady(ctx, ref, cluster.WaitOptions{Timeout: time.Second, Poll: 100 * time.Millisecond})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "generation 1 not yet observed")

	var mu sync.Mutex
	var seen []string
	go func() {
		time.Sleep(500 * time.Millisecond)
		deps := c.Typed().AppsV1().Deployments(ns)
		d, err := deps.Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return
		}
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 3, AvailableReplicas: 3}
		_, _ = deps.UpdateStatus(ctx, d, metav1.UpdateOptions{})
	}()
	err = c.WaitReady(ctx, ref, cluster.WaitOptions{Timeout: 20 * time.Second, Poll: 100 * time.Millisecond,
		OnProgress: func(_ cluster.ObjectRef, s string) { mu.Lock(); seen = append(seen, s); mu.Unlock() }})
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	assert.Greater(t, len(seen), 1)
	assert.Equal(t, "ready", seen[len(seen)-1])
}
