package backup

import (
	"errors"
	"fmt"
	"time"

	"github.com/webinfra/webinfra"
)

// Sentinels of this package. Each matches one of the root categories with errors.Is, so callers
// can act on either.
var (
	// ErrSnapshotNotFound means no complete snapshot matches the reference; it matches
	// webinfra.ErrNotFound.
	ErrSnapshotNotFound = fmt.Errorf("backup: snapshot not found: %w", webinfra.ErrNotFound)
	// ErrCorrupt means an object or a manifest did not have the content its name or the
	// manifest promises (hash or size mismatch, a manifest that does not decode).
	ErrCorrupt = errors.New("backup: corrupt data")
	// ErrLockLost means a run's lock expired or was taken over by another run while it worked
	// (it was paused past the lock's TTL, say); the run stops before committing anything. It
	// matches webinfra.ErrFailedPrecondition.
	ErrLockLost = fmt.Errorf("backup: lock lost: %w", webinfra.ErrFailedPrecondition)
	// ErrChanged means a file changed while it was read, more often than the snapshot retries.
	ErrChanged = errors.New("backup: file changed while read")
)

// LockedError says that another run holds the set's lock. It matches
// webinfra.ErrFailedPrecondition: waiting for the other run (or for its lock to expire) can
// make the call succeed.
type LockedError struct {
	// Holder is the lock that won.
	Holder LockInfo
}

// Error names the holder and when its lock expires.
func (e *LockedError) Error() string {
	return fmt.Sprintf("backup: set %q of host %q is locked by %s (pid %d on %s) until %s",
		e.Holder.Set, e.Holder.Host, e.Holder.Owner, e.Holder.PID, e.Holder.Hostname, e.Holder.Expires.Format(time.RFC3339))
}

// Is reports whether target is webinfra.ErrFailedPrecondition.
func (e *LockedError) Is(target error) bool { return target == webinfra.ErrFailedPrecondition }

var (
	errInvalidArg         = webinfra.ErrInvalidArgument
	errFailedPrecondition = webinfra.ErrFailedPrecondition
)
