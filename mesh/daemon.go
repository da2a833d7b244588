package mesh

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/internal/command"
)

// Daemon controls tincd on the nodes. Every method is idempotent, so that an interrupted
// [Manager.Apply] can simply run again. [Tincd] drives tincd 1.0 on this machine; an
// implementation over SSH, systemd or a Kubernetes DaemonSet fits the same interface.
type Daemon interface {
	// Start makes the node's tincd run with its current files: it starts a stopped daemon and
	// restarts a running one.
	Start(ctx context.Context, node string) error
	// Reload makes a running tincd re-read its ConnectTo lines and host files (SIGHUP); it starts
	// a stopped one.
	Reload(ctx context.Context, node string) error
	// Restart stops and starts tincd, for changes SIGHUP does not apply (its own Subnet, key,
	// port or tinc-up in tinc 1.0); it starts a stopped one.
	Restart(ctx context.Context, node string) error
	// Stop stops tincd; stopping a stopped daemon succeeds.
	Stop(ctx context.Context, node string) error
}

// Tincd is a [Daemon] that runs tincd 1.0 through a command runner: `tincd -c DIR --pidfile
// FILE` to start (tincd detaches), `--kill=HUP` to reload and `--kill` to stop. Safe for
// concurrent use when its fields are not changed.
type Tincd struct {
	// Binary is the tincd program; "" means "tincd" in PATH.
	Binary string
	// Dir returns the node's tinc directory (its [Target] when that is a [Dir]). Required.
	Dir func(node string) string
	// PidFile returns where tincd keeps the node's pid; nil means tinc.pid in the node's Dir.
	PidFile func(node string) string
	// Netns returns the network namespace to run the node's tincd in; nil means none.
	Netns func(node string) string
	// Args are further arguments for starts (for example "-d3" for debug logging, or
	// "--logfile=/var/log/tinc.log").
	Args []string
	// Runner runs the commands; nil means this machine.
	Runner webinfra.Runner
	// StopTimeout bounds how long a restart waits for the old tincd to release its pid file;
	// 0 means 10 s.
	StopTimeout time.Duration
}

var _ Daemon = (*Tincd)(nil)

func (t *Tincd) cmd(node string, args ...string) command.Cmd {
	bin := t.Binary
	if bin == "" {
		bin = "tincd"
	}
	dir := t.Dir(node)
	pid := dir + "/tinc.pid"
	if t.PidFile != nil {
		pid = t.PidFile(node)
	}
	c := command.Cmd{Name: bin, Args: append([]string{"-c", dir, "--pidfile", pid}, args...)}
	if t.Netns != nil {
		c.Netns = t.Netns(node)
	}
	return c
}

func (t *Tincd) runner() command.Runner {
	if t.Runner == nil {
		return command.Exec{}
	}
	return t.Runner
}

// signal sends a signal through `tincd --kill` and reports whether a daemon received it.
// tincd 1.0 exits 1 with "No other tincd is running" when there is no pid file, and exits 0
// with "Removing stale lock file" when the pid file names a process that is gone.
func (t *Tincd) signal(ctx context.Context, node, arg string) (delivered bool, err error) {
	res, err := t.runner().Run(ctx, t.cmd(node, arg))
	var exit *command.ExitError
	switch {
	case errors.As(err, &exit) && strings.Contains(exit.Stderr, "No other tincd is running"):
		return false, nil
	case err != nil:
		return false, err
	}
	return !strings.Contains(string(res.Stderr), "stale lock file"), nil
}

// alreadyRunning reports whether a start failed because a tincd holds the pid file ("A tincd
// is already running with pid N.").
func alreadyRunning(err error) bool {
	var e *command.ExitError
	return errors.As(err, &e) && strings.Contains(e.Stderr, "already running")
}

// Start implements [Daemon].
func (t *Tincd) Start(ctx context.Context, node string) error {
	_, err := t.runner().Run(ctx, t.cmd(node, t.Args...))
	if alreadyRunning(err) {
		return t.Restart(ctx, node)
	}
	if err != nil {
		return fmt.Errorf("mesh: start tincd of %q: %w", node, err)
	}
	return nil
}

// Reload implements [Daemon].
func (t *Tincd) Reload(ctx context.Context, node string) error {
	delivered, err := t.signal(ctx, node, "--kill=HUP")
	if err != nil {
		return fmt.Errorf("mesh: reload tincd of %q: %w", node, err)
	}
	if !delivered {
		return t.Start(ctx, node)
	}
	return nil
}

// Stop implements [Daemon].
func (t *Tincd) Stop(ctx context.Context, node string) error {
	if _, err := t.signal(ctx, node, "--kill"); err != nil {
		return fmt.Errorf("mesh: stop tincd of %q: %w", node, err)
	}
	return nil
}

// Restart implements [Daemon]. tincd removes its pid file only on its way out, a moment after
// the signal, so the start is retried while the old daemon still holds it.
func (t *Tincd) Restart(ctx context.Context, node string) error {
	if err := t.Stop(ctx, node); err != nil {
		return err
	}
	timeout := t.StopTimeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	deadline := time.Now().Add(timeout)
	for {
		_, err := t.runner().Run(ctx, t.cmd(node, t.Args...))
		if err == nil {
			return nil
		}
		if !alreadyRunning(err) || time.Now().After(deadline) {
			return fmt.Errorf("mesh: restart tincd of %q: %w", node, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("mesh: restart tincd of %q: %w", node, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
