package mesh

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/internal/command"
)

// Prober checks whether one node reaches an overlay address.
type Prober interface {
	// Probe returns nil when from reaches to over the mesh, or an error saying why not. It must
	// give up within its own timeout and when ctx is done.
	Probe(ctx context.Context, from string, to netip.Addr) error
}

// Pinger is a [Prober] that runs iputils ping on the probing node through a command runner.
// Safe for concurrent use.
type Pinger struct {
	// Netns returns the network namespace of a node; nil means every node is this machine.
	Netns func(node string) string
	// Timeout is how long to wait for the answer (ping -W; fractions of a second need iputils
	// 20210202 or later, Debian 12 has 20221126); 0 means 1 s.
	Timeout time.Duration
	// Runner runs ping; nil means this machine.
	Runner webinfra.Runner
}

var _ Prober = (*Pinger)(nil)

// Probe implements [Prober] with `ping -n -q -c 1 -W SECONDS ADDR`.
func (p *Pinger) Probe(ctx context.Context, from string, to netip.Addr) error {
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = time.Second
	}
	wait := strconv.FormatFloat(timeout.Seconds(), 'f', -1, 64)
	c := command.Cmd{Name: "ping", Args: []string{"-n", "-q", "-c", "1", "-W", wait, to.String()}}
	if p.Netns != nil {
		c.Netns = p.Netns(from)
	}
	r := p.Runner
	if r == nil {
		r = command.Exec{}
	}
	if _, err := r.Run(ctx, c); err != nil {
		return fmt.Errorf("mesh: %s cannot reach %s: %w", from, to, err)
	}
	return nil
}

// Matrix is the result of [Reachability]: whether each node reached each other node.
type Matrix struct {
	// Nodes are the node names, in the network's order; rows and columns follow it.
	Nodes []string
	// Errs[i][j] is nil when Nodes[i] reached Nodes[j] (always nil on the diagonal), else why not.
	Errs [][]error
}

// OK reports whether every node reached every other.
func (m *Matrix) OK() bool { return len(m.Unreachable()) == 0 }

// Unreachable lists the failed pairs as [from, to], in row order.
func (m *Matrix) Unreachable() [][2]string {
	var out [][2]string
	for i, row := range m.Errs {
		for j, err := range row {
			if err != nil {
				out = append(out, [2]string{m.Nodes[i], m.Nodes[j]})
			}
		}
	}
	return out
}

// String renders the matrix as a table, "ok" or "--" per pair, rows probing columns.
func (m *Matrix) String() string {
	width := 4
	for _, n := range m.Nodes {
		width = max(width, len(n))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-*s", width, "from\\to")
	for _, n := range m.Nodes {
		fmt.Fprintf(&b, " %*s", width, n)
	}
	b.WriteByte('\n')
	for i, row := range m.Errs {
		fmt.Fprintf(&b, "%-*s", width, m.Nodes[i])
		for j, err := range row {
			cell := "ok"
			switch {
			case i == j:
				cell = "."
			case err != nil:
				cell = "--"
			}
			fmt.Fprintf(&b, " %*s", width, cell)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// Reachability probes from every node of n to every other node's overlay address, at most
// concurrency probes at once (0 means 8), and returns the matrix. Every node must have its
// address (see [Network.Allocate]); otherwise it fails with an error matching
// webinfra.ErrInvalidArgument. Failed probes are results, not errors; the error is ctx's when
// ctx ends first.
func Reachability(ctx context.Context, n *Network, p Prober, concurrency int) (*Matrix, error) {
	if concurrency <= 0 {
		concurrency = 8
	}
	m := &Matrix{Errs: make([][]error, len(n.Nodes))}
	for i, node := range n.Nodes {
		if !node.Address.IsValid() {
			return nil, fmt.Errorf("mesh: reachability: node %q has no address: %w", node.Name, webinfra.ErrInvalidArgument)
		}
		m.Nodes = append(m.Nodes, node.Name)
		m.Errs[i] = make([]error, len(n.Nodes))
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(concurrency)
	for i, from := range n.Nodes {
		for j, to := range n.Nodes {
			if i == j {
				continue
			}
			g.Go(func() error {
				err := p.Probe(gctx, from.Name, to.Address)
				mu.Lock()
				m.Errs[i][j] = err
				mu.Unlock()
				return nil
			})
		}
	}
	_ = g.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return m, nil
}
