package mesh

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"
)

// Apply performs a rollout from [Manager.Plan] in three phases, so that nodes never point at a
// peer whose files are not written yet:
//
//  1. every node's files are written (each atomically); before them, a marker records the
//     daemon action the node is owed;
//  2. daemons are signalled: stops first, then restarts, then reloads, then starts (restarts
//     go before reloads so that a node with a new key is back before its peers re-read its host
//     file and reconnect);
//  3. the markers are removed.
//
// Apply stops at the first failure with an error naming the node. Whatever it had done is
// kept: files written stay written and owed actions stay recorded, so a new Plan and Apply
// converge. Applying a rollout whose files are already in place rewrites them identically.
// Cancelling ctx stops it between steps with ctx's error.
func (m *Manager) Apply(ctx context.Context, r *Rollout) error {
	if err := m.each(ctx, r.Nodes, func(ctx context.Context, np NodePlan) error {
		t := m.targets.Target(np.Node)
		if np.Action != ActionNone && m.daemon != nil {
			marker := File{Path: filePendingState, Data: []byte(np.Action.String() + "\n"), Mode: 0o644}
			if err := t.Write(ctx, []File{marker}, nil); err != nil {
				return fmt.Errorf("mesh: apply node %q: record pending %s: %w", np.Node, np.Action, err)
			}
		}
		if err := t.Write(ctx, np.Put, np.Remove); err != nil {
			return fmt.Errorf("mesh: apply node %q: %w", np.Node, err)
		}
		m.log.InfoContext(ctx, "files written", "node", np.Node, "put", len(np.Put), "removed", len(np.Remove))
		return nil
	}); err != nil {
		return err
	}
	if m.daemon == nil {
		return nil
	}
	for _, action := range []Action{ActionStop, ActionRestart, ActionReload, ActionStart} {
		var group []NodePlan
		for _, np := range r.Nodes {
			if np.Action == action {
				group = append(group, np)
			}
		}
		if err := m.each(ctx, group, func(ctx context.Context, np NodePlan) error {
			if err := m.signal(ctx, np.Node, action); err != nil {
				return fmt.Errorf("mesh: apply node %q: %s tincd: %w", np.Node, action, err)
			}
			m.log.InfoContext(ctx, "tincd signalled", "node", np.Node, "action", action.String(), "reason", np.Reason)
			return m.targets.Target(np.Node).Write(ctx, nil, []string{filePendingState})
		}); err != nil {
			return err
		}
	}
	return nil
}

func (m *Manager) signal(ctx context.Context, node string, a Action) error {
	switch a {
	case ActionStop:
		return m.daemon.Stop(ctx, node)
	case ActionRestart:
		return m.daemon.Restart(ctx, node)
	case ActionReload:
		return m.daemon.Reload(ctx, node)
	case ActionStart:
		return m.daemon.Start(ctx, node)
	}
	return nil
}

// each runs fn for every node plan, at most m.concurrency at once, and returns the first error.
func (m *Manager) each(ctx context.Context, nodes []NodePlan, fn func(context.Context, NodePlan) error) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(m.concurrency)
	for _, np := range nodes {
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			return fn(ctx, np)
		})
	}
	return g.Wait()
}
