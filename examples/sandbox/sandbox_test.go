package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/webinfra/webinfra/internal/netns"
	"github.com/webinfra/webinfra/internal/testbin"
	"github.com/webinfra/webinfra/internal/testutil"
)

// TestMain lets the test binary play the backend, as the sandbox binary does when it starts
// itself inside a server's namespace.
func TestMain(m *testing.M) {
	if os.Getenv(roleEnv) == roleBackend {
		os.Exit(serveBackend(os.Args[1:], os.Stderr))
	}
	os.Exit(m.Run())
}

// TestSandboxEndToEnd brings the sandbox up with the real tincd, traefik and syncthing, and
// checks the three promises of the README: a request goes edge -> firewall -> mesh -> Traefik
// -> backend; a file written on the active server reaches its replica with its owner and mode
// and is served; after every process of the active server is killed, requests are still served
// and the data is still there. Then it checks that the teardown leaves nothing behind.
func TestSandboxEndToEnd(t *testing.T) {
	testbin.RequireRoot(t)
	args := []string{"--state", filepath.Join(t.TempDir(), "state"), "--listen", "127.0.0.1:0"}
	for _, b := range []string{"tincd", "traefik", "syncthing"} {
		args = append(args, "--"+b, testbin.Require(t, b))
	}
	for _, b := range []string{"ip", "nft", "ping"} {
		testbin.Require(t, b)
	}
	state := args[1]
	l := layout(state)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	start := time.Now()
	go func() { done <- run(ctx, args, &stdout, &stderr) }()
	exited := false
	stop := func() int {
		if exited {
			return -1
		}
		exited = true
		if t.Failed() {
			logDaemons(t, l)
		}
		cancel()
		select {
		case code := <-done:
			return code
		case <-time.After(90 * time.Second):
			t.Fatalf("sandbox did not stop within 90s\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
			return -1
		}
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("sandbox stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
		}
	})

	var rec *record
	err := testutil.Poll(ctx, 150*time.Second, 200*time.Millisecond, func() error {
		select {
		case code := <-done:
			exited = true
			return fmt.Errorf("sandbox exited with %d before it was ready", code)
		default:
		}
		r, err := readRecord(l.stateFile())
		if err != nil {
			return err
		}
		if !r.Ready {
			return fmt.Errorf("not ready yet")
		}
		rec = r
		return nil
	})
	require.NoError(t, err, "sandbox up")
	t.Logf("sandbox up after %v", time.Since(start).Round(time.Millisecond))
	require.NotEmpty(t, rec.Replicas)
	active, replica := rec.Active, rec.Replicas[0]
	assert.Contains(t, stdout.String(), "curl -i -H 'Host: "+site+"' http://"+rec.Edge+"/")

	client := &http.Client{Timeout: 5 * time.Second}
	get := func(path string) (string, string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+rec.Edge+path, nil)
		if err != nil {
			return "", "", err
		}
		req.Host = site
		resp, err := client.Do(req)
		if err != nil {
			return "", "", err
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return "", "", fmt.Errorf("GET %s: %s: %s", path, resp.Status, b.String())
		}
		return b.String(), resp.Header.Get("X-Served-By"), nil
	}

	// 1. Through the edge, the firewall and the mesh to the active server's Traefik and backend.
	body, by, err := get("/")
	require.NoError(t, err)
	assert.Equal(t, indexHTML, body)
	assert.Equal(t, active, by, "the service address goes to the first live server, the active one")

	// The firewall admits only Cloudflare's ranges: a server is not one.
	fromServer := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DialContext: netns.Dialer(rec.Namespaces["c"])}}
	_, err = fromServer.Get("http://" + rec.Firewall + "/")
	assert.Error(t, err, "the firewall drops port 80 from a non-Cloudflare source")
	// Traefik admits only the firewall: straight to the service address over the mesh is 403.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+rec.VIP+"/", nil)
	require.NoError(t, err)
	req.Host = site
	resp, err := fromServer.Do(req)
	if assert.NoError(t, err) {
		_ = resp.Body.Close()
		assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	}

	// 2. A file written on the active server reaches the replica with owner and mode.
	content := "owned by 1234:2345, mode 0640\n"
	src := filepath.Join(l.data(active), "owned.txt")
	require.NoError(t, os.WriteFile(src, []byte(content), 0o600))
	require.NoError(t, os.Chown(src, 1234, 2345))
	require.NoError(t, os.Chmod(src, 0o640))
	written := time.Now()
	dst := filepath.Join(l.data(replica), "owned.txt")
	checkReplica := func() error {
		got, err := os.ReadFile(dst)
		if err != nil {
			return err
		}
		if string(got) != content {
			return fmt.Errorf("content %q", got)
		}
		var st unix.Stat_t
		if err := unix.Lstat(dst, &st); err != nil {
			return err
		}
		if st.Uid != 1234 || st.Gid != 2345 || st.Mode&0o7777 != 0o640 {
			return fmt.Errorf("uid %d gid %d mode %o", st.Uid, st.Gid, st.Mode&0o7777)
		}
		return nil
	}
	testutil.Eventually(t, 60*time.Second, checkReplica)
	t.Logf("file on %s with its owner and mode %v after the write on %s", replica, time.Since(written).Round(time.Millisecond), active)
	body, _, err = get("/owned.txt")
	require.NoError(t, err)
	assert.Equal(t, content, body)

	// 3. Kill the active server: every process in its namespace.
	pids, err := netns.KillAll(ctx, rec.Namespaces[active])
	require.NoError(t, err)
	require.NotEmpty(t, pids)
	killed := time.Now()
	testutil.Eventually(t, 10*time.Second, func() error {
		left, err := netns.Pids(ctx, rec.Namespaces[active])
		if err != nil || len(left) > 0 {
			return fmt.Errorf("left in %s: %v %v", active, left, err)
		}
		return nil
	})
	testutil.Eventually(t, 30*time.Second, func() error {
		body, by, err := get("/owned.txt")
		if err != nil {
			return err
		}
		if body != content || by == active {
			return fmt.Errorf("served %q by %q", body, by)
		}
		return nil
	})
	t.Logf("served again %v after killing %s", time.Since(killed).Round(time.Millisecond), active)
	body, by, err = get("/")
	require.NoError(t, err)
	assert.Equal(t, indexHTML, body)
	assert.NotEqual(t, active, by)
	assert.NoError(t, checkReplica(), "the data is still on the replica")

	// 4. Teardown: the run returns 0 and leaves no namespace, process or file.
	require.Equal(t, 0, stop(), "stderr:\n%s", stderr.String())
	for h, ns := range rec.Namespaces {
		assert.False(t, netns.Exists(ns), "namespace of %s left", h)
	}
	assert.False(t, netns.Exists(rec.Switch), "switch namespace left")
	assert.Empty(t, processesMentioning(t, state), "processes of the sandbox left")
	_, err = os.Stat(state)
	assert.ErrorIs(t, err, os.ErrNotExist, "state directory left")
	assert.Contains(t, stdout.String(), "sandbox: removed everything under "+state)
	t.Logf("whole run %v", time.Since(start).Round(time.Millisecond))
}

// processesMentioning lists live processes whose command line holds s: every daemon of the
// sandbox has its state directory in its arguments.
func processesMentioning(t *testing.T, s string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(cmdline, []byte(s)) {
			continue
		}
		out = append(out, fmt.Sprintf("%d %s", pid, bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})))
	}
	return out
}

// logDaemons prints the tail of every daemon's log (before the teardown removes them).
func logDaemons(t *testing.T, l layout) {
	t.Helper()
	entries, _ := os.ReadDir(l.logs())
	for _, e := range entries {
		t.Logf("--- %s (tail):\n%s", e.Name(), logTail(filepath.Join(l.logs(), e.Name()), 30))
	}
}

// lockedBuffer is a bytes.Buffer safe for the concurrent writes of run and reads of the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Clone(b.b.String())
}
