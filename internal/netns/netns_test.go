package netns_test

import (
	"errors"
	"net/netip"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra/internal/command"
	"github.com/webinfra/webinfra/internal/netns"
)

// ping sends one echo request from h to addr, waiting at most a second.
func ping(t *testing.T, h *netns.Host, addr string) error {
	t.Helper()
	_, err := h.Run(t.Context(), "ping", "-c", "1", "-W", "1", "-q", addr)
	return err
}

func TestHostsPingAndLinksCutAndRestore(t *testing.T) {
	n := netns.Start(t, netns.Config{Hosts: []string{"a", "b", "c"}})
	a, b, c := n.Host("a"), n.Host("b"), n.Host("c")
	require.NotNil(t, c)
	assert.Equal(t, "10.231.0.1", a.Addr.String())
	assert.Equal(t, "10.231.0.2", b.Addr.String())

	require.NoError(t, ping(t, a, b.Addr.String()), "a reaches b")
	require.NoError(t, ping(t, b, a.Addr.String()), "b reaches a")

	require.NoError(t, n.Cut(t.Context(), a, b))
	assert.Error(t, ping(t, a, b.Addr.String()), "a-b is cut")
	assert.Error(t, ping(t, b, a.Addr.String()), "b-a is cut")
	assert.NoError(t, ping(t, a, c.Addr.String()), "a still reaches c")
	assert.NoError(t, ping(t, c, b.Addr.String()), "c still reaches b")

	require.NoError(t, n.Cut(t.Context(), b, a), "cutting twice is harmless")
	require.NoError(t, n.Restore(t.Context(), b, a))
	assert.NoError(t, ping(t, a, b.Addr.String()), "a reaches b again")
	require.NoError(t, n.Restore(t.Context(), a, b), "restoring twice is harmless")
}

func TestHostsAreIsolatedFromTheMachine(t *testing.T) {
	n := netns.Start(t, netns.Config{Hosts: []string{"solo"}})
	h := n.Host("solo")
	res, err := h.Run(t.Context(), "ip", "-o", "addr", "show")
	require.NoError(t, err)
	out := string(res.Stdout)
	assert.Contains(t, out, "eth0")
	assert.Contains(t, out, h.Addr.String()+"/24")
	// Only lo and eth0 exist inside: none of the machine's interfaces.
	assert.Equal(t, 2, strings.Count(out, " inet "))
}

func TestCommandRunsDaemonsInHost(t *testing.T) {
	n := netns.Start(t, netns.Config{Hosts: []string{"d"}})
	cmd := n.Host("d").Command(t.Context(), "ip", "-o", "-4", "addr", "show", "dev", "eth0")
	out, err := cmd.Output()
	require.NoError(t, err)
	assert.Contains(t, string(out), "10.231.0.1/24")
}

func TestCloseRemovesNamespaces(t *testing.T) {
	n := netns.Start(t, netns.Config{Hosts: []string{"x", "y"}})
	ns := n.Host("x").Netns
	require.NoError(t, n.Close())
	require.NoError(t, n.Close(), "idempotent")
	out, err := exec.Command("ip", "netns", "list").Output()
	require.NoError(t, err)
	assert.NotContains(t, string(out), ns)
}

func TestNewRejectsBadConfig(t *testing.T) {
	f := &command.Fake{}
	for _, cfg := range []netns.Config{
		{},
		{Hosts: []string{"Bad_Name"}},
		{Hosts: []string{"a", "a"}},
		{Hosts: []string{"a", "b", "c"}, Subnet: mustPrefix("10.0.0.0/31")},
	} {
		_, err := netns.New(t.Context(), netns.Config{Hosts: cfg.Hosts, Subnet: cfg.Subnet, Runner: f})
		assert.Error(t, err, "%+v", cfg)
	}
	assert.Empty(t, f.Calls(), "bad config runs nothing")
}

func TestNewCleansUpAfterFailure(t *testing.T) {
	f := &command.Fake{}
	f.On([]string{"ip", "netns", "add"}, command.Result{}, nil)
	f.On([]string{"ip", "-n"}, command.Result{}, errors.New("no bridge support"))
	f.On([]string{"ip", "netns", "delete"}, command.Result{}, nil)
	_, err := netns.New(t.Context(), netns.Config{Hosts: []string{"a", "b"}, Runner: f})
	require.ErrorContains(t, err, "no bridge support")
	assert.Equal(t, 3, f.Count("ip", "netns", "delete"), "both hosts and the switch are deleted")
}

func mustPrefix(s string) (p netip.Prefix) { return netip.MustParsePrefix(s) }
