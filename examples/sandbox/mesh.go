package main

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"syscall"
	"time"

	"github.com/webinfra/webinfra/mesh"
)

// meshNetwork is the desired mesh: the three servers and the firewall, each dialled at its
// bridge address. The service address is a Subnet of every server: tinc 1.0 sends a packet for
// a subnet that several nodes announce to the first reachable one in its subnet order (prefix,
// weight, then owner name), so a gets it while it lives, then b, then c. The firewall needs the
// mesh to reach that address; it serves nothing itself.
func meshNetwork(addr func(host string) netip.Addr) *mesh.Network {
	n := &mesh.Network{
		Name:     meshName,
		Subnets:  []netip.Prefix{overlay},
		Reserved: []netip.Prefix{pool},
		// The zero Failover is mesh.DefaultFailover: 1 s pings, data over TCP, reroute in ~2 s.
	}
	for _, s := range servers {
		n.Nodes = append(n.Nodes, mesh.Node{Name: s, Role: "worker", Endpoints: []string{addr(s).String()},
			Subnets: []netip.Prefix{netip.PrefixFrom(vip, 32)}})
	}
	n.Nodes = append(n.Nodes, mesh.Node{Name: fwName, Role: "firewall", Endpoints: []string{addr(fwName).String()}})
	return n
}

// tincDaemon is a mesh.Daemon that runs each node's tincd in the foreground (-D) in the node's
// namespace, as a child of the sandbox. mesh.Tincd would do on a real server, but it lets tincd
// detach, and a detached daemon here would become an orphan that nobody reaps.
type tincDaemon struct {
	sup   *supervisor
	bin   string
	root  string
	netns map[string]string
}

var _ mesh.Daemon = (*tincDaemon)(nil)

func (d *tincDaemon) name(node string) string { return node + "/tincd" }

// Start implements mesh.Daemon.
func (d *tincDaemon) Start(_ context.Context, node string) error {
	if err := d.sup.stop(d.name(node), 5*time.Second); err != nil {
		return err
	}
	dir := filepath.Join(d.root, node)
	_, err := d.sup.start(d.name(node), d.netns[node], nil, d.bin, "-c", dir, "-D", "-d1", "--pidfile", filepath.Join(dir, "tinc.pid"))
	return err
}

// Reload implements mesh.Daemon: SIGHUP, or a start.
func (d *tincDaemon) Reload(ctx context.Context, node string) error {
	c := d.sup.get(d.name(node))
	if c == nil {
		return d.Start(ctx, node)
	}
	return c.cmd.Process.Signal(syscall.SIGHUP)
}

// Restart implements mesh.Daemon.
func (d *tincDaemon) Restart(ctx context.Context, node string) error { return d.Start(ctx, node) }

// Stop implements mesh.Daemon.
func (d *tincDaemon) Stop(_ context.Context, node string) error {
	return d.sup.stop(d.name(node), 5*time.Second)
}

// startMesh plans the network against the tinc directories under root and applies it, which
// writes every node's files (keys included) and starts every tincd. It returns the planned
// network, whose nodes have their mesh addresses.
func startMesh(ctx context.Context, d *tincDaemon, n *mesh.Network) (*mesh.Network, error) {
	mgr, err := mesh.New(mesh.Config{Targets: mesh.Dir{Root: d.root}, Daemon: d})
	if err != nil {
		return nil, err
	}
	r, err := mgr.Plan(ctx, n, nil)
	if err != nil {
		return nil, fmt.Errorf("mesh: %w", err)
	}
	if err := mgr.Apply(ctx, r); err != nil {
		return nil, fmt.Errorf("mesh: %w", err)
	}
	return r.Network, nil
}
