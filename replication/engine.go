package replication

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/webinfra/webinfra"
)

// Engine replicates the data folders of services between nodes with a single writer per
// folder. [SyncthingEngine] implements it over Syncthing's REST API; a future cache-tier file
// system can implement it too, so callers should depend on Engine, not on Syncthing.
//
// Nodes are named as in [Placement]. Implementations must be safe for concurrent use for
// different folders; two calls changing the same folder must not overlap.
type Engine interface {
	// Plan reads the nodes and returns, for every node of desired, the changes that bring it
	// to its desired state; a node already there has an empty plan. It only reads. desired
	// names nodes the engine knows; another name gives an error matching
	// [webinfra.ErrInvalidArgument], an invalid state the *[webinfra.ValidationError] of
	// [NodeState.Validate]. The writer of each folder is the node whose [FolderState.Type] is
	// [WriterType] (see [FolderTypes]).
	Plan(ctx context.Context, desired map[string]NodeState) (map[string]*NodePlan, error)
	// Apply performs plans, node by node in name order, each change idempotent, stopping at
	// the first failure with an error naming the node and the change. Re-running Plan and
	// Apply after any failure converges; after a successful Apply, Plan returns empty plans.
	// Apply does not move writers safely: a change of a folder's writer must go through
	// Failover, so that Apply only ever confirms the types Failover set.
	Apply(ctx context.Context, plans map[string]*NodePlan) error
	// Failover moves the single writer of folder from node from to node to, so that every
	// write acknowledged on from before the switch is on to when to becomes the writer and no
	// two nodes write at once; see the package function [Failover] for the steps, the report
	// and the errors. It is idempotent: when to is already the writer it changes nothing.
	Failover(ctx context.Context, folder, from, to string, opts *FailoverOptions) (*FailoverReport, error)
	// Audit reports how the replicas of folders (none means all) diverge: conflict copies,
	// sync errors, local changes on non-writers, metadata drift, writer count. It only reads;
	// see the package function [Audit].
	Audit(ctx context.Context, folders ...string) (*AuditReport, error)
	// Repair fixes the repairable findings of report (reverts and rescans) and lists the
	// others as skipped; see the package function [Repair]. Repairs take effect
	// asynchronously; audit again to confirm.
	Repair(ctx context.Context, report *AuditReport) (*RepairReport, error)
}

var _ Engine = (*SyncthingEngine)(nil)

// SyncthingEngine is the [Engine] over one Syncthing instance per node. It is safe for
// concurrent use within the limits stated on [Engine].
type SyncthingEngine struct {
	nodes map[string]*Client
}

// NewSyncthingEngine returns an engine over nodes, node name → client of that node's
// Syncthing; the map is copied. An empty map, an empty name or a nil client gives an error
// matching [webinfra.ErrInvalidArgument]. It does no I/O.
func NewSyncthingEngine(nodes map[string]*Client) (*SyncthingEngine, error) {
	if len(nodes) == 0 {
		return nil, fmt.Errorf("replication: engine: no nodes: %w", webinfra.ErrInvalidArgument)
	}
	for n, c := range nodes {
		if n == "" || c == nil {
			return nil, fmt.Errorf("replication: engine: node %q: empty name or nil client: %w", n, webinfra.ErrInvalidArgument)
		}
	}
	return &SyncthingEngine{nodes: maps.Clone(nodes)}, nil
}

// Nodes returns the node names, sorted.
func (e *SyncthingEngine) Nodes() []string { return sortedNodes(e.nodes) }

// Plan runs [PlanNode] for each node of desired, in name order; see [Engine.Plan].
func (e *SyncthingEngine) Plan(ctx context.Context, desired map[string]NodeState) (map[string]*NodePlan, error) {
	for n := range desired {
		if e.nodes[n] == nil {
			return nil, fmt.Errorf("replication: plan: unknown node %q: %w", n, webinfra.ErrInvalidArgument)
		}
	}
	out := make(map[string]*NodePlan, len(desired))
	for _, n := range sortedKeysOf(desired) {
		p, err := PlanNode(ctx, e.nodes[n], desired[n])
		if err != nil {
			return nil, fmt.Errorf("replication: plan node %q: %w", n, err)
		}
		out[n] = p
	}
	return out, nil
}

// Apply runs [ApplyNode] for each plan, in node name order; see [Engine.Apply].
func (e *SyncthingEngine) Apply(ctx context.Context, plans map[string]*NodePlan) error {
	for n := range plans {
		if e.nodes[n] == nil {
			return fmt.Errorf("replication: apply: unknown node %q: %w", n, webinfra.ErrInvalidArgument)
		}
	}
	for _, n := range sortedKeysOf(plans) {
		if err := ApplyNode(ctx, e.nodes[n], plans[n]); err != nil {
			return fmt.Errorf("replication: apply node %q: %w", n, err)
		}
	}
	return nil
}

// Failover calls [Failover] with the engine's nodes.
func (e *SyncthingEngine) Failover(ctx context.Context, folder, from, to string, opts *FailoverOptions) (*FailoverReport, error) {
	return Failover(ctx, e.nodes, folder, from, to, opts)
}

// Audit calls [Audit] with the engine's nodes.
func (e *SyncthingEngine) Audit(ctx context.Context, folders ...string) (*AuditReport, error) {
	return Audit(ctx, e.nodes, folders...)
}

// Repair calls [Repair] with the engine's nodes.
func (e *SyncthingEngine) Repair(ctx context.Context, report *AuditReport) (*RepairReport, error) {
	return Repair(ctx, e.nodes, report)
}

func sortedKeysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
