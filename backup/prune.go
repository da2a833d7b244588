package backup

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
)

// PrunePlan is what [Client.Prune] would do to one set: a dry run to show before applying.
type PrunePlan struct {
	// Host and Set name the set.
	Host string `json:"host"`
	Set  string `json:"set"`
	// Retention is the policy the plan applies.
	Retention Retention `json:"retention"`
	// Decisions cover every complete snapshot, newest first.
	Decisions []Decision `json:"decisions"`
	// Damaged are manifests that do not decode (an upload cut short); prune removes them.
	Damaged []SnapshotInfo `json:"damaged,omitempty"`
	// Objects and Bytes count the data objects no kept snapshot uses, which prune deletes
	// (including leftovers of interrupted snapshots).
	Objects int   `json:"objects"`
	Bytes   int64 `json:"bytes"`
	// Recent counts unused objects uploaded less than [Config.LockTTL] ago, which prune leaves
	// for a later run.
	Recent int `json:"recent,omitempty"`
}

// Remove returns the snapshots the plan removes, newest first.
func (p *PrunePlan) Remove() []SnapshotInfo {
	var out []SnapshotInfo
	for _, d := range p.Decisions {
		if !d.Keep {
			out = append(out, d.Snapshot)
		}
	}
	return out
}

// String renders the plan, one line per snapshot, then the garbage count.
func (p *PrunePlan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "prune %s/%s:\n", p.Host, p.Set)
	for _, d := range p.Decisions {
		b.WriteString("  " + d.String() + "\n")
	}
	for _, d := range p.Damaged {
		fmt.Fprintf(&b, "  remove %s (damaged manifest)\n", d.ID)
	}
	fmt.Fprintf(&b, "  delete %d unused objects (%d bytes)\n", p.Objects, p.Bytes)
	return b.String()
}

// PruneResult says what a prune removed.
type PruneResult struct {
	// Snapshots and Objects count the manifests and data objects removed; Bytes their data.
	Snapshots, Objects int
	Bytes              int64
	// Recent counts objects no snapshot uses but uploaded less than the lock TTL ago, left for
	// a later prune: a run that lost its lock may still be about to find that out.
	Recent int
}

// PlanPrune computes what pruning set (of the client's host) with r would remove. It only reads:
// one listing of the manifests, one read of each, and one listing of the objects.
func (c *Client) PlanPrune(ctx context.Context, set string, r Retention) (*PrunePlan, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return c.planPrune(ctx, c.cfg.Host, set, r)
}

func (c *Client) planPrune(ctx context.Context, host, set string, r Retention) (*PrunePlan, error) {
	snaps, err := c.List(ctx, host, set)
	if err != nil {
		return nil, err
	}
	plan := &PrunePlan{Host: host, Set: set, Retention: r}
	manifests := map[string]*Manifest{}
	var good []SnapshotInfo
	for _, s := range snaps {
		m, err := c.readManifest(ctx, host, set, s.ID)
		if errors.Is(err, ErrCorrupt) {
			plan.Damaged = append(plan.Damaged, s)
			continue
		}
		if err != nil {
			return nil, err
		}
		manifests[s.ID] = m
		good = append(good, s)
	}
	plan.Decisions = ApplyRetention(good, r)
	used := map[string]bool{}
	for _, d := range plan.Decisions {
		if !d.Keep {
			continue
		}
		for _, e := range manifests[d.Snapshot.ID].Entries {
			if e.Type == TypeFile {
				used[dataObject(host, set, e.SHA256)] = true
			}
		}
	}
	f, err := c.fs(ctx)
	if err != nil {
		return nil, err
	}
	objs, err := listObjects(rcloneCtx(ctx), f, dataDir(host, set))
	if err != nil {
		return nil, err
	}
	young := c.now().Add(-c.cfg.LockTTL)
	for remote, o := range objs {
		switch {
		case used[remote]:
		case o.ModTime(ctx).After(young):
			plan.Recent++
		default:
			plan.Objects++
			plan.Bytes += o.Size()
		}
	}
	return plan, nil
}

// Prune applies plan's retention to its set: it takes the set's lock (so no snapshot runs
// meanwhile; a held lock gives [*LockedError]), computes the plan again under the lock so it
// acts on the current state, and fails with webinfra.ErrFailedPrecondition if that would remove
// a snapshot the given plan keeps (the caller re-plans and shows the new plan). It removes the
// dropped and damaged manifests first, then the objects no kept snapshot uses and uploaded at
// least [Config.LockTTL] ago (younger ones are counted in [PruneResult.Recent]). The newest
// complete snapshot is never removed. Prune is idempotent; after a failure a re-run finishes the
// job.
func (c *Client) Prune(ctx context.Context, plan *PrunePlan) (*PruneResult, error) {
	if plan == nil || plan.Host != c.cfg.Host {
		return nil, fmt.Errorf("backup: prune: plan for another host or nil: %w", errInvalidArg)
	}
	lock, err := c.AcquireLock(ctx, plan.Set, "prune")
	if err != nil {
		return nil, err
	}
	defer func() { _ = lock.Release(ctx) }()
	now, err := c.planPrune(ctx, plan.Host, plan.Set, plan.Retention)
	if err != nil {
		return nil, err
	}
	keptBefore := map[string]bool{}
	for _, d := range plan.Decisions {
		keptBefore[d.Snapshot.ID] = d.Keep
	}
	for _, s := range now.Remove() {
		if keep, known := keptBefore[s.ID]; known && keep {
			return nil, fmt.Errorf("backup: prune %s/%s: snapshot %s is kept by the plan but would go now; plan again: %w", plan.Host, plan.Set, s.ID, errFailedPrecondition)
		}
	}
	f, err := c.fs(ctx)
	if err != nil {
		return nil, err
	}
	rctx := rcloneCtx(ctx)
	res := &PruneResult{}
	for _, s := range append(now.Remove(), now.Damaged...) {
		if err := removeObject(rctx, f, path.Join(snapDir(s.Host, s.Set), s.ID+manifestSuffix())); err != nil {
			return res, err
		}
		res.Snapshots++
	}
	// The object set is recomputed from the manifests left, under the lock.
	after, err := c.planPrune(ctx, plan.Host, plan.Set, Retention{})
	if err != nil {
		return res, err
	}
	used := map[string]bool{}
	for _, d := range after.Decisions {
		m, err := c.readManifest(ctx, plan.Host, plan.Set, d.Snapshot.ID)
		if err != nil {
			return res, err
		}
		for _, e := range m.Entries {
			if e.Type == TypeFile {
				used[dataObject(plan.Host, plan.Set, e.SHA256)] = true
			}
		}
	}
	objs, err := listObjects(rctx, f, dataDir(plan.Host, plan.Set))
	if err != nil {
		return res, err
	}
	var garbage []string
	young := c.now().Add(-c.cfg.LockTTL)
	for remote, o := range objs {
		if used[remote] {
			continue
		}
		if o.ModTime(rctx).After(young) {
			res.Recent++
			continue
		}
		garbage = append(garbage, remote)
	}
	slices.Sort(garbage)
	for _, remote := range garbage {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if err := objs[remote].Remove(rctx); err != nil {
			return res, fmt.Errorf("backup: remove %q: %w", remote, err)
		}
		res.Objects++
		res.Bytes += objs[remote].Size()
	}
	c.log.Info("backup: pruned", "host", plan.Host, "set", plan.Set, "snapshots", res.Snapshots, "objects", res.Objects)
	return res, nil
}
