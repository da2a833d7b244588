package cluster

import (
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/webinfra/webinfra"
)

// translateK8s adds the webinfra category to an API error, keeping it in the chain for
// apierrors' helpers and errors.As.
func translateK8s(err error) error {
	switch {
	case apierrors.IsNotFound(err):
		return fmt.Errorf("%w: %w", webinfra.ErrNotFound, err)
	case apierrors.IsConflict(err), apierrors.IsAlreadyExists(err):
		return fmt.Errorf("%w: %w", webinfra.ErrAlreadyExists, err)
	case apierrors.IsInvalid(err), apierrors.IsBadRequest(err):
		return fmt.Errorf("%w: %w", webinfra.ErrInvalidArgument, err)
	case apierrors.IsForbidden(err), apierrors.IsUnauthorized(err):
		return fmt.Errorf("%w: %w", webinfra.ErrPermissionDenied, err)
	case apierrors.IsTooManyRequests(err):
		return fmt.Errorf("%w: %w", webinfra.ErrRateLimited, err)
	case apierrors.IsServiceUnavailable(err), apierrors.IsServerTimeout(err), apierrors.IsTimeout(err), apierrors.IsInternalError(err):
		return fmt.Errorf("%w: %w", webinfra.ErrUnavailable, err)
	}
	return err
}
