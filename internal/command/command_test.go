package command_test

import (
	"context"
	"errors"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra/internal/command"
)

func TestExecRunsWithArgsEnvStdinAndDir(t *testing.T) {
	dir := t.TempDir()
	res, err := command.Exec{}.Run(t.Context(), command.Cmd{
		Name:  "sh",
		Args:  []string{"-c", `printf '%s|%s|%s|' "$1" "$GREETING" "$(pwd)"; cat; echo oops >&2`, "sh", "arg one"},
		Env:   []string{"GREETING=hello", "PATH=/usr/bin:/bin"},
		Dir:   dir,
		Stdin: []byte("from stdin"),
	})
	require.NoError(t, err)
	assert.Equal(t, "arg one|hello|"+dir+"|from stdin", string(res.Stdout))
	assert.Equal(t, "oops\n", string(res.Stderr))
	assert.Equal(t, 0, res.ExitCode)
}

func TestExecReportsExitStatus(t *testing.T) {
	res, err := command.Exec{}.Run(t.Context(), command.Cmd{Name: "sh", Args: []string{"-c", "echo partial; echo 'bad thing' >&2; exit 3"}})
	var exitErr *command.ExitError
	require.ErrorAs(t, err, &exitErr)
	assert.Equal(t, 3, exitErr.ExitCode)
	assert.Equal(t, 3, res.ExitCode)
	assert.Equal(t, "partial\n", string(res.Stdout), "output is kept on failure")
	assert.Contains(t, err.Error(), "exit status 3: bad thing")
	assert.Contains(t, err.Error(), "sh -c 'echo partial;")
}

func TestExecMissingProgram(t *testing.T) {
	_, err := command.Exec{}.Run(t.Context(), command.Cmd{Name: "webinfra-no-such-program"})
	assert.ErrorIs(t, err, exec.ErrNotFound)
}

func TestExecCancelKills(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := command.Exec{}.Run(ctx, command.Cmd{Name: "sleep", Args: []string{"30"}})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 10*time.Second)
}

func TestCmdString(t *testing.T) {
	c := command.Cmd{Name: "tincd", Args: []string{"-c", "/etc/tinc/my net", "-D", "it's", ""}, Netns: "wi-a"}
	assert.Equal(t, `ip netns exec wi-a tincd -c '/etc/tinc/my net' -D 'it'\''s' ''`, c.String())
}

func TestFakeAnswersInOrderAndRecords(t *testing.T) {
	f := &command.Fake{}
	f.OnTimes([]string{"tincd", "--version"}, 1, command.Result{Stdout: []byte("tinc version 1.0.36")}, nil)
	f.On([]string{"tincd"}, command.Result{ExitCode: 1, Stderr: []byte("no config")}, nil)
	boom := errors.New("boom")
	f.On([]string{"nft"}, command.Result{}, boom)

	out, err := command.Output(t.Context(), f, command.Cmd{Name: "tincd", Args: []string{"--version"}})
	require.NoError(t, err)
	assert.Equal(t, "tinc version 1.0.36", string(out))

	// The first response is used up: the general one answers now.
	_, err = f.Run(t.Context(), command.Cmd{Name: "tincd", Args: []string{"--version"}})
	var exitErr *command.ExitError
	require.ErrorAs(t, err, &exitErr)
	assert.Equal(t, "no config", exitErr.Stderr)

	_, err = f.Run(t.Context(), command.Cmd{Name: "nft", Args: []string{"list", "ruleset"}, Netns: "wi-b"})
	assert.ErrorIs(t, err, boom)

	_, err = f.Run(t.Context(), command.Cmd{Name: "ip", Args: []string{"link"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no response for ip link", "unexpected commands fail loudly")

	assert.Equal(t, []string{
		"tincd --version",
		"tincd --version",
		"ip netns exec wi-b nft list ruleset",
		"ip link",
	}, f.Lines())
	assert.Equal(t, 2, f.Count("tincd"))
	assert.Equal(t, 1, f.Count("nft", "list"))
	assert.Equal(t, 0, f.Count("nft", "flush"))
}

func TestFakeCopiesInAndOut(t *testing.T) {
	f := &command.Fake{}
	f.On([]string{"echo"}, command.Result{Stdout: []byte("x")}, nil)
	args := []string{"a"}
	res, err := f.Run(t.Context(), command.Cmd{Name: "echo", Args: args})
	require.NoError(t, err)
	args[0] = "mutated"
	res.Stdout[0] = 'y'
	calls := f.Calls()
	assert.Equal(t, []string{"a"}, calls[0].Args)
	calls[0].Args[0] = "again"
	assert.Equal(t, "echo a", f.Lines()[0])
	res2, _ := f.Run(t.Context(), command.Cmd{Name: "echo"})
	assert.Equal(t, "x", string(res2.Stdout))
}

func TestFakeHonoursCancelledContext(t *testing.T) {
	f := &command.Fake{}
	f.On([]string{"true"}, command.Result{}, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := f.Run(ctx, command.Cmd{Name: "true"})
	assert.ErrorIs(t, err, context.Canceled)
}
