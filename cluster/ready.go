package cluster

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
)

// WaitOptions tune [Client.WaitReady].
type WaitOptions struct {
	// Timeout bounds the wait; 0 means 5 minutes.
	Timeout time.Duration
	// Poll is the time between checks; 0 means 1s.
	Poll time.Duration
	// OnProgress, if set, receives each check's verdict ("2/3 replicas available").
	OnProgress func(ref ObjectRef, status string)
}

// WaitReady waits until the object is ready: a Deployment, StatefulSet or DaemonSet whose
// controller has observed its latest generation and rolled all replicas out and available, or
// a CustomResourceDefinition that is Established. Other kinds are ready once they exist. On
// timeout the error says what was still missing and matches context.DeadlineExceeded.
func (c *Client) WaitReady(ctx context.Context, ref ObjectRef, opts WaitOptions) error {
	if opts.Timeout == 0 {
		opts.Timeout = 5 * time.Minute
	}
	if opts.Poll == 0 {
		opts.Poll = time.Second
	}
	ri, _, err := c.resource(ref)
	if err != nil {
		return fmt.Errorf("cluster: wait for %s: %w", ref, err)
	}
	last := ""
	err = wait.PollUntilContextTimeout(ctx, opts.Poll, opts.Timeout, true, func(ctx context.Context) (bool, error) {
		obj, err := ri.Get(ctx, ref.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			last = "not found"
		case err != nil: // a failed check (often the deadline cutting it short) keeps the last verdict
			if last == "" {
				last = err.Error()
			}
		default:
			var ready bool
			ready, last = readiness(ref, obj)
			if ready {
				last = "ready"
			}
		}
		if opts.OnProgress != nil {
			opts.OnProgress(ref, last)
		}
		return last == "ready", nil
	})
	if err != nil {
		return fmt.Errorf("cluster: %s not ready within %v (%s): %w", ref, opts.Timeout, last, err)
	}
	return nil
}

// readiness judges a workload from its status, as kubectl rollout status does.
func readiness(ref ObjectRef, obj *unstructured.Unstructured) (bool, string) {
	num := func(path ...string) int64 {
		v, _, _ := unstructured.NestedInt64(obj.Object, path...)
		return v
	}
	if gen := obj.GetGeneration(); num("status", "observedGeneration") < gen {
		return false, fmt.Sprintf("generation %d not yet observed", gen)
	}
	switch {
	case ref.Group == "apps" && (ref.Kind == "Deployment" || ref.Kind == "StatefulSet"):
		want := int64(1)
		if r, found, _ := unstructured.NestedInt64(obj.Object, "spec", "replicas"); found {
			want = r
		}
		updated := num("status", "updatedReplicas")
		avail := num("status", "availableReplicas")
		if ref.Kind == "StatefulSet" {
			avail = num("status", "readyReplicas")
			cur, _, _ := unstructured.NestedString(obj.Object, "status", "currentRevision")
			upd, _, _ := unstructured.NestedString(obj.Object, "status", "updateRevision")
			if upd != "" && cur != upd {
				return false, fmt.Sprintf("revision %s rolling out (%d/%d updated)", upd, updated, want)
			}
		}
		if updated < want || avail < want || num("status", "replicas") > want {
			return false, fmt.Sprintf("%d/%d updated, %d/%d available", updated, want, avail, want)
		}
	case ref.Group == "apps" && ref.Kind == "DaemonSet":
		want := num("status", "desiredNumberScheduled")
		updated, avail := num("status", "updatedNumberScheduled"), num("status", "numberAvailable")
		if updated < want || avail < want {
			return false, fmt.Sprintf("%d/%d updated, %d/%d available", updated, want, avail, want)
		}
	case isCRD(ref):
		conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
		for _, cd := range conds {
			if m, _ := cd.(map[string]any); m["type"] == "Established" && m["status"] == "True" {
				return true, ""
			}
		}
		return false, "not established"
	}
	return true, ""
}
