package security_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra/internal/testbin"
	"github.com/webinfra/webinfra/security"
	"github.com/webinfra/webinfra/security/securitytest"
)

var infectedPayload = []byte("webinfra test payload: the custom signature says this is a threat\n")

// clamTree writes a tree with one infected, two clean and one root-only file into a directory
// other users can traverse, and the signature database into another.
func clamTree(t *testing.T) (data, dbDir string) {
	t.Helper()
	dbDir = securitytest.WorldReadableDir(t)
	securitytest.SignatureDB(t, dbDir, map[string][]byte{"Webinfra.Test.Custom": infectedPayload})
	data = securitytest.WorldReadableDir(t)
	require.NoError(t, os.MkdirAll(filepath.Join(data, "site", "uploads"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(data, "site", "uploads", "evil.bin"), infectedPayload, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(data, "site", "index.html"), []byte("<h1>hello</h1>\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(data, "site", "style.css"), []byte("body{}\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(data, "site", "secret.key"), []byte("root only\n"), 0o600))
	return data, dbDir
}

func TestClamscanRealFindsCustomSignature(t *testing.T) {
	bin := testbin.Require(t, "clamscan")
	data, db := clamTree(t)
	s, err := security.NewClamscan(security.ClamscanConfig{Path: bin, Database: db})
	require.NoError(t, err)
	rep, err := s.Scan(t.Context(), []string{data}, nil)
	require.NoError(t, err)
	require.Len(t, rep.Findings, 1)
	assert.Equal(t, filepath.Join(data, "site", "uploads", "evil.bin"), rep.Findings[0].Path)
	assert.Equal(t, "Webinfra.Test.Custom.UNOFFICIAL", rep.Findings[0].Threat)
	assert.Empty(t, rep.Errors, "root reads every file")
	assert.Equal(t, 4, rep.Scanned)

	clean, err := s.Scan(t.Context(), []string{filepath.Join(data, "site", "index.html")}, nil)
	require.NoError(t, err)
	assert.True(t, clean.Clean())
	assert.Equal(t, 1, clean.Scanned)
}

// TestClamscanRealReportsUnreadableFiles runs clamscan as nobody (through setpriv), so the
// root-only file cannot be read: clamscan exits 2 and the file is a FileError, not a failure.
func TestClamscanRealReportsUnreadableFiles(t *testing.T) {
	testbin.RequireRoot(t)
	bin := testbin.Require(t, "clamscan")
	setpriv := testbin.Require(t, "setpriv")
	data, db := clamTree(t)
	wrapper := filepath.Join(securitytest.WorldReadableDir(t), "clamscan-as-nobody")
	require.NoError(t, os.WriteFile(wrapper, []byte("#!/bin/sh\nexec "+setpriv+" --reuid=65534 --regid=65534 --clear-groups "+bin+" \"$@\"\n"), 0o755))
	s, err := security.NewClamscan(security.ClamscanConfig{Path: wrapper, Database: db})
	require.NoError(t, err)

	rep, err := s.Scan(t.Context(), []string{filepath.Join(data, "site", "index.html"), filepath.Join(data, "site", "secret.key")}, nil)
	require.NoError(t, err)
	assert.Empty(t, rep.Findings)
	require.Len(t, rep.Errors, 1)
	assert.Equal(t, security.FileError{Path: filepath.Join(data, "site", "secret.key"), Msg: "Access denied"}, rep.Errors[0])
}

func TestClamdRealStreamsInParallel(t *testing.T) {
	data, db := clamTree(t)
	d := securitytest.StartClamd(t, securitytest.ClamdOptions{DatabaseDir: db})
	c, err := security.NewClamd(security.ClamdConfig{Network: d.Network, Address: d.Address, Streams: 3})
	require.NoError(t, err)
	v, err := c.Version(t.Context())
	require.NoError(t, err)
	assert.Contains(t, v, "ClamAV 1.")

	rep, err := c.Scan(t.Context(), []string{data}, &security.ScanOptions{Exclude: []string{"*.css"}})
	require.NoError(t, err)
	require.Len(t, rep.Findings, 1)
	assert.Equal(t, security.Finding{Path: filepath.Join(data, "site", "uploads", "evil.bin"), Threat: "Webinfra.Test.Custom.UNOFFICIAL", Engine: "clamd"}, rep.Findings[0])
	assert.Equal(t, 3, rep.Scanned, "style.css is excluded")
	assert.Empty(t, rep.Errors)

	clean, err := c.Scan(t.Context(), []string{filepath.Join(data, "site", "index.html")}, nil)
	require.NoError(t, err)
	assert.True(t, clean.Clean())
}

// TestClamdRealLocalModeReportsUnreadableFiles runs clamd as nobody and lets it read the files
// itself (SCAN): the root-only file comes back "Access denied. ERROR", a FileError.
func TestClamdRealLocalModeReportsUnreadableFiles(t *testing.T) {
	testbin.RequireRoot(t)
	data, db := clamTree(t)
	d := securitytest.StartClamd(t, securitytest.ClamdOptions{DatabaseDir: db, User: "nobody"})
	c, err := security.NewClamd(security.ClamdConfig{Network: d.Network, Address: d.Address, Mode: security.ClamdLocal})
	require.NoError(t, err)
	rep, err := c.Scan(t.Context(), []string{data}, nil)
	require.NoError(t, err)
	require.Len(t, rep.Findings, 1)
	assert.Equal(t, "Webinfra.Test.Custom.UNOFFICIAL", rep.Findings[0].Threat)
	require.Len(t, rep.Errors, 1)
	assert.Equal(t, security.FileError{Path: filepath.Join(data, "site", "secret.key"), Msg: "Access denied"}, rep.Errors[0])
	assert.Equal(t, 4, rep.Scanned)
}
