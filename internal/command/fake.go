package command

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Fake is a recording [Runner] for tests: it runs nothing, records every Cmd, and answers from
// responses registered with [Fake.On]. A command no response matches fails with an error naming
// it, so an unexpected call cannot pass unnoticed. Safe for concurrent use.
type Fake struct {
	mu        sync.Mutex
	calls     []Cmd
	responses []response
}

type response struct {
	prefix []string // matches commands whose argv starts with these
	result Result
	err    error
	times  int // 0 means unlimited
	used   int
}

var _ Runner = (*Fake)(nil)

// On registers the answer for commands whose argument vector (namespace prefix excluded, program
// name first) starts with argv. Responses are checked in the order registered; the first that
// matches wins. A result with a non-zero ExitCode and no err makes Run return an [*ExitError].
func (f *Fake) On(argv []string, result Result, err error) *Fake {
	return f.OnTimes(argv, 0, result, err)
}

// OnTimes is [Fake.On] limited to the first n matching calls; n <= 0 means unlimited.
func (f *Fake) OnTimes(argv []string, n int, result Result, err error) *Fake {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.responses = append(f.responses, response{prefix: slices.Clone(argv), result: result, err: err, times: max(n, 0)})
	return f
}

// Run implements [Runner].
func (f *Fake) Run(ctx context.Context, c Cmd) (Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c = cloneCmd(c)
	f.calls = append(f.calls, c)
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("command: %s: %w", c, err)
	}
	argv := append([]string{c.Name}, c.Args...)
	for i := range f.responses {
		r := &f.responses[i]
		if len(argv) < len(r.prefix) || !slices.Equal(argv[:len(r.prefix)], r.prefix) {
			continue
		}
		if r.times > 0 && r.used >= r.times {
			continue
		}
		r.used++
		res := cloneResult(r.result)
		if r.err != nil {
			return res, r.err
		}
		if res.ExitCode != 0 {
			return res, &ExitError{Cmd: c.String(), ExitCode: res.ExitCode, Stderr: tail(res.Stderr, 512)}
		}
		return res, nil
	}
	return Result{}, fmt.Errorf("command: fake has no response for %s", c)
}

// Calls returns a copy of every command run so far, in order.
func (f *Fake) Calls() []Cmd {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Cmd, len(f.calls))
	for i, c := range f.calls {
		out[i] = cloneCmd(c)
	}
	return out
}

// Lines returns the recorded commands rendered by [Cmd.String], namespace prefix included; handy
// for comparing with an expected list.
func (f *Fake) Lines() []string {
	calls := f.Calls()
	out := make([]string, len(calls))
	for i, c := range calls {
		out[i] = c.String()
	}
	return out
}

// Count returns how many recorded commands start with argv.
func (f *Fake) Count(argv ...string) int {
	n := 0
	for _, c := range f.Calls() {
		all := append([]string{c.Name}, c.Args...)
		if len(all) >= len(argv) && slices.Equal(all[:len(argv)], argv) {
			n++
		}
	}
	return n
}

// String lists the recorded commands, one per line.
func (f *Fake) String() string { return strings.Join(f.Lines(), "\n") }

func cloneCmd(c Cmd) Cmd {
	c.Args = slices.Clone(c.Args)
	c.Env = slices.Clone(c.Env)
	c.Stdin = slices.Clone(c.Stdin)
	return c
}

func cloneResult(r Result) Result {
	r.Stdout = slices.Clone(r.Stdout)
	r.Stderr = slices.Clone(r.Stderr)
	return r
}
