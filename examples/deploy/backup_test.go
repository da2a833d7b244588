package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Each data folder is backed up once, from its primary holder, with the stack's schedule and
// retention; a schedule change updates every policy, and the plan after applying it is empty.
func TestBackupPoliciesInThePlan(t *testing.T) {
	simulated(t)
	state := t.TempDir()
	code, out, errOut := runDeploy(t, "--state", state)
	require.Equal(t, 0, code, errOut)
	assert.Regexp(t, `(?m)^  backup\s+simulated\s+Google Cloud Storage\s+set GOOGLE_APPLICATION_CREDENTIALS`, out)
	assert.Contains(t, out, "\n# backup: 3 to create\n")
	assert.Contains(t, out, "+ backup_policy node-sgp-1 shop-db\n"+
		"    encrypted = false\n"+
		"    paths     = [\"/srv/shop/db\"]\n"+
		"    remote    = \":googlecloudstorage:webinfra-demo-backups/demo\"\n"+
		"    retention = \"last=3 hourly=24 daily=7 weekly=4 monthly=12\"\n"+
		"    schedule  = \"@every 1h\"\n")

	code, out, errOut = runDeploy(t, "--state", state, "--stack", writeStack(t, "every: 1h", "every: 6h"))
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "\n# backup: 3 to update\n")
	assert.Contains(t, out, "~ backup_policy node-sgp-1 shop-db\n    schedule = \"@every 1h\" -> \"@every 6h\"\n")
	assert.Contains(t, errOut, "plan after apply: No changes.")
}

// A backup policy the backup package refuses stops the run before anything is planned, naming
// the field.
func TestBackupPolicyRefusedNamesTheField(t *testing.T) {
	simulated(t)
	code, out, errOut := runDeploy(t, "--stack", writeStack(t, `remote: ":googlecloudstorage:webinfra-demo-backups/demo"`, `remote: ":nosuchbackend:x"`))
	assert.Equal(t, exitError, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "remote")
	assert.Contains(t, errOut, "nosuchbackend")
}

// Backups are encrypted unless the stack says encryption: none; the key comes from BACKUP_KEY,
// and the plan says a set is encrypted without showing the key.
func TestBackupEncryptionKeyFromTheEnvironment(t *testing.T) {
	simulated(t)
	encrypted := writeStack(t, "  encryption: none\n", "")
	t.Setenv("BACKUP_KEY", "")
	code, out, errOut := runDeploy(t, "--stack", encrypted)
	assert.Equal(t, exitError, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "backup.encryption: backups are encrypted: set BACKUP_KEY to the key, or say encryption: none")

	t.Setenv("BACKUP_KEY", "deploy-test-backup-key-b4ck")
	code, out, errOut = runDeploy(t, "--stack", encrypted, "--state", t.TempDir())
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "+ backup_policy node-sgp-1 shop-db\n    encrypted = true\n")
	assert.NotContains(t, out+errOut, "b4ck")
}
