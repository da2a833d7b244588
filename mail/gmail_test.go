package mail_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/jwt"
	"google.golang.org/api/gmail/v1"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/mail"
	"github.com/webinfra/webinfra/mail/mailtest"
)

func TestGmailDeliversExactRawMessage(t *testing.T) {
	signer, dnsSrv := dkimSetup(t, mail.RSA2048)
	g := mailtest.StartGmail(t, "tok")
	s, err := mail.NewGmailSender(mail.GmailConfig{
		Endpoint: g.URL(), TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "tok"}),
	})
	require.NoError(t, err)
	raw, err := testMessage(0).Bytes()
	require.NoError(t, err)
	signed, err := signer.Sign(raw)
	require.NoError(t, err)
	require.NoError(t, s.SendRaw(t.Context(), signed))
	sent := g.Sent()
	require.Len(t, sent, 1)
	assert.Equal(t, signed, sent[0].Raw, "byte for byte")
	assert.Equal(t, "me", sent[0].UserID)

	vs, err := (&mail.Checker{Resolver: dnsSrv.Addr}).VerifyDKIM(t.Context(), bytes.NewReader(sent[0].Raw))
	require.NoError(t, err)
	require.Len(t, vs, 1)
	assert.NoError(t, vs[0].Err)
}

func TestGmailSendCarriesBccAndSigns(t *testing.T) {
	signer, dnsSrv := dkimSetup(t, mail.Ed25519)
	g := mailtest.StartGmail(t, "")
	s, err := mail.NewGmailSender(mail.GmailConfig{Endpoint: g.URL(), HTTPClient: http.DefaultClient, UserID: "alerts@example.com", Signer: signer})
	require.NoError(t, err)
	require.NoError(t, s.Send(t.Context(), testMessage(0)))
	sent := g.Sent()
	require.Len(t, sent, 1)
	assert.Equal(t, "alerts@example.com", sent[0].UserID)
	assert.Contains(t, string(sent[0].Raw), "Bcc: <audit@example.org>\r\n", "Gmail learns blind recipients from the Bcc field")
	vs, err := (&mail.Checker{Resolver: dnsSrv.Addr}).VerifyDKIM(t.Context(), bytes.NewReader(sent[0].Raw))
	require.NoError(t, err)
	require.Len(t, vs, 1)
	assert.NoError(t, vs[0].Err)
}

func TestGmailErrors(t *testing.T) {
	g := mailtest.StartGmail(t, "right")
	s, err := mail.NewGmailSender(mail.GmailConfig{Endpoint: g.URL(), TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "wrong"})})
	require.NoError(t, err)
	err = s.Send(t.Context(), testMessage(0))
	assert.ErrorIs(t, err, mail.ErrAuth)
	assert.ErrorIs(t, err, webinfra.ErrPermissionDenied)

	ok, err := mail.NewGmailSender(mail.GmailConfig{Endpoint: g.URL(), TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "right"})})
	require.NoError(t, err)
	g.FailWith(http.StatusTooManyRequests)
	assert.ErrorIs(t, ok.Send(t.Context(), testMessage(0)), webinfra.ErrRateLimited)
	g.FailWith(http.StatusServiceUnavailable)
	assert.ErrorIs(t, ok.Send(t.Context(), testMessage(0)), mail.ErrTemporary)
	g.FailWith(0)
	bad := testMessage(0)
	bad.Subject = "hi\r\nBcc: victim@example.net"
	assert.ErrorIs(t, ok.Send(t.Context(), bad), webinfra.ErrInvalidArgument)
	assert.Empty(t, g.Sent())
	assert.Empty(t, g.Unhandled())

	_, err = mail.NewGmailSender(mail.GmailConfig{})
	assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
}

// A service account with domain-wide delegation signs a JWT for the user it acts as and trades
// it for an access token; the token endpoint here is a local stand-in for Google's.
func TestGmailServiceAccountDelegation(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, r.ParseForm())
		assert.Equal(t, "urn:ietf:params:oauth:grant-type:jwt-bearer", r.Form.Get("grant_type"))
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "delegated", "token_type": "Bearer", "expires_in": 3600})
	}))
	t.Cleanup(tokenSrv.Close)
	g := mailtest.StartGmail(t, "delegated")
	cfg := &jwt.Config{
		Email:      "mailer@project.iam.gserviceaccount.com",
		PrivateKey: pemKey(t, key),
		Scopes:     []string{gmail.GmailSendScope},
		Subject:    "alerts@example.com", // the Workspace user the service account acts as
		TokenURL:   tokenSrv.URL,
		Expires:    time.Hour,
	}
	s, err := mail.NewGmailSender(mail.GmailConfig{Endpoint: g.URL(), TokenSource: cfg.TokenSource(t.Context())})
	require.NoError(t, err)
	require.NoError(t, s.Send(t.Context(), testMessage(0)))
	require.Len(t, g.Sent(), 1)
	assert.Equal(t, "delegated", g.Sent()[0].Token)
}
