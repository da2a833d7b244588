package cluster_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/cluster"
)

func TestLeaseContentionExpiryAndTakeover(t *testing.T) {
	c := newClient(t)
	ctx := t.Context()
	name := unique("maint")
	a := cluster.LeaseSpec{Name: name, Holder: "drainer-a", TTL: 2 * time.Second}
	b := cluster.LeaseSpec{Name: name, Holder: "drainer-b", TTL: 2 * time.Second}

	heldA, err := c.TryAcquireLease(ctx, a)
	require.NoError(t, err)
	_, err = c.TryAcquireLease(ctx, b)
	var busy *cluster.LeaseHeldError
	require.ErrorAs(t, err, &busy)
	assert.Equal(t, "drainer-a", busy.Holder)
	assert.ErrorIs(t, err, webinfra.ErrFailedPrecondition)

	require.NoError(t, heldA.Renew(ctx), "the holder renews")

	// A stops renewing; B waits and takes over once A's claim lapses.
	start := time.Now()
	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	heldB, err := c.AcquireLease(waitCtx, b, 200*time.Millisecond)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), time.Second, "B waited for A's claim to lapse")
	lease, err := c.Typed().CoordinationV1().Leases("default").Get(ctx, name, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "drainer-b", *lease.Spec.HolderIdentity)
	assert.Equal(t, int32(1), *lease.Spec.LeaseTransitions)

	require.ErrorAs(t, heldA.Renew(ctx), &busy, "A lost the lease")
	require.NoError(t, heldA.Release(ctx), "releasing a lost lease does nothing")
	lease, err = c.Typed().CoordinationV1().Leases("default").Get(ctx, name, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "drainer-b", *lease.Spec.HolderIdentity)

	require.NoError(t, heldB.Release(ctx))
	_, err = c.TryAcquireLease(ctx, a)
	assert.NoError(t, err, "a released lease is free at once")
}

func TestLeaseExactlyOneOfManyWins(t *testing.T) {
	c := newClient(t)
	name := unique("race")
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			_, err := c.TryAcquireLease(t.Context(), cluster.LeaseSpec{Name: name, Holder: fmt.Sprintf("p%d", i), TTL: time.Minute})
			if err == nil {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int32(1), wins.Load())
}

func TestRunLeader(t *testing.T) {
	c := newClient(t)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	led := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- c.RunLeader(ctx, cluster.LeaseSpec{Name: unique("leader"), Holder: "me", TTL: 3 * time.Second}, func(context.Context) { close(led) })
	}()
	select {
	case <-led:
	case <-ctx.Done():
		t.Fatal("never became leader")
	}
	cancel()
	require.NoError(t, <-done)
	_, err := c.TryAcquireLease(t.Context(), cluster.LeaseSpec{Name: "x", Holder: ""})
	assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
}
