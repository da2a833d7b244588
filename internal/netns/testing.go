package netns

import (
	"testing"

	"github.com/webinfra/webinfra/internal/testbin"
)

// Start builds a network for the test and removes it when the test ends (t.Cleanup). It needs
// root, ip and nft: without them it skips the test, or fails it under CI=true.
func Start(t testing.TB, cfg Config) *Network {
	t.Helper()
	testbin.RequireRoot(t)
	testbin.Require(t, "ip")
	testbin.Require(t, "nft")
	n, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("netns: %v", err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("netns: teardown: %v", err)
		}
	})
	return n
}
