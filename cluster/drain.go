package cluster

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/webinfra/webinfra"
)

// Cordon marks the node unschedulable; cordoning a cordoned node does nothing. An absent node
// gives an error matching [webinfra.ErrNotFound].
func (c *Client) Cordon(ctx context.Context, node string) error {
	return c.setUnschedulable(ctx, node, true)
}

// Uncordon makes the node schedulable again; it is idempotent.
func (c *Client) Uncordon(ctx context.Context, node string) error {
	return c.setUnschedulable(ctx, node, false)
}

func (c *Client) setUnschedulable(ctx context.Context, node string, on bool) error {
	patch := fmt.Sprintf(`{"spec":{"unschedulable":%t}}`, on)
	_, err := c.typed.CoreV1().Nodes().Patch(ctx, node, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("cluster: node %q: %w", node, webinfra.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("cluster: set node %q unschedulable=%t: %w", node, on, err)
	}
	return nil
}

// DrainOptions tune [Client.Drain]. The zero value waits up to 5 minutes, uses each pod's own
// grace period, and refuses to evict pods with emptyDir volumes.
type DrainOptions struct {
	// Timeout bounds the whole drain; 0 means 5 minutes.
	Timeout time.Duration
	// GracePeriod overrides the pods' termination grace period; nil keeps theirs.
	GracePeriod *time.Duration
	// DeleteEmptyDir evicts pods with emptyDir volumes, whose data is lost; without it Drain
	// refuses before evicting anything, naming those pods.
	DeleteEmptyDir bool
	// PollInterval is the time between eviction rounds; 0 means 1s.
	PollInterval time.Duration
	// OnProgress, if set, is called after each round with the pods still on the node.
	OnProgress func(remaining []string, blocked []BlockedEviction)
}

// BlockedEviction is a pod whose eviction a PodDisruptionBudget refuses.
type BlockedEviction struct {
	// Pod is "namespace/name".
	Pod string
	// Budgets are the names of the PodDisruptionBudgets selecting the pod.
	Budgets []string
	// Since is how long evictions of this pod have been refused.
	Since time.Duration
	// Message is the API server's reason.
	Message string
}

// DrainError reports a drain that did not finish: pods blocked by disruption budgets, and pods
// still terminating. It matches [webinfra.ErrFailedPrecondition].
type DrainError struct {
	Node    string
	Blocked []BlockedEviction
	// Remaining are the pods ("namespace/name") still on the node, blocked ones included.
	Remaining []string
	// Cause is the error that stopped the drain (a timeout, ctx), if any.
	Cause error
}

// Error names the node, every blocked pod with its budgets and how long, and the cause.
func (e *DrainError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cluster: drain of node %q incomplete: %d pods remain", e.Node, len(e.Remaining))
	for _, bl := range e.Blocked {
		fmt.Fprintf(&b, "; %s blocked for %s by PodDisruptionBudget %s", bl.Pod, bl.Since.Round(time.Second), strings.Join(bl.Budgets, ","))
	}
	if e.Cause != nil {
		fmt.Fprintf(&b, ": %v", e.Cause)
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *DrainError) Unwrap() error { return e.Cause }

// Is reports whether target is [webinfra.ErrFailedPrecondition].
func (e *DrainError) Is(target error) bool { return target == webinfra.ErrFailedPrecondition }

// Drain cordons the node and evicts its pods through the Eviction API, so PodDisruptionBudgets
// are honoured. DaemonSet pods and mirror pods are left alone (their controllers would put them
// back). A pod whose eviction a budget refuses is retried every PollInterval; when Timeout
// passes Drain returns a [*DrainError] saying which pods are blocked, by which budgets, for how
// long, instead of hanging. Drain is idempotent: draining a drained node returns nil at once.
//
// It is written here rather than on k8s.io/kubectl/pkg/drain because that helper retries a
// refused eviction until its timeout and then gives only a generic error: it does not say which
// budget blocked which pod for how long, which is the report this package promises, and it would
// pull kubectl's module into every user of cluster.
func (c *Client) Drain(ctx context.Context, node string, opts DrainOptions) error {
	if opts.Timeout == 0 {
		opts.Timeout = 5 * time.Minute
	}
	if opts.PollInterval == 0 {
		opts.PollInterval = time.Second
	}
	if err := c.Cordon(ctx, node); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()

	pods, err := c.podsToEvict(ctx, node)
	if err != nil {
		return err
	}
	if !opts.DeleteEmptyDir {
		var local []string
		for _, p := range pods {
			if slices.ContainsFunc(p.Spec.Volumes, func(v corev1.Volume) bool { return v.EmptyDir != nil }) {
				local = append(local, p.Namespace+"/"+p.Name)
			}
		}
		if len(local) > 0 {
			return fmt.Errorf("cluster: drain of node %q: pods with emptyDir data (set DeleteEmptyDir to evict them): %s: %w",
				node, strings.Join(local, ", "), webinfra.ErrFailedPrecondition)
		}
	}

	firstBlocked := map[string]time.Time{}
	var grace *int64
	if opts.GracePeriod != nil {
		s := int64(opts.GracePeriod.Seconds())
		grace = &s
	}
	// last is the report of the last complete round; before the first, every pod remains.
	last := &DrainError{Node: node}
	for _, p := range pods {
		last.Remaining = append(last.Remaining, p.Namespace+"/"+p.Name)
	}
	for {
		remaining, blocked, err := c.evictRound(ctx, node, pods, grace, firstBlocked)
		if err != nil {
			last.Cause = err
			return last
		}
		if opts.OnProgress != nil {
			opts.OnProgress(slices.Clone(remaining), slices.Clone(blocked))
		}
		if len(remaining) == 0 {
			return nil
		}
		last = &DrainError{Node: node, Remaining: remaining, Blocked: blocked}
		select {
		case <-ctx.Done():
			last.Cause = ctx.Err()
			return last
		case <-time.After(opts.PollInterval):
		}
	}
}

// evictRound tries once to evict every pod still on the node, and returns those remaining and
// those a budget blocks.
func (c *Client) evictRound(ctx context.Context, node string, pods []corev1.Pod, grace *int64, firstBlocked map[string]time.Time) (remaining []string, blocked []BlockedEviction, err error) {
	for _, p := range pods {
		id := p.Namespace + "/" + p.Name
		live, err := c.typed.CoreV1().Pods(p.Namespace).Get(ctx, p.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) || (err == nil && live.UID != p.UID) {
			continue // gone (or replaced by a new pod of the same name)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("get pod %s: %w", id, err)
		}
		remaining = append(remaining, id)
		if live.DeletionTimestamp != nil {
			continue // terminating
		}
		err = c.typed.PolicyV1().Evictions(p.Namespace).Evict(ctx, &policyv1.Eviction{
			ObjectMeta:    metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace},
			DeleteOptions: &metav1.DeleteOptions{GracePeriodSeconds: grace, Preconditions: &metav1.Preconditions{UID: &p.UID}},
		})
		switch {
		case err == nil, apierrors.IsNotFound(err):
			delete(firstBlocked, id)
			c.log.Info("evicted", "node", node, "pod", id)
		case apierrors.IsTooManyRequests(err):
			if _, ok := firstBlocked[id]; !ok {
				firstBlocked[id] = time.Now()
			}
			blocked = append(blocked, BlockedEviction{Pod: id, Budgets: c.budgetsOf(ctx, live), Since: time.Since(firstBlocked[id]), Message: err.Error()})
		default:
			return nil, nil, fmt.Errorf("evict %s: %w", id, err)
		}
	}
	return remaining, blocked, nil
}

// podsToEvict lists the node's pods that a drain evicts: all but DaemonSet and mirror pods.
func (c *Client) podsToEvict(ctx context.Context, node string) ([]corev1.Pod, error) {
	list, err := c.typed.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + node})
	if err != nil {
		return nil, fmt.Errorf("cluster: list pods of node %q: %w", node, err)
	}
	var out []corev1.Pod
	for _, p := range list.Items {
		if _, mirror := p.Annotations[corev1.MirrorPodAnnotationKey]; mirror {
			continue
		}
		if slices.ContainsFunc(p.OwnerReferences, func(o metav1.OwnerReference) bool {
			return o.Kind == "DaemonSet" && o.Controller != nil && *o.Controller
		}) {
			continue
		}
		out = append(out, p)
	}
	return out, nil
}

// budgetsOf names the PodDisruptionBudgets that select the pod; errors give an empty list, as
// this only enriches a report.
func (c *Client) budgetsOf(ctx context.Context, pod *corev1.Pod) []string {
	list, err := c.typed.PolicyV1().PodDisruptionBudgets(pod.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil
	}
	var names []string
	for _, pdb := range list.Items {
		sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		if err == nil && !sel.Empty() && sel.Matches(labels.Set(pod.Labels)) {
			names = append(names, pdb.Name)
		}
	}
	return names
}
