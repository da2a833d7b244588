package mail

import (
	"context"
	"fmt"
)

// Sender sends messages. Implementations: [SMTPSender] (Gmail SMTP or the relay),
// [GmailSender] (Gmail API) and mailtest.Recorder (captures, for tests).
//
// Every implementation validates each message (see [Message.Validate]) before anything is
// sent, returning the *webinfra.ValidationError, and keeps ctx errors visible with errors.Is.
type Sender interface {
	// Send sends one message.
	Send(ctx context.Context, m *Message) error
	// SendBatch sends messages in order, reusing one connection where the transport has
	// connections. All messages are validated before the first is sent; sending stops at the
	// first failure, whose error says which message failed (those before it were sent).
	SendBatch(ctx context.Context, ms []*Message) error
}

// validateAll validates every message before a batch starts, so a bad message in the middle
// cannot leave the batch half sent.
func validateAll(ms []*Message) error {
	for i, m := range ms {
		if err := m.Validate(); err != nil {
			return &BatchError{Index: i, Sent: 0, Err: err}
		}
	}
	return nil
}

// BatchError says which message of a batch failed and how many were sent before it.
type BatchError struct {
	// Index is the failed message's position.
	Index int
	// Sent is how many messages were sent before the failure.
	Sent int
	// Err is the failure.
	Err error
}

// Error names the failed message by index and how many were sent before it.
func (e *BatchError) Error() string {
	return fmt.Sprintf("mail: batch message %d (%d sent before it): %v", e.Index, e.Sent, e.Err)
}

// Unwrap returns the failure.
func (e *BatchError) Unwrap() error { return e.Err }
