package mesh

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra/internal/command"
)

func testTincd(f *command.Fake) *Tincd {
	return &Tincd{
		Dir:         func(node string) string { return "/etc/tinc/demo/" + node },
		Netns:       func(node string) string { return "ns-" + node },
		Args:        []string{"-d1"},
		Runner:      f,
		StopTimeout: time.Second,
	}
}

var (
	noTincd    = command.Result{ExitCode: 1, Stderr: []byte("No other tincd is running.\n")}
	staleLock  = command.Result{Stderr: []byte("The tincd is no longer running. Removing stale lock file.\n")}
	pidHeld    = command.Result{ExitCode: 1, Stderr: []byte("A tincd is already running with pid 4242.\n")}
	tincdArgsA = []string{"tincd", "-c", "/etc/tinc/demo/a", "--pidfile", "/etc/tinc/demo/a/tinc.pid"}
)

func on(args ...string) []string { return append(append([]string{}, tincdArgsA...), args...) }

func TestTincdCommandLines(t *testing.T) {
	f := &command.Fake{}
	f.On(on(), command.Result{}, nil)
	d := testTincd(f)
	ctx := context.Background()
	require.NoError(t, d.Start(ctx, "a"))
	require.NoError(t, d.Reload(ctx, "a"))
	require.NoError(t, d.Stop(ctx, "a"))
	assert.Equal(t, []string{
		"ip netns exec ns-a tincd -c /etc/tinc/demo/a --pidfile /etc/tinc/demo/a/tinc.pid -d1",
		"ip netns exec ns-a tincd -c /etc/tinc/demo/a --pidfile /etc/tinc/demo/a/tinc.pid --kill=HUP",
		"ip netns exec ns-a tincd -c /etc/tinc/demo/a --pidfile /etc/tinc/demo/a/tinc.pid --kill",
	}, f.Lines())
}

func TestTincdReloadOfAStoppedDaemonStartsIt(t *testing.T) {
	for name, res := range map[string]command.Result{"no pid file": noTincd, "stale pid file": staleLock} {
		t.Run(name, func(t *testing.T) {
			f := &command.Fake{}
			f.On(on("--kill=HUP"), res, nil).On(on("-d1"), command.Result{}, nil)
			require.NoError(t, testTincd(f).Reload(context.Background(), "a"))
			assert.Equal(t, 1, f.Count(on("-d1")...), "%s", f)
		})
	}
}

func TestTincdStopIsIdempotent(t *testing.T) {
	f := &command.Fake{}
	f.On(on("--kill"), noTincd, nil)
	require.NoError(t, testTincd(f).Stop(context.Background(), "a"))

	f = &command.Fake{}
	f.On(on("--kill"), command.Result{ExitCode: 1, Stderr: []byte("Could not send TERM signal: Operation not permitted")}, nil)
	err := testTincd(f).Stop(context.Background(), "a")
	var exit *command.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Contains(t, err.Error(), `stop tincd of "a"`)
}

func TestTincdRestartWaitsForThePidFile(t *testing.T) {
	f := &command.Fake{}
	f.On(on("--kill"), command.Result{}, nil).
		OnTimes(on("-d1"), 3, pidHeld, nil).
		On(on("-d1"), command.Result{}, nil)
	require.NoError(t, testTincd(f).Restart(context.Background(), "a"))
	assert.Equal(t, 4, f.Count(on("-d1")...))

	// A start of a running daemon restarts it, so Start means "run with the current files".
	f = &command.Fake{}
	f.OnTimes(on("-d1"), 1, pidHeld, nil).On(on("--kill"), command.Result{}, nil).On(on("-d1"), command.Result{}, nil)
	require.NoError(t, testTincd(f).Start(context.Background(), "a"))
	assert.Equal(t, 1, f.Count(on("--kill")...))

	// A pid file that never frees up ends in an error after StopTimeout.
	f = &command.Fake{}
	f.On(on("--kill"), command.Result{}, nil).On(on("-d1"), pidHeld, nil)
	start := time.Now()
	err := testTincd(f).Restart(context.Background(), "a")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "already running")
	assert.Less(t, time.Since(start), 5*time.Second)
}

func TestPingerAndMatrix(t *testing.T) {
	f := &command.Fake{}
	f.On([]string{"ping", "-n", "-q", "-c", "1", "-W", "1", "10.0.0.2"}, command.Result{}, nil)
	f.On([]string{"ping"}, command.Result{ExitCode: 1, Stderr: []byte("1 packets transmitted, 0 received")}, nil)
	p := &Pinger{Runner: f, Netns: func(n string) string { return "ns-" + n }}
	n := &Network{Nodes: []Node{
		{Name: "a", Address: netip.MustParseAddr("10.0.0.1")},
		{Name: "b", Address: netip.MustParseAddr("10.0.0.2")},
		{Name: "c", Address: netip.MustParseAddr("10.0.0.3")},
	}}
	m, err := Reachability(context.Background(), n, p, 2)
	require.NoError(t, err)
	assert.False(t, m.OK())
	// Only pings to b answer.
	assert.Equal(t, [][2]string{{"a", "c"}, {"b", "a"}, {"b", "c"}, {"c", "a"}}, m.Unreachable())
	assert.Equal(t, 6, len(f.Calls()))
	assert.Contains(t, f.Lines(), "ip netns exec ns-a ping -n -q -c 1 -W 1 10.0.0.2")
	lines := strings.Split(strings.TrimSpace(m.String()), "\n")
	require.Len(t, lines, 4)
	assert.Equal(t, strings.Fields("a . ok --"), strings.Fields(lines[1]))

	n.Nodes[2].Address = netip.Addr{}
	_, err = Reachability(context.Background(), n, p, 2)
	assert.Error(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n.Nodes[2].Address = netip.MustParseAddr("10.0.0.3")
	_, err = Reachability(ctx, n, p, 2)
	assert.True(t, errors.Is(err, context.Canceled))
}
