package mail_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/mail"
	"github.com/webinfra/webinfra/mail/mailtest"
)

// dkimSetup makes a signing key for example.com, selector "s1", and a DNS server publishing it.
func dkimSetup(t testing.TB, alg mail.KeyAlgorithm) (*mail.DKIMSigner, *mailtest.DNSServer) {
	t.Helper()
	key, err := mail.GenerateDKIMKey(alg)
	require.NoError(t, err)
	signer, err := mail.NewDKIMSigner(mail.DKIMSignerConfig{Domain: "example.com", Selector: "s1", Key: key})
	require.NoError(t, err)
	rec := mail.Record{Name: "s1._domainkey.example.com", Type: "TXT", Content: key.TXT()}
	return signer, mailtest.StartDNS(t, rec.RR())
}

func testMessage(i int) *mail.Message {
	return &mail.Message{
		From:    "Alerts <alerts@example.com>",
		To:      []string{"ops@example.org"},
		Bcc:     []string{"audit@example.org"},
		Subject: "disk almost full on web-" + strings.Repeat("1", i%3+1),
		Text:    "Disk /var is at 91%.\n",
		HTML:    "<p>Disk <b>/var</b> is at 91%.</p>",
		Headers: map[string]string{"X-Alert-ID": "a-1"},
	}
}

func TestSMTPSignedMessageArrivesAndVerifies(t *testing.T) {
	for _, alg := range []mail.KeyAlgorithm{mail.RSA2048, mail.Ed25519} {
		t.Run(string(alg), func(t *testing.T) {
			signer, dnsSrv := dkimSetup(t, alg)
			srv := mailtest.StartSMTP(t, mailtest.SMTPServerConfig{Users: map[string]string{"alerts@example.com": "app-password"}})
			s, err := mail.NewSMTPSender(mail.SMTPConfig{
				Host: srv.Host, Port: srv.Port, TLSConfig: srv.ClientTLS(),
				Username: "alerts@example.com", Password: webinfra.NewSecret("app-password"),
				Signer: signer, DialTimeout: 5 * time.Second,
			})
			require.NoError(t, err)
			require.NoError(t, s.Send(t.Context(), testMessage(0)))

			got := srv.Messages()
			require.Len(t, got, 1)
			assert.True(t, got[0].TLS, "STARTTLS is the default")
			assert.Equal(t, "alerts@example.com", got[0].User)
			assert.Equal(t, "alerts@example.com", got[0].From)
			assert.Equal(t, []string{"ops@example.org", "audit@example.org"}, got[0].To)
			assert.NotContains(t, string(got[0].Data), "audit@example.org", "Bcc stays out of the headers")

			vs, err := (&mail.Checker{Resolver: dnsSrv.Addr, Timeout: 2 * time.Second}).VerifyDKIM(t.Context(), bytes.NewReader(got[0].Data))
			require.NoError(t, err)
			require.Len(t, vs, 1)
			assert.NoError(t, vs[0].Err)
			assert.Equal(t, "example.com", vs[0].Domain)
			assert.Equal(t, []string{"from", "from", "to", "cc", "subject", "date", "message-id", "mime-version", "content-type", "reply-to", "in-reply-to", "references"}, lower(vs[0].HeaderKeys))
		})
	}
}

func lower(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToLower(s)
	}
	return out
}

func TestSMTPSignatureBreaksWhenFromIsAdded(t *testing.T) {
	signer, dnsSrv := dkimSetup(t, mail.RSA2048)
	raw, err := testMessage(0).Bytes()
	require.NoError(t, err)
	signed, err := signer.Sign(raw)
	require.NoError(t, err)
	forged := append([]byte("From: ceo@example.com\r\n"), signed...)
	vs, err := (&mail.Checker{Resolver: dnsSrv.Addr}).VerifyDKIM(t.Context(), bytes.NewReader(forged))
	require.NoError(t, err)
	require.Len(t, vs, 1)
	assert.Error(t, vs[0].Err, "From is oversigned: a prepended From must fail verification")
}

func TestSMTPWrongPasswordFailsCleanly(t *testing.T) {
	srv := mailtest.StartSMTP(t, mailtest.SMTPServerConfig{Users: map[string]string{"alerts@example.com": "right"}})
	s, err := mail.NewSMTPSender(mail.SMTPConfig{
		Host: srv.Host, Port: srv.Port, TLSConfig: srv.ClientTLS(),
		Username: "alerts@example.com", Password: webinfra.NewSecret("wrong"),
	})
	require.NoError(t, err)
	err = s.Send(t.Context(), testMessage(0))
	require.Error(t, err)
	assert.ErrorIs(t, err, mail.ErrAuth)
	assert.ErrorIs(t, err, webinfra.ErrPermissionDenied)
	assert.NotContains(t, err.Error(), "wrong", "the password never appears in errors")
	assert.Empty(t, srv.Messages())
	assert.Equal(t, 1, srv.AuthFailures())
}

func TestSMTPImplicitTLS(t *testing.T) {
	srv := mailtest.StartSMTP(t, mailtest.SMTPServerConfig{ImplicitTLS: true, Users: map[string]string{"u@example.com": "p"}})
	s, err := mail.NewSMTPSender(mail.SMTPConfig{
		Host: srv.Host, Port: srv.Port, Security: mail.ImplicitTLS, TLSConfig: srv.ClientTLS(),
		Username: "u@example.com", Password: webinfra.NewSecret("p"),
	})
	require.NoError(t, err)
	require.NoError(t, s.Send(t.Context(), testMessage(0)))
	require.Len(t, srv.Messages(), 1)
	assert.True(t, srv.Messages()[0].TLS)
}

func TestSMTPRequiresTLSByDefault(t *testing.T) {
	srv := mailtest.StartSMTP(t, mailtest.SMTPServerConfig{NoTLS: true})
	s, err := mail.NewSMTPSender(mail.SMTPConfig{Host: srv.Host, Port: srv.Port})
	require.NoError(t, err)
	err = s.Send(t.Context(), testMessage(0))
	assert.ErrorIs(t, err, mail.ErrTLSRequired)
	assert.ErrorIs(t, err, webinfra.ErrFailedPrecondition)
	assert.Empty(t, srv.Messages())
}

func TestSMTPRefusesUntrustedCertificate(t *testing.T) {
	srv := mailtest.StartSMTP(t, mailtest.SMTPServerConfig{})
	s, err := mail.NewSMTPSender(mail.SMTPConfig{Host: srv.Host, Port: srv.Port}) // system roots
	require.NoError(t, err)
	assert.Error(t, s.Send(t.Context(), testMessage(0)))
	assert.Empty(t, srv.Messages())
}

func TestSMTPXOAUTH2(t *testing.T) {
	srv := mailtest.StartSMTP(t, mailtest.SMTPServerConfig{Tokens: map[string]string{"alerts@example.com": "ya29.token"}})
	send := func(token string) error {
		s, err := mail.NewSMTPSender(mail.SMTPConfig{
			Host: srv.Host, Port: srv.Port, TLSConfig: srv.ClientTLS(), Username: "alerts@example.com",
			TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token}),
		})
		require.NoError(t, err)
		return s.Send(t.Context(), testMessage(0))
	}
	require.NoError(t, send("ya29.token"))
	assert.Equal(t, "alerts@example.com", srv.Messages()[0].User)
	assert.ErrorIs(t, send("expired"), mail.ErrAuth)
	assert.Len(t, srv.Messages(), 1)
}

func TestSMTPBatchReusesOneConnection(t *testing.T) {
	srv := mailtest.StartSMTP(t, mailtest.SMTPServerConfig{Users: map[string]string{"u@example.com": "p"}})
	s, err := mail.NewSMTPSender(mail.SMTPConfig{Host: srv.Host, Port: srv.Port, TLSConfig: srv.ClientTLS(), Username: "u@example.com", Password: webinfra.NewSecret("p")})
	require.NoError(t, err)
	var ms []*mail.Message
	for i := range 20 {
		ms = append(ms, testMessage(i))
	}
	require.NoError(t, s.SendBatch(t.Context(), ms))
	assert.Len(t, srv.Messages(), 20)
	assert.Equal(t, 1, srv.Connections())
}

func TestSMTPBatchValidatesEverythingFirst(t *testing.T) {
	srv := mailtest.StartSMTP(t, mailtest.SMTPServerConfig{})
	s, err := mail.NewSMTPSender(mail.SMTPConfig{Host: srv.Host, Port: srv.Port, TLSConfig: srv.ClientTLS()})
	require.NoError(t, err)
	bad := testMessage(1)
	bad.To = []string{"not an address"}
	err = s.SendBatch(t.Context(), []*mail.Message{testMessage(0), bad})
	var be *mail.BatchError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, 1, be.Index)
	assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
	assert.Zero(t, srv.Connections(), "nothing is sent when any message is malformed")
}

func TestSMTPSessionSurvivesRejectedRecipient(t *testing.T) {
	srv := mailtest.StartSMTP(t, mailtest.SMTPServerConfig{RejectRecipients: []string{"gone@example.org"}})
	s, err := mail.NewSMTPSender(mail.SMTPConfig{Host: srv.Host, Port: srv.Port, TLSConfig: srv.ClientTLS()})
	require.NoError(t, err)
	sess, err := s.Dial(t.Context())
	require.NoError(t, err)
	defer sess.Close()
	rejected := testMessage(0)
	rejected.To, rejected.Bcc = []string{"gone@example.org"}, nil
	err = sess.Send(t.Context(), rejected)
	assert.ErrorIs(t, err, mail.ErrRejected)
	require.NoError(t, sess.Send(t.Context(), testMessage(1)))
	require.NoError(t, sess.Close())
	require.NoError(t, sess.Close(), "Close is idempotent")
	assert.Len(t, srv.Messages(), 1)
	assert.Equal(t, 1, srv.Connections())
}

func TestSMTPCancelledContext(t *testing.T) {
	srv := mailtest.StartSMTP(t, mailtest.SMTPServerConfig{})
	s, err := mail.NewSMTPSender(mail.SMTPConfig{Host: srv.Host, Port: srv.Port, TLSConfig: srv.ClientTLS()})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err = s.Send(ctx, testMessage(0))
	assert.True(t, errors.Is(err, context.Canceled), "%v", err)
	assert.Empty(t, srv.Messages())
}

func TestSMTPConfigValidation(t *testing.T) {
	_, err := mail.NewSMTPSender(mail.SMTPConfig{
		Security: "ssl", Port: 70000, Username: "u@example.com",
		Password: webinfra.NewSecret("p"), TokenSource: oauth2.StaticTokenSource(&oauth2.Token{}),
	})
	require.Error(t, err)
	assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
	for _, path := range []string{"security", "port", "password"} {
		assert.Contains(t, err.Error(), path+":")
	}
	_, err = mail.NewSMTPSender(mail.SMTPConfig{Security: mail.Insecure, Username: "u@example.com", Password: webinfra.NewSecret("p")})
	assert.ErrorContains(t, err, "never sent without TLS")
	s, err := mail.NewSMTPSender(mail.SMTPConfig{})
	require.NoError(t, err, "the zero config is Gmail on 587 with STARTTLS and no AUTH")
	assert.NotNil(t, s)
}
