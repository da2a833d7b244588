package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"

	"github.com/webinfra/webinfra"
)

// LeaseSpec names a coordination.k8s.io Lease used as a lock, e.g. to let one process at a time
// drain nodes of a cluster.
type LeaseSpec struct {
	// Name and Namespace locate the Lease; Namespace "" means "default".
	Name, Namespace string
	// Holder identifies this process (host name and PID, say); required.
	Holder string
	// TTL is how long the lock stays held without renewal; 0 means 30s.
	TTL time.Duration
}

func (s LeaseSpec) withDefaults() (LeaseSpec, error) {
	if s.Name == "" || s.Holder == "" {
		return s, fmt.Errorf("cluster: lease name and holder are required: %w", webinfra.ErrInvalidArgument)
	}
	if s.Namespace == "" {
		s.Namespace = "default"
	}
	if s.TTL == 0 {
		s.TTL = 30 * time.Second
	}
	if s.TTL < time.Second {
		return s, fmt.Errorf("cluster: lease TTL %v: must be at least 1s: %w", s.TTL, webinfra.ErrInvalidArgument)
	}
	return s, nil
}

// LeaseHeldError says another holder has the lease. It matches [webinfra.ErrFailedPrecondition].
type LeaseHeldError struct {
	// Lease is "namespace/name".
	Lease string
	// Holder is the current holder.
	Holder string
	// Expires is when the holder's claim lapses unless renewed.
	Expires time.Time
}

// Error names the lease, its holder and when the claim lapses.
func (e *LeaseHeldError) Error() string {
	return fmt.Sprintf("cluster: lease %s is held by %q until %s", e.Lease, e.Holder, e.Expires.Format(time.RFC3339))
}

// Is reports whether target is [webinfra.ErrFailedPrecondition].
func (e *LeaseHeldError) Is(target error) bool { return target == webinfra.ErrFailedPrecondition }

// HeldLease is a lease this process holds. Renew it well within its TTL; Release it when done.
// It is not safe for concurrent use.
type HeldLease struct {
	c    *Client
	spec LeaseSpec
}

// TryAcquireLease takes the lease once: it creates it, renews it if this holder has it, or takes
// it over when the other holder's claim has lapsed. Otherwise it returns a [*LeaseHeldError].
// Concurrent takers are arbitrated by the API server's optimistic concurrency: exactly one wins.
//
// client-go's leaderelection package has the same logic only inside its run loop; this is the
// one-shot form a maintenance step needs. [Client.RunLeader] uses client-go's loop.
func (c *Client) TryAcquireLease(ctx context.Context, spec LeaseSpec) (*HeldLease, error) {
	spec, err := spec.withDefaults()
	if err != nil {
		return nil, err
	}
	leases := c.typed.CoordinationV1().Leases(spec.Namespace)
	now := metav1.NewMicroTime(time.Now())
	ttl := int32(spec.TTL / time.Second)
	id := spec.Namespace + "/" + spec.Name

	cur, err := leases.Get(ctx, spec.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = leases.Create(ctx, &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: spec.Name, Namespace: spec.Namespace},
			Spec:       coordinationv1.LeaseSpec{HolderIdentity: &spec.Holder, LeaseDurationSeconds: &ttl, AcquireTime: &now, RenewTime: &now},
		}, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return c.TryAcquireLease(ctx, spec) // someone created it meanwhile: judge their claim
		}
		if err != nil {
			return nil, fmt.Errorf("cluster: create lease %s: %w", id, err)
		}
		return &HeldLease{c: c, spec: spec}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cluster: get lease %s: %w", id, err)
	}
	holder, expires := leaseClaim(cur)
	mine := holder == spec.Holder
	if !mine && holder != "" && time.Now().Before(expires) {
		return nil, &LeaseHeldError{Lease: id, Holder: holder, Expires: expires}
	}
	next := cur.DeepCopy()
	next.Spec.HolderIdentity = &spec.Holder
	next.Spec.LeaseDurationSeconds = &ttl
	next.Spec.RenewTime = &now
	if !mine {
		next.Spec.AcquireTime = &now
		transitions := int32(0)
		if cur.Spec.LeaseTransitions != nil {
			transitions = *cur.Spec.LeaseTransitions
		}
		transitions++
		next.Spec.LeaseTransitions = &transitions
	}
	// The update carries cur's resourceVersion: if another taker got there first it conflicts.
	if _, err := leases.Update(ctx, next, metav1.UpdateOptions{}); err != nil {
		if apierrors.IsConflict(err) {
			if latest, gerr := leases.Get(ctx, spec.Name, metav1.GetOptions{}); gerr == nil {
				h, exp := leaseClaim(latest)
				return nil, &LeaseHeldError{Lease: id, Holder: h, Expires: exp}
			}
		}
		return nil, fmt.Errorf("cluster: take lease %s: %w", id, err)
	}
	return &HeldLease{c: c, spec: spec}, nil
}

// leaseClaim returns the lease's holder and when the claim lapses.
func leaseClaim(l *coordinationv1.Lease) (string, time.Time) {
	holder := ""
	if l.Spec.HolderIdentity != nil {
		holder = *l.Spec.HolderIdentity
	}
	var renewed time.Time
	if l.Spec.RenewTime != nil {
		renewed = l.Spec.RenewTime.Time
	}
	ttl := time.Duration(0)
	if l.Spec.LeaseDurationSeconds != nil {
		ttl = time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second
	}
	return holder, renewed.Add(ttl)
}

// AcquireLease waits until it holds the lease, trying every poll (0 means 1s), or returns ctx's
// error with the last [*LeaseHeldError].
func (c *Client) AcquireLease(ctx context.Context, spec LeaseSpec, poll time.Duration) (*HeldLease, error) {
	if poll == 0 {
		poll = time.Second
	}
	var held *HeldLease
	var last error
	err := wait.PollUntilContextCancel(ctx, poll, true, func(ctx context.Context) (bool, error) {
		h, err := c.TryAcquireLease(ctx, spec)
		var busy *LeaseHeldError
		switch {
		case err == nil:
			held = h
			return true, nil
		case errors.As(err, &busy):
			last = err
			return false, nil
		default:
			return false, err
		}
	})
	if err != nil {
		return nil, errors.Join(err, last)
	}
	return held, nil
}

// Renew extends the claim by the TTL. It fails with a [*LeaseHeldError] if the lease was lost
// (the TTL passed and another holder took it).
func (h *HeldLease) Renew(ctx context.Context) error {
	_, err := h.c.TryAcquireLease(ctx, h.spec)
	return err
}

// Release gives the lease up so another holder can take it at once. Releasing a lease this
// holder no longer has does nothing.
func (h *HeldLease) Release(ctx context.Context) error {
	leases := h.c.typed.CoordinationV1().Leases(h.spec.Namespace)
	cur, err := leases.Get(ctx, h.spec.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cluster: release lease %s: %w", h.spec.Name, err)
	}
	if holder, _ := leaseClaim(cur); holder != h.spec.Holder {
		return nil
	}
	next := cur.DeepCopy()
	next.Spec.HolderIdentity = nil
	next.Spec.RenewTime = nil
	if _, err := leases.Update(ctx, next, metav1.UpdateOptions{}); err != nil && !apierrors.IsConflict(err) {
		return fmt.Errorf("cluster: release lease %s: %w", h.spec.Name, err)
	}
	return nil
}

// RunLeader runs lead while this process is the leader of spec's lease, using client-go's
// leader election (renewing every TTL/3, giving up leadership TTL*2/3 after renewals fail). It
// returns when ctx is done or leadership is lost; lead's ctx is cancelled then.
func (c *Client) RunLeader(ctx context.Context, spec LeaseSpec, lead func(ctx context.Context)) error {
	spec, err := spec.withDefaults()
	if err != nil {
		return err
	}
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Name: spec.Name, Namespace: spec.Namespace},
		Client:     c.typed.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: spec.Holder},
	}
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   spec.TTL,
		RenewDeadline:   spec.TTL * 2 / 3,
		RetryPeriod:     spec.TTL / 3,
		ReleaseOnCancel: true,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: lead,
			OnStoppedLeading: func() {},
		},
	})
	if err != nil {
		return fmt.Errorf("cluster: leader election: %w", err)
	}
	le.Run(ctx)
	return nil
}
