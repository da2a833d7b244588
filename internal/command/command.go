// Package command runs external programs (tincd, ip, nft, clamscan, ...) behind a small
// interface, so that packages driving them can be tested with a recording fake and run for real
// with [Exec]. A command may run inside a network namespace, which is how tests put several
// "servers" on one machine.
package command

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// Cmd describes one run of a program.
type Cmd struct {
	// Name is the program: a path or a name looked up in PATH.
	Name string
	// Args are the arguments, without the program name.
	Args []string
	// Env, if not nil, is the whole environment ("KEY=value"); nil inherits the caller's.
	Env []string
	// Dir is the working directory; "" means the caller's.
	Dir string
	// Stdin feeds the program's standard input; nil means empty input.
	Stdin []byte
	// Netns, if set, runs the program inside that named network namespace (`ip netns exec`),
	// which needs root.
	Netns string
}

// String renders the command line as a shell would show it, for logs and errors.
func (c Cmd) String() string {
	parts := c.argv()
	for i, p := range parts {
		if p == "" || strings.ContainsAny(p, " \t\n'\"\\$`*?[]{}();<>|&~#") {
			parts[i] = "'" + strings.ReplaceAll(p, "'", `'\''`) + "'"
		}
	}
	return strings.Join(parts, " ")
}

// argv returns the full argument vector, the namespace prefix included.
func (c Cmd) argv() []string {
	var argv []string
	if c.Netns != "" {
		argv = append(argv, "ip", "netns", "exec", c.Netns)
	}
	return append(append(argv, c.Name), c.Args...)
}

// Result is what a finished program left behind.
type Result struct {
	// Stdout is everything the program wrote to standard output.
	Stdout []byte
	// Stderr is everything the program wrote to standard error.
	Stderr []byte
	// ExitCode is the exit status; -1 when the program did not start or was killed by a signal.
	ExitCode int
}

// Runner runs programs. Implementations are safe for concurrent use.
type Runner interface {
	// Run runs cmd to completion and returns its output. A program that exits non-zero gives
	// its Result and an [*ExitError]; one that cannot start gives an error wrapping the cause
	// (errors.Is(err, exec.ErrNotFound) for a missing program). Cancelling ctx kills the program
	// and the error matches ctx.Err().
	Run(ctx context.Context, cmd Cmd) (Result, error)
}

// ExitError reports a program that ran and exited non-zero.
type ExitError struct {
	// Cmd is the command line, as [Cmd.String] renders it.
	Cmd string
	// ExitCode is the non-zero exit status.
	ExitCode int
	// Stderr is the tail of the program's standard error, for the message.
	Stderr string
}

// Error renders the command, its status and the tail of its standard error.
func (e *ExitError) Error() string {
	msg := fmt.Sprintf("command: %s: exit status %d", e.Cmd, e.ExitCode)
	if e.Stderr != "" {
		msg += ": " + e.Stderr
	}
	return msg
}

// Exec runs programs on this machine with os/exec. The zero value is ready to use.
type Exec struct{}

var _ Runner = Exec{}

// Run implements [Runner].
func (Exec) Run(ctx context.Context, c Cmd) (Result, error) {
	argv := c.argv()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = c.Env
	cmd.Dir = c.Dir
	if c.Stdin != nil {
		cmd.Stdin = bytes.NewReader(c.Stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), ExitCode: cmd.ProcessState.ExitCode()}
	if ctx.Err() != nil {
		return res, fmt.Errorf("command: %s: %w", c, ctx.Err())
	}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return res, nil
	case errors.As(err, &exitErr):
		return res, &ExitError{Cmd: c.String(), ExitCode: res.ExitCode, Stderr: tail(stderr.Bytes(), 512)}
	default:
		return res, fmt.Errorf("command: %s: %w", c, err)
	}
}

// tail returns the last n bytes of b, trimmed, for error messages.
func tail(b []byte, n int) string {
	b = bytes.TrimSpace(b)
	if len(b) > n {
		b = append([]byte("..."), b[len(b)-n:]...)
	}
	return string(b)
}

// Output runs cmd and returns its standard output, for the common case of a query.
func Output(ctx context.Context, r Runner, cmd Cmd) ([]byte, error) {
	res, err := r.Run(ctx, cmd)
	return res.Stdout, err
}
