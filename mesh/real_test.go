package mesh_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra/mesh/meshtest"
)

// The real tests run tincd 1.0 in network namespaces (root, tincd, ip, nft and ping needed;
// scripts/testbin.sh installs them).

func TestRealAllPairsPing(t *testing.T) {
	m := meshtest.Start(t, meshtest.Config{Nodes: []string{"a", "b", "c", "d"}})
	took := m.WaitAllPairs(20 * time.Second)
	t.Logf("all pairs ping %v after the rollout", took)
	again, err := m.Manager.Plan(t.Context(), m.Network, nil)
	require.NoError(t, err)
	assert.True(t, again.Empty(), "plan after apply: %s", again.Plan())
}
