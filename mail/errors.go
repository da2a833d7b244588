package mail

import (
	"errors"
	"fmt"

	"github.com/webinfra/webinfra"
)

// Sentinel errors of the package. Each matches one of the root categories with errors.Is, so
// callers can act on either.
var (
	// ErrAuth means the SMTP server or the Gmail API refused the credentials (a wrong app
	// password, an expired or unauthorised token). It matches webinfra.ErrPermissionDenied.
	ErrAuth = &categoryError{msg: "mail: authentication failed", cat: webinfra.ErrPermissionDenied}
	// ErrTLSRequired means the server did not offer STARTTLS while TLS is required. It matches
	// webinfra.ErrFailedPrecondition.
	ErrTLSRequired = &categoryError{msg: "mail: server does not offer STARTTLS and TLS is required", cat: webinfra.ErrFailedPrecondition}
	// ErrRejected means the server refused the message or a recipient permanently (an SMTP 5xx
	// reply other than authentication). It matches webinfra.ErrInvalidArgument.
	ErrRejected = &categoryError{msg: "mail: message rejected", cat: webinfra.ErrInvalidArgument}
	// ErrTemporary means the server deferred the message (an SMTP 4xx reply, a Gmail API 5xx
	// answer) or could not be reached; the same send may succeed later. It matches
	// webinfra.ErrUnavailable.
	ErrTemporary = &categoryError{msg: "mail: temporary failure", cat: webinfra.ErrUnavailable}
	// ErrKeyRevoked means a DKIM key record has an empty p= tag. It matches
	// webinfra.ErrNotFound.
	ErrKeyRevoked = &categoryError{msg: "mail: dkim key revoked", cat: webinfra.ErrNotFound}
)

// categoryError is a sentinel that also matches a root category.
type categoryError struct {
	msg string
	cat error
}

func (e *categoryError) Error() string        { return e.msg }
func (e *categoryError) Is(target error) bool { return target == e.cat }

// wrapped attaches a sentinel to an upstream error, keeping both in the chain for errors.Is and
// errors.As.
type wrapped struct {
	sentinel error
	err      error
}

func (w *wrapped) Error() string   { return fmt.Sprintf("%v: %v", w.sentinel, w.err) }
func (w *wrapped) Unwrap() []error { return []error{w.sentinel, w.err} }

func wrapAs(sentinel, err error) error {
	if err == nil || errors.Is(err, sentinel) {
		return err
	}
	return &wrapped{sentinel: sentinel, err: err}
}

// ParseError is returned by the record parsers ([ParseSPF], [ParseDKIMKey], [ParseMTASTS],
// [ParseMTASTSPolicy], [ParseTLSRPT]) for text that does not follow the record's grammar. It
// matches webinfra.ErrInvalidArgument.
type ParseError struct {
	// Record names the grammar: "spf", "dkim", "mta-sts", "mta-sts policy", "tls-rpt".
	Record string
	// Term is the offending term or tag, or "" when the record as a whole is wrong.
	Term string
	// Msg says what is wrong.
	Msg string
}

// Error renders "mail: KIND record: \"TERM\": MESSAGE", the term left out when empty.
func (e *ParseError) Error() string {
	if e.Term == "" {
		return fmt.Sprintf("mail: %s record: %s", e.Record, e.Msg)
	}
	return fmt.Sprintf("mail: %s record: %q: %s", e.Record, e.Term, e.Msg)
}

// Is reports whether target is webinfra.ErrInvalidArgument.
func (e *ParseError) Is(target error) bool { return target == webinfra.ErrInvalidArgument }
