package mail_test

import (
	"context"
	"testing"

	"github.com/webinfra/webinfra"
)

var (
	webinfraErrInvalidArgument = webinfra.ErrInvalidArgument
	errCanceled                = context.Canceled
)

func contextWithCancel(t *testing.T) (context.Context, context.CancelFunc) {
	return context.WithCancel(t.Context())
}
