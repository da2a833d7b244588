package mail_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/mail"
	"github.com/webinfra/webinfra/mail/mailtest"
)

// plainSender sends to a mailtest server without TLS, where the server records the MAIL and
// RCPT command lines byte for byte.
func plainSender(t *testing.T) (*mail.SMTPSender, *mailtest.SMTPServer) {
	t.Helper()
	srv := mailtest.StartSMTP(t, mailtest.SMTPServerConfig{NoTLS: true})
	s, err := mail.NewSMTPSender(mail.SMTPConfig{Host: srv.Host, Port: srv.Port, Security: mail.Insecure})
	require.NoError(t, err)
	return s, srv
}

// envelopeCases are addresses net/mail accepts whose RFC 5321 form differs from the decoded
// address, or that must pass unchanged: wire is the path between the angle brackets, decoded
// what go-smtp's server reads from it.
var envelopeCases = []struct {
	name, addr, wire, decoded string
}{
	{"QuotedSpace", `"john smith"@example.com`, `"john smith"@example.com`, `john smith@example.com`},
	{"QuotedSpaceWithName", `John Smith <"john smith"@example.com>`, `"john smith"@example.com`, `john smith@example.com`},
	{"QuotedNeedlessly", `"john"@example.com`, `john@example.com`, `john@example.com`},
	{"QuotedEscapes", `"a\"b\\c"@example.com`, `"a\"b\\c"@example.com`, `a"b\c@example.com`},
	{"QuotedDoubleDot", `"john..smith"@example.com`, `"john..smith"@example.com`, `john..smith@example.com`},
	{"QuotedLeadingDot", `".dot"@example.com`, `".dot"@example.com`, `.dot@example.com`},
	{"QuotedAt", `"a@b"@example.com`, `"a@b"@example.com`, `a@b@example.com`},
	{"QuotedSpecials", `"a,b;c:d(e)[f]"@example.com`, `"a,b;c:d(e)[f]"@example.com`, `a,b;c:d(e)[f]@example.com`},
	{"PlusAddressing", `ops+alerts@example.org`, `ops+alerts@example.org`, `ops+alerts@example.org`},
	{"Atext", `o'brien.{x}=y?z@example.org`, `o'brien.{x}=y?z@example.org`, `o'brien.{x}=y?z@example.org`},
	{"IDNDomain", `user@bücher.example`, `user@xn--bcher-kva.example`, `user@xn--bcher-kva.example`},
	{"UpperCaseIDN", `User@BÜCHER.example`, `User@xn--bcher-kva.example`, `User@xn--bcher-kva.example`},
}

func TestSMTPEnvelopeIsRFC5321(t *testing.T) {
	for _, tc := range envelopeCases {
		t.Run(tc.name+"/From", func(t *testing.T) {
			s, srv := plainSender(t)
			m := &mail.Message{From: tc.addr, To: []string{"ops@example.org"}, Subject: "s", Text: "t"}
			require.NoError(t, s.Send(t.Context(), m))
			got := srv.Messages()
			require.Len(t, got, 1)
			assert.Equal(t, "MAIL FROM:<"+tc.wire+">", envelopeCommand(got[0].MailCommand))
			assert.Equal(t, tc.decoded, got[0].From)
			assert.Equal(t, []string{"RCPT TO:<ops@example.org>"}, got[0].RcptCommands)
		})
		t.Run(tc.name+"/Rcpt", func(t *testing.T) {
			s, srv := plainSender(t)
			m := &mail.Message{From: "alerts@example.com", To: []string{tc.addr}, Bcc: []string{"audit@example.org"}, Subject: "s", Text: "t"}
			require.NoError(t, s.Send(t.Context(), m))
			got := srv.Messages()
			require.Len(t, got, 1)
			assert.Equal(t, "MAIL FROM:<alerts@example.com>", envelopeCommand(got[0].MailCommand))
			assert.Equal(t, []string{"RCPT TO:<" + tc.wire + ">", "RCPT TO:<audit@example.org>"}, got[0].RcptCommands)
			assert.Equal(t, []string{tc.decoded, "audit@example.org"}, got[0].To)
		})
	}
}

// envelopeCommand drops the one parameter go-smtp's client adds by itself when the server offers
// 8BITMIME; every other byte of the command is compared.
func envelopeCommand(cmd string) string { return strings.TrimSuffix(cmd, " BODY=8BITMIME") }

func TestMessageEnvelopeForms(t *testing.T) {
	for _, tc := range envelopeCases {
		t.Run(tc.name, func(t *testing.T) {
			m := &mail.Message{From: tc.addr, To: []string{tc.addr, "x@example.org"}, Cc: []string{tc.addr}}
			from, rcpts, err := m.Envelope()
			require.NoError(t, err)
			assert.Equal(t, tc.wire, from)
			assert.Equal(t, []string{tc.wire, "x@example.org"}, rcpts, "duplicates removed by their envelope form")
		})
	}
}

// hostileAddresses would add ESMTP parameters or commands to MAIL or RCPT, or make a path no
// server parses alike, if they reached the envelope.
var hostileAddresses = map[string]string{
	"CloseAngleParam":   `"a> SIZE=1"@example.com`,
	"CloseAngleNotify":  `"x@example.org> NOTIFY=SUCCESS ORCPT=rfc822;evil@example.net"@example.com`,
	"OpenAngle":         `"a<b"@example.com`,
	"CRLFCommand":       "a@example.com\r\nRCPT TO:<evil@example.net>",
	"QuotedCRLF":        "\"a\r\nDATA\"@example.com",
	"QuotedLF":          "\"a\nQUIT\"@example.com",
	"QuotedNUL":         "\"a\x00b\"@example.com",
	"QuotedTab":         "\"a\tb\"@example.com",
	"QuotedDEL":         "\"a\x7fb\"@example.com",
	"QuotedControl":     "\"a\x1bb\"@example.com",
	"SpaceInDomain":     `a@exa mple.com`,
	"ParamAfterAddress": `a@example.com SIZE=1`,
	"AngleThenParam":    `<a@example.com> SIZE=1`,
	"LocalPartTooLong":  strings.Repeat("a", 65) + "@example.com",
	"DomainLiteral":     `a@[127.0.0.1]`,
}

func TestSMTPRefusesHostileEnvelopeAddresses(t *testing.T) {
	for name, addr := range hostileAddresses {
		for _, field := range []string{"from", "to", "cc", "bcc"} {
			t.Run(name+"/"+field, func(t *testing.T) {
				s, srv := plainSender(t)
				m := &mail.Message{From: "alerts@example.com", To: []string{"ops@example.org"}, Subject: "s", Text: "t"}
				path := field
				switch field {
				case "from":
					m.From = addr
				case "to":
					m.To, path = []string{"ops@example.org", addr}, "to[1]"
				case "cc":
					m.Cc, path = []string{addr}, "cc[0]"
				case "bcc":
					m.Bcc, path = []string{addr}, "bcc[0]"
				}
				err := s.Send(t.Context(), m)
				assertRefusedAddress(t, err, path, addr)
				assert.Zero(t, srv.Connections(), "refused before connecting")
				assert.Empty(t, srv.Messages())

				_, _, err = m.Envelope()
				assertRefusedAddress(t, err, path, addr)
				assert.Error(t, s.SendBatch(t.Context(), []*mail.Message{m}))
				assert.Zero(t, srv.Connections(), "a batch is refused before connecting too")
			})
		}
	}
}

func TestGmailRefusesHostileAddresses(t *testing.T) {
	g := mailtest.StartGmail(t, "tok")
	s, err := mail.NewGmailSender(mail.GmailConfig{
		Endpoint: g.URL(), TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "tok"}),
	})
	require.NoError(t, err)
	for name, addr := range hostileAddresses {
		t.Run(name, func(t *testing.T) {
			err := s.Send(t.Context(), &mail.Message{From: "alerts@example.com", To: []string{"ops@example.org"}, Bcc: []string{addr}, Subject: "s", Text: "t"})
			assertRefusedAddress(t, err, "bcc[0]", addr)
		})
	}
	assert.Empty(t, g.Sent())
}

// The Gmail API reads blind recipients from the Bcc field: a quoted local part stays quoted there.
func TestGmailBccKeepsQuotedLocalPart(t *testing.T) {
	g := mailtest.StartGmail(t, "tok")
	s, err := mail.NewGmailSender(mail.GmailConfig{
		Endpoint: g.URL(), TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "tok"}),
	})
	require.NoError(t, err)
	require.NoError(t, s.Send(t.Context(), &mail.Message{From: "alerts@example.com", Bcc: []string{`"john smith"@example.com`}, Subject: "s", Text: "t"}))
	sent := g.Sent()
	require.Len(t, sent, 1)
	assert.Contains(t, string(sent[0].Raw), "Bcc: <\"john smith\"@example.com>\r\n")
}

func assertRefusedAddress(t *testing.T, err error, path, addr string) {
	t.Helper()
	require.Error(t, err)
	var ve *webinfra.ValidationError
	require.True(t, errors.As(err, &ve), "want a *webinfra.ValidationError, got %T: %v", err, err)
	assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
	assert.Contains(t, err.Error(), path+": ")
	assert.Contains(t, err.Error(), strings.Trim(quoteLikeValidation(addr), `"`), "the error names the address")
}

// quoteLikeValidation is how webinfra.ValidationError prints a string value.
func quoteLikeValidation(s string) string {
	var ve webinfra.ValidationError
	ve.Invalid(webinfra.NewPath("x"), s, "m")
	msg := ve.Error()
	_, v, _ := strings.Cut(msg, "invalid value ")
	v, _, _ = strings.Cut(v, ": m")
	return v
}
