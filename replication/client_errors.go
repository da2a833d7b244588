package replication

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/webinfra/webinfra"
)

// maxErrorBody caps how much of an error response an [APIError] keeps.
const maxErrorBody = 1024

// APIError is a response Syncthing's REST API answered with an error status. It matches the
// [webinfra] error category of its status with errors.Is:
//
//   - 404 matches [webinfra.ErrNotFound] (Syncthing answers "No folder with given ID",
//     "No device with given ID", "no such folder", "No such object in the index"),
//   - 401 and 403 match [webinfra.ErrPermissionDenied] (a missing or wrong API key gives
//     403 "CSRF Error"),
//   - 400, 405 and 422 match [webinfra.ErrInvalidArgument] (a malformed device ID gives 400),
//   - 429 matches [webinfra.ErrRateLimited],
//   - 5xx matches [webinfra.ErrUnavailable]. Beware that Syncthing also answers 500 for a
//     folder it refuses (empty ID or path) and for a scan of an absent folder.
//
// Body never holds the API key: the key travels only in the request's X-API-Key header.
type APIError struct {
	// Method and Path name the request ("PUT", "/rest/config/folders/web-data").
	Method, Path string
	// Status is the HTTP status code.
	Status int
	// Body is the start of the response body (at most 1 KiB), trimmed; Syncthing sends plain
	// text such as "No folder with given ID".
	Body string
}

// Error renders "syncthing: PUT /rest/config/folders/x: HTTP 404: No folder with given ID".
func (e *APIError) Error() string {
	return fmt.Sprintf("syncthing: %s %s: HTTP %d: %s", e.Method, e.Path, e.Status, e.Body)
}

// Is maps the status to a [webinfra] error category, as listed on [APIError].
func (e *APIError) Is(target error) bool {
	switch target {
	case webinfra.ErrNotFound:
		return e.Status == http.StatusNotFound
	case webinfra.ErrPermissionDenied:
		return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
	case webinfra.ErrInvalidArgument:
		return e.Status == http.StatusBadRequest || e.Status == http.StatusMethodNotAllowed || e.Status == http.StatusUnprocessableEntity
	case webinfra.ErrRateLimited:
		return e.Status == http.StatusTooManyRequests
	case webinfra.ErrUnavailable:
		return e.Status >= 500
	}
	return false
}

func newAPIError(method, path string, status int, body []byte) *APIError {
	if len(body) > maxErrorBody {
		body = body[:maxErrorBody]
	}
	return &APIError{Method: method, Path: path, Status: status, Body: strings.TrimSpace(string(body))}
}
