package netns_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/webinfra/webinfra/internal/netns"
)

// listenIn opens a TCP listener inside a namespace, the way Dialer dials: on a locked thread
// switched into it and back.
func listenIn(t *testing.T, ns, addr string) net.Listener {
	t.Helper()
	type result struct {
		ln  net.Listener
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open("/run/netns/" + ns)
		if err != nil {
			ch <- result{err: err}
			return
		}
		defer f.Close()
		self, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			ch <- result{err: err}
			return
		}
		defer self.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- result{err: err}
			return
		}
		ln, err := net.Listen("tcp", addr)
		if unix.Setns(int(self.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		ch <- result{ln, err}
	}()
	r := <-ch
	require.NoError(t, r.err)
	t.Cleanup(func() { _ = r.ln.Close() })
	return r.ln
}

func TestNamespacesDialKillAndDelete(t *testing.T) {
	n := netns.Start(t, netns.Config{Hosts: []string{"x", "y"}})
	x, y := n.Host("x"), n.Host("y")
	names := n.Namespaces()
	require.Len(t, names, 3, "two hosts and the switch")
	assert.Equal(t, []string{x.Netns, y.Netns}, names[:2])
	for _, name := range names {
		assert.True(t, netns.Exists(name), name)
	}

	// A listener on y's address inside y: reachable through x's namespace, not from here.
	ln := listenIn(t, y.Netns, net.JoinHostPort(y.Addr.String(), "0"))
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("hello from y\n"))
			_ = c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	c, err := netns.Dialer(x.Netns)(ctx, "tcp", ln.Addr().String())
	require.NoError(t, err)
	buf := make([]byte, 64)
	k, _ := c.Read(buf)
	assert.Equal(t, "hello from y\n", string(buf[:k]))
	assert.Equal(t, x.Addr.String(), c.LocalAddr().(*net.TCPAddr).AddrPort().Addr().String(), "the connection starts at x")
	_ = c.Close()
	for range 20 {
		c, err := netns.Dialer(x.Netns)(ctx, "tcp", ln.Addr().String())
		require.NoError(t, err)
		_ = c.Close()
	}
	pids, err := netns.Pids(t.Context(), x.Netns)
	require.NoError(t, err)
	assert.NotContains(t, pids, os.Getpid(), "after dialing, no thread of this process is left inside")
	short, cancelShort := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancelShort()
	_, err = (&net.Dialer{}).DialContext(short, "tcp", ln.Addr().String())
	assert.Error(t, err, "this process's own namespace has no route to the bridge")
	_, err = netns.Dialer("no/such")(ctx, "tcp", ln.Addr().String())
	assert.Error(t, err)

	// KillAll ends every process inside, and only those.
	sleeper := x.Command(t.Context(), "sleep", "60")
	require.NoError(t, sleeper.Start())
	require.Eventually(t, func() bool {
		pids, err := netns.Pids(t.Context(), x.Netns)
		return err == nil && len(pids) == 1 && pids[0] == sleeper.Process.Pid
	}, 5*time.Second, 20*time.Millisecond)
	pids, err = netns.KillAll(t.Context(), x.Netns)
	require.NoError(t, err)
	assert.Equal(t, []int{sleeper.Process.Pid}, pids)
	var exit *exec.ExitError
	require.ErrorAs(t, sleeper.Wait(), &exit)
	assert.Equal(t, syscall.SIGKILL, exit.Sys().(syscall.WaitStatus).Signal())
	pids, err = netns.Pids(t.Context(), y.Netns)
	require.NoError(t, err)
	assert.Empty(t, pids)

	// Delete removes them; again, and after Close, it does nothing.
	require.NoError(t, netns.Delete(t.Context(), names...))
	for _, name := range names {
		assert.False(t, netns.Exists(name), name)
	}
	require.NoError(t, netns.Delete(t.Context(), names...))
	require.NoError(t, n.Close())
	pids, err = netns.Pids(t.Context(), x.Netns)
	require.NoError(t, err)
	assert.Empty(t, pids, "a namespace that is gone has no processes")
	_, err = netns.Pids(t.Context(), "../etc")
	assert.Error(t, err)
	assert.Error(t, netns.Delete(t.Context(), "a/b"), "a name with a slash is refused")
}
