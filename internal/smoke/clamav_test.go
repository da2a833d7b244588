package smoke_test

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra/internal/testbin"
)

// TestClamscanCustomSignature checks clamscan against a signature database the test writes
// itself (no official signatures are reachable offline): the matching file is FOUND (exit 1), a
// clean one is OK (exit 0).
func TestClamscanCustomSignature(t *testing.T) {
	clamscan := testbin.Require(t, "clamscan")
	dir := t.TempDir()

	infected := []byte("webinfra smoke test payload: not a virus, but the signature says so\n")
	sum := md5.Sum(infected)
	db := filepath.Join(dir, "webinfra.hdb")
	// .hdb line: md5:size:name.
	require.NoError(t, os.WriteFile(db, fmt.Appendf(nil, "%s:%d:Webinfra.Smoke.Test\n", hex.EncodeToString(sum[:]), len(infected)), 0o644))
	bad := filepath.Join(dir, "infected.txt")
	good := filepath.Join(dir, "clean.txt")
	require.NoError(t, os.WriteFile(bad, infected, 0o644))
	require.NoError(t, os.WriteFile(good, []byte("nothing to see\n"), 0o644))

	out, err := exec.CommandContext(t.Context(), clamscan, "-d", db, "--no-summary", bad).CombinedOutput()
	var exitErr *exec.ExitError
	require.ErrorAs(t, err, &exitErr, "%s", out)
	assert.Equal(t, 1, exitErr.ExitCode(), "exit 1 means a virus was found: %s", out)
	assert.Contains(t, string(out), bad+": Webinfra.Smoke.Test.UNOFFICIAL FOUND")

	out, err = exec.CommandContext(t.Context(), clamscan, "-d", db, "--no-summary", good).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), good+": OK")
}
