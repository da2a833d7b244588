package backup_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/backup"
)

func validPolicy() backup.Policy {
	return backup.Policy{
		Remote:   ":googlecloudstorage,bucket_policy_only=true:backups/web",
		Key:      webinfra.NewSecret("policy test key"),
		Schedule: "30 2 * * *",
		Sets: []backup.Set{{
			Name: "www", Paths: []string{"/srv/www", "/srv/uploads"}, Excludes: []string{"*.tmp", "/cache/**"},
			Hooks: []backup.Hook{{Name: "db.sql", Command: []string{"pg_dump", "site"}, Timeout: time.Minute}},
		}},
		Retention: backup.Retention{Daily: 7, Weekly: 4, Monthly: 12},
	}
}

func TestPolicyValid(t *testing.T) {
	require.NoError(t, validPolicy().Validate())
	p := validPolicy()
	p.Remote, p.RcloneConfig = "gdrive:backups", "/etc/rclone.conf"
	require.NoError(t, p.Validate())
	p.Remote, p.RcloneConfig = "/var/backups", ""
	require.NoError(t, p.Validate())
}

func TestPolicyValidateReportsEveryProblem(t *testing.T) {
	p := backup.Policy{
		Remote:       ":ftp:x",
		RcloneConfig: "rclone.conf",
		Schedule:     "@every 10s",
		Sets: []backup.Set{
			{Name: "Www", Paths: []string{"srv", "/srv/www/", "/.hooks/x"}, Excludes: []string{"{{bad"}},
			{Name: "db", Paths: []string{"/srv", "/srv/db"}, Hooks: []backup.Hook{{Name: "d"}, {Name: "d", Command: []string{"x"}, Timeout: -1}}},
			{Name: "db"},
		},
		Retention: backup.Retention{Daily: -1},
	}
	err := p.Validate()
	require.Error(t, err)
	assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
	var ve *webinfra.ValidationError
	require.True(t, errors.As(err, &ve))
	assert.Equal(t, `key: required: backups are encrypted unless encryption is "none"
rcloneConfig: invalid value "rclone.conf": not an absolute path
remote: invalid value ":ftp:x": supported values: "local", "googlecloudstorage", "drive", "s3"
retention.daily: invalid value "-1": negative
schedule: invalid value "@every 10s": schedule "@every 10s": interval under one minute: invalid argument
sets[0].excludes[0]: invalid value "{{bad": not an rclone filter pattern
sets[0].name: invalid value "Www": want 1-63 of [a-z0-9._-], starting with a letter or digit
sets[0].paths[0]: invalid value "srv": not an absolute path
sets[0].paths[1]: invalid value "/srv/www/": not clean (want /srv/www)
sets[0].paths[2]: invalid value "/.hooks/x": reserved for hook outputs
sets[1].hooks[0].command: required
sets[1].hooks[1].name: invalid value "d": duplicate of sets[1].hooks[0].name
sets[1].hooks[1].timeout: invalid value "-1ns": negative
sets[1].paths[1]: invalid value "/srv/db": overlaps sets[1].paths[0] (/srv)
sets[2].name: invalid value "db": duplicate of sets[1].name
sets[2].paths: want at least one path or hook`, err.Error())
}

func TestPolicyJSONShape(t *testing.T) {
	data, err := json.Marshal(validPolicy())
	require.NoError(t, err)
	// The key is written as the redaction marker: a policy printed or saved never holds it.
	assert.JSONEq(t, `{"remote":":googlecloudstorage,bucket_policy_only=true:backups/web","key":"(sensitive)","schedule":"30 2 * * *",
		"sets":[{"name":"www","paths":["/srv/www","/srv/uploads"],"excludes":["*.tmp","/cache/**"],
		"hooks":[{"name":"db.sql","command":["pg_dump","site"],"timeout":60000000000}]}],
		"retention":{"daily":7,"weekly":4,"monthly":12}}`, string(data))
}

func TestSchedule(t *testing.T) {
	at := time.Date(2026, 1, 30, 23, 59, 30, 0, time.UTC) // a Friday
	for _, c := range []struct {
		in   string
		next time.Time
	}{
		{"@every 6h", at.Add(6 * time.Hour)},
		{"@hourly", time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)},
		{"@daily", time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)},
		{"@weekly", time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)},
		{"@monthly", time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)},
		{"@yearly", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"30 2 * * *", time.Date(2026, 1, 31, 2, 30, 0, 0, time.UTC)},
		{"*/15 * * * *", time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)},
		{"0 3 * * 1-5", time.Date(2026, 2, 2, 3, 0, 0, 0, time.UTC)}, // next weekday is Monday
		{"0 0 29 2 *", time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"0 12 1,15 * 7", time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC)}, // Vixie: day 1 or Sunday
	} {
		s, err := backup.ParseSchedule(c.in)
		require.NoError(t, err, c.in)
		assert.Equal(t, c.next, s.Next(at), c.in)
		assert.Equal(t, c.in, s.String())
	}
	never, err := backup.ParseSchedule("0 0 31 2 *")
	require.NoError(t, err)
	assert.True(t, never.Next(at).IsZero())
	for _, bad := range []string{"", "@often", "@every x", "* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8", "*/0 * * * *", "5-1 * * * *", "a * * * *"} {
		_, err := backup.ParseSchedule(bad)
		assert.ErrorIs(t, err, webinfra.ErrInvalidArgument, bad)
	}
}

func TestConnectionString(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "rclone.conf")
	require.NoError(t, os.WriteFile(conf, []byte(`[gcs]
type = googlecloudstorage
bucket_policy_only = true
service_account_file = /etc/key "quoted".json

[ftp]
type = ftp
host = x
`), 0o600))
	got, err := backup.ConnectionString("gcs:bucket/web", conf)
	require.NoError(t, err)
	assert.Equal(t, `:googlecloudstorage,bucket_policy_only="true",service_account_file="/etc/key ""quoted"".json":bucket/web`, got)
	got, err = backup.ConnectionString("/srv/backups", "")
	require.NoError(t, err)
	assert.Equal(t, ":local:/srv/backups", got)
	got, err = backup.ConnectionString(":s3,provider=Minio:b/p", "")
	require.NoError(t, err)
	assert.Equal(t, ":s3,provider=Minio:b/p", got)
	_, err = backup.ConnectionString("nope:x", conf)
	assert.ErrorIs(t, err, webinfra.ErrNotFound)
	_, err = backup.ConnectionString("ftp:x", conf)
	assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
	_, err = backup.ConnectionString("gcs:x", filepath.Join(t.TempDir(), "absent.conf"))
	assert.ErrorIs(t, err, webinfra.ErrNotFound)
	_, err = backup.ConnectionString("gcs:x", "")
	assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
}

func TestNewValidatesWithoutIO(t *testing.T) {
	_, err := backup.New(backup.Config{})
	assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
	_, err = backup.New(backup.Config{Remote: "/nonexistent/never/created", Host: "UPPER", Transfers: -1})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "host: invalid value \"UPPER\"")
	assert.Contains(t, err.Error(), "transfers: invalid value \"-1\": negative")
	c, err := backup.New(backup.Config{Remote: "/nonexistent/never/created", Encryption: backup.EncryptionNone})
	require.NoError(t, err)
	assert.NotEmpty(t, c.Host())
	_, err = os.Stat("/nonexistent/never/created")
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestPolicyFieldsRedactCredentials(t *testing.T) {
	p := validPolicy()
	p.Remote = `:s3,provider=AWS,access_key_id=AKIA,secret_access_key="s,e:c",session_token=tok:bucket/p`
	f := p.Fields(p.Sets[0])
	assert.Equal(t, `:s3,access_key_id=`+webinfra.Redacted+`,provider=AWS,secret_access_key=`+webinfra.Redacted+`,session_token=`+webinfra.Redacted+`:bucket/p`, f["remote"])
	assert.Equal(t, "daily=7 weekly=4 monthly=12", f["retention"])
	assert.Equal(t, []string{"db.sql: pg_dump site"}, f["hooks"])
	assert.Equal(t, []string{"/srv/www", "/srv/uploads"}, f["paths"])
	assert.Equal(t, "keep all", backup.Retention{}.String())
}

func TestValidateNeverShowsCredentials(t *testing.T) {
	p := validPolicy()
	p.Remote = `:ftp,pass=hunter2:x`
	err := p.Validate()
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "hunter2")
	_, err = backup.New(backup.Config{Remote: `:s3,secret_access_key=hunter2:`, Encryption: backup.EncryptionNone, Host: "h"})
	if err != nil {
		assert.NotContains(t, err.Error(), "hunter2")
	}
}

func TestPolicyEncryptionIsExplicit(t *testing.T) {
	p := validPolicy()
	p.Key = webinfra.Secret{}
	err := p.Validate()
	require.ErrorIs(t, err, webinfra.ErrInvalidArgument)
	assert.Contains(t, err.Error(), `key: required: backups are encrypted unless encryption is "none"`)

	p.Encryption = backup.EncryptionNone
	require.NoError(t, p.Validate())
	assert.Equal(t, false, p.Fields(p.Sets[0])["encrypted"])

	p.Key = webinfra.NewSecret("hunter2")
	err = p.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), `key: invalid value "(sensitive)": set with encryption "none"`)
	assert.NotContains(t, err.Error(), "hunter2")

	p.Encryption = "aes"
	assert.Contains(t, p.Validate().Error(), `encryption: invalid value "aes": supported values: "crypt", "none"`)

	p.Encryption = backup.EncryptionCrypt
	require.NoError(t, p.Validate())
	f := p.Fields(p.Sets[0])
	assert.Equal(t, true, f["encrypted"])
	assert.NotContains(t, fmt.Sprint(f), "hunter2")

	_, err = backup.New(backup.Config{Remote: "/srv/backups", Host: "h"})
	assert.ErrorContains(t, err, `key: required`)
	c, err := backup.New(backup.Config{Remote: "/srv/backups", Host: "h", Key: webinfra.NewSecret("k")})
	require.NoError(t, err)
	assert.True(t, c.Encrypted())
}

func TestSetPathRootAndSymlinkRefused(t *testing.T) {
	err := backup.Set{Name: "all", Paths: []string{"/"}}.Validate()
	require.ErrorIs(t, err, webinfra.ErrInvalidArgument)
	assert.Contains(t, err.Error(), `paths[0]: invalid value "/": the root directory cannot be a set path`)

	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "real"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "real", "f"), []byte("x"), 0o644))
	require.NoError(t, os.Symlink("real", filepath.Join(dir, "link")))
	c, err := backup.New(backup.Config{Remote: t.TempDir(), Encryption: backup.EncryptionNone, Host: "h"})
	require.NoError(t, err)
	_, err = c.Snapshot(context.Background(), backup.Set{Name: "s", Paths: []string{filepath.Join(dir, "link")}}, nil)
	require.ErrorIs(t, err, webinfra.ErrInvalidArgument)
	assert.Contains(t, err.Error(), `is a symbolic link to "real"`)
	snaps, err := c.List(context.Background(), "", "s")
	require.NoError(t, err)
	assert.Empty(t, snaps)
}
