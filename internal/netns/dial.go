package netns

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"
)

// Dialer returns a DialContext function (for http.Transport or a proxy) whose connections are
// made from inside the named namespace: the socket is created on an OS thread switched into
// it, and a socket stays in the namespace it was created in, so the connection carries the
// namespace's addresses and routes while the rest of the process stays where it is. This is how
// a program outside the namespaces talks to a daemon listening on a namespace's loopback or
// addresses, without touching the machine's own network.
func Dialer(name string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if !validName(name) {
			return nil, fmt.Errorf("netns: %q is not a namespace name", name)
		}
		type result struct {
			c   net.Conn
			err error
		}
		ch := make(chan result, 1)
		go func() {
			runtime.LockOSThread()
			c, err := dialFrom(ctx, name, network, addr)
			ch <- result{c, err}
		}()
		r := <-ch
		return r.c, r.err
	}
}

// dialFrom dials on the calling goroutine's locked thread after switching it into the named
// namespace, and switches it back. Only when the thread is back in its own namespace is it
// unlocked; otherwise it stays locked and Go retires it (or, for the main thread, parks it)
// when the goroutine ends, so no other goroutine ever runs in the namespace by accident. The
// switch back matters: /proc/PID/ns/net shows the main thread's namespace, and a process whose
// main thread stayed inside would be listed by `ip netns pids` as one of the namespace's.
func dialFrom(ctx context.Context, name, network, addr string) (net.Conn, error) {
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("netns: dial in %s: %w", name, err)
	}
	defer self.Close()
	f, err := os.Open(filepath.Join("/run/netns", name))
	if err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("netns: dial in %s: %w", name, err)
	}
	defer f.Close()
	if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("netns: dial in %s: setns: %w", name, err)
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if unix.Setns(int(self.Fd()), unix.CLONE_NEWNET) == nil {
		runtime.UnlockOSThread()
	}
	return c, err
}
