package security_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/security"
	"github.com/webinfra/webinfra/security/securitytest"
)

func TestHookQuarantinesWithMetadata(t *testing.T) {
	data, qdir := t.TempDir(), filepath.Join(t.TempDir(), "quarantine")
	bad := filepath.Join(data, "upload.php")
	require.NoError(t, os.WriteFile(bad, []byte("<?php evil(); ?>"), 0o640))
	require.NoError(t, os.Chown(bad, 1234, 5678))
	mtime := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	require.NoError(t, os.Chtimes(bad, mtime, mtime))
	require.NoError(t, os.WriteFile(filepath.Join(data, "ok.txt"), []byte("fine"), 0o644))

	var got []*security.Outcome
	h, err := security.NewHook(security.HookConfig{
		Scanner:  &securitytest.FakeScanner{Signatures: map[string][]byte{"PHP.Evil": []byte("evil()")}},
		Policy:   security.ScanPolicy{Engine: "clamd", Paths: []string{data}, AfterSync: true, OnFinding: security.ActionQuarantine, QuarantineDir: qdir},
		OnResult: func(_ context.Context, o *security.Outcome) { got = append(got, o) },
	})
	require.NoError(t, err)
	o, err := h.AfterSync(t.Context(), data)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Len(t, o.Quarantined, 1)
	rec := o.Quarantined[0]
	assert.NoFileExists(t, bad)
	fi, err := os.Stat(rec.File)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0), fi.Mode().Perm(), "quarantined file is mode 000")
	assert.Equal(t, bad, rec.OriginalPath)
	assert.Equal(t, os.FileMode(0o640), rec.Mode)
	assert.Equal(t, [2]uint32{1234, 5678}, [2]uint32{rec.UID, rec.GID})
	assert.True(t, mtime.Equal(rec.ModTime))
	assert.Len(t, rec.SHA256, 64)
	assert.Equal(t, "PHP.Evil", rec.Finding.Threat)

	raw, err := os.ReadFile(filepath.Join(qdir, rec.ID+".json"))
	require.NoError(t, err)
	var back security.QuarantineRecord
	require.NoError(t, json.Unmarshal(raw, &back))
	assert.Equal(t, rec.SHA256, back.SHA256)
	recs, err := (&security.Quarantine{Dir: qdir}).Records()
	require.NoError(t, err)
	assert.Len(t, recs, 1)

	_, err = h.AfterSync(t.Context(), "/etc")
	assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
}

func TestHookFailPolicy(t *testing.T) {
	data := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(data, "x"), []byte("BAD"), 0o644))
	h, err := security.NewHook(security.HookConfig{
		Scanner: &securitytest.FakeScanner{Signatures: map[string][]byte{"T": []byte("BAD")}},
		Policy:  security.ScanPolicy{Engine: "eset", Paths: []string{data}, Interval: time.Hour, OnFinding: security.ActionFail},
	})
	require.NoError(t, err)
	o, err := h.Run(t.Context())
	var te *security.ThreatsError
	require.ErrorAs(t, err, &te)
	assert.ErrorIs(t, err, security.ErrThreatFound)
	assert.Len(t, o.Report.Findings, 1)
	assert.FileExists(t, filepath.Join(data, "x"))
}

func TestHookScannerFailure(t *testing.T) {
	h, err := security.NewHook(security.HookConfig{
		Scanner: &securitytest.FakeScanner{Err: security.ErrScannerFailed},
		Policy:  security.ScanPolicy{Engine: "eset", Paths: []string{"/srv"}, Interval: time.Hour},
	})
	require.NoError(t, err)
	o, err := h.Run(t.Context())
	assert.Nil(t, o)
	assert.ErrorIs(t, err, webinfra.ErrUnavailable)
}

func TestScanPolicyValidate(t *testing.T) {
	err := security.ScanPolicy{Engine: "mcafee", Paths: []string{"rel", "/a", "/a"}, Interval: time.Second, OnFinding: security.ActionQuarantine, QuarantineDir: "/a/q"}.Validate()
	require.Error(t, err)
	assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
	assert.Equal(t, `engine: invalid value "mcafee": supported values: "eset", "clamd", "clamscan"
interval: invalid value "1s": must be 0 or at least 1m
paths[0]: invalid value "rel": not an absolute path
paths[2]: invalid value "/a": duplicate of paths[1]
quarantine_dir: invalid value "/a/q": inside scanned path /a`, err.Error())
	assert.NoError(t, security.ScanPolicy{Engine: "clamd", Paths: []string{"/srv/data"}, Interval: time.Hour}.Validate())
}

func TestUpdatePolicyValidateAndWindows(t *testing.T) {
	err := security.UpdatePolicy{Tag: "a b", Concurrency: 2, MaxUnavailable: 1, Reboot: "sometimes", TimeZone: "Mars/Base",
		Windows: []security.Window{{Days: []string{"Funday"}, Start: "25:00", Duration: 0}}}.Validate()
	require.Error(t, err)
	for _, field := range []string{"tag", "max_unavailable", "reboot", "time_zone", "windows[0].start", "windows[0].duration", "windows[0].days[0]"} {
		assert.Contains(t, err.Error(), field+":")
	}
	p := security.UpdatePolicy{Tag: "k8s", Windows: []security.Window{{Days: []string{"Sat", "sunday"}, Start: "02:00", Duration: 3 * time.Hour}}, TimeZone: "Europe/Berlin"}
	require.NoError(t, p.Validate())
	berlin, _ := time.LoadLocation("Europe/Berlin")
	fri := time.Date(2026, 5, 8, 12, 0, 0, 0, berlin) // a Friday
	open, closeAt := p.NextWindow(fri)
	assert.Equal(t, time.Date(2026, 5, 9, 2, 0, 0, 0, berlin), open.In(berlin))
	assert.Equal(t, time.Date(2026, 5, 9, 5, 0, 0, 0, berlin), closeAt.In(berlin))
	inside := time.Date(2026, 5, 10, 3, 0, 0, 0, berlin)
	open, _ = p.NextWindow(inside)
	assert.Equal(t, inside, open, "a window is open now")
	always := security.UpdatePolicy{Tag: "k8s"}
	open, closeAt = always.NextWindow(fri)
	assert.Equal(t, fri, open)
	assert.True(t, closeAt.IsZero())
}
