package mailtest

import (
	"context"
	"sync"

	"github.com/webinfra/webinfra/mail"
)

// Recorded is one message a [Recorder] captured.
type Recorded struct {
	// Message is a copy of what was passed to Send.
	Message mail.Message
	// Raw is the message as an SMTP sender would send it (signed when the Recorder has a
	// signer).
	Raw []byte
	// From and To are the envelope.
	From string
	To   []string
}

// Recorder is a mail.Sender that validates, renders and captures messages instead of sending
// them. Err, when set, fails every send after validation. Safe for concurrent use.
type Recorder struct {
	// Signer, when set, DKIM-signs the captured raw messages.
	Signer *mail.DKIMSigner

	mu   sync.Mutex
	err  error
	sent []Recorded
}

var _ mail.Sender = (*Recorder)(nil)

// Fail makes later sends return err (nil restores success).
func (r *Recorder) Fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.err = err
}

// Send validates, renders and records m.
func (r *Recorder) Send(ctx context.Context, m *mail.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	from, to, err := m.Envelope()
	if err != nil {
		return err
	}
	raw, err := m.Bytes()
	if err != nil {
		return err
	}
	if r.Signer != nil {
		if raw, err = r.Signer.Sign(raw); err != nil {
			return err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.sent = append(r.sent, Recorded{Message: *m, Raw: raw, From: from, To: to})
	return nil
}

// SendBatch validates every message, then records them in order; it returns a
// *mail.BatchError naming the first failure.
func (r *Recorder) SendBatch(ctx context.Context, ms []*mail.Message) error {
	for i, m := range ms {
		if err := m.Validate(); err != nil {
			return &mail.BatchError{Index: i, Err: err}
		}
	}
	for i, m := range ms {
		if err := r.Send(ctx, m); err != nil {
			return &mail.BatchError{Index: i, Sent: i, Err: err}
		}
	}
	return nil
}

// Sent returns a copy of the captured messages, in order.
func (r *Recorder) Sent() []Recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Recorded(nil), r.sent...)
}
