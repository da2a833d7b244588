package cloudflare

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	cf "github.com/cloudflare/cloudflare-go/v6"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/internal/retry"
)

// ErrNotFound matches errors about an absent zone or record; it wraps [webinfra.ErrNotFound].
var ErrNotFound = fmt.Errorf("cloudflare: %w", webinfra.ErrNotFound)

// ErrorDetail is one entry of the errors array of Cloudflare's response envelope.
type ErrorDetail struct {
	// Code is Cloudflare's numeric error code (e.g. 81058: identical record exists).
	Code int64 `json:"code"`
	// Message is Cloudflare's explanation.
	Message string `json:"message"`
}

// APIError is a response Cloudflare answered with an error status. It matches the
// [webinfra] category of its status with errors.Is, and keeps the upstream error in its chain.
type APIError struct {
	// Status is the HTTP status code.
	Status int
	// Errors are the entries of the response's errors array.
	Errors []ErrorDetail
	// RetryAfterHint is the wait a 429 response asked for; 0 if none.
	RetryAfterHint time.Duration
	err            error
}

// Error renders the status and every error entry.
func (e *APIError) Error() string {
	parts := make([]string, len(e.Errors))
	for i, d := range e.Errors {
		parts[i] = fmt.Sprintf("%d: %s", d.Code, d.Message)
	}
	return fmt.Sprintf("cloudflare: HTTP %d: %s", e.Status, strings.Join(parts, "; "))
}

// Unwrap returns the upstream error.
func (e *APIError) Unwrap() error { return e.err }

// Is maps the status to a [webinfra] error category.
func (e *APIError) Is(target error) bool {
	switch target {
	case webinfra.ErrNotFound:
		return e.Status == http.StatusNotFound
	case webinfra.ErrRateLimited:
		return e.Status == http.StatusTooManyRequests
	case webinfra.ErrPermissionDenied:
		return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
	case webinfra.ErrUnavailable:
		return e.Status >= 500
	case webinfra.ErrInvalidArgument:
		return e.rejected()
	}
	return false
}

// RetryAfter implements [retry.RetryAfterer] for 429 responses.
func (e *APIError) RetryAfter() (time.Duration, bool) {
	return e.RetryAfterHint, e.Status == http.StatusTooManyRequests
}

// rejected reports whether Cloudflare refused the request's content: retrying it unchanged
// cannot succeed, but a smaller batch without the offending change can.
func (e *APIError) rejected() bool {
	return e.Status == http.StatusBadRequest || e.Status == http.StatusConflict || e.Status == http.StatusUnprocessableEntity
}

var _ retry.RetryAfterer = (*APIError)(nil)

// translate turns an error of cloudflare-go into an [*APIError] when it carries a response,
// keeping ctx errors as they are.
func translate(err error) error {
	var cfErr *cf.Error
	if !errors.As(err, &cfErr) {
		return err
	}
	e := &APIError{Status: cfErr.StatusCode, err: err}
	for _, d := range cfErr.Errors {
		e.Errors = append(e.Errors, ErrorDetail{Code: d.Code, Message: d.Message})
	}
	if cfErr.Response != nil {
		if d, ok := retry.FromResponse(cfErr.Response.Header, time.Now()); ok {
			e.RetryAfterHint = d
		}
	}
	return e
}
