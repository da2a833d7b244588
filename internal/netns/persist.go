package netns

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Namespaces returns the names of every namespace the network made: its hosts' in order, then
// the one holding the bridge. A program that must remove the network after a crash of the
// process that built it records these names and hands them to [Delete].
func (n *Network) Namespaces() []string {
	out := make([]string, 0, len(n.hosts)+1)
	for _, h := range n.hosts {
		out = append(out, h.Netns)
	}
	return append(out, n.sw)
}

// Exists reports whether a named network namespace exists (/run/netns/NAME).
func Exists(name string) bool {
	if !validName(name) {
		return false
	}
	_, err := os.Stat(filepath.Join("/run/netns", name))
	return err == nil
}

// Pids returns the processes running inside the named namespace (`ip netns pids`); a namespace
// that does not exist has none.
func Pids(ctx context.Context, name string) ([]int, error) {
	if !validName(name) {
		return nil, fmt.Errorf("netns: %q is not a namespace name", name)
	}
	if !Exists(name) {
		return nil, nil
	}
	out, err := exec.CommandContext(ctx, "ip", "netns", "pids", name).Output()
	if err != nil {
		return nil, fmt.Errorf("netns: pids of %s: %w", name, exitDetail(err))
	}
	var pids []int
	for _, f := range strings.Fields(string(out)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("netns: pids of %s: %q is not a pid", name, f)
		}
		pids = append(pids, pid)
	}
	return pids, nil
}

// KillAll sends SIGKILL to every process inside the named namespace, except the calling
// process itself (whose main thread may be inside for a moment while it dials there, see
// [Dialer]), and returns their pids. It does not wait for them: their parent must reap them. A
// namespace that does not exist has nothing to kill.
func KillAll(ctx context.Context, name string) ([]int, error) {
	all, err := Pids(ctx, name)
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, pid := range all {
		if pid != os.Getpid() {
			pids = append(pids, pid)
		}
	}
	var errs []error
	for _, pid := range pids {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, fmt.Errorf("netns: kill %d in %s: %w", pid, name, err))
		}
	}
	return pids, errors.Join(errs...)
}

// Delete removes named namespaces, which removes their interfaces and addresses too. Names
// that do not exist are skipped, so Delete is idempotent. Processes still inside a namespace
// keep its network alive until they exit: stop them first (see [KillAll]).
func Delete(ctx context.Context, names ...string) error {
	var errs []error
	for _, name := range names {
		if !validName(name) {
			errs = append(errs, fmt.Errorf("netns: %q is not a namespace name", name))
			continue
		}
		if !Exists(name) {
			continue
		}
		if err := exec.CommandContext(ctx, "ip", "netns", "delete", name).Run(); err != nil && Exists(name) {
			errs = append(errs, fmt.Errorf("netns: delete %s: %w", name, exitDetail(err)))
		}
	}
	return errors.Join(errs...)
}

// validName keeps names handed over from a state file from reaching outside /run/netns.
func validName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, "/\x00") && len(name) <= 255
}

func exitDetail(err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(bytes.TrimSpace(ee.Stderr)) > 0 {
		return fmt.Errorf("%w: %s", err, bytes.TrimSpace(ee.Stderr))
	}
	return err
}
