package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/webinfra/webinfra/cluster"
	"github.com/webinfra/webinfra/cluster/clustertest"
	"github.com/webinfra/webinfra/security"
	"github.com/webinfra/webinfra/security/securitytest"
)

var controlPlane *clustertest.ControlPlane

func TestMain(m *testing.M) {
	controlPlane = clustertest.StartControlPlane()
	code := m.Run()
	if err := controlPlane.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop control plane:", err)
	}
	os.Exit(code)
}

// setReady writes the node's Ready condition, as its kubelet would.
func setReady(ctx context.Context, kc *cluster.Client, node string, ready bool) error {
	n, err := kc.Typed().CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
	if err != nil {
		return err
	}
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: st, LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now(), Reason: "Test"}}
	_, err = kc.Typed().CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
	return err
}

// TestRollingUpdateOnRealAPIServer updates 3 nodes of a real apiserver through the Landscape
// fake. The second node's only pod is guarded by a PodDisruptionBudget with nothing to spare:
// its drain is reported, it goes back in service, and no other node is taken out. With the
// budget lifted, a second run resumes and finishes without touching the first node again.
func TestRollingUpdateOnRealAPIServer(t *testing.T) {
	kc, err := cluster.New(cluster.Config{REST: controlPlane.Config(t)})
	require.NoError(t, err)
	ctx := t.Context()
	core := kc.Typed().CoreV1()
	nodes := []string{"ru-node-1", "ru-node-2", "ru-node-3"}
	srv := securitytest.StartLandscape(t)
	for _, n := range nodes {
		_, err := core.Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n}}, metav1.CreateOptions{})
		require.NoError(t, err)
		require.NoError(t, setReady(ctx, kc, n, true))
		labels := map[string]string{"app": n + "-web"}
		_, err = core.Pods("default").Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: n + "-web", Namespace: "default", Labels: labels},
			Spec:       corev1.PodSpec{NodeName: n, Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
		}, metav1.CreateOptions{})
		require.NoError(t, err)
		srv.AddComputer(securitytest.FakeComputer{Hostname: n, Tags: []string{"k8s"}, RebootAfterUpgrade: true,
			Upgrades: []security.Package{{Name: "linux-image-generic", Version: "6.8.0-60.63", Security: true}}})
	}
	// The budget guards ready pods only: make node-2's pod ready, and write the status the
	// disruption controller would (one healthy, none to spare).
	p, err := core.Pods("default").Get(ctx, "ru-node-2-web", metav1.GetOptions{})
	require.NoError(t, err)
	p.Status.Phase = corev1.PodRunning
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	_, err = core.Pods("default").UpdateStatus(ctx, p, metav1.UpdateOptions{})
	require.NoError(t, err)
	one := intstr.FromInt32(1)
	pdbs := kc.Typed().PolicyV1().PodDisruptionBudgets("default")
	_, err = pdbs.Create(ctx, &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: "ru-node-2-web", Namespace: "default"},
		Spec:       policyv1.PodDisruptionBudgetSpec{MinAvailable: &one, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "ru-node-2-web"}}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	pdb, err := pdbs.Get(ctx, "ru-node-2-web", metav1.GetOptions{})
	require.NoError(t, err)
	pdb.Status = policyv1.PodDisruptionBudgetStatus{ObservedGeneration: pdb.Generation, CurrentHealthy: 1, DesiredHealthy: 1, ExpectedPods: 1}
	_, err = pdbs.UpdateStatus(ctx, pdb, metav1.UpdateOptions{})
	require.NoError(t, err)

	// A reboot takes the node NotReady (before Landscape reports the activity done) and its
	// kubelet brings it back shortly after.
	reboots := make(chan string, 10)
	srv.OnReboot(func(h string) {
		assert.NoError(t, setReady(context.WithoutCancel(ctx), kc, h, false))
		reboots <- h
		go func() {
			time.Sleep(300 * time.Millisecond)
			assert.NoError(t, setReady(context.WithoutCancel(ctx), kc, h, true))
		}()
	})

	// Record every node that is ever cordoned or NotReady, from the apiserver's watch.
	w, err := core.Nodes().Watch(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	defer w.Stop()
	seenOut := map[string]bool{}
	maxOut := 0
	out := map[string]bool{}
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		for ev := range w.ResultChan() {
			n, ok := ev.Object.(*corev1.Node)
			if !ok {
				continue
			}
			ready := false
			for _, c := range n.Status.Conditions {
				if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
					ready = true
				}
			}
			out[n.Name] = n.Spec.Unschedulable || !ready
			if out[n.Name] {
				seenOut[n.Name] = true
			}
			cnt := 0
			for _, o := range out {
				if o {
					cnt++
				}
			}
			maxOut = max(maxOut, cnt)
		}
	}()

	ls, err := security.NewLandscape(srv.Config())
	require.NoError(t, err)
	zero := time.Duration(0)
	cfg := Wire(kc, ls, security.UpdatePolicy{Tag: "k8s", ReadyTimeout: time.Minute},
		cluster.LeaseSpec{Name: "ru-lock", Namespace: "default", Holder: "test", TTL: 15 * time.Second},
		cluster.DrainOptions{Timeout: 2 * time.Second, GracePeriod: &zero, PollInterval: 200 * time.Millisecond})
	cfg.ID, cfg.Poll, cfg.RenewEvery = "it-1", 100*time.Millisecond, time.Second
	r, err := security.NewRollout(cfg)
	require.NoError(t, err)

	res, err := r.Run(ctx)
	var re *security.RolloutError
	require.ErrorAs(t, err, &re, "%v", err)
	assert.Equal(t, "ru-node-2", re.Node)
	assert.Equal(t, "drain", re.Step)
	var de *cluster.DrainError
	require.ErrorAs(t, err, &de, "the cluster package's drain report comes through")
	require.Len(t, de.Blocked, 1)
	assert.Equal(t, "default/ru-node-2-web", de.Blocked[0].Pod)
	assert.Equal(t, []string{"ru-node-2-web"}, de.Blocked[0].Budgets)
	assert.Equal(t, []string{"ru-node-1"}, res.Updated)

	n2, err := core.Nodes().Get(ctx, "ru-node-2", metav1.GetOptions{})
	require.NoError(t, err)
	assert.False(t, n2.Spec.Unschedulable, "the blocked node is back in service")
	_, err = core.Pods("default").Get(ctx, "ru-node-2-web", metav1.GetOptions{})
	assert.NoError(t, err, "the guarded pod still runs")
	c3, _ := srv.Computer("ru-node-3")
	assert.NotEmpty(t, c3.Upgrades, "node 3 untouched")
	st, err := cfg.State.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"ru-node-1"}, st.Done, "progress kept on the lease")
	require.NotNil(t, st.Failed)

	// Lift the budget: the next run resumes with node 2 and 3.
	require.NoError(t, pdbs.Delete(ctx, "ru-node-2-web", metav1.DeleteOptions{}))
	res, err = r.Run(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"ru-node-2", "ru-node-3"}, res.Updated)
	assert.Equal(t, []string{"ru-node-1"}, res.Skipped)
	assert.Equal(t, 3, len(reboots))
	for _, n := range nodes {
		c, _ := srv.Computer(n)
		assert.Empty(t, c.Upgrades, n)
		node, err := core.Nodes().Get(ctx, n, metav1.GetOptions{})
		require.NoError(t, err)
		assert.False(t, node.Spec.Unschedulable, n)
	}
	w.Stop()
	<-watchDone
	assert.Equal(t, 1, maxOut, "never more than one node out at once")
	assert.True(t, seenOut["ru-node-3"])

	// The lock was released: another holder takes it at once.
	l, err := kc.TryAcquireLease(ctx, cluster.LeaseSpec{Name: "ru-lock", Namespace: "default", Holder: "other"})
	require.NoError(t, err)
	require.NoError(t, l.Release(ctx))
	assert.False(t, errors.Is(err, security.ErrBudgetExceeded))
}
