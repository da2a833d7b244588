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
			// The thread is never switched back: a goroutine that exits while locked takes its
			// thread with it, so no other goroutine can ever run in the namespace by accident.
			runtime.LockOSThread()
			f, err := os.Open(filepath.Join("/run/netns", name))
			if err != nil {
				ch <- result{err: fmt.Errorf("netns: dial in %s: %w", name, err)}
				return
			}
			defer f.Close()
			if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
				ch <- result{err: fmt.Errorf("netns: dial in %s: setns: %w", name, err)}
				return
			}
			var d net.Dialer
			c, err := d.DialContext(ctx, network, addr)
			ch <- result{c, err}
		}()
		r := <-ch
		return r.c, r.err
	}
}
