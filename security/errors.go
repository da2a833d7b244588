package security

import (
	"errors"
	"fmt"
	"strings"

	"github.com/webinfra/webinfra"
)

// Sentinels. Each matches one of the shared categories of the root package as well.
var (
	// ErrThreatFound means a scan found at least one threat and the policy says to fail. It
	// matches [webinfra.ErrFailedPrecondition].
	ErrThreatFound = fmt.Errorf("security: threat found: %w", webinfra.ErrFailedPrecondition)
	// ErrScannerFailed means a scanner could not run or reported its own error (odscan exit 100,
	// clamscan exit 2 with nothing parsed, clamd unreachable). It matches
	// [webinfra.ErrUnavailable].
	ErrScannerFailed = fmt.Errorf("security: scanner failed: %w", webinfra.ErrUnavailable)
	// ErrUnexpectedOutput means a scanner's output disagrees with its exit code (threats
	// reported by the exit code but none parsed): the parser no longer matches the program.
	ErrUnexpectedOutput = errors.New("security: scanner output does not match its exit status")
	// ErrOutsideWindow means no maintenance window is open and the rollout was told not to wait.
	ErrOutsideWindow = fmt.Errorf("security: outside every maintenance window: %w", webinfra.ErrFailedPrecondition)
	// ErrBudgetExceeded means taking one more node out would exceed the allowed number of nodes
	// out at once (counting nodes that are already NotReady or cordoned).
	ErrBudgetExceeded = fmt.Errorf("security: disruption budget exhausted: %w", webinfra.ErrFailedPrecondition)
)

// ThreatsError reports the findings of a scan whose policy is [ActionFail]. It matches
// [ErrThreatFound].
type ThreatsError struct {
	// Findings are the threats found.
	Findings []Finding
}

// Error names every infected path and its threat.
func (e *ThreatsError) Error() string {
	parts := make([]string, len(e.Findings))
	for i, f := range e.Findings {
		parts[i] = fmt.Sprintf("%s (%s)", f.Path, f.Threat)
	}
	return fmt.Sprintf("security: %d threats found: %s", len(e.Findings), strings.Join(parts, ", "))
}

// Is reports whether target is [ErrThreatFound] or [webinfra.ErrFailedPrecondition].
func (e *ThreatsError) Is(target error) bool {
	return target == ErrThreatFound || target == webinfra.ErrFailedPrecondition
}

// APIError is a Landscape reply with an error status. It matches [webinfra.ErrNotFound] for
// 404, [webinfra.ErrPermissionDenied] for 401/403, [webinfra.ErrRateLimited] for 429,
// [webinfra.ErrUnavailable] for 5xx and [webinfra.ErrInvalidArgument] for other 4xx.
type APIError struct {
	// Status is the HTTP status code.
	Status int
	// Code is Landscape's error code ("error" field), if any.
	Code string
	// Message is Landscape's message, if any.
	Message string
	// Op names the call: "GET /api/v2/computers", "UpgradePackages".
	Op string
}

// Error renders the operation, status and Landscape's message.
func (e *APIError) Error() string {
	msg := fmt.Sprintf("security: landscape %s: status %d", e.Op, e.Status)
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Is maps the status to the shared categories.
func (e *APIError) Is(target error) bool {
	switch {
	case e.Status == 404:
		return target == webinfra.ErrNotFound
	case e.Status == 401 || e.Status == 403:
		return target == webinfra.ErrPermissionDenied
	case e.Status == 429:
		return target == webinfra.ErrRateLimited
	case e.Status >= 500:
		return target == webinfra.ErrUnavailable
	case e.Status >= 400:
		return target == webinfra.ErrInvalidArgument
	}
	return false
}

// ActivityError reports a Landscape activity that ended other than "succeeded". It matches
// [webinfra.ErrFailedPrecondition].
type ActivityError struct {
	// Activity is the activity as last read.
	Activity Activity
}

// Error names the activity, its status and result text.
func (e *ActivityError) Error() string {
	return fmt.Sprintf("security: landscape activity %d (%s) %s: %s", e.Activity.ID, e.Activity.Summary, e.Activity.Status, e.Activity.ResultText)
}

// Is reports whether target is [webinfra.ErrFailedPrecondition].
func (e *ActivityError) Is(target error) bool { return target == webinfra.ErrFailedPrecondition }

// RolloutError reports the step at which a rolling update stopped. It wraps the cause, so
// errors.As finds a drain error of the cluster package (a PodDisruptionBudget refusing an
// eviction) through it.
type RolloutError struct {
	// Node is the node being updated.
	Node string
	// Step is the step that failed: "cordon", "drain", "upgrade", "reboot", "ready", "uncordon".
	Step string
	// Err is the cause.
	Err error
}

// Error names the node and step.
func (e *RolloutError) Error() string {
	return fmt.Sprintf("security: rolling update stopped at node %q, step %s: %v", e.Node, e.Step, e.Err)
}

// Unwrap returns the cause.
func (e *RolloutError) Unwrap() error { return e.Err }
