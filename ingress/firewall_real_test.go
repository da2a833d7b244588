package ingress_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra/ingress"
	"github.com/webinfra/webinfra/internal/netns"
	"github.com/webinfra/webinfra/internal/testbin"
)

// firewallHelperEnv makes the test binary, re-executed inside a namespace, act as a tiny HTTP
// server or client instead of running tests (see TestFirewallHelperProcess).
const firewallHelperEnv = "WEBINFRA_INGRESS_FIREWALL_HELPER"

// TestFirewallHelperProcess is not a test: re-executed as `ip netns exec NS <test binary>
// -test.run=^TestFirewallHelperProcess$` with firewallHelperEnv set, it is the server or the
// client of TestFirewallRealForwarding inside that namespace. Re-executing the binary keeps
// every socket in a process that lives wholly in the namespace, instead of switching an OS
// thread of the test process with setns and having to keep the Go runtime from reusing it.
//
//	serve ADDR  listen on ADDR, print "HELPER ready", answer every request with "peer=IP"
//	get URL     GET URL with a 2 s timeout, print "HELPER body=..." or "HELPER error=..."
func TestFirewallHelperProcess(t *testing.T) {
	mode, arg, ok := strings.Cut(os.Getenv(firewallHelperEnv), " ")
	if !ok {
		t.Skip("helper process of TestFirewallRealForwarding; runs only when re-executed by it")
	}
	switch mode {
	case "serve":
		ln, err := net.Listen("tcp", arg)
		if err != nil {
			fmt.Println("HELPER error=" + err.Error())
			os.Exit(1)
		}
		fmt.Println("HELPER ready")
		_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			host, _, _ := net.SplitHostPort(r.RemoteAddr)
			fmt.Fprintf(w, "peer=%s", host)
		}))
		os.Exit(1)
	case "get":
		c := &http.Client{Timeout: 2 * time.Second}
		resp, err := c.Get(arg)
		if err != nil {
			fmt.Println("HELPER error=" + err.Error())
			os.Exit(0)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		fmt.Println("HELPER body=" + string(body))
		os.Exit(0)
	}
	t.Fatalf("unknown helper mode %q", mode)
}

func firewallSpecForTest() ingress.FirewallSpec {
	return ingress.FirewallSpec{
		Sources: []netip.Prefix{
			netip.MustParsePrefix("173.245.48.0/20"), netip.MustParsePrefix("103.21.244.0/22"),
			netip.MustParsePrefix("2400:cb00::/32"), netip.MustParsePrefix("2606:4700::/32"),
		},
		Targets:       []netip.Addr{netip.MustParseAddr("10.250.0.10"), netip.MustParseAddr("fd00:250::10")},
		MeshInterface: "tinc0",
	}
}

// TestFirewallRealNftCheck: nft's check mode (-c, a full kernel transaction rolled back) accepts
// the rendered rulesets, in a namespace of the test's own, and rejects a broken one (so -c really
// checks).
func TestFirewallRealNftCheck(t *testing.T) {
	nft := testbin.Require(t, "nft")
	n := netns.Start(t, netns.Config{Hosts: []string{"check"}, Subnet: netip.MustParsePrefix("10.235.0.0/24")})
	h := n.Host("check")
	specs := map[string]ingress.FirewallSpec{"dual stack": firewallSpecForTest()}
	v4 := firewallSpecForTest()
	v4.Sources, v4.Targets = v4.Sources[:2], v4.Targets[:1]
	v4.Ports = []uint16{8443}
	v4.PublicInterfaces = []string{"eth0", "eth1"}
	v4.Table = "custom_ingress"
	specs["ipv4, one port, public interfaces"] = v4
	for name, spec := range specs {
		t.Run(name, func(t *testing.T) {
			rules, err := ingress.FirewallRuleset(spec)
			require.NoError(t, err)
			out, err := firewallRun(t, h, rules, nft, "-c", "-f", "-")
			assert.NoError(t, err, "nft -c rejected:\n%s\n%s", out, rules)
		})
	}
	t.Run("broken ruleset is rejected", func(t *testing.T) {
		out, err := firewallRun(t, h, "table inet x {\n\tchain c {\n\t\ttcp dport 80 dnatt to 1.2.3.4\n\t}\n}\n", nft, "-c", "-f", "-")
		assert.Error(t, err)
		t.Logf("nft -c on a broken ruleset: %s", out)
	})
}

// firewallRun runs a program in host h with stdin and returns its combined output.
func firewallRun(t *testing.T, h *netns.Host, stdin string, name string, args ...string) (string, error) {
	t.Helper()
	cmd := h.Command(t.Context(), name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestFirewallRealForwarding applies the ruleset on a firewall namespace and sends real HTTP
// requests through it:
//
//	cf (10.236.0.1, allowed) ──┐                        mesh0 veth
//	other (10.236.0.2) ────────┼── bridge ── fw (10.236.0.3) ══════ traefik (service 10.250.0.10 on lo)
//	                           │             10.234.0.1/30          10.234.0.2/30, its bridge link down
//
// Traefik's namespace has no route back to cf or other, so an answer proves the masquerade; the
// server reports the peer address it saw.
func TestFirewallRealForwarding(t *testing.T) {
	nft := testbin.Require(t, "nft")
	ipBin := testbin.Require(t, "ip")
	sysctl := testbin.Require(t, "sysctl")
	n := netns.Start(t, netns.Config{Hosts: []string{"cf", "other", "fw", "traefik"}, Subnet: netip.MustParsePrefix("10.236.0.0/24")})
	cf, other, fw, traefik := n.Host("cf"), n.Host("other"), n.Host("fw"), n.Host("traefik")
	const (
		service = "10.250.0.10"
		fwMesh  = "10.234.0.1"
	)
	ctx := t.Context()
	run := func(h *netns.Host, name string, args ...string) string {
		t.Helper()
		res, err := h.Run(ctx, name, args...)
		require.NoError(t, err, "%s %v: %s", name, args, res.Stderr)
		return string(res.Stdout)
	}
	// The mesh link: a veth pair straight from fw into traefik, standing in for tinc0.
	run(fw, ipBin, "link", "add", "mesh0", "type", "veth", "peer", "name", "mesh0", "netns", traefik.Netns)
	run(fw, ipBin, "addr", "add", fwMesh+"/30", "dev", "mesh0")
	run(fw, ipBin, "link", "set", "mesh0", "up")
	run(traefik, ipBin, "addr", "add", "10.234.0.2/30", "dev", "mesh0")
	run(traefik, ipBin, "link", "set", "mesh0", "up")
	run(traefik, ipBin, "addr", "add", service+"/32", "dev", "lo")
	run(traefik, ipBin, "link", "set", traefik.Iface, "down")
	run(fw, ipBin, "route", "add", service+"/32", "via", "10.234.0.2", "dev", "mesh0")
	// other also tries to reach the service address directly, routed through fw.
	run(other, ipBin, "route", "add", service+"/32", "via", fw.Addr.String())

	spec := ingress.FirewallSpec{
		Sources: []netip.Prefix{
			netip.MustParsePrefix("173.245.48.0/20"),
			netip.PrefixFrom(cf.Addr, 32),
			netip.MustParsePrefix("2400:cb00::/32"),
		},
		Targets:       []netip.Addr{netip.MustParseAddr(service), netip.MustParseAddr("fd00:250::10")},
		MeshInterface: "mesh0",
	}
	rules, err := ingress.FirewallRuleset(spec)
	require.NoError(t, err)
	for line := range strings.Lines(ingress.FirewallSysctl(spec)) {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), " = "); ok {
			run(fw, sysctl, "-w", k+"="+v)
		}
	}
	// A table of someone else's, which applying ours must leave alone.
	_, err = firewallRun(t, fw, "table inet someone_else {\n\tchain c {\n\t\ttype filter hook input priority 10; policy accept;\n\t\tcounter\n\t}\n}\n", nft, "-f", "-")
	require.NoError(t, err)
	for range 2 { // applying twice is the same as once
		out, err := firewallRun(t, fw, rules, nft, "-f", "-")
		require.NoError(t, err, "nft -f: %s", out)
	}
	tables := run(fw, nft, "list", "tables")
	assert.Equal(t, "table inet someone_else\ntable inet "+ingress.FirewallTable+"\n", tables)

	srv := traefik.Command(ctx, firewallExe(t), "-test.run=^TestFirewallHelperProcess$")
	srv.Env = append(os.Environ(), firewallHelperEnv+"=serve "+service+":80")
	firewallStartServer(t, srv)

	get := func(h *netns.Host, url string) string {
		t.Helper()
		c := h.Command(ctx, firewallExe(t), "-test.run=^TestFirewallHelperProcess$")
		c.Env = append(os.Environ(), firewallHelperEnv+"=get "+url)
		out, err := c.Output()
		require.NoError(t, err)
		for line := range strings.Lines(string(out)) {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "HELPER "); ok {
				return rest
			}
		}
		t.Fatalf("helper printed no result: %s", out)
		return ""
	}
	fwURL := "http://" + fw.Addr.String() + "/"
	t.Run("allowed source is forwarded and masqueraded", func(t *testing.T) {
		assert.Equal(t, "body=peer="+fwMesh, get(cf, fwURL))
	})
	t.Run("other source to the firewall is dropped", func(t *testing.T) {
		got := get(other, fwURL)
		assert.Contains(t, got, "error=")
		assert.Contains(t, got, "Client.Timeout", "dropped, not refused")
	})
	t.Run("other source routed straight to the service address is dropped", func(t *testing.T) {
		got := get(other, "http://"+service+"/")
		assert.Contains(t, got, "Client.Timeout", "dropped, not refused")
	})
	t.Run("other ports are not forwarded", func(t *testing.T) {
		got := get(cf, "http://"+fw.Addr.String()+":8080/")
		assert.Contains(t, got, "connection refused", "fw itself answers with a reset: nothing listens there")
	})
	t.Run("delete removes only our table", func(t *testing.T) {
		del, err := ingress.FirewallDeleteRuleset("")
		require.NoError(t, err)
		for range 2 {
			out, err := firewallRun(t, fw, del, nft, "-f", "-")
			require.NoError(t, err, "nft -f: %s", out)
		}
		assert.Equal(t, "table inet someone_else\n", run(fw, nft, "list", "tables"))
	})
}

// firewallExe is the test binary itself; /proc/self/exe would name ip once `ip netns exec` runs it.
func firewallExe(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	return exe
}

// firewallStartServer starts the helper server and waits for its "ready" line; it is killed
// and reaped when the test ends.
func firewallStartServer(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	ready := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			if strings.HasPrefix(s.Text(), "HELPER ") {
				ready <- s.Text()
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	select {
	case line := <-ready:
		require.Equal(t, "HELPER ready", line)
	case <-ctx.Done():
		t.Fatal("helper server did not start within 10 s")
	}
}
