package webinfra_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPublicAPIFromAnotherModule builds and runs testdata/publicapi, a module of its own that
// sets every exported setting typed by the shared mechanics (retry policies, rate budgets,
// command runners), plugs in its own runner and matches its *webinfra.ExitError with
// errors.As. Another module cannot import the internal packages, so a field typed with one
// fails this build.
func TestPublicAPIFromAnotherModule(t *testing.T) {
	cmd := exec.Command("go", "run", ".")
	cmd.Dir = "testdata/publicapi"
	cmd.Env = append(cmd.Environ(), "GOFLAGS=-mod=readonly", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.True(t, strings.HasPrefix(string(out), "ok: "), "%s", out)
}
