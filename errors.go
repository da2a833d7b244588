package webinfra

import "errors"

// Error categories shared by every package. Each package's own errors match one of them with
// [errors.Is], so callers act on the category, never on the message. The set is small and fixed,
// in the spirit of gRPC status codes.
var (
	// ErrNotFound means the resource named in the call does not exist.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists means a create found the resource already there in a different state.
	ErrAlreadyExists = errors.New("already exists")
	// ErrInvalidArgument means the input is wrong whatever the state of the system; retrying the
	// same call cannot succeed.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrFailedPrecondition means the system is not in a state the call needs (a record owned by
	// someone else, a node that is not cordoned); changing the state first can make it succeed.
	ErrFailedPrecondition = errors.New("failed precondition")
	// ErrPermissionDenied means the credentials do not allow the call.
	ErrPermissionDenied = errors.New("permission denied")
	// ErrRateLimited means the backend refused the call for exceeding its request rate; the
	// wrapping error usually says when to retry.
	ErrRateLimited = errors.New("rate limited")
	// ErrUnavailable means the backend could not be reached or failed transiently; the same call
	// may succeed later.
	ErrUnavailable = errors.New("unavailable")
)
