package security

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"
)

// HookConfig configures a [Hook].
type HookConfig struct {
	// Scanner does the scanning; required.
	Scanner Scanner
	// Policy says what to scan and what to do with findings; it must be valid.
	Policy ScanPolicy
	// OnResult receives every scan's outcome (the example mails it); nil ignores them. It runs
	// on the scanning goroutine; a slow callback delays the next scheduled scan.
	OnResult func(ctx context.Context, o *Outcome)
	// Logger receives one Info line per scan and a Warn per finding; nil discards them.
	Logger *slog.Logger
	// Now is the clock for quarantine records; nil means time.Now.
	Now func() time.Time
}

// Outcome is one scan and what the policy did about it.
type Outcome struct {
	// Report is the scanner's report.
	Report *Report
	// Action is the policy's action on findings.
	Action Action
	// Quarantined lists the files moved into quarantine.
	Quarantined []QuarantineRecord
	// QuarantineErrors lists findings that could not be quarantined, and why.
	QuarantineErrors []FileError
	// Trigger is "schedule", "sync" or "manual".
	Trigger string
}

// Hook runs scans as a policy says: on demand, after a sync, on a schedule; applies the
// policy to findings and passes each [Outcome] to a callback. Safe for concurrent use.
type Hook struct {
	cfg HookConfig
	q   *Quarantine
	log *slog.Logger
}

// NewHook checks the configuration; it scans nothing.
func NewHook(cfg HookConfig) (*Hook, error) {
	if cfg.Scanner == nil {
		return nil, invalidf("hook scanner is required")
	}
	if err := cfg.Policy.Validate(); err != nil {
		return nil, err
	}
	if cfg.Policy.OnFinding == "" {
		cfg.Policy.OnFinding = ActionReport
	}
	h := &Hook{cfg: cfg, log: orDiscard(cfg.Logger).With("pkg", "security")}
	if cfg.Policy.OnFinding == ActionQuarantine {
		h.q = &Quarantine{Dir: cfg.Policy.QuarantineDir, Now: cfg.Now}
	}
	return h, nil
}

// Run scans the policy's paths once. See [Hook.Scan].
func (h *Hook) Run(ctx context.Context) (*Outcome, error) {
	return h.scan(ctx, h.cfg.Policy.Paths, "manual")
}

// AfterSync scans the given paths (the folders a sync just changed); paths outside the policy's
// are refused with an error matching [webinfra.ErrInvalidArgument], and with AfterSync off the
// call does nothing and returns a nil Outcome.
func (h *Hook) AfterSync(ctx context.Context, paths ...string) (*Outcome, error) {
	if !h.cfg.Policy.AfterSync {
		return nil, nil
	}
	for _, p := range paths {
		if !slices.ContainsFunc(h.cfg.Policy.Paths, func(root string) bool { return within(p, root) }) {
			return nil, invalidf("scan after sync: %q is not under the policy's paths", p)
		}
	}
	return h.scan(ctx, paths, "sync")
}

// Schedule scans every Policy.Interval until ctx ends, then returns ctx's error. A failed scan
// is logged and passed on as an Outcome only if it produced a report; scanning goes on. With
// no interval it returns at once with an error matching [webinfra.ErrInvalidArgument].
func (h *Hook) Schedule(ctx context.Context) error {
	if h.cfg.Policy.Interval <= 0 {
		return invalidf("schedule: the policy has no interval")
	}
	t := time.NewTicker(h.cfg.Policy.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			if _, err := h.scan(ctx, h.cfg.Policy.Paths, "schedule"); err != nil && ctx.Err() == nil {
				h.log.Warn("scheduled scan failed", "err", err)
			}
		}
	}
}

// scan scans, applies the policy and calls the callback. With ActionFail and findings it
// returns the outcome and a [*ThreatsError]; a scanner failure returns no outcome.
func (h *Hook) scan(ctx context.Context, paths []string, trigger string) (*Outcome, error) {
	rep, err := h.cfg.Scanner.Scan(ctx, paths, &ScanOptions{Exclude: h.cfg.Policy.Exclude})
	if err != nil {
		return nil, fmt.Errorf("security: scan %v: %w", paths, err)
	}
	o := &Outcome{Report: rep, Action: h.cfg.Policy.OnFinding, Trigger: trigger}
	for _, f := range rep.Findings {
		h.log.Warn("threat found", "path", f.Path, "threat", f.Threat, "engine", f.Engine, "action", o.Action)
		if h.q == nil {
			continue
		}
		rec, err := h.q.Move(f)
		if err != nil {
			o.QuarantineErrors = append(o.QuarantineErrors, FileError{Path: f.Path, Msg: err.Error()})
			continue
		}
		o.Quarantined = append(o.Quarantined, rec)
	}
	h.log.Info("scan", "trigger", trigger, "files", rep.Scanned, "findings", len(rep.Findings), "errors", len(rep.Errors), "quarantined", len(o.Quarantined))
	if h.cfg.OnResult != nil {
		h.cfg.OnResult(ctx, o)
	}
	var errs []error
	if o.Action == ActionFail && len(rep.Findings) > 0 {
		errs = append(errs, &ThreatsError{Findings: slices.Clone(rep.Findings)})
	}
	if len(o.QuarantineErrors) > 0 {
		errs = append(errs, fmt.Errorf("security: %d files could not be quarantined: first %s: %s", len(o.QuarantineErrors), o.QuarantineErrors[0].Path, o.QuarantineErrors[0].Msg))
	}
	return o, errors.Join(errs...)
}
