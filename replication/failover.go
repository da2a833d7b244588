package replication

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/webinfra/webinfra"
)

// The steps of [Failover], in order, as named by [FailoverError.Step] and [StepTiming.Step].
const (
	// StepCheck reads every holder's folder configuration and the new writer's device ID.
	StepCheck = "check"
	// StepCatchUp scans the old writer and waits until the new one has its data, while the
	// application still writes; only with [FailoverOptions.StopWrites].
	StepCatchUp = "catch-up"
	// StepStopWrites calls [FailoverOptions.StopWrites].
	StepStopWrites = "stop-writes"
	// StepScanOld scans the old writer, so that every write it acknowledged is announced.
	StepScanOld = "scan-old"
	// StepDemoteOld makes the old writer receive-only.
	StepDemoteOld = "demote-old"
	// StepCheckOld rescans the old writer and counts its receive-only local changes: writes
	// made after its last scan as a writer, which stay on it ([FailoverReport.StrandedOnOld]).
	StepCheckOld = "check-old"
	// StepScanNew scans the new writer and counts its receive-only local changes.
	StepScanNew = "scan-new"
	// StepRevertNew drops the new writer's receive-only local changes.
	StepRevertNew = "revert-new"
	// StepWaitSync waits until the new writer has every version of the folder.
	StepWaitSync = "wait-sync"
	// StepPromoteNew makes the new writer [WriterType].
	StepPromoteNew = "promote-new"
)

// FailoverOptions refine [Failover]; nil means the zero value.
type FailoverOptions struct {
	// StopWrites, when set, is how Failover stops the application on the old writer. It is
	// called after a first catch-up (so the application pauses only for the final sync) and
	// must return only once the application no longer writes on the old writer and every
	// write it acknowledged is on disk. Writes must stay stopped until Failover returns; the
	// application then writes on the new writer. An error aborts the failover before any
	// change, with the old writer still the writer.
	//
	// nil means the caller stopped the application before calling Failover. If it did not,
	// writes on the old writer after [StepScanOld] land there as receive-only local changes:
	// they are counted in [FailoverReport.StrandedOnOld] and reported by [Audit], never
	// reverted, and they do not reach the other replicas.
	StopWrites func(ctx context.Context) error
	// Timeout bounds each wait for the new writer to be in sync (the catch-up and the final
	// one) and the retries of a scan of a restarting folder; 0 means 2 minutes.
	Timeout time.Duration
	// PollInterval is the period of the sync checks; 0 means 100ms.
	PollInterval time.Duration
	// Logger receives an info line per step; nil discards.
	Logger *slog.Logger
}

// StepTiming is how long one step of a failover took.
type StepTiming struct {
	// Step is one of the Step constants ([StepScanOld], ...).
	Step string `json:"step"`
	// Node is the node the step acted on; "" for [StepStopWrites] and [StepCheck].
	Node string `json:"node,omitempty"`
	// Took is the step's wall time.
	Took time.Duration `json:"took"`
}

// FailoverReport says what [Failover] did and found.
type FailoverReport struct {
	// Folder, From and To are Failover's arguments.
	Folder string `json:"folder"`
	From   string `json:"from"`
	To     string `json:"to"`
	// AlreadyDone is true when To already was the writer and From receive-only: Failover
	// then only read, and changed nothing.
	AlreadyDone bool `json:"alreadyDone,omitempty"`
	// PendingItems is how many items To still needed when the final wait started (files,
	// directories and deletes acknowledged by From that had not reached To yet).
	PendingItems int `json:"pendingItems"`
	// RevertedOnNew is how many receive-only local changes of To were dropped, by
	// /rest/db/revert, so that To starts writing from the global state.
	RevertedOnNew int `json:"revertedOnNew"`
	// StrandedOnOld is how many receive-only local changes From had after its demotion:
	// writes made on From after its last scan as a writer. They are left in place, not sent
	// and not reverted; [Audit] reports them by path.
	StrandedOnOld int `json:"strandedOnOld"`
	// Steps lists the steps performed, in order, with their durations.
	Steps []StepTiming `json:"steps"`
	// Total is the wall time of the whole failover.
	Total time.Duration `json:"total"`
}

// String renders the report on one line.
func (r *FailoverReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "failover %s: %s -> %s", r.Folder, r.From, r.To)
	if r.AlreadyDone {
		b.WriteString(" (already done)")
	}
	fmt.Fprintf(&b, " in %v: pending %d, reverted on new %d, stranded on old %d;", r.Total.Round(time.Millisecond),
		r.PendingItems, r.RevertedOnNew, r.StrandedOnOld)
	for _, s := range r.Steps {
		fmt.Fprintf(&b, " %s %v", s.Step, s.Took.Round(time.Millisecond))
	}
	return b.String()
}

// FailoverError is the error of a failed [Failover] step. It unwraps to the cause, so
// errors.Is sees the client's categories ([webinfra.ErrNotFound], ...) and ctx errors; a wait
// that timed out matches [context.DeadlineExceeded].
type FailoverError struct {
	// Folder is the folder being failed over.
	Folder string
	// Step is the step that failed ([StepWaitSync], ...).
	Step string
	// Node is the node the step acted on; "" when none.
	Node string
	// Err is the cause.
	Err error
}

// Error renders `replication: failover of folder "web": step wait-sync on node "b": ...`.
func (e *FailoverError) Error() string {
	if e.Node == "" {
		return fmt.Sprintf("replication: failover of folder %q: step %s: %v", e.Folder, e.Step, e.Err)
	}
	return fmt.Sprintf("replication: failover of folder %q: step %s on node %q: %v", e.Folder, e.Step, e.Node, e.Err)
}

// Unwrap returns the cause.
func (e *FailoverError) Unwrap() error { return e.Err }

// Failover moves the single writer of folder from node from to node to; nodes maps every
// node holding the folder to its client (nodes must hold from and to). Nodes other than
// from and to are checked, never changed: any of them being a writer fails the check.
//
// The sequence, each step named in errors and timings: [StepCheck] (read only); with
// [FailoverOptions.StopWrites], [StepCatchUp] then [StepStopWrites]; [StepScanOld] (the old
// writer, still a writer, announces every acknowledged write); [StepDemoteOld] (PATCH type
// receiveonly); [StepCheckOld] (rescan, count stranded writes); [StepScanNew] and, when the
// new writer has receive-only local changes, [StepRevertNew]; [StepWaitSync] (poll until
// the old writer sees the new one's completion at 100% with nothing needed and the
// connection valid, and the new writer is idle with no need and no local change);
// [StepPromoteNew] (PATCH type [WriterType]). Between StepDemoteOld and StepPromoteNew no node
// is a writer: writes there are not lost but not sent either, so pause the application.
//
// So every write From acknowledged before StepScanOld reaches To before To becomes the writer,
// and no two nodes are writers at once, which is what prevents conflict copies. Type changes
// restart the folder in Syncthing (about 0.1s on loopback).
//
// Failover is idempotent: when To is already the writer and From receive-only it makes no
// change and reports [FailoverReport.AlreadyDone]; after a failure, in any step, calling it
// again with the same arguments resumes (already-done type changes are skipped). A failure
// after StepDemoteOld leaves no writer, which is safe but read-only; re-run Failover (to
// either node) to restore one. Errors are [*FailoverError]; from == to or a node missing from
// nodes give one matching [webinfra.ErrInvalidArgument], a third writer or a holder lacking
// the folder one matching [webinfra.ErrFailedPrecondition]. Cancelling ctx stops at the next
// call with ctx's error. It is safe to call concurrently for different folders, not for the
// same one.
func Failover(ctx context.Context, nodes map[string]*Client, folder, from, to string, opts *FailoverOptions) (*FailoverReport, error) {
	f := &failover{nodes: nodes, folder: folder, from: from, to: to, started: time.Now(),
		rep: &FailoverReport{Folder: folder, From: from, To: to}}
	if opts != nil {
		f.opts = *opts
	}
	if f.opts.Timeout <= 0 {
		f.opts.Timeout = 2 * time.Minute
	}
	if f.opts.PollInterval <= 0 {
		f.opts.PollInterval = 100 * time.Millisecond
	}
	if f.opts.Logger == nil {
		f.opts.Logger = slog.New(slog.DiscardHandler)
	}
	f.log = f.opts.Logger.With("pkg", "replication", "folder", folder, "from", from, "to", to)
	err := f.run(ctx)
	f.rep.Total = time.Since(f.started)
	if err != nil {
		return f.rep, err
	}
	f.log.Info("failover done", "took", f.rep.Total, "pending", f.rep.PendingItems,
		"reverted_on_new", f.rep.RevertedOnNew, "stranded_on_old", f.rep.StrandedOnOld)
	return f.rep, nil
}

type failover struct {
	nodes            map[string]*Client
	folder, from, to string
	opts             FailoverOptions
	log              *slog.Logger
	rep              *FailoverReport
	started          time.Time
	toID, fromID     string
}

// step runs fn as step on node, recording its time and wrapping its error.
func (f *failover) step(ctx context.Context, step, node string, fn func(ctx context.Context) error) error {
	if err := ctx.Err(); err != nil {
		return &FailoverError{Folder: f.folder, Step: step, Node: node, Err: err}
	}
	t0 := time.Now()
	err := fn(ctx)
	f.rep.Steps = append(f.rep.Steps, StepTiming{Step: step, Node: node, Took: time.Since(t0)})
	if err != nil {
		return &FailoverError{Folder: f.folder, Step: step, Node: node, Err: err}
	}
	f.log.Info("failover step", "step", step, "node", node, "took", time.Since(t0))
	return nil
}

func (f *failover) run(ctx context.Context) error {
	var types map[string]FolderType
	if err := f.step(ctx, StepCheck, "", func(ctx context.Context) (err error) {
		types, err = f.check(ctx)
		return err
	}); err != nil {
		return err
	}
	oldC, newC := f.nodes[f.from], f.nodes[f.to]
	if isWriter(types[f.to]) && !isWriter(types[f.from]) {
		f.rep.AlreadyDone = true
		return nil
	}
	if f.opts.StopWrites != nil {
		if isWriter(types[f.from]) {
			if err := f.step(ctx, StepCatchUp, f.to, func(ctx context.Context) error {
				if err := f.scan(ctx, oldC); err != nil {
					return fmt.Errorf("scan node %q: %w", f.from, err)
				}
				_, err := f.waitSync(ctx)
				return err
			}); err != nil {
				return err
			}
		}
		if err := f.step(ctx, StepStopWrites, "", f.opts.StopWrites); err != nil {
			return err
		}
	}
	if err := f.step(ctx, StepScanOld, f.from, func(ctx context.Context) error { return f.scan(ctx, oldC) }); err != nil {
		return err
	}
	if isWriter(types[f.from]) {
		if err := f.step(ctx, StepDemoteOld, f.from, func(ctx context.Context) error {
			return oldC.PatchFolder(ctx, f.folder, map[string]any{"type": ReceiveOnly})
		}); err != nil {
			return err
		}
	}
	if err := f.step(ctx, StepCheckOld, f.from, func(ctx context.Context) error {
		if err := f.scan(ctx, oldC); err != nil {
			return err
		}
		st, err := oldC.DBStatus(ctx, f.folder)
		if err != nil {
			return err
		}
		f.rep.StrandedOnOld = st.ReceiveOnlyTotalItems
		return nil
	}); err != nil {
		return err
	}
	if f.rep.StrandedOnOld > 0 {
		f.log.Warn("writes on the old writer after its last scan stay there as receive-only changes",
			"node", f.from, "items", f.rep.StrandedOnOld)
	}
	var local int
	if !isWriter(types[f.to]) {
		if err := f.step(ctx, StepScanNew, f.to, func(ctx context.Context) error {
			if err := f.scan(ctx, newC); err != nil {
				return err
			}
			st, err := newC.DBStatus(ctx, f.folder)
			if err != nil {
				return err
			}
			local = st.ReceiveOnlyTotalItems
			return nil
		}); err != nil {
			return err
		}
	}
	if local > 0 {
		if err := f.step(ctx, StepRevertNew, f.to, func(ctx context.Context) error { return newC.Revert(ctx, f.folder) }); err != nil {
			return err
		}
		f.rep.RevertedOnNew = local
	}
	if err := f.step(ctx, StepWaitSync, f.to, func(ctx context.Context) (err error) {
		f.rep.PendingItems, err = f.waitSync(ctx)
		return err
	}); err != nil {
		return err
	}
	if !isWriter(types[f.to]) {
		if err := f.step(ctx, StepPromoteNew, f.to, func(ctx context.Context) error {
			return newC.PatchFolder(ctx, f.folder, map[string]any{"type": WriterType})
		}); err != nil {
			return err
		}
	}
	return nil
}

// check validates the arguments and returns every holder's folder type.
func (f *failover) check(ctx context.Context) (map[string]FolderType, error) {
	if f.from == f.to {
		return nil, fmt.Errorf("from and to are both %q: %w", f.from, webinfra.ErrInvalidArgument)
	}
	for _, n := range []string{f.from, f.to} {
		if f.nodes[n] == nil {
			return nil, fmt.Errorf("node %q has no client: %w", n, webinfra.ErrInvalidArgument)
		}
	}
	types := map[string]FolderType{}
	for _, n := range sortedNodes(f.nodes) {
		fo, err := f.nodes[n].Folder(ctx, f.folder)
		if err != nil {
			if errors.Is(err, webinfra.ErrNotFound) {
				return nil, fmt.Errorf("node %q does not hold the folder: %w: %w", n, webinfra.ErrFailedPrecondition, err)
			}
			return nil, fmt.Errorf("node %q: %w", n, err)
		}
		types[n] = fo.Type
		if n != f.from && n != f.to && isWriter(fo.Type) {
			return nil, fmt.Errorf("node %q is a writer too (type %s); make it receiveonly first: %w", n, fo.Type, webinfra.ErrFailedPrecondition)
		}
	}
	st, err := f.nodes[f.to].Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("node %q: %w", f.to, err)
	}
	f.toID = st.MyID
	if st, err = f.nodes[f.from].Status(ctx); err != nil {
		return nil, fmt.Errorf("node %q: %w", f.from, err)
	}
	f.fromID = st.MyID
	return types, nil
}

// scan rescans the folder on c, retrying while Syncthing answers 5xx (a folder restarting
// after a type change), for at most the timeout.
func (f *failover) scan(ctx context.Context, c *Client) error {
	deadline := time.Now().Add(f.opts.Timeout)
	for {
		err := c.Scan(ctx, f.folder, "")
		if err == nil || !errors.Is(err, webinfra.ErrUnavailable) || time.Now().After(deadline) {
			return err
		}
		if err := sleepCtx(ctx, f.opts.PollInterval); err != nil {
			return err
		}
	}
}

// waitSync polls until the new writer has every version of the folder, as seen from the old
// writer (completion 100, nothing needed, connection valid) and from itself (idle, nothing
// needed, no receive-only change). It returns the items needed at the first poll.
func (f *failover) waitSync(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancel()
	oldC, newC := f.nodes[f.from], f.nodes[f.to]
	// The old writer's index as of its last scan: the new writer must have received all of it.
	// Completion alone is not enough: it was seen at 100% while the new writer lacked all of a
	// folder's recent files (its view of the old writer's index was behind).
	// Read it once the old writer is idle: a sequence read mid-scan misses the files being
	// scanned.
	var oldSeq int64
	for {
		st, err := oldC.DBStatus(ctx, f.folder)
		if err != nil {
			return 0, err
		}
		if st.State == "idle" && st.Error == "" {
			oldSeq = st.Sequence
			break
		}
		if err := sleepCtx(ctx, f.opts.PollInterval); err != nil {
			return 0, fmt.Errorf("old writer not idle after %v (state %q, error %q): %w", f.opts.Timeout, st.State, st.Error, err)
		}
	}
	first, pending := true, 0
	var last string
	for {
		ok, need, state, err := syncedState(ctx, oldC, newC, f.folder, f.toID, f.fromID, oldSeq)
		if err != nil && ctx.Err() == nil {
			return pending, err
		}
		if err == nil {
			if first {
				pending, first = need, false
			}
			if ok {
				return pending, nil
			}
			last = state
		}
		if serr := sleepCtx(ctx, f.opts.PollInterval); serr != nil {
			if last == "" && err != nil {
				last = err.Error()
			}
			return pending, fmt.Errorf("not in sync after %v (%s): %w", f.opts.Timeout, last, serr)
		}
	}
}

// syncedState reads one sample of the sync condition of waitSync; state describes it.
func syncedState(ctx context.Context, oldC, newC *Client, folder, toID, fromID string, oldSeq int64) (ok bool, need int, state string, err error) {
	comp, err := oldC.Completion(ctx, folder, toID)
	if err != nil {
		return false, 0, "", err
	}
	st, err := newC.DBStatus(ctx, folder)
	if err != nil {
		return false, 0, "", err
	}
	need = max(comp.NeedItems+comp.NeedDeletes, st.NeedTotalItems)
	seen := st.RemoteSequence[fromID]
	state = fmt.Sprintf("completion %.1f%% need %d items, remote state %q; new writer %s, need %d, local changes %d, has the old writer's index to %d of %d",
		comp.Completion, comp.NeedItems+comp.NeedDeletes, comp.RemoteState, st.State, st.NeedTotalItems, st.ReceiveOnlyTotalItems, seen, oldSeq)
	ok = comp.RemoteState == "valid" && comp.Completion >= 100 && comp.NeedItems == 0 && comp.NeedDeletes == 0 &&
		st.State == "idle" && st.NeedTotalItems == 0 && st.ReceiveOnlyTotalItems == 0 && seen >= oldSeq
	return ok, need, state, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func sortedNodes(nodes map[string]*Client) []string {
	out := make([]string, 0, len(nodes))
	for n, c := range nodes {
		if c != nil {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}
