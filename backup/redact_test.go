package backup

import (
	"fmt"
	"strings"
	"testing"

	rfs "github.com/rclone/rclone/fs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
)

// TestRedactRemoteEverySensitiveOption builds, for every backend this package links, a
// connection string setting every option rclone marks sensitive or a password to a value of
// its own, and checks that no such value survives while the other options do.
func TestRedactRemoteEverySensitiveOption(t *testing.T) {
	for _, backend := range append(supportedBackends, "crypt") {
		info, err := rfs.Find(backend)
		require.NoError(t, err, backend)
		var opts, secrets []string
		for i, o := range info.Options {
			if o.Sensitive || o.IsPassword {
				v := fmt.Sprintf("SECRET%d%s", i, strings.ToUpper(o.Name))
				opts = append(opts, o.Name+"="+quoteOption(v))
				secrets = append(secrets, v)
			}
		}
		if backend == "local" {
			require.Empty(t, secrets, "local gained a sensitive option")
			continue
		}
		require.NotEmpty(t, secrets, "%s marks no option sensitive", backend)
		remote := ":" + backend + ",region=eu-west-1," + strings.Join(opts, ",") + ":bucket/path"
		got := RedactRemote(remote)
		for _, s := range secrets {
			assert.NotContains(t, got, s, backend)
		}
		assert.Contains(t, got, webinfra.Redacted, backend)
		assert.Contains(t, got, `region=eu-west-1`, backend)
		assert.True(t, strings.HasSuffix(got, ":bucket/path"), got)
	}
}

func TestRedactRemoteCases(t *testing.T) {
	for _, tc := range []struct{ in, secret, keep string }{
		{`:s3,access_key_id=AKID,secret_access_key=SAK,sse_customer_key=SSEKEY,provider=AWS:b/p`, "SSEKEY", "provider=AWS"},
		{`:s3,secret_access_key="a,b:c":b`, "a,b:c", ":b"},
		{`:s3,sse-customer-key=DASHED:b`, "DASHED", ":b"},
		{`:crypt,remote=":s3,secret_access_key=INNER:b",password=OBSCURED:`, "INNER", "remote="},
		{`:crypt,remote=":s3,secret_access_key=INNER:b",password=OBSCURED:`, "OBSCURED", "remote="},
		{`:unknownbackend,api_token=TOK:p`, "TOK", ":p"},
		{`:s3,secret_access_key='unterminated:b`, "unterminated", "s3"},
		{`/srv/backups`, "", "/srv/backups"},
	} {
		got := RedactRemote(tc.in)
		if tc.secret != "" {
			assert.NotContains(t, got, tc.secret, tc.in)
		}
		assert.Contains(t, got, tc.keep, tc.in)
	}
}
