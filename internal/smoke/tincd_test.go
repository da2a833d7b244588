package smoke_test

import (
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra/internal/testbin"
)

// TestTincdVersion checks that the tincd the mesh tests drive is Debian's tinc 1.0.
func TestTincdVersion(t *testing.T) {
	tincd := testbin.Require(t, "tincd")
	out, err := exec.CommandContext(t.Context(), tincd, "--version").CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Regexp(t, `^tinc version 1\.0\.\d+`, string(out))
}
