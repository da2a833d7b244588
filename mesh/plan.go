package mesh

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/webinfra/webinfra"
)

// Config configures a [Manager].
type Config struct {
	// Targets says where each node's files live. Required.
	Targets Targets
	// Daemon controls tincd on the nodes; nil means files only: plans carry no daemon actions
	// and Apply only writes.
	Daemon Daemon
	// Concurrency bounds parallel key generation, target reads and writes and daemon actions;
	// 0 means the number of CPUs.
	Concurrency int
	// Logger receives one Info record per node applied; nil discards.
	Logger *slog.Logger
}

// Manager plans and applies mesh configuration to the nodes' targets. Safe for concurrent use,
// but two Applies to the same targets must not overlap.
type Manager struct {
	targets     Targets
	daemon      Daemon
	concurrency int
	log         *slog.Logger
}

// New returns a manager. It does no I/O.
func New(cfg Config) (*Manager, error) {
	if cfg.Targets == nil {
		return nil, fmt.Errorf("mesh: Config.Targets is required: %w", webinfra.ErrInvalidArgument)
	}
	if cfg.Concurrency < 0 {
		return nil, fmt.Errorf("mesh: Config.Concurrency %d: must not be negative: %w", cfg.Concurrency, webinfra.ErrInvalidArgument)
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = runtime.GOMAXPROCS(0)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Manager{targets: cfg.Targets, daemon: cfg.Daemon, concurrency: cfg.Concurrency, log: cfg.Logger.With("pkg", "mesh")}, nil
}

// PlanOptions are optional inputs of [Manager.Plan]; nil means none.
type PlanOptions struct {
	// Rotate names nodes whose keys are replaced by new ones. The rollout then writes the new
	// private key and restarts the node, and updates its host file on every node.
	Rotate []string
}

// Action is what a node's tincd needs after its files change.
type Action int

// Daemon actions, in increasing order of disruption (Stop aside).
const (
	// ActionNone: nothing (no change, or only scripts that tincd reads when it runs them).
	ActionNone Action = iota
	// ActionReload: SIGHUP, for ConnectTo lines and other nodes' host files.
	ActionReload
	// ActionRestart: stop and start, for the node's own key, Subnet, Port, cipher or tinc-up,
	// which tinc 1.0 reads only at start.
	ActionRestart
	// ActionStart: the node is new (it had no tinc.conf) or its first start is still owed.
	ActionStart
	// ActionStop: the node left the network; its files are deleted.
	ActionStop
)

var actionNames = []string{"none", "reload", "restart", "start", "stop"}

// String returns the action's name.
func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

func parseAction(s string) (Action, bool) {
	i := slices.Index(actionNames, strings.TrimSpace(s))
	return Action(i), i >= 0
}

// NodePlan is the change of one node.
type NodePlan struct {
	// Node is the node's name.
	Node string
	// Put are the files to write, new or changed, in path order.
	Put []File
	// Remove are the paths to delete, in order.
	Remove []string
	// Action is what tincd needs afterwards; always ActionNone without a [Config.Daemon].
	Action Action
	// Reason says why Action is needed, for the plan's reader.
	Reason string

	before map[string]fileSummary // the files found, for the plan's before values
}

// fileSummary is what a plan shows of a file it found: never the content, so that no key sits
// in a NodePlan's unexported field, where fmt would print it without asking File.Format.
type fileSummary struct {
	fields  webinfra.Fields
	private bool
}

func summarize(files map[string]File) map[string]fileSummary {
	out := make(map[string]fileSummary, len(files))
	for p, f := range files {
		out[p] = fileSummary{fields: fileFields(f), private: f.Private()}
	}
	return out
}

// Rollout is the result of [Manager.Plan]: the network with every address allocated and the
// changes of every node that has any, sorted by node name. It prints without key material.
type Rollout struct {
	// Network is the planned network, every node's address set.
	Network *Network
	// Nodes are the nodes with changes.
	Nodes []NodePlan
}

// Empty reports whether nothing is left to do.
func (r *Rollout) Empty() bool { return len(r.Nodes) == 0 }

// String lists every node's plan (see [NodePlan.String]), one per line after "mesh.Rollout:",
// without key material.
func (r *Rollout) String() string {
	if r == nil {
		return "mesh.Rollout(nil)"
	}
	var b strings.Builder
	b.WriteString("mesh.Rollout:")
	for _, np := range r.Nodes {
		b.WriteString("\n  ")
		b.WriteString(np.String())
	}
	return b.String()
}

// GoString returns the same as [Rollout.String].
func (r *Rollout) GoString() string { return r.String() }

// Format prints [Rollout.String] for every verb and flag: fmt's own printing of the struct
// would show File.Data under a verb that does not suit it, such as %s or %q.
func (r *Rollout) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(r.String())) }

// String gives the node, the files to put (path, mode, size), the paths to remove and the
// daemon action with its reason, never file content.
func (np NodePlan) String() string {
	put := make([]string, len(np.Put))
	for i, f := range np.Put {
		put[i] = f.String()
	}
	return fmt.Sprintf("%s: put [%s] remove [%s] then %s (%s)", np.Node, strings.Join(put, ", "), strings.Join(np.Remove, ", "), np.Action, np.Reason)
}

// GoString returns the same as [NodePlan.String].
func (np NodePlan) GoString() string { return np.String() }

// Format prints [NodePlan.String] for every verb and flag.
func (np NodePlan) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(np.String())) }

// Node returns the plan of the named node, or nil when it has no changes.
func (r *Rollout) Node(name string) *NodePlan {
	for i := range r.Nodes {
		if r.Nodes[i].Node == name {
			return &r.Nodes[i]
		}
	}
	return nil
}

// Plan reads the current files of every node of n and of every node the targets still hold,
// and returns what to write, delete and signal so that the targets match n:
//
//   - addresses are allocated by [Network.Allocate], keeping each node's previous address,
//     read back from its own host file;
//   - existing keys are kept, missing ones generated (in parallel), and the keys of
//     opts.Rotate replaced; a key file that does not parse is an error, never silently
//     replaced;
//   - a node the targets hold but n lacks is stopped and its files deleted;
//   - a daemon action owed by an interrupted Apply (recorded in a marker file before any file
//     changes) is planned again, so Apply can be re-run after any failure.
//
// Plan writes nothing. An invalid n gives an error matching webinfra.ErrInvalidArgument;
// cancelling ctx aborts it with ctx's error.
func (m *Manager) Plan(ctx context.Context, n *Network, opts *PlanOptions) (*Rollout, error) {
	if opts == nil {
		opts = &PlanOptions{}
	}
	if err := n.Validate(); err != nil {
		return nil, err
	}
	for _, r := range opts.Rotate {
		if n.Node(r) == nil {
			return nil, fmt.Errorf("mesh: plan: rotate %q: no such node: %w", r, webinfra.ErrInvalidArgument)
		}
	}
	listed, err := m.targets.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, node := range n.Nodes {
		names[node.Name] = true
	}
	all := slices.Sorted(maps.Keys(names))
	var removed []string
	for _, l := range listed {
		if !names[l] && !slices.Contains(removed, l) {
			removed = append(removed, l)
		}
	}
	slices.Sort(removed)
	current, err := m.readAll(ctx, slices.Concat(all, removed))
	if err != nil {
		return nil, err
	}

	prev := map[string]netip.Addr{}
	for _, node := range n.Nodes {
		if a, ok := previousAddress(current[node.Name][HostFile(node.Name)], n.Subnets[0]); ok {
			prev[node.Name] = a
		}
	}
	alloc, err := n.Allocate(prev)
	if err != nil {
		return nil, err
	}
	keys, err := m.keys(ctx, alloc, current, opts.Rotate)
	if err != nil {
		return nil, err
	}
	files, err := alloc.Render(keys)
	if err != nil {
		return nil, err
	}
	r := &Rollout{Network: alloc}
	for _, name := range all {
		np, err := m.diff(name, current[name], files[name])
		if err != nil {
			return nil, err
		}
		if np != nil {
			r.Nodes = append(r.Nodes, *np)
		}
	}
	for _, name := range removed {
		np := &NodePlan{Node: name, before: summarize(current[name]), Reason: "the node left the network"}
		for _, p := range slices.Sorted(maps.Keys(current[name])) {
			if p != filePendingState {
				np.Remove = append(np.Remove, p)
			}
		}
		if m.daemon != nil {
			np.Action = ActionStop
		}
		if len(np.Remove) > 0 || np.Action != ActionNone {
			r.Nodes = append(r.Nodes, *np)
		}
	}
	slices.SortFunc(r.Nodes, func(a, b NodePlan) int { return strings.Compare(a.Node, b.Node) })
	return r, nil
}

// readAll reads the targets of the named nodes in parallel, by path.
func (m *Manager) readAll(ctx context.Context, nodes []string) (map[string]map[string]File, error) {
	out := make(map[string]map[string]File, len(nodes))
	var mu sync.Mutex
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(m.concurrency)
	for _, name := range nodes {
		g.Go(func() error {
			files, err := m.targets.Target(name).Read(ctx)
			if err != nil {
				return fmt.Errorf("mesh: plan: read node %q: %w", name, err)
			}
			byPath := make(map[string]File, len(files))
			for _, f := range files {
				if Managed(f.Path) {
					byPath[f.Path] = f
				}
			}
			mu.Lock()
			out[name] = byPath
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// previousAddress reads a node's address from its own host file: its first host-length Subnet
// inside the node subnet.
func previousAddress(f File, subnet netip.Prefix) (netip.Addr, bool) {
	if f.Data == nil {
		return netip.Addr{}, false
	}
	h, err := ParseHostConfig(f.Data)
	if err != nil {
		return netip.Addr{}, false // a broken host file is rewritten; the address is allocated anew
	}
	for _, s := range h.Subnets {
		if s.IsSingleIP() && subnet.Contains(s.Addr()) {
			return s.Addr(), true
		}
	}
	return netip.Addr{}, false
}

// keys returns every node's keys: parsed from its files, or generated where missing or rotated.
func (m *Manager) keys(ctx context.Context, n *Network, current map[string]map[string]File, rotate []string) (map[string]Keys, error) {
	out := make(map[string]Keys, len(n.Nodes))
	var mu sync.Mutex
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(m.concurrency)
	for _, node := range n.Nodes {
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			k, err := nodeKeys(n, node.Name, current[node.Name], slices.Contains(rotate, node.Name))
			if err != nil {
				return err
			}
			mu.Lock()
			out[node.Name] = k
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

func nodeKeys(n *Network, name string, files map[string]File, rotate bool) (Keys, error) {
	var k Keys
	var err error
	if f, ok := files[FileRSAKey]; ok && !rotate {
		if k.RSA, err = ParseRSAPrivateKey(f.Data); err != nil {
			return Keys{}, fmt.Errorf("mesh: plan: node %q: %s: %w", name, FileRSAKey, err)
		}
		if k.RSA.N.BitLen() < 2048 {
			return Keys{}, fmt.Errorf("mesh: plan: node %q: %s: RSA key of %d bits, want at least 2048 (rotate it): %w", name, FileRSAKey, k.RSA.N.BitLen(), webinfra.ErrInvalidArgument)
		}
	} else if k.RSA, err = GenerateRSAKey(n.keyBits()); err != nil {
		return Keys{}, err
	}
	if !n.Ed25519 {
		return k, nil
	}
	if f, ok := files[FileEd25519Key]; ok && !rotate {
		if k.Ed25519, err = ParseEd25519PrivateKey(f.Data); err != nil {
			return Keys{}, fmt.Errorf("mesh: plan: node %q: %s: %w", name, FileEd25519Key, err)
		}
	} else if k.Ed25519, err = GenerateEd25519Key(nil); err != nil {
		return Keys{}, err
	}
	return k, nil
}

// diff compares a node's files with the desired ones and decides the daemon action.
func (m *Manager) diff(name string, current map[string]File, want []File) (*NodePlan, error) {
	np := &NodePlan{Node: name, before: summarize(current)}
	wanted := map[string]bool{}
	var reasons []string
	action := ActionNone
	need := func(a Action, why string) {
		action = max(action, a)
		if !slices.Contains(reasons, why) {
			reasons = append(reasons, why)
		}
	}
	self := HostFile(name)
	for _, f := range want {
		wanted[f.Path] = true
		old, ok := current[f.Path]
		if ok && bytes.Equal(old.Data, f.Data) && old.Mode == f.Mode {
			continue
		}
		np.Put = append(np.Put, f)
		if !ok && f.Path == FileTincConf {
			need(ActionStart, "new node")
			continue
		}
		switch {
		case f.Path == FileTincConf:
			if connectToOnly(old.Data, f.Data) {
				need(ActionReload, "ConnectTo changed")
			} else {
				need(ActionRestart, "tinc.conf changed")
			}
		case f.Path == self:
			if addressOnly(old.Data, f.Data) {
				need(ActionReload, "own Address changed")
			} else {
				need(ActionRestart, "own host file changed")
			}
		case f.Path == FileRSAKey || f.Path == FileEd25519Key:
			need(ActionRestart, "key changed")
		case f.Path == FileTincUp:
			need(ActionRestart, "tinc-up changed")
		case strings.HasPrefix(f.Path, hostsDir):
			need(ActionReload, "host files changed")
		}
	}
	for _, p := range slices.Sorted(maps.Keys(current)) {
		if !wanted[p] && p != filePendingState {
			np.Remove = append(np.Remove, p)
			if strings.HasPrefix(p, hostsDir) {
				need(ActionReload, "host files changed")
			}
		}
	}
	if marker, ok := current[filePendingState]; ok {
		owed, valid := parseAction(string(marker.Data))
		if !valid {
			return nil, fmt.Errorf("mesh: plan: node %q: %s holds %q, not an action: %w", name, filePendingState, marker.Data, webinfra.ErrFailedPrecondition)
		}
		if owed != ActionNone {
			need(owed, "owed by an interrupted apply")
		}
	}
	if _, existed := current[FileTincConf]; action == ActionStart && !existed {
		reasons = []string{"new node"}
	}
	if m.daemon == nil {
		action, reasons = ActionNone, nil
	}
	np.Action, np.Reason = action, strings.Join(reasons, ", ")
	if len(np.Put) == 0 && len(np.Remove) == 0 && np.Action == ActionNone {
		return nil, nil
	}
	return np, nil
}

// connectToOnly reports whether two tinc.conf files differ only in their ConnectTo lines,
// which SIGHUP re-reads.
func connectToOnly(old, new []byte) bool {
	a, errA := ParseConf(old)
	b, errB := ParseConf(new)
	return errA == nil && errB == nil && bytes.Equal(a.Without("ConnectTo").Marshal(), b.Without("ConnectTo").Marshal())
}

// addressOnly reports whether two host files differ only in Address lines, which matter to the
// nodes dialling this one, not to the node itself.
func addressOnly(old, new []byte) bool {
	a, errA := ParseConf(old)
	b, errB := ParseConf(new)
	return errA == nil && errB == nil && bytes.Equal(a.Without("Address").Marshal(), b.Without("Address").Marshal())
}

// Plan returns the rollout as a webinfra.Plan: one mesh_file change per file (content shown as
// size and SHA-256, keys' hashes marked sensitive) and one tincd change per daemon action.
func (r *Rollout) Plan() webinfra.Plan {
	var p webinfra.Plan
	for _, np := range r.Nodes {
		for _, f := range np.Put {
			c := webinfra.Change{Kind: "mesh_file", ID: np.Node + " " + f.Path, Action: webinfra.Create, After: fileFields(f)}
			if old, ok := np.before[f.Path]; ok {
				c.Action, c.Before = webinfra.Update, old.fields
			}
			if f.Private() {
				c.Sensitive = []string{"sha256"}
			}
			p.Add(c)
		}
		for _, path := range np.Remove {
			c := webinfra.Change{Kind: "mesh_file", ID: np.Node + " " + path, Action: webinfra.Delete, Before: np.before[path].fields}
			if np.before[path].private {
				c.Sensitive = []string{"sha256"}
			}
			p.Add(c)
		}
		if np.Action != ActionNone {
			p.Add(webinfra.Change{Kind: "tincd", ID: np.Node, Action: webinfra.Update,
				Before: webinfra.Fields{"action": ActionNone.String()},
				After:  webinfra.Fields{"action": np.Action.String(), "reason": np.Reason}})
		}
	}
	return p
}

func fileFields(f File) webinfra.Fields {
	sum := sha256.Sum256(f.Data)
	return webinfra.Fields{"size": len(f.Data), "mode": fmt.Sprintf("%#o", f.Mode), "sha256": hex.EncodeToString(sum[:8])}
}
