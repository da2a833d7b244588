package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// supervisor runs the daemons, each inside a namespace (`ip netns exec`, which execs the
// program, so the pid is the daemon's), as children of this process: this machine's PID 1 does
// not reap orphans, so only a parent that waits for its children leaves no zombies. Every pid
// is recorded in sandbox.json before anything else happens. Safe for concurrent use.
type supervisor struct {
	logDir string
	rec    *recorder
	stderr io.Writer

	mu       sync.Mutex
	children map[string]*child
	stopping bool
}

// child is one daemon, named "host/program".
type child struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	err     error
}

func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// start runs argv inside netns with env (nil means this process's environment), its output
// going to logs/HOST-PROGRAM.log.
func (s *supervisor) start(name, netns string, env []string, argv ...string) (*child, error) {
	if err := os.MkdirAll(s.logDir, 0o755); err != nil {
		return nil, err
	}
	logPath := filepath.Join(s.logDir, strings.ReplaceAll(name, "/", "-")+".log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child holds its own copy
	cmd := exec.Command("ip", append([]string{"netns", "exec", netns}, argv...)...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf
	// A process group of its own: Ctrl-C in the terminal reaches the sandbox only, which then
	// stops the daemons in order instead of having them all die under it at once.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return nil, errors.New("sandbox is stopping")
	}
	if old := s.children[name]; old != nil && !old.exited() {
		return nil, fmt.Errorf("%s is already running", name)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	if s.children == nil {
		s.children = map[string]*child{}
	}
	s.children[name] = c
	go func() {
		c.err = cmd.Wait()
		close(c.done)
		s.mu.Lock()
		quiet := s.stopping || s.children[name] != c
		s.mu.Unlock()
		if !quiet {
			fmt.Fprintf(s.stderr, "sandbox: %s (pid %d) exited: %v\n", name, cmd.Process.Pid, c.err)
		}
	}()
	if err := s.rec.update(func(r *record) { r.Processes[name] = cmd.Process.Pid }); err != nil {
		_ = cmd.Process.Kill()
		<-c.done
		return nil, err
	}
	return c, nil
}

// get returns a running child, or nil.
func (s *supervisor) get(name string) *child {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.children[name]; c != nil && !c.exited() {
		return c
	}
	return nil
}

// stop ends a child with SIGTERM, then SIGKILL after grace, and waits for it. Stopping a child
// that is not running succeeds.
func (s *supervisor) stop(name string, grace time.Duration) error {
	s.mu.Lock()
	c := s.children[name]
	delete(s.children, name)
	s.mu.Unlock()
	if c == nil || c.exited() {
		return nil
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM) // by its pid: the process is ours and not yet reaped
	select {
	case <-c.done:
	case <-time.After(grace):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
	return s.rec.update(func(r *record) { delete(r.Processes, name) })
}

// stopAll stops every child at once; no child exits unnoticed after it is called.
func (s *supervisor) stopAll(grace time.Duration) error {
	s.mu.Lock()
	s.stopping = true
	var names []string
	for n := range s.children {
		names = append(names, n)
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	errs := make([]error, len(names))
	for i, n := range names {
		wg.Go(func() { errs[i] = s.stop(n, grace) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// logTail returns the last lines of a child's log, for error messages.
func logTail(path string, lines int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	l := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}
