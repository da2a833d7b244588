package security

import (
	"fmt"
	"log/slog"

	"github.com/webinfra/webinfra"
)

var errInvalid = webinfra.ErrInvalidArgument

func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

func invalidf(format string, args ...any) error {
	return fmt.Errorf("security: "+format+": %w", append(args, webinfra.ErrInvalidArgument)...)
}
