package testutil_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/webinfra/webinfra/internal/testutil"
)

func TestPollReturnsOnceConditionHolds(t *testing.T) {
	n := 0
	err := testutil.Poll(t.Context(), 5*time.Second, time.Millisecond, func() error {
		n++
		if n < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	assert.NoError(t, err)
	assert.Equal(t, 3, n)
}

func TestPollReturnsLastErrorOnTimeout(t *testing.T) {
	last := errors.New("still down")
	err := testutil.Poll(t.Context(), 30*time.Millisecond, 5*time.Millisecond, func() error { return last })
	assert.Equal(t, last, err)
}

func TestUniqueName(t *testing.T) {
	a, b := testutil.UniqueName("wi"), testutil.UniqueName("wi")
	assert.Regexp(t, `^wi-[0-9a-f]{6}$`, a)
	assert.NotEqual(t, a, b)
}

func TestFreePortsAreDistinct(t *testing.T) {
	ports := testutil.FreePorts(t, 50)
	seen := map[int]bool{}
	for _, p := range ports {
		assert.False(t, seen[p], "port %d twice", p)
		assert.Positive(t, p)
		seen[p] = true
	}
}
