package mail_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/mail"
	"github.com/webinfra/webinfra/mail/mailtest"
)

func TestMessageRefusesHeaderInjection(t *testing.T) {
	cases := map[string]func(m *mail.Message){
		"subject":       func(m *mail.Message) { m.Subject = "hello\r\nBcc: victim@example.net" },
		"subject LF":    func(m *mail.Message) { m.Subject = "hello\nX-Evil: 1" },
		"from":          func(m *mail.Message) { m.From = "a@example.com\r\nBcc: victim@example.net" },
		"to":            func(m *mail.Message) { m.To = []string{"b@example.org\nBcc: v@example.net"} },
		"reply_to":      func(m *mail.Message) { m.ReplyTo = "r@example.com\r\n" },
		"header value":  func(m *mail.Message) { m.Headers = map[string]string{"X-Tag": "a\r\nBcc: v@example.net"} },
		"header name":   func(m *mail.Message) { m.Headers = map[string]string{"X-Tag\r\nBcc": "v"} },
		"reserved name": func(m *mail.Message) { m.Headers = map[string]string{"bcc": "v@example.net"} },
		"nul":           func(m *mail.Message) { m.Subject = "a\x00b" },
		"bad address":   func(m *mail.Message) { m.To = []string{"no-at-sign"} },
		"bad domain":    func(m *mail.Message) { m.Cc = []string{"x@-bad-.example"} },
		"no recipients": func(m *mail.Message) { m.To, m.Bcc = nil, nil },
		"message id":    func(m *mail.Message) { m.MessageID = "<x@y>" },
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			m := testMessage(0)
			edit(m)
			err := m.Validate()
			require.Error(t, err)
			assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
			_, err = m.Bytes()
			assert.Error(t, err)
			rec := &mailtest.Recorder{}
			assert.Error(t, rec.Send(t.Context(), m))
			assert.Empty(t, rec.Sent(), "nothing is sent")
		})
	}
}

func TestMessageValidateNamesEveryPath(t *testing.T) {
	m := &mail.Message{From: "bad", To: []string{"ok@example.org", "bad2"}, Subject: "x\r\n"}
	err := m.Validate()
	require.Error(t, err)
	var ve *webinfra.ValidationError
	require.ErrorAs(t, err, &ve)
	var paths []string
	for _, e := range ve.Errors {
		paths = append(paths, e.Path)
	}
	assert.Equal(t, []string{"from", "subject", "to[1]"}, paths)
}

func TestMessageRendersUnicodeAndEnvelope(t *testing.T) {
	m := &mail.Message{From: "Ålice <alice@example.com>", To: []string{"bob@example.org"}, Cc: []string{"Bob <bob@example.org>"}, Bcc: []string{"c@example.net"}, Subject: "héllo", Text: "hi\n", MessageID: "fixed@example.com"}
	raw, err := m.Bytes()
	require.NoError(t, err)
	s := string(raw)
	assert.Contains(t, s, "Subject: =?UTF-8?q?h=C3=A9llo?=\r\n")
	assert.Contains(t, s, "Message-ID: <fixed@example.com>\r\n")
	assert.NotContains(t, s, "c@example.net")
	from, rcpts, err := m.Envelope()
	require.NoError(t, err)
	assert.Equal(t, "alice@example.com", from)
	assert.Equal(t, []string{"bob@example.org", "c@example.net"}, rcpts, "duplicates removed")
}

func TestRecorderCapturesSignedMessages(t *testing.T) {
	signer, _ := dkimSetup(t, mail.Ed25519)
	rec := &mailtest.Recorder{Signer: signer}
	var s mail.Sender = rec
	require.NoError(t, s.SendBatch(t.Context(), []*mail.Message{testMessage(0), testMessage(1)}))
	sent := rec.Sent()
	require.Len(t, sent, 2)
	assert.Contains(t, string(sent[0].Raw), "DKIM-Signature:")
	assert.Equal(t, "alerts@example.com", sent[1].From)
}
