package testbin_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra/internal/testbin"
)

func TestDirIsAtModuleRoot(t *testing.T) {
	t.Setenv(testbin.EnvDir, "")
	d, err := testbin.Dir()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(".testbin", "bin"), filepath.Join(filepath.Base(filepath.Dir(d)), filepath.Base(d)))
	_, err = os.Stat(filepath.Join(filepath.Dir(filepath.Dir(d)), "go.mod"))
	assert.NoError(t, err, "the parent of .testbin holds the module's go.mod")
}

func TestFindPrefersTestbinDir(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(testbin.EnvDir, dir)
	fake := filepath.Join(dir, "sh")
	require.NoError(t, os.WriteFile(fake, []byte("#!/bin/sh\n"), 0o755))

	p, err := testbin.Find("sh")
	require.NoError(t, err)
	assert.Equal(t, fake, p)

	// Not executable: ignored, PATH's one is used.
	require.NoError(t, os.Chmod(fake, 0o644))
	p, err = testbin.Find("sh")
	require.NoError(t, err)
	assert.NotEqual(t, fake, p)
}

func TestFindMissingNamesTheFix(t *testing.T) {
	t.Setenv(testbin.EnvDir, t.TempDir())
	_, err := testbin.Find("webinfra-no-such-binary")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "scripts/testbin.sh")
}

// recorder captures how Missing stops a test, without stopping this one.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper()                           {}
func (r *recorder) Skip(args ...any)                  { r.skipped = args[0].(string) }
func (r *recorder) Fatalf(format string, args ...any) { r.failed = format }

func TestMissingSkipsLocallyAndFailsInCI(t *testing.T) {
	t.Setenv("CI", "")
	r := &recorder{TB: t}
	testbin.Missing(r, "tincd missing")
	assert.Equal(t, "tincd missing", r.skipped)
	assert.Empty(t, r.failed)

	t.Setenv("CI", "true")
	r = &recorder{TB: t}
	testbin.Missing(r, "tincd missing")
	assert.Empty(t, r.skipped)
	assert.NotEmpty(t, r.failed, "under CI a missing component fails")
	assert.True(t, testbin.InCI())
}

func TestRequireFindsPresentBinary(t *testing.T) {
	assert.NotEmpty(t, testbin.Require(t, "sh"))
}
