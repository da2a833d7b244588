package security_test

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/internal/command"
	"github.com/webinfra/webinfra/security"
	"github.com/webinfra/webinfra/security/securitytest"
)

var (
	odscanOnce sync.Once
	odscanPath string
)

func standInOdscan(t *testing.T) string {
	odscanOnce.Do(func() { odscanPath = securitytest.BuildOdscan(&onceTB{t}) })
	require.NotEmpty(t, odscanPath)
	return odscanPath
}

// onceTB keeps the built binary past the first test's cleanup: it lives in os.TempDir.
type onceTB struct{ *testing.T }

func (o *onceTB) TempDir() string {
	d, err := os.MkdirTemp("", "odscan-")
	require.NoError(o.T, err)
	return d
}

func esetTree(t *testing.T) string {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "www", "cache"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "www", "eicar.com"), []byte(securitytest.EICAR), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "www", "index.html"), []byte("hi"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "www", "cache", "eicar.tmp"), []byte(securitytest.EICAR), 0o644))
	return dir
}

func TestESETReadOnlyReportsThreatsExit50(t *testing.T) {
	dir := esetTree(t)
	e, err := security.NewESET(security.ESETConfig{Odscan: standInOdscan(t), ReadOnly: true, Profile: "@In-depth scan"})
	require.NoError(t, err)
	rep, err := e.Scan(t.Context(), []string{dir}, &security.ScanOptions{Exclude: []string{filepath.Join(dir, "www", "cache")}})
	require.NoError(t, err)
	require.Len(t, rep.Findings, 1)
	assert.Equal(t, security.Finding{Path: filepath.Join(dir, "www", "eicar.com"), Threat: "Eicar test file", Action: "retained", Engine: "eset"}, rep.Findings[0])
	assert.Equal(t, 2, rep.Scanned)
	assert.FileExists(t, filepath.Join(dir, "www", "eicar.com"), "read-only mode leaves the file")
}

func TestESETCleaningExit1(t *testing.T) {
	dir := esetTree(t)
	e, err := security.NewESET(security.ESETConfig{Odscan: standInOdscan(t)})
	require.NoError(t, err)
	rep, err := e.Scan(t.Context(), []string{dir}, nil)
	require.NoError(t, err)
	require.Len(t, rep.Findings, 2)
	assert.Equal(t, "cleaned by deleting", rep.Findings[0].Action)
	assert.NoFileExists(t, filepath.Join(dir, "www", "eicar.com"))
}

func TestESETNotScannedExit10(t *testing.T) {
	dir := esetTree(t)
	loop := filepath.Join(dir, "www", "loop")
	require.NoError(t, os.Symlink(loop, loop)) // unreadable even for root: ELOOP
	e, err := security.NewESET(security.ESETConfig{Odscan: standInOdscan(t), ReadOnly: true})
	require.NoError(t, err)
	rep, err := e.Scan(t.Context(), []string{filepath.Join(dir, "www", "index.html"), loop}, nil)
	require.NoError(t, err)
	assert.Empty(t, rep.Findings)
	assert.Equal(t, []security.FileError{{Path: loop, Msg: "Error opening file"}}, rep.Errors)
}

func TestESETErrorExit100(t *testing.T) {
	e, err := security.NewESET(security.ESETConfig{Odscan: standInOdscan(t)})
	require.NoError(t, err)
	_, err = e.Scan(t.Context(), []string{filepath.Join(t.TempDir(), "missing")}, nil)
	require.ErrorIs(t, err, security.ErrScannerFailed)
	assert.ErrorIs(t, err, webinfra.ErrUnavailable)
}

func TestESETExitCodeWithoutRecordIsUnexpected(t *testing.T) {
	f := (&command.Fake{}).On([]string{"odscan"}, command.Result{Stdout: []byte("Scan completed\n"), ExitCode: 50}, nil)
	e, err := security.NewESET(security.ESETConfig{Odscan: "odscan", Runner: f})
	require.NoError(t, err)
	_, err = e.Scan(t.Context(), []string{"/srv"}, nil)
	require.ErrorIs(t, err, security.ErrUnexpectedOutput)
	assert.Equal(t, []string{"odscan --scan '--profile=@Smart scan' /srv"}, f.Lines())
}

func TestParseOdscan(t *testing.T) {
	recs, err := security.ParseOdscan([]byte("banner\nname=\"/a \\\"q\\\"\", threat=\"Eicar test file\", action=\"retained\", info=\"\"\nScanned: 1\n"))
	require.NoError(t, err)
	assert.Equal(t, []security.OdscanRecord{{Name: `/a "q"`, Threat: "Eicar test file", Action: "retained"}}, recs)
	_, err = security.ParseOdscan([]byte(`name="/a, threat="x`))
	assert.ErrorIs(t, err, security.ErrUnexpectedOutput)
}

// odscan 8.0.375.0 reportedly names the detection result="..." (MailScanner issue 540): it is
// read as the threat, so the file is reported, never clean.
func TestESETResultKeyIsTheThreat(t *testing.T) {
	out := []byte("name=\"/srv/eicar.com\", result=\"Eicar test file\", action=\"retained\", info=\"\"\n")
	f := (&command.Fake{}).On([]string{"odscan"}, command.Result{Stdout: out, ExitCode: security.OdscanThreat}, nil)
	e, err := security.NewESET(security.ESETConfig{Odscan: "odscan", Runner: f, ReadOnly: true})
	require.NoError(t, err)
	rep, err := e.Scan(t.Context(), []string{"/srv"}, nil)
	require.NoError(t, err)
	require.Len(t, rep.Findings, 1)
	assert.Equal(t, "/srv/eicar.com", rep.Findings[0].Path)
	assert.Equal(t, "Eicar test file", rep.Findings[0].Threat)
}

// Codes outside ESET's table (for example an option odscan rejects) are scanner failures.
func TestESETUnknownExitCodeIsScannerFailure(t *testing.T) {
	f := (&command.Fake{}).On([]string{"odscan"}, command.Result{Stdout: []byte("odscan: unknown option\n"), ExitCode: 2}, nil)
	e, err := security.NewESET(security.ESETConfig{Odscan: "odscan", Runner: f, Exclude: []string{"/srv/cache"}})
	require.NoError(t, err)
	_, err = e.Scan(t.Context(), []string{"/srv"}, nil)
	require.ErrorIs(t, err, security.ErrScannerFailed)
	assert.Equal(t, []string{"odscan --scan '--profile=@Smart scan' --exclude=/srv/cache /srv"}, f.Lines())
}
