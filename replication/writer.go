package replication

import (
	"context"
	"fmt"
	"slices"

	"github.com/webinfra/webinfra"
)

// WriterType is the folder type of a folder's single writer, the active host; every other
// holder of the folder is [ReceiveOnly].
//
// It is [SendReceive], not [SendOnly]. The receivers are receive-only, so nothing they do ever
// becomes the global version (Syncthing announces their local changes as invalid): send-only
// on the writer would add no protection. What send-only would take away matters during a
// failover: a send-only writer never pulls, so a writer promoted before it has every version
// of the old one sits "out of sync" until [Client.Override] pushes its own state over the
// missing versions, losing them; a send-receive writer keeps pulling what it lacks and
// converges. Receive-only replicas are also the only ones [Client.Revert] can reset to the
// global state, which is what [Failover] and [Repair] need.
const WriterType = SendReceive

// ActiveHost tells which node currently hosts, and so writes, a service's folder. The cluster
// layer answers it, from a Lease or from where the service's pod runs; this package does not
// depend on how. Implementations must be safe for concurrent use.
type ActiveHost interface {
	// ActiveHost returns the name of the node (as in [Placement]) that is the folder's writer.
	// An unknown folder gives an error matching [webinfra.ErrNotFound]; "" with a nil error
	// means no node is active now (every replica is then receive-only). It may block; ctx
	// cancellation aborts it with ctx's error.
	ActiveHost(ctx context.Context, folder string) (node string, err error)
}

// ActiveHostFunc adapts a function to [ActiveHost].
type ActiveHostFunc func(ctx context.Context, folder string) (string, error)

// ActiveHost calls f.
func (f ActiveHostFunc) ActiveHost(ctx context.Context, folder string) (string, error) {
	return f(ctx, folder)
}

// PrimaryHost is an [ActiveHost] answering the placement's primary ([Placement.Primary]) for
// each folder, for deployments where the service runs on its preferred node. A folder the
// placement does not hold gives an error matching [webinfra.ErrNotFound]. It does no I/O.
type PrimaryHost Placement

// ActiveHost returns the primary of folder.
func (p PrimaryHost) ActiveHost(_ context.Context, folder string) (string, error) {
	if n := Placement(p).Primary(folder); n != "" {
		return n, nil
	}
	return "", fmt.Errorf("replication: active host of folder %q: not placed: %w", folder, webinfra.ErrNotFound)
}

// FolderTypes returns the folder type every holder of folder must have: [WriterType] for
// active, [ReceiveOnly] for the other nodes p places the folder on. active "" makes every
// holder receive-only (no writer). A folder p does not place gives an error matching
// [webinfra.ErrNotFound]; an active node that does not hold the folder one matching
// [webinfra.ErrFailedPrecondition], since a writer without a replica would write alone. It
// does no I/O; use its result as [FolderState.Type] in each node's [NodeState].
func FolderTypes(p Placement, folder, active string) (map[string]FolderType, error) {
	nodes, ok := p[folder]
	if !ok || len(nodes) == 0 {
		return nil, fmt.Errorf("replication: folder types of %q: not placed: %w", folder, webinfra.ErrNotFound)
	}
	if active != "" && !slices.Contains(nodes, active) {
		return nil, fmt.Errorf("replication: folder types of %q: active host %q holds no replica (holders %v): %w",
			folder, active, nodes, webinfra.ErrFailedPrecondition)
	}
	out := make(map[string]FolderType, len(nodes))
	for _, n := range nodes {
		out[n] = ReceiveOnly
	}
	if active != "" {
		out[active] = WriterType
	}
	return out, nil
}

// ResolveFolderTypes asks hosts for folder's active host and returns [FolderTypes] for it.
// Errors of hosts are returned wrapped, ctx's included.
func ResolveFolderTypes(ctx context.Context, p Placement, hosts ActiveHost, folder string) (map[string]FolderType, error) {
	active, err := hosts.ActiveHost(ctx, folder)
	if err != nil {
		return nil, fmt.Errorf("replication: active host of folder %q: %w", folder, err)
	}
	return FolderTypes(p, folder, active)
}

// isWriter reports whether a folder of type t sends its local changes.
func isWriter(t FolderType) bool { return t == SendReceive || t == SendOnly || t == "" }
