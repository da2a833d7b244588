package main

import (
	"bytes"
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"extra argument", []string{"up"}, 2, `unexpected arguments ["up"]`},
		{"unknown flag", []string{"--nope"}, 2, "flag provided but not defined: -nope"},
		{"empty state", []string{"--state", ""}, 2, "--state must not be empty"},
		{"help", []string{"-h"}, 0, "-down"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, &stdout, &stderr)
			assert.Equal(t, tc.code, code)
			assert.Contains(t, stderr.String(), tc.msg)
			assert.Empty(t, stdout.String())
		})
	}
}

func TestParseFlagsDefaultsAndPaths(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "")
	o, code := parseFlags(nil, &bytes.Buffer{})
	require.Equal(t, -1, code)
	assert.Equal(t, "/run/webinfra-sandbox", o.state)
	assert.Equal(t, "127.0.0.1:8480", o.listen)
	assert.False(t, o.down)

	t.Setenv("XDG_STATE_HOME", "/var/state")
	o, _ = parseFlags([]string{"--down", "--traefik", "/opt/traefik"}, &bytes.Buffer{})
	assert.Equal(t, "/var/state/webinfra/sandbox", o.state)
	assert.True(t, o.down)
	assert.Equal(t, "/opt/traefik", o.bins["traefik"])

	dir := t.TempDir()
	t.Chdir(dir)
	o, _ = parseFlags([]string{"--state", "rel"}, &bytes.Buffer{})
	assert.Equal(t, filepath.Join(dir, "rel"), o.state, "a relative --state is made absolute")
}

// TestDownIsIdempotent needs no root: a state directory without a record, and one whose run
// died and whose namespaces are gone, are both cleaned up without error, twice, and files the
// sandbox did not make stay.
func TestDownIsIdempotent(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	require.Equal(t, 0, run(context.Background(), []string{"--down", "--state", dir}, &out, &out))
	assert.Contains(t, out.String(), "nothing to remove")

	l := layout(dir)
	require.NoError(t, os.MkdirAll(l.data("a"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(l.data("a"), "index.html"), []byte(indexHTML), 0o644))
	require.NoError(t, os.MkdirAll(l.logs(), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "mine.txt"), []byte("not the sandbox's"), 0o644))
	rec := &recorder{path: l.stateFile(), rec: record{
		Pid: 1 << 22, PidStart: 1, // no such process
		Namespaces: map[string]string{"a": "wisbx-test-gone-a"}, Switch: "wisbx-test-gone-switch",
		Processes: map[string]int{"a/tincd": 1 << 22},
	}}
	require.NoError(t, rec.update(func(*record) {}))

	for range 2 {
		out.Reset()
		require.Equal(t, 0, run(context.Background(), []string{"--down", "--state", dir}, &out, &out), out.String())
	}
	for _, m := range made {
		_, err := os.Stat(filepath.Join(dir, m))
		assert.ErrorIs(t, err, os.ErrNotExist, m)
	}
	b, err := os.ReadFile(filepath.Join(dir, "mine.txt"))
	require.NoError(t, err)
	assert.Equal(t, "not the sandbox's", string(b))
}

// TestUpRefusesLeftovers: a state directory holding an earlier run's files is not reused.
func TestUpRefusesLeftovers(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(layout(dir).stateFile(), []byte("{}"), 0o600))
	var stdout, stderr bytes.Buffer
	assert.Equal(t, 1, run(context.Background(), []string{"--state", dir}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "run with --down --state "+dir+" first")
}

func TestProcessStart(t *testing.T) {
	start, err := processStart(os.Getpid())
	require.NoError(t, err)
	assert.True(t, alive(os.Getpid(), start))
	assert.False(t, alive(os.Getpid(), start+1), "another start time is another process")
	assert.False(t, alive(1<<22, start))
	assert.False(t, alive(0, 0))
}

func TestTraefikConfigRoutesToHolders(t *testing.T) {
	fw := vip.Prev() // any mesh address
	_, local, err := traefikConfig("/srv/a/traefik", true, nil, fw)
	require.NoError(t, err)
	assert.Contains(t, string(local), "http://127.0.0.1:8081")
	assert.NotContains(t, string(local), "healthCheck")
	static, remote, err := traefikConfig("/srv/c/traefik", false, []netip.Addr{vip.Next(), vip.Next().Next()}, fw)
	require.NoError(t, err)
	assert.Contains(t, string(remote), "http://"+vip.Next().String()+":8081")
	assert.Contains(t, string(remote), "healthCheck")
	assert.Contains(t, string(remote), fw.String()+"/32", "only the firewall is admitted")
	assert.Contains(t, string(static), "/srv/c/traefik/dynamic")
}

func TestMeshNetworkSharesTheServiceAddress(t *testing.T) {
	n := meshNetwork(func(h string) netip.Addr { return underlay.Addr().Next() })
	require.NoError(t, n.Validate())
	owners := 0
	for _, node := range n.Nodes {
		for _, s := range node.Subnets {
			if s.Addr() == vip {
				owners++
			}
		}
	}
	assert.Equal(t, len(servers), owners)
}

func TestPlacementPutsTheSiteOnAAndB(t *testing.T) {
	p, err := placement()
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, p[folder], "the README's walk-through assumes a active and b its replica")
}
