package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra/internal/atomicfile"
)

// smallStack is a stack with every concern that writes under --state (mesh keys, ingress,
// Syncthing identities, the DKIM key, backup and security policies) but few nodes, so that a
// kill at each of its writes stays affordable.
const smallStack = `name: small
domain: example.com
nodes:
  - name: fw-1
    publicAddresses: [203.0.113.10]
    region: eu-west
    roles: [firewall]
  - name: node-a
    publicAddresses: [203.0.113.21]
    region: eu-west
    roles: [control-plane, worker]
  - name: node-b
    publicAddresses: [198.51.100.21]
    region: us-east
    roles: [worker]
mesh: {network: webinfra, subnet: 10.88.0.0/16, port: 655}
cluster: {podSubnet: 10.244.0.0/16, serviceSubnet: 10.96.0.0/12, loadBalancerPool: 10.89.255.0/24}
sites:
  - name: www
    hosts: [www.example.com]
    service: {namespace: web, name: www, port: 80}
    data:
      - {name: www-content, path: /srv/www, replicas: 2}
backup:
  remote: ":googlecloudstorage:small-backups/small"
  encryption: none
  every: 1h
  keep: {last: 3}
mail:
  domain: example.com
  dmarc: {policy: quarantine}
security:
  scanner: clamav
  scanPaths: [/srv]
  updates: {window: "02:00-05:00", maxUnavailable: 1}
`

// buildDeploy builds this program once per test binary run and returns its path.
func buildDeploy(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "deploy")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// binEnv is the environment of a deploy binary with every service simulated, plus extra.
func binEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "CLOUDFLARE_API_TOKEN", k == "KUBECONFIG", k == "GOOGLE_APPLICATION_CREDENTIALS",
			strings.HasPrefix(k, "LANDSCAPE_"), strings.HasPrefix(k, "SYNCTHING_"), strings.HasPrefix(k, "WEBINFRA_DEPLOY_"):
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

type binRun struct {
	code           int
	killed         bool
	stdout, stderr string
}

func runBin(t *testing.T, bin string, env []string, args ...string) binRun {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := binRun{stdout: out.String(), stderr: errOut.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		ws := ee.Sys().(syscall.WaitStatus)
		r.killed = ws.Signaled() && ws.Signal() == syscall.SIGKILL
		r.code = ee.ExitCode()
	default:
		require.NoError(t, err)
	}
	return r
}

// keyFiles returns the content of every key file under state: the mesh's private keys, the
// Syncthing identities' key.pem and cert.pem (the certificate is the device ID), the DKIM key.
func keyFiles(t *testing.T, state string) map[string][]byte {
	t.Helper()
	keys := map[string][]byte{}
	key := regexp.MustCompile(`^(mesh/[^/]+/(rsa_key|ed25519_key)\.priv|syncthing/[^/]+/(key|cert)\.pem|mail/dkim-.*\.pem)$`)
	walkFiles(t, state, func(rel string, data []byte) {
		if key.MatchString(rel) && !strings.Contains(rel, "/.") { // not in a temporary directory
			keys[rel] = data
		}
	})
	return keys
}

// walkFiles calls fn for every regular file under root with its slash-separated path.
func walkFiles(t *testing.T, root string, fn func(rel string, data []byte)) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		fn(filepath.ToSlash(rel), data)
		return err
	}))
}

// stateChanges are the kinds of change that a converged --state plans none of (the simulated
// Cloudflare and Syncthing start empty on every run, so their changes come back).
var stateChanges = regexp.MustCompile(`(?m)^[+~-] (mesh_file|ingress_file|mail_file|backup_policy|security_policy|syncthing_identity) .*$`)

// A deploy killed at any of its writes under --state (before the rename of each write, and
// after it for some) leaves a state the next run converges from, with every key file the killed
// run left byte for byte the same and its temporaries gone.
func TestKilledAtEveryStateWriteRecovers(t *testing.T) {
	bin := buildDeploy(t)
	stackFile := filepath.Join(t.TempDir(), "small.yaml")
	require.NoError(t, os.WriteFile(stackFile, []byte(smallStack), 0o644))
	env := binEnv()
	for n := 1; ; n++ {
		points := []string{"before-rename"}
		if n%4 == 1 {
			points = append(points, "after-rename")
		}
		completed := false
		for _, point := range points {
			state := t.TempDir()
			args := []string{"--stack", stackFile, "--state", state}
			killed := runBin(t, bin, append(env, crashAtEnv+"="+strconv.Itoa(n), crashPointEnv+"="+point), args...)
			if !killed.killed {
				require.Equal(t, 0, killed.code, "write %d %s: %s", n, point, killed.stderr)
				completed = true
				continue
			}
			before := keyFiles(t, state)

			again := runBin(t, bin, env, args...)
			require.Equal(t, 0, again.code, "recovery after a kill at write %d (%s): %s", n, point, again.stderr)
			require.Contains(t, again.stderr, "plan after apply: No changes.", "write %d %s", n, point)
			after := keyFiles(t, state)
			for p, data := range before {
				assert.Equal(t, data, after[p], "write %d %s: %s was replaced", n, point, p)
			}
			walkFiles(t, state, func(rel string, _ []byte) {
				assert.False(t, atomicfile.IsTemp(filepath.Base(rel)), "write %d %s: temporary %s left", n, point, rel)
			})
			plan := runBin(t, bin, env, append(args, "--dry-run")...)
			require.Equal(t, 0, plan.code, plan.stderr)
			assert.Empty(t, stateChanges.FindAllString(plan.stdout, -1), "write %d %s: the state has not converged", n, point)
		}
		if completed {
			require.Greater(t, n, 20, "the small stack has more writes than that: is the hook counting them?")
			t.Logf("killed at each of %d writes", n-1)
			return
		}
	}
}

// The identity files of a Syncthing home left half-written or damaged by something else than
// this program are completed or replaced, never a dead end: a usable key is always kept.
func TestHalfWrittenSyncthingIdentityRecovers(t *testing.T) {
	simulated(t)
	state := t.TempDir()
	code, _, errOut := runDeploy(t, "--state", state)
	require.Equal(t, 0, code, errOut)
	home := filepath.Join(state, "syncthing", "node-ams-1")
	key, err := os.ReadFile(filepath.Join(home, "key.pem"))
	require.NoError(t, err)
	cert, err := os.ReadFile(filepath.Join(home, "cert.pem"))
	require.NoError(t, err)
	otherCert, err := os.ReadFile(filepath.Join(state, "syncthing", "node-ams-2", "cert.pem"))
	require.NoError(t, err)

	tests := []struct {
		name      string
		key, cert []byte // nil: absent
		keyKept   bool
	}{
		{"key without cert", key, nil, true},
		{"key with truncated cert", key, cert[:len(cert)/2], true},
		{"key with another's cert", key, otherCert, true},
		{"cert without key", nil, cert, false},
		{"truncated key", key[:len(key)/2], cert, false},
		{"empty directory", nil, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, os.RemoveAll(home))
			require.NoError(t, os.MkdirAll(home, 0o700))
			for name, data := range map[string][]byte{"key.pem": tt.key, "cert.pem": tt.cert} {
				if data != nil {
					require.NoError(t, os.WriteFile(filepath.Join(home, name), data, 0o600))
				}
			}
			code, out, errOut := runDeploy(t, "--state", state)
			require.Equal(t, 0, code, errOut)
			assert.Contains(t, out, "syncthing_identity node-ams-1")
			assert.Contains(t, errOut, "plan after apply: No changes.")
			gotKey, err := os.ReadFile(filepath.Join(home, "key.pem"))
			require.NoError(t, err)
			if tt.keyKept {
				assert.Equal(t, key, gotKey, "the key is kept")
			}
			code, out, errOut = runDeploy(t, "--state", state, "--dry-run")
			require.Equal(t, 0, code, errOut)
			assert.NotContains(t, out, "syncthing_identity")
		})
	}
}

// Two applying deploys on one --state: while the first is stopped in the middle of its writes,
// holding the lock, the second fails at once naming the lock file and the first's PID and
// writes nothing; the first then finishes, and its state is whole.
func TestConcurrentDeploysOnOneState(t *testing.T) {
	bin := buildDeploy(t)
	stackFile := filepath.Join(t.TempDir(), "small.yaml")
	require.NoError(t, os.WriteFile(stackFile, []byte(smallStack), 0o644))
	state := t.TempDir()
	args := []string{"--stack", stackFile, "--state", state}
	env := binEnv()

	first := exec.Command(bin, args...)
	first.Env = append(binEnv(), crashAtEnv+"=10", crashPointEnv+"=stop-after-rename")
	var firstErr bytes.Buffer
	first.Stderr = &firstErr
	require.NoError(t, first.Start())
	t.Cleanup(func() { _ = first.Process.Kill() })
	// Wait for the first deploy to stop itself (state T in /proc/PID/stat).
	deadline := time.Now().Add(2 * time.Minute)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(first.Process.Pid) + "/stat")
		require.NoError(t, err)
		if f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:])); len(f) > 0 && f[0] == "T" {
			break
		}
		require.True(t, time.Now().Before(deadline), "the first deploy never reached its 10th write")
		<-tick.C
	}
	written := map[string][]byte{}
	walkFiles(t, state, func(rel string, data []byte) { written[rel] = data })

	second := runBin(t, bin, env, args...)
	assert.Equal(t, exitError, second.code)
	lock := filepath.Join(state, lockFileName)
	assert.Contains(t, second.stderr, "holds the lock file "+lock)
	assert.Contains(t, second.stderr, "PID "+strconv.Itoa(first.Process.Pid))
	assert.Empty(t, second.stdout, "nothing planned")
	now := map[string][]byte{}
	walkFiles(t, state, func(rel string, data []byte) { now[rel] = data })
	assert.Equal(t, written, now, "the second deploy changed nothing under --state")

	require.NoError(t, first.Process.Signal(syscall.SIGCONT))
	require.NoError(t, first.Wait(), firstErr.String())
	assert.Contains(t, firstErr.String(), "plan after apply: No changes.")
	keys := keyFiles(t, state)
	plan := runBin(t, bin, env, append(args, "--dry-run")...)
	require.Equal(t, 0, plan.code, plan.stderr)
	assert.Empty(t, stateChanges.FindAllString(plan.stdout, -1))
	assert.Equal(t, keys, keyFiles(t, state))

	// The lock is free again: the next deploy runs.
	third := runBin(t, bin, env, args...)
	assert.Equal(t, 0, third.code, third.stderr)
}
