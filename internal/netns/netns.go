// Package netns builds throwaway networks of "hosts" for tests: each host is a Linux network
// namespace with one interface on a shared bridge, so real daemons (tincd, syncthing, ...) can
// run side by side on one machine and talk over addresses the test chose. Links between two
// hosts can be cut and restored to test failover.
//
// Nothing touches the machine's own network: the bridge lives in a namespace of its own, every
// address is inside namespaces this package creates, and [Network.Close] deletes them all.
// It needs root and iproute2 (ip); cutting links needs nftables (nft).
package netns

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/webinfra/webinfra/internal/command"
)

// Config describes a network to build.
type Config struct {
	// Hosts names the hosts, in order; names are lower-case letters, digits and '-', at most 16
	// characters. At least one is required.
	Hosts []string
	// Subnet is the bridge's subnet; host i gets the (i+1)th address. The zero value means
	// 10.231.0.0/24, an address range that lives only inside these namespaces.
	Subnet netip.Prefix
	// Runner runs ip and nft; nil means [command.Exec].
	Runner command.Runner
}

// Network is a bridge with hosts on it. Its methods are safe for concurrent use.
type Network struct {
	id     string
	sw     string // namespace holding the bridge
	subnet netip.Prefix
	hosts  []*Host
	runner command.Runner

	mu     sync.Mutex
	cuts   map[[2]int]bool
	closed bool
}

// Host is one namespace on the network.
type Host struct {
	// Name is the name given in [Config.Hosts].
	Name string
	// Netns is the namespace's name, for `ip netns exec`.
	Netns string
	// Addr is the host's address on the bridge.
	Addr netip.Addr
	// Iface is the name of its interface on the bridge, "eth0".
	Iface string

	index int
	net   *Network
}

var hostName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,15}$`)

const bridge = "br0"

// New builds the network. On error everything built so far is removed again.
func New(ctx context.Context, cfg Config) (*Network, error) {
	if len(cfg.Hosts) == 0 {
		return nil, errors.New("netns: no hosts")
	}
	if !cfg.Subnet.IsValid() {
		cfg.Subnet = netip.MustParsePrefix("10.231.0.0/24")
	}
	cfg.Subnet = cfg.Subnet.Masked()
	if cfg.Runner == nil {
		cfg.Runner = command.Exec{}
	}
	var seen []string
	for _, h := range cfg.Hosts {
		if !hostName.MatchString(h) {
			return nil, fmt.Errorf("netns: host name %q: want lower-case letters, digits and '-', at most 16", h)
		}
		if slices.Contains(seen, h) {
			return nil, fmt.Errorf("netns: duplicate host name %q", h)
		}
		seen = append(seen, h)
	}
	id := make([]byte, 4)
	_, _ = rand.Read(id)
	n := &Network{
		id:     "wi" + hex.EncodeToString(id),
		subnet: cfg.Subnet,
		runner: cfg.Runner,
		cuts:   map[[2]int]bool{},
	}
	n.sw = n.id + "-switch"
	addr := cfg.Subnet.Addr()
	for i, name := range cfg.Hosts {
		addr = addr.Next()
		if !cfg.Subnet.Contains(addr) {
			return nil, fmt.Errorf("netns: subnet %s too small for %d hosts", cfg.Subnet, len(cfg.Hosts))
		}
		n.hosts = append(n.hosts, &Host{Name: name, Netns: n.id + "-" + name, Addr: addr, Iface: "eth0", index: i, net: n})
	}
	if err := n.build(ctx); err != nil {
		return nil, errors.Join(err, n.Close())
	}
	return n, nil
}

func (n *Network) build(ctx context.Context) error {
	if err := n.ip(ctx, "netns", "add", n.sw); err != nil {
		return err
	}
	steps := [][]string{
		{"-n", n.sw, "link", "add", bridge, "type", "bridge"},
		{"-n", n.sw, "link", "set", bridge, "up"},
	}
	for _, h := range n.hosts {
		if err := n.ip(ctx, "netns", "add", h.Netns); err != nil {
			return err
		}
		port := h.port()
		steps = append(steps,
			[]string{"-n", n.sw, "link", "add", port, "type", "veth", "peer", "name", h.Iface, "netns", h.Netns},
			[]string{"-n", n.sw, "link", "set", port, "master", bridge},
			[]string{"-n", n.sw, "link", "set", port, "up"},
			[]string{"-n", h.Netns, "link", "set", "lo", "up"},
			[]string{"-n", h.Netns, "addr", "add", netip.PrefixFrom(h.Addr, n.subnet.Bits()).String(), "dev", h.Iface},
			[]string{"-n", h.Netns, "link", "set", h.Iface, "up"},
		)
	}
	for _, s := range steps {
		if err := n.ip(ctx, s...); err != nil {
			return err
		}
	}
	return nil
}

// port is the host's interface name on the bridge side.
func (h *Host) port() string { return fmt.Sprintf("p%d", h.index) }

func (n *Network) ip(ctx context.Context, args ...string) error {
	_, err := n.runner.Run(ctx, command.Cmd{Name: "ip", Args: args})
	if err != nil {
		return fmt.Errorf("netns: %w", err)
	}
	return nil
}

// Hosts returns the hosts in the order configured.
func (n *Network) Hosts() []*Host { return slices.Clone(n.hosts) }

// Host returns the host named name, or nil.
func (n *Network) Host(name string) *Host {
	for _, h := range n.hosts {
		if h.Name == name {
			return h
		}
	}
	return nil
}

// Subnet returns the bridge's subnet.
func (n *Network) Subnet() netip.Prefix { return n.subnet }

// Cut drops every frame between a and b, in both directions, as if the link between them broke;
// both keep reaching the other hosts. Cutting a cut link does nothing.
func (n *Network) Cut(ctx context.Context, a, b *Host) error {
	return n.setCut(ctx, a, b, true)
}

// Restore undoes [Network.Cut]. Restoring a link that is not cut does nothing.
func (n *Network) Restore(ctx context.Context, a, b *Host) error {
	return n.setCut(ctx, a, b, false)
}

func (n *Network) setCut(ctx context.Context, a, b *Host, cut bool) error {
	if a == nil || b == nil || a.net != n || b.net != n || a == b {
		return errors.New("netns: cut/restore needs two different hosts of this network")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	pair := [2]int{min(a.index, b.index), max(a.index, b.index)}
	old := n.cuts[pair]
	if cut {
		n.cuts[pair] = true
	} else {
		delete(n.cuts, pair)
	}
	if err := n.applyCuts(ctx); err != nil {
		n.cuts[pair] = old
		if !old {
			delete(n.cuts, pair)
		}
		return err
	}
	return nil
}

// applyCuts replaces the switch's filter table in one nft transaction, so no frame ever passes
// a half-written rule set.
func (n *Network) applyCuts(ctx context.Context) error {
	var b strings.Builder
	b.WriteString("add table bridge webinfra\ndelete table bridge webinfra\n")
	if len(n.cuts) > 0 {
		b.WriteString("table bridge webinfra {\n\tchain forward {\n\t\ttype filter hook forward priority 0; policy accept;\n")
		pairs := make([][2]int, 0, len(n.cuts))
		for p := range n.cuts {
			pairs = append(pairs, p)
		}
		slices.SortFunc(pairs, func(x, y [2]int) int { return x[0]*1000 + x[1] - y[0]*1000 - y[1] })
		for _, p := range pairs {
			x, y := n.hosts[p[0]].port(), n.hosts[p[1]].port()
			fmt.Fprintf(&b, "\t\tiifname %q oifname %q drop\n\t\tiifname %q oifname %q drop\n", x, y, y, x)
		}
		b.WriteString("\t}\n}\n")
	}
	_, err := n.runner.Run(ctx, command.Cmd{Name: "nft", Args: []string{"-f", "-"}, Stdin: []byte(b.String()), Netns: n.sw})
	if err != nil {
		return fmt.Errorf("netns: set link cuts: %w", err)
	}
	return nil
}

// Close deletes every namespace of the network, which removes its links and addresses too.
// Stop processes running in the hosts first. Close is idempotent.
func (n *Network) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil
	}
	n.closed = true
	// A fresh context: cleanup must run even when the caller's is done.
	ctx := context.Background()
	var errs []error
	for _, h := range n.hosts {
		errs = append(errs, n.deleteNetns(ctx, h.Netns))
	}
	errs = append(errs, n.deleteNetns(ctx, n.sw))
	return errors.Join(errs...)
}

func (n *Network) deleteNetns(ctx context.Context, name string) error {
	res, err := n.runner.Run(ctx, command.Cmd{Name: "ip", Args: []string{"netns", "delete", name}})
	if err != nil && strings.Contains(string(res.Stderr), "No such file") {
		return nil // never created: New failed before it
	}
	if err != nil {
		return fmt.Errorf("netns: %w", err)
	}
	return nil
}

// Cmd returns a command.Cmd running name with args inside the host.
func (h *Host) Cmd(name string, args ...string) command.Cmd {
	return command.Cmd{Name: name, Args: args, Netns: h.Netns}
}

// Run runs a program inside the host to completion; see [command.Runner].
func (h *Host) Run(ctx context.Context, name string, args ...string) (command.Result, error) {
	return h.net.runner.Run(ctx, h.Cmd(name, args...))
}

// Command returns an *exec.Cmd that runs name with args inside the host, for long-running
// daemons. The caller starts it, and must Wait for it after stopping it: an unwaited process
// stays a zombie.
func (h *Host) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", h.Netns, name}, args...)...)
}
