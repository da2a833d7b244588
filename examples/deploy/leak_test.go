package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/cloudflare/cloudflaretest"
	"github.com/webinfra/webinfra/examples/deploy/stack"
	"github.com/webinfra/webinfra/replication"
	"github.com/webinfra/webinfra/replication/replicationtest"
	"github.com/webinfra/webinfra/security/securitytest"
)

// Every secret given to the deploy, through the stack or the environment, stays out of every
// output: the text and JSON plans, the logs at debug level, stderr, and every file under
// --state but the 0600 files that hold a key itself; the policies are 0600.
func TestNoSecretInAnyOutput(t *testing.T) {
	simulated(t)
	state := t.TempDir()
	// The first run keeps the identities; the real (fake) Syncthing of node-ams-1 needs its ID.
	code, _, errOut := runDeploy(t, "--state", state)
	require.Equal(t, 0, code, errOut)
	id, err := replication.LoadIdentity(filepath.Join(state, "syncthing", "node-ams-1"))
	require.NoError(t, err)

	secrets := map[string]string{}
	secrets["Cloudflare token"] = "CFTOKENc4f3b2a1"
	cf := cloudflaretest.NewServer(cloudflaretest.Options{Token: secrets["Cloudflare token"]})
	t.Cleanup(cf.Close)
	cf.AddZone("example.com")
	t.Setenv("CLOUDFLARE_API_TOKEN", secrets["Cloudflare token"])
	t.Setenv("CLOUDFLARE_API_BASE_URL", cf.URL())

	ls := securitytest.NewLandscapeServer()
	t.Cleanup(ls.Close)
	ls.AccessKey, ls.SecretKey = "LSACCESSKEY9f8e7d", webinfra.NewSecret("LSSECRETVALUE6c5b4a")
	secrets["Landscape key"], secrets["Landscape secret"] = ls.AccessKey, ls.SecretKey.Reveal()
	st, err := stack.Parse(demoStack)
	require.NoError(t, err)
	for _, n := range st.Nodes {
		ls.AddComputer(securitytest.FakeComputer{Hostname: n.Name, Title: n.Name, Tags: []string{landscapeTag(st)}})
	}
	t.Setenv("LANDSCAPE_API_URI", ls.URL())
	t.Setenv("LANDSCAPE_API_KEY", ls.AccessKey)
	t.Setenv("LANDSCAPE_API_SECRET", ls.SecretKey.Reveal())

	sy := replicationtest.NewServerWithID(id.DeviceID())
	t.Cleanup(sy.Close)
	secrets["Syncthing API key"] = sy.APIKey().Reveal()
	t.Setenv("SYNCTHING_URL_NODE_AMS_1", sy.URL())
	t.Setenv("SYNCTHING_API_KEY_NODE_AMS_1", sy.APIKey().Reveal())

	// A remote with credentials in its connection string (on the simulated Google Cloud
	// Storage, so the run completes; the plan shows the stack's remote).
	secrets["service account credentials"] = "GCSCREDSb7a6"
	secrets["sse_customer_key"] = "SSEKEYVALUE5d4c"
	remote := ":googlecloudstorage,service_account_credentials=" + secrets["service account credentials"] +
		",sse_customer_key=" + secrets["sse_customer_key"] + ":webinfra-demo-backups/demo"
	stackFile := writeStack(t, `remote: ":googlecloudstorage:webinfra-demo-backups/demo"`, `remote: "`+remote+`"`)

	var outputs []string
	for _, args := range [][]string{{"--output", "json", "--dry-run"}, {}, {"--dry-run"}} {
		code, out, errOut := runDeploy(t, append([]string{"--state", state, "--stack", stackFile, "--log-level", "debug"}, args...)...)
		require.Equal(t, 0, code, errOut)
		require.Contains(t, out, "real") // some service is real in this run
		outputs = append(outputs, "stdout of "+strings.Join(args, " ")+"\n"+out, "stderr of "+strings.Join(args, " ")+"\n"+errOut)
	}
	assert.Positive(t, len(sy.Folders()), "the Syncthing given was used")

	// Keys: every private key kept under --state is a secret of its own, allowed only in the
	// 0600 file that holds it.
	keyFile := regexp.MustCompile(`^(mesh/[^/]+/(rsa_key|ed25519_key)\.priv|syncthing/[^/]+/key\.pem|mail/dkim-.*\.pem)$`)
	keyBody := regexp.MustCompile(`(?s)-----BEGIN [A-Z ]*PRIVATE KEY-----\n(.*?)\n-----END`)
	var files []string
	walkFiles(t, state, func(rel string, data []byte) {
		fi, err := os.Stat(filepath.Join(state, rel))
		require.NoError(t, err)
		if keyFile.MatchString(rel) {
			assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), rel)
			m := keyBody.FindSubmatch(data)
			require.NotNil(t, m, "%s holds a PEM private key", rel)
			secrets["private key in "+rel] = strings.SplitN(string(m[1]), "\n", 2)[0]
			return
		}
		if strings.HasPrefix(rel, "policies/") {
			assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "%s can hold a credential", rel)
		}
		files = append(files, "file "+rel+"\n"+string(data))
	})
	require.NotEmpty(t, files)
	outputs = append(outputs, files...)

	for what, secret := range secrets {
		for _, o := range outputs {
			name, _, _ := strings.Cut(o, "\n")
			if !strings.Contains(o, secret) {
				continue
			}
			t.Errorf("%s leaks the %s", name, what)
		}
	}
}
