package cluster_test

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/webinfra/webinfra/cluster"
)

type countingTransport struct {
	next  http.RoundTripper
	calls atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.calls.Add(1)
	return c.next.RoundTrip(r)
}

// mixedObjects returns a namespace and 499 objects in it: ConfigMaps, Secrets, Services and
// Deployments in turn.
func mixedObjects(ns string) []runtime.Object {
	objs := []runtime.Object{&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}}
	one := int32(1)
	for i := 0; len(objs) < 500; i++ {
		name := fmt.Sprintf("obj-%03d", i)
		meta := metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app": name}}
		switch i % 4 {
		case 0:
			objs = append(objs, &corev1.ConfigMap{ObjectMeta: meta, Data: map[string]string{"k": name}})
		case 1:
			objs = append(objs, &corev1.Secret{ObjectMeta: meta, StringData: map[string]string{"k": name}})
		case 2:
			objs = append(objs, &corev1.Service{ObjectMeta: meta, Spec: corev1.ServiceSpec{
				Selector: map[string]string{"app": name}, Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}}})
		case 3:
			objs = append(objs, &appsv1.Deployment{ObjectMeta: meta, Spec: appsv1.DeploymentSpec{
				Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: meta.Labels},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: meta.Labels},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "traefik/whoami:v1.10"}}}}}})
		}
	}
	return objs
}

// BenchmarkApply500 applies 500 mixed objects to the real apiserver, then re-applies them: the
// re-apply must change nothing (changed-writes = 0). It reports the HTTP calls of plan+apply
// for both, and the time of the no-op re-apply relative to the first apply, measured together.
func BenchmarkApply500(b *testing.B) {
	rc := controlPlane.Config(b)
	counter := &countingTransport{}
	rc.Wrap(func(rt http.RoundTripper) http.RoundTripper { counter.next = rt; return counter })
	c, err := cluster.New(cluster.Config{REST: rc})
	if err != nil {
		b.Fatal(err)
	}
	var firstCalls, againCalls, changedAgain int64
	var first, again time.Duration
	for i := 0; b.Loop(); i++ {
		ns := fmt.Sprintf("bench-%d-%d", time.Now().UnixNano()%1e6, i)
		objs, err := cluster.FromTyped(mixedObjects(ns)...)
		if err != nil {
			b.Fatal(err)
		}
		inv := cluster.Inventory{Name: ns}
		run := func() (cluster.ApplyResult, int64, time.Duration) {
			before, t0 := counter.calls.Load(), time.Now()
			p, err := c.PlanApply(b.Context(), inv, objs)
			if err != nil {
				b.Fatal(err)
			}
			res, err := c.Apply(b.Context(), p)
			if err != nil {
				b.Fatal(err)
			}
			return res, counter.calls.Load() - before, time.Since(t0)
		}
		res1, calls1, d1 := run()
		if res1.Changed != 500 {
			b.Fatalf("first apply changed %d of 500", res1.Changed)
		}
		res2, calls2, d2 := run()
		firstCalls += calls1
		againCalls += calls2
		changedAgain += int64(res2.Changed)
		first += d1
		again += d2
	}
	if changedAgain != 0 {
		b.Errorf("a no-op re-apply changed %d objects", changedAgain)
	}
	n := float64(b.N)
	b.ReportMetric(float64(firstCalls)/n, "apply-calls/op")
	b.ReportMetric(float64(againCalls)/n, "reapply-calls/op")
	b.ReportMetric(float64(changedAgain)/n, "reapply-changed-writes/op")
	b.ReportMetric(first.Seconds()/n, "apply-s/op")
	b.ReportMetric(float64(again)/float64(first), "reapply/apply-time")
}
