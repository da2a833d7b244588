package security

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Lock is a held cluster-wide lock. *cluster.HeldLease satisfies it.
type Lock interface {
	// Renew extends the claim; an error means the lock may be lost and the rollout stops.
	Renew(ctx context.Context) error
	// Release gives the lock up.
	Release(ctx context.Context) error
}

// Locker takes the lock once, failing at once when someone else holds it. With the cluster
// package, wire it as
//
//	func(ctx context.Context) (security.Lock, error) {
//		l, err := client.TryAcquireLease(ctx, spec)
//		if err != nil {
//			return nil, err // never a typed nil inside the interface
//		}
//		return l, nil
//	}
type Locker func(ctx context.Context) (Lock, error)

// Cordoner marks nodes (un)schedulable. *cluster.Client satisfies it.
type Cordoner interface {
	Cordon(ctx context.Context, node string) error
	Uncordon(ctx context.Context, node string) error
}

// Drainer evicts a node's pods, honouring PodDisruptionBudgets, and fails (without hanging)
// when they block. cluster.Client's Drain takes a cluster.DrainOptions this package cannot
// name, so wire it with an adapter:
//
//	security.DrainFunc(func(ctx context.Context, node string) error {
//		return client.Drain(ctx, node, cluster.DrainOptions{Timeout: 2 * time.Minute})
//	})
type Drainer interface {
	Drain(ctx context.Context, node string) error
}

// DrainFunc adapts a function to [Drainer].
type DrainFunc func(ctx context.Context, node string) error

// Drain calls f.
func (f DrainFunc) Drain(ctx context.Context, node string) error { return f(ctx, node) }

// NodeState is what a rollout needs to know about a node.
type NodeState struct {
	Name     string
	Ready    bool
	Cordoned bool
}

// NodeLister lists the cluster's nodes. With the cluster package:
//
//	security.NodeListerFunc(func(ctx context.Context) ([]security.NodeState, error) {
//		nodes, err := client.Nodes(ctx) // cluster.NodeInfo has Name, Ready, Cordoned
//		...
//	})
type NodeLister interface {
	NodeStates(ctx context.Context) ([]NodeState, error)
}

// NodeListerFunc adapts a function to [NodeLister].
type NodeListerFunc func(ctx context.Context) ([]NodeState, error)

// NodeStates calls f.
func (f NodeListerFunc) NodeStates(ctx context.Context) ([]NodeState, error) { return f(ctx) }

// Updater is the part of [Landscape] a rollout uses.
type Updater interface {
	ComputersByTag(ctx context.Context, tag string) ([]Computer, error)
	ComputerByName(ctx context.Context, name string) (Computer, error)
	UpgradePackages(ctx context.Context, computerIDs []int, securityOnly bool) (Activity, error)
	Reboot(ctx context.Context, computerIDs []int) (Activity, error)
	WaitActivity(ctx context.Context, id int) (Activity, error)
}

var _ Updater = (*Landscape)(nil)

// RolloutConfig configures a [Rollout]. Every interface field is required.
type RolloutConfig struct {
	// ID names this rollout in the state ([RolloutState.ID]); required.
	ID string
	// Policy says which computers, how many at once, when. It must be valid.
	Policy UpdatePolicy
	// Lock takes the cluster-wide lock for the whole run.
	Lock Locker
	// Nodes cordons and uncordons; Drainer drains; Lister reports readiness.
	Nodes   Cordoner
	Drainer Drainer
	Lister  NodeLister
	// Landscape upgrades and reboots the computers (hostname = node name).
	Landscape Updater
	// State keeps the progress with the lock.
	State StateStore
	// WaitForWindow waits for the next maintenance window instead of failing with
	// [ErrOutsideWindow].
	WaitForWindow bool
	// RenewEvery is the lock renewal period; 0 means 10s. Keep it well within the lock's TTL.
	RenewEvery time.Duration
	// Poll is the period of the Ready check; 0 means 2s.
	Poll time.Duration
	// Now is the clock for windows; nil means time.Now.
	Now func() time.Time
	// OnStep, if set, is called as each node starts each step; it must not block.
	OnStep func(node, step string)
	// Logger gets an Info line per step; nil discards them.
	Logger *slog.Logger
}

// Rollout updates a cluster's nodes node by node, in the spirit of kured and
// system-upgrade-controller: take the lock; for each node (Concurrency at a time, never more
// than MaxUnavailable nodes out counting those already down): cordon, drain, upgrade through
// Landscape and wait for the activity, reboot when required and wait for it, wait until the
// node is Ready, uncordon. It stops at the first failure and saves its progress after every
// step, so a new run (after a crash or a fix) resumes. Not safe for concurrent Run calls on one
// value; the lock keeps separate processes apart.
type Rollout struct {
	cfg RolloutConfig
	log *slog.Logger
}

// RolloutResult summarises a run.
type RolloutResult struct {
	// Updated lists the nodes updated by this run, in completion order.
	Updated []string
	// Rebooted lists the nodes rebooted by this run.
	Rebooted []string
	// Skipped lists the nodes already done in an earlier run of the same ID.
	Skipped []string
}

// NewRollout checks the configuration; it touches nothing.
func NewRollout(cfg RolloutConfig) (*Rollout, error) {
	if cfg.ID == "" {
		return nil, invalidf("rollout ID is required")
	}
	if err := cfg.Policy.Validate(); err != nil {
		return nil, err
	}
	if cfg.Lock == nil || cfg.Nodes == nil || cfg.Drainer == nil || cfg.Lister == nil || cfg.Landscape == nil || cfg.State == nil {
		return nil, invalidf("rollout: Lock, Nodes, Drainer, Lister, Landscape and State are required")
	}
	cfg.Policy = cfg.Policy.withDefaults()
	if cfg.RenewEvery == 0 {
		cfg.RenewEvery = 10 * time.Second
	}
	if cfg.Poll == 0 {
		cfg.Poll = 2 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Rollout{cfg: cfg, log: orDiscard(cfg.Logger).With("pkg", "security", "rollout", cfg.ID)}, nil
}

// run is the state of one Run.
type run struct {
	r        *Rollout
	mu       sync.Mutex
	state    RolloutState
	inflight map[string]bool
	res      RolloutResult
}

// Run performs (or resumes) the rollout. It returns a [*RolloutError] naming the node and step
// that failed (a PodDisruptionBudget blocking the drain comes back through errors.As), an error
// wrapping the lock's when the lock is held elsewhere, [ErrBudgetExceeded] when too many nodes
// are out already, or [ErrOutsideWindow]. After a drain failure the node is uncordoned again (its
// pods never left); after a later failure it stays cordoned for the next run to finish.
// Cancelling ctx stops the run between steps; the state stays resumable.
func (r *Rollout) Run(ctx context.Context) (*RolloutResult, error) {
	lock, err := r.cfg.Lock(ctx)
	if err != nil {
		return nil, fmt.Errorf("security: rolling update %s: take lock: %w", r.cfg.ID, err)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	defer func() { _ = lock.Release(context.WithoutCancel(ctx)) }()
	go func() {
		t := time.NewTicker(r.cfg.RenewEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := lock.Renew(ctx); err != nil && ctx.Err() == nil {
					cancel(fmt.Errorf("security: rolling update lost its lock: %w", err))
					return
				}
			}
		}
	}()

	st, err := r.cfg.State.Load(ctx)
	if err != nil {
		return nil, err
	}
	if st.ID != r.cfg.ID {
		st = RolloutState{ID: r.cfg.ID}
	}
	if st.InProgress == nil {
		st.InProgress = map[string]NodeProgress{}
	}
	st.Failed = nil
	ru := &run{r: r, state: st, inflight: map[string]bool{}}

	comps, err := r.cfg.Landscape.ComputersByTag(ctx, r.cfg.Policy.Tag)
	if err != nil {
		return nil, fmt.Errorf("security: rolling update %s: %w", r.cfg.ID, err)
	}
	var order []string
	for _, c := range comps {
		order = append(order, c.Hostname)
	}
	sort.Strings(order)
	// Nodes a crashed run left out of service go first.
	sort.SliceStable(order, func(i, j int) bool {
		_, a := st.InProgress[order[i]]
		_, b := st.InProgress[order[j]]
		return a && !b
	})

	var wg sync.WaitGroup
	var firstErr error
	var errOnce sync.Once
	fail := func(err error) { errOnce.Do(func() { firstErr = err; cancel(err) }) }
	slots := make(chan struct{}, r.cfg.Policy.Concurrency)
	done := make(chan struct{}, len(order))

schedule:
	for _, node := range order {
		if slices.Contains(st.Done, node) {
			ru.res.Skipped = append(ru.res.Skipped, node)
			continue
		}
		for {
			if ctx.Err() != nil {
				break schedule
			}
			if err := r.waitWindow(ctx); err != nil {
				fail(err)
				break schedule
			}
			ok, err := ru.budgetAllows(ctx, node)
			if err != nil {
				fail(err)
				break schedule
			}
			if ok {
				break
			}
			ru.mu.Lock()
			busy := len(ru.inflight) > 0
			ru.mu.Unlock()
			if !busy {
				fail(ru.budgetError(ctx))
				break schedule
			}
			select { // wait for one of ours to come back, then look again
			case <-done:
			case <-ctx.Done():
			}
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			break schedule
		}
		if ctx.Err() != nil {
			<-slots
			break
		}
		ru.mu.Lock()
		ru.inflight[node] = true
		ru.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots; done <- struct{}{} }()
			if err := ru.updateNode(ctx, node); err != nil {
				fail(err)
			}
			ru.mu.Lock()
			delete(ru.inflight, node)
			ru.mu.Unlock()
		}()
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = context.Cause(ctx)
	}
	res := ru.res
	return &res, firstErr
}

func (r *Rollout) waitWindow(ctx context.Context) error {
	now := r.cfg.Now()
	open, _ := r.cfg.Policy.NextWindow(now)
	if !open.After(now) {
		return nil
	}
	if !r.cfg.WaitForWindow {
		return fmt.Errorf("%w: next opens %s", ErrOutsideWindow, open.Format(time.RFC3339))
	}
	r.log.Info("waiting for maintenance window", "opens", open)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(open.Sub(now)):
		return nil
	}
}

// budgetAllows reports whether node may be taken out: nodes out (NotReady or cordoned) other
// than node itself, plus ours in flight, plus one, must not exceed MaxUnavailable.
func (ru *run) budgetAllows(ctx context.Context, node string) (bool, error) {
	out, err := ru.outNodes(ctx, node)
	if err != nil {
		return false, err
	}
	return len(out)+1 <= ru.r.cfg.Policy.MaxUnavailable, nil
}

func (ru *run) outNodes(ctx context.Context, node string) ([]string, error) {
	states, err := ru.r.cfg.Lister.NodeStates(ctx)
	if err != nil {
		return nil, fmt.Errorf("security: rolling update: list nodes: %w", err)
	}
	ru.mu.Lock()
	defer ru.mu.Unlock()
	set := map[string]bool{}
	for n := range ru.inflight {
		set[n] = true
	}
	for _, s := range states {
		if s.Name != node && (!s.Ready || s.Cordoned) {
			set[s.Name] = true
		}
	}
	delete(set, node)
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

func (ru *run) budgetError(ctx context.Context) error {
	out, _ := ru.outNodes(ctx, "")
	return fmt.Errorf("%w: %d of %d allowed nodes already out (%s)", ErrBudgetExceeded, len(out), ru.r.cfg.Policy.MaxUnavailable, strings.Join(out, ", "))
}

// progress records node's step (and activities) and saves the state.
func (ru *run) progress(ctx context.Context, node string, edit func(p *NodeProgress)) error {
	ru.mu.Lock()
	defer ru.mu.Unlock()
	p := ru.state.InProgress[node]
	edit(&p)
	ru.state.InProgress[node] = p
	return ru.r.cfg.State.Save(context.WithoutCancel(ctx), ru.state.clone())
}

func (ru *run) finish(ctx context.Context, node string, rebooted bool, failure *NodeFailure, keepInProgress bool) error {
	ru.mu.Lock()
	defer ru.mu.Unlock()
	if failure != nil {
		ru.state.Failed = failure
		if !keepInProgress {
			delete(ru.state.InProgress, node)
		}
	} else {
		delete(ru.state.InProgress, node)
		ru.state.Done = append(ru.state.Done, node)
		ru.res.Updated = append(ru.res.Updated, node)
		if rebooted {
			ru.res.Rebooted = append(ru.res.Rebooted, node)
		}
	}
	return ru.r.cfg.State.Save(context.WithoutCancel(ctx), ru.state.clone())
}

func (ru *run) step(node, step string) {
	ru.r.log.Info("step", "node", node, "step", step)
	if ru.r.cfg.OnStep != nil {
		ru.r.cfg.OnStep(node, step)
	}
}

// updateNode runs one node's steps, resuming from its recorded progress.
func (ru *run) updateNode(ctx context.Context, node string) error {
	r := ru.r
	pol := r.cfg.Policy
	ru.mu.Lock()
	prog := ru.state.InProgress[node]
	ru.mu.Unlock()
	failed := func(step string, err error, keep bool) error {
		_ = ru.finish(ctx, node, false, &NodeFailure{Node: node, Step: step, Error: err.Error()}, keep)
		return &RolloutError{Node: node, Step: step, Err: err}
	}
	set := func(step string) error {
		ru.step(node, step)
		return ru.progress(ctx, node, func(p *NodeProgress) { p.Step = step })
	}

	if err := set("cordon"); err != nil {
		return err
	}
	if err := r.cfg.Nodes.Cordon(ctx, node); err != nil {
		return failed("cordon", err, false)
	}
	if prog.UpgradeActivity == 0 { // a resumed node past its drain is empty already
		if err := set("drain"); err != nil {
			return err
		}
		dctx, cancel := context.WithTimeout(ctx, pol.DrainTimeout)
		err := r.cfg.Drainer.Drain(dctx, node)
		cancel()
		if err != nil {
			// Nothing changed on the node: put it back in service so that only the budget the
			// workloads chose is spent, and stop.
			if uerr := r.cfg.Nodes.Uncordon(context.WithoutCancel(ctx), node); uerr != nil {
				err = errors.Join(err, fmt.Errorf("uncordon after failed drain: %w", uerr))
			}
			return failed("drain", err, false)
		}
	}

	if err := set("upgrade"); err != nil {
		return err
	}
	comp, err := r.cfg.Landscape.ComputerByName(ctx, node)
	if err != nil {
		return failed("upgrade", err, true)
	}
	actx, cancel := context.WithTimeout(ctx, pol.ActivityTimeout)
	defer cancel()
	if prog.UpgradeActivity == 0 {
		a, err := r.cfg.Landscape.UpgradePackages(actx, []int{comp.ID}, pol.SecurityOnly)
		if err != nil {
			return failed("upgrade", err, true)
		}
		prog.UpgradeActivity = a.ID
		if err := ru.progress(ctx, node, func(p *NodeProgress) { p.UpgradeActivity = a.ID }); err != nil {
			return err
		}
	}
	if _, err := r.cfg.Landscape.WaitActivity(actx, prog.UpgradeActivity); err != nil {
		return failed("upgrade", err, true)
	}

	rebooted := false
	reboot := pol.Reboot == RebootAlways || prog.RebootActivity != 0
	if pol.Reboot == RebootIfRequired && !reboot {
		after, err := r.cfg.Landscape.ComputerByName(ctx, node)
		if err != nil {
			return failed("reboot", err, true)
		}
		reboot = after.RebootRequiredFlag
	}
	if reboot {
		if err := set("reboot"); err != nil {
			return err
		}
		if prog.RebootActivity == 0 {
			a, err := r.cfg.Landscape.Reboot(actx, []int{comp.ID})
			if err != nil {
				return failed("reboot", err, true)
			}
			prog.RebootActivity = a.ID
			if err := ru.progress(ctx, node, func(p *NodeProgress) { p.RebootActivity = a.ID }); err != nil {
				return err
			}
		}
		if _, err := r.cfg.Landscape.WaitActivity(actx, prog.RebootActivity); err != nil {
			return failed("reboot", err, true)
		}
		rebooted = true
	}

	if err := set("ready"); err != nil {
		return err
	}
	if err := ru.waitReady(ctx, node); err != nil {
		return failed("ready", err, true)
	}
	if err := set("uncordon"); err != nil {
		return err
	}
	if err := r.cfg.Nodes.Uncordon(ctx, node); err != nil {
		return failed("uncordon", err, true)
	}
	return ru.finish(ctx, node, rebooted, nil, false)
}

func (ru *run) waitReady(ctx context.Context, node string) error {
	ctx, cancel := context.WithTimeout(ctx, ru.r.cfg.Policy.ReadyTimeout)
	defer cancel()
	for {
		states, err := ru.r.cfg.Lister.NodeStates(ctx)
		if err == nil {
			for _, s := range states {
				if s.Name == node && s.Ready {
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("node %q not Ready: %w", node, ctx.Err())
		case <-time.After(ru.r.cfg.Poll):
		}
	}
}
