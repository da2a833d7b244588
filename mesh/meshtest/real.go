package meshtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/webinfra/webinfra/internal/netns"
	"github.com/webinfra/webinfra/internal/testbin"
	"github.com/webinfra/webinfra/internal/testutil"
	"github.com/webinfra/webinfra/mesh"
)

// Config describes a real mesh for [Start].
type Config struct {
	// Nodes are the node names that form the mesh at the start (lower-case letters, digits and
	// '-', at most 16 characters), each on its own host (network namespace).
	Nodes []string
	// Spare are further hosts, outside the mesh at first, for tests that add nodes.
	Spare []string
	// Edit, if set, adjusts the network before the first rollout (failover timers, topology).
	Edit func(*mesh.Network)
	// Debug is tincd's debug level (-d); 0 means 1. Logs are kept per node and printed when
	// the test fails, or written to $MESHTEST_LOGS/NODE.log when that is set.
	Debug int
}

// Overlay is the overlay subnet of the meshes Start builds. It exists only inside their network
// namespaces.
var Overlay = netip.MustParsePrefix("10.232.0.0/16")

// Mesh is a running mesh: hosts in network namespaces joined by a bridge, real tincd daemons
// started by the SDK's own rollout, and helpers to break and inspect it.
type Mesh struct {
	// Network is the desired state last applied, every node's address set.
	Network *mesh.Network
	// Manager is the SDK manager the harness applies with; its targets are directories under
	// [Mesh.Root] and its daemon is [Mesh.Daemon].
	Manager *mesh.Manager
	// Daemon runs tincd in the foreground per node, as children of the test process.
	Daemon *Supervisor
	// Net is the underlay: one host per node or spare.
	Net *netns.Network
	// Root holds one tinc directory per node.
	Root string

	t testing.TB
}

// Start builds the hosts, plans and applies the network with the SDK (which starts every
// tincd) and returns once the rollout is applied; use [Mesh.WaitAllPairs] to wait for routes.
// It needs root, ip, nft, ping and tincd: without them it skips the test, or fails it under
// CI=true. Everything is torn down when the test ends: daemons are stopped and reaped before the
// namespaces are deleted.
func Start(t testing.TB, cfg Config) *Mesh {
	t.Helper()
	tincd := testbin.Require(t, "tincd")
	testbin.Require(t, "ping")
	underlay := netns.Start(t, netns.Config{Hosts: slices.Concat(cfg.Nodes, cfg.Spare)})
	root := t.TempDir()
	sup := &Supervisor{Binary: tincd, Dir: func(node string) string { return filepath.Join(root, node) }, Debug: max(cfg.Debug, 1), net: underlay}
	t.Cleanup(func() { sup.close(t) })
	mgr, err := mesh.New(mesh.Config{Targets: mesh.Dir{Root: root}, Daemon: sup})
	if err != nil {
		t.Fatalf("meshtest: %v", err)
	}
	n := &mesh.Network{Name: "wimesh", Subnets: []netip.Prefix{Overlay}}
	for _, name := range cfg.Nodes {
		n.Nodes = append(n.Nodes, Node(underlay, name))
	}
	if cfg.Edit != nil {
		cfg.Edit(n)
	}
	m := &Mesh{Manager: mgr, Daemon: sup, Net: underlay, Root: root, t: t}
	m.Apply(n, nil)
	return m
}

// Node returns the mesh node for a host of the underlay: its name, and its bridge address as
// the endpoint.
func Node(underlay *netns.Network, name string) mesh.Node {
	return mesh.Node{Name: name, Endpoints: []string{underlay.Host(name).Addr.String()}}
}

// Apply plans n (with opts) and applies it, failing the test on error, and returns the rollout
// that was applied. m.Network becomes the planned network.
func (m *Mesh) Apply(n *mesh.Network, opts *mesh.PlanOptions) *mesh.Rollout {
	m.t.Helper()
	r, err := m.Manager.Plan(context.Background(), n, opts)
	if err != nil {
		m.t.Fatalf("meshtest: plan: %v", err)
	}
	if err := m.Manager.Apply(context.Background(), r); err != nil {
		m.t.Fatalf("meshtest: apply: %v", err)
	}
	m.Network = r.Network
	return r
}

// Addr returns a node's overlay address.
func (m *Mesh) Addr(node string) netip.Addr {
	if n := m.Network.Node(node); n != nil {
		return n.Address
	}
	m.t.Fatalf("meshtest: no node %q", node)
	return netip.Addr{}
}

// Pinger returns a prober that pings from the nodes' namespaces, waiting 300 ms for answers
// (the overlay is one bridge: answers take well under a millisecond).
func (m *Mesh) Pinger() *mesh.Pinger {
	return &mesh.Pinger{Netns: func(node string) string { return m.Net.Host(node).Netns }, Timeout: 300 * time.Millisecond}
}

// Reachability probes every pair once.
func (m *Mesh) Reachability(ctx context.Context) (*mesh.Matrix, error) {
	return mesh.Reachability(ctx, m.Network, m.Pinger(), 0)
}

// WaitAllPairs waits until every node reaches every other over the overlay, and fails the test
// with the last matrix after timeout. It returns how long it waited.
func (m *Mesh) WaitAllPairs(timeout time.Duration) time.Duration {
	m.t.Helper()
	took, err := m.AllPairsWithin(timeout)
	if err != nil {
		m.t.Fatalf("meshtest: %v", err)
	}
	return took
}

// AllPairsWithin is [Mesh.WaitAllPairs] without failing the test: it returns how long it took
// until every pair reached each other, or an error with the last matrix after timeout. With
// tinc 1.0's UDP defaults a pair can stay stuck for the hour until its keys expire, which a
// benchmark of those defaults must count rather than die of.
func (m *Mesh) AllPairsWithin(timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	var last *mesh.Matrix
	err := testutil.Poll(context.Background(), timeout, 100*time.Millisecond, func() error {
		mx, err := m.Reachability(context.Background())
		if err != nil {
			return err
		}
		last = mx
		if !mx.OK() {
			return fmt.Errorf("unreachable pairs: %v", mx.Unreachable())
		}
		return nil
	})
	if err != nil {
		matrix := ""
		if last != nil {
			matrix = "\n" + last.String()
		}
		return time.Since(start), fmt.Errorf("not all pairs reach each other after %v: %w%s", timeout, err, matrix)
	}
	return time.Since(start), nil
}

// Ping pings once from one node to another's overlay address.
func (m *Mesh) Ping(ctx context.Context, from, to string) error {
	return m.Pinger().Probe(ctx, from, m.Addr(to))
}

// WaitReach waits until from reaches to, failing the test after timeout, and returns how long
// it took.
func (m *Mesh) WaitReach(from, to string, timeout time.Duration) time.Duration {
	m.t.Helper()
	start := time.Now()
	if err := testutil.Poll(context.Background(), timeout, 20*time.Millisecond, func() error {
		return m.Ping(context.Background(), from, to)
	}); err != nil {
		m.t.Fatalf("meshtest: %s does not reach %s after %v: %v", from, to, timeout, err)
	}
	return time.Since(start)
}

// Supervisor is a [mesh.Daemon] that runs each node's tincd in the foreground (-D) inside the
// node's namespace, as a child of the test process, so the test owns, signals and reaps every
// daemon by its PID. Safe for concurrent use.
type Supervisor struct {
	// Binary is the tincd program.
	Binary string
	// Dir returns a node's tinc directory.
	Dir func(node string) string
	// Debug is tincd's debug level.
	Debug int

	net   *netns.Network
	mu    sync.Mutex
	procs map[string]*proc
	logMu sync.Mutex // guards logs' buffers, written by the daemons' output copiers
	logs  map[string]*bytes.Buffer
}

type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

var _ mesh.Daemon = (*Supervisor)(nil)

// Pid returns the PID of a node's running tincd, or 0.
func (s *Supervisor) Pid(node string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.procs[node]; p != nil && !p.exited() {
		return p.cmd.Process.Pid
	}
	return 0
}

// Log returns what a node's tincd has logged so far, across restarts.
func (s *Supervisor) Log(node string) string {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	if b := s.logs[node]; b != nil {
		return b.String()
	}
	return ""
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Start implements [mesh.Daemon].
func (s *Supervisor) Start(ctx context.Context, node string) error {
	if err := s.Stop(ctx, node); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.procs == nil {
		s.procs = map[string]*proc{}
	}
	s.logMu.Lock()
	if s.logs == nil {
		s.logs = map[string]*bytes.Buffer{}
	}
	if s.logs[node] == nil {
		s.logs[node] = &bytes.Buffer{}
	}
	log := &lockedWriter{&s.logMu, s.logs[node]}
	s.logMu.Unlock()
	host := s.net.Host(node)
	if host == nil {
		return fmt.Errorf("meshtest: no host %q", node)
	}
	dir := s.Dir(node)
	// Not CommandContext: the daemon outlives the call that started it.
	cmd := exec.Command("ip", "netns", "exec", host.Netns, s.Binary, "-c", dir, "-D", fmt.Sprintf("-d%d", s.Debug), "--pidfile", filepath.Join(dir, "tinc.pid"))
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("meshtest: start tincd of %q: %w", node, err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	s.procs[node] = p
	return nil
}

// Reload implements [mesh.Daemon]: SIGHUP to the running tincd, or a start.
func (s *Supervisor) Reload(ctx context.Context, node string) error {
	s.mu.Lock()
	p := s.procs[node]
	s.mu.Unlock()
	if p == nil || p.exited() {
		return s.Start(ctx, node)
	}
	return p.cmd.Process.Signal(syscall.SIGHUP)
}

// Restart implements [mesh.Daemon].
func (s *Supervisor) Restart(ctx context.Context, node string) error { return s.Start(ctx, node) }

// Stop implements [mesh.Daemon]: SIGTERM, then SIGKILL after 5 s, and waits for the exit.
func (s *Supervisor) Stop(_ context.Context, node string) error {
	s.mu.Lock()
	p := s.procs[node]
	delete(s.procs, node)
	s.mu.Unlock()
	if p == nil {
		return nil
	}
	return p.stop(syscall.SIGTERM, 5*time.Second)
}

// Kill ends a node's tincd with SIGKILL, as a crash would, and waits for it.
func (s *Supervisor) Kill(node string) error {
	s.mu.Lock()
	p := s.procs[node]
	delete(s.procs, node)
	s.mu.Unlock()
	if p == nil {
		return fmt.Errorf("meshtest: tincd of %q is not running", node)
	}
	return p.stop(syscall.SIGKILL, 5*time.Second)
}

func (p *proc) stop(sig syscall.Signal, grace time.Duration) error {
	if p.exited() {
		return nil
	}
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("meshtest: tincd (pid %d) ignored %v for %v", p.cmd.Process.Pid, sig, grace)
	}
}

// close stops every daemon and shows their logs when the test failed.
func (s *Supervisor) close(t testing.TB) {
	s.mu.Lock()
	nodes := make([]string, 0, len(s.procs))
	for n := range s.procs {
		nodes = append(nodes, n)
	}
	s.mu.Unlock()
	for _, n := range nodes {
		if err := s.Stop(context.Background(), n); err != nil {
			t.Errorf("meshtest: %v", err)
		}
	}
	dir := os.Getenv("MESHTEST_LOGS")
	s.logMu.Lock()
	defer s.logMu.Unlock()
	for node, b := range s.logs {
		switch {
		case dir != "":
			_ = os.MkdirAll(dir, 0o755)
			_ = os.WriteFile(filepath.Join(dir, node+".log"), b.Bytes(), 0o644)
		case t.Failed():
			out := b.Bytes()
			if len(out) > 8<<10 {
				out = out[len(out)-8<<10:]
			}
			t.Logf("meshtest: tincd log of %s (tail):\n%s", node, out)
		}
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
