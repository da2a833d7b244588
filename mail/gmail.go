package mail

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"golang.org/x/oauth2"
	"google.golang.org/api/gmail/v1"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"

	"github.com/webinfra/webinfra"
)

// GmailConfig configures a [GmailSender].
type GmailConfig struct {
	// UserID is the mailbox that sends: "me" (the token's user, the default) or an address.
	UserID string
	// TokenSource gives access tokens with scope gmail.GmailSendScope; for a service account
	// with domain-wide delegation use golang.org/x/oauth2/google's JWTConfigFromJSON with
	// Subject set to the sending user. Required unless HTTPClient carries authentication.
	TokenSource oauth2.TokenSource
	// HTTPClient, when set, is used as is (it must add authentication itself, unless the
	// endpoint needs none); TokenSource is then ignored.
	HTTPClient *http.Client
	// Endpoint is the API's base URL, ending in "/"; "" means Google's. Tests use a
	// mailtest.GmailServer's URL.
	Endpoint string
	// Signer DKIM-signs each message before it is sent; nil sends unsigned (Gmail signs with
	// the Workspace key).
	Signer *DKIMSigner
	// Logger receives a debug line per message; nil discards.
	Logger *slog.Logger
}

// GmailSender sends through the Gmail API's users.messages.send with the raw RFC 5322
// message. It is safe for concurrent use.
type GmailSender struct {
	svc    *gmail.Service
	userID string
	signer *DKIMSigner
	log    *slog.Logger
}

var _ Sender = (*GmailSender)(nil)

// NewGmailSender builds the API client; it does no network I/O. A config with neither
// TokenSource nor HTTPClient gives a *webinfra.ValidationError.
func NewGmailSender(cfg GmailConfig) (*GmailSender, error) {
	var errs webinfra.ValidationError
	if cfg.TokenSource == nil && cfg.HTTPClient == nil {
		errs.Add(webinfra.NewPath("token_source"), nil, "required unless http_client is set")
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	var opts []option.ClientOption
	if cfg.HTTPClient != nil {
		opts = append(opts, option.WithHTTPClient(cfg.HTTPClient))
	} else {
		opts = append(opts, option.WithTokenSource(cfg.TokenSource))
	}
	if cfg.Endpoint != "" {
		opts = append(opts, option.WithEndpoint(cfg.Endpoint))
	}
	// NewService reads no network; credentials are fetched on the first call.
	svc, err := gmail.NewService(context.Background(), opts...)
	if err != nil {
		return nil, fmt.Errorf("mail: gmail client: %w", err)
	}
	userID := cfg.UserID
	if userID == "" {
		userID = "me"
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &GmailSender{svc: svc, userID: userID, signer: cfg.Signer, log: log.With("pkg", "mail", "user", userID)}, nil
}

// Send validates m, renders it with a Bcc field (Gmail reads the blind recipients from it and
// removes it), signs it if configured, and posts it. Errors: 401/403 match [ErrAuth], 429
// webinfra.ErrRateLimited, 400 [ErrRejected], 5xx [ErrTemporary].
func (g *GmailSender) Send(ctx context.Context, m *Message) error {
	raw, err := m.render(true)
	if err != nil {
		return err
	}
	if g.signer != nil {
		if raw, err = g.signer.Sign(raw); err != nil {
			return err
		}
	}
	return g.SendRaw(ctx, raw)
}

// SendRaw posts an already rendered (and possibly signed) RFC 5322 message unchanged.
func (g *GmailSender) SendRaw(ctx context.Context, raw []byte) error {
	msg := &gmail.Message{Raw: base64.URLEncoding.EncodeToString(raw)}
	sent, err := g.svc.Users.Messages.Send(g.userID, msg).Context(ctx).Do()
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("mail: gmail send: %w", ctxErr)
		}
		return fmt.Errorf("mail: gmail send as %q: %w", g.userID, classifyGoogle(err))
	}
	g.log.Debug("sent", "id", sent.Id, "bytes", len(raw))
	return nil
}

// SendBatch validates every message, then sends them in order, one API call each (the API has
// no multi-message send). It returns a *[BatchError] naming the first failure.
func (g *GmailSender) SendBatch(ctx context.Context, ms []*Message) error {
	if err := validateAll(ms); err != nil {
		return err
	}
	for i, m := range ms {
		if err := g.Send(ctx, m); err != nil {
			return &BatchError{Index: i, Sent: i, Err: err}
		}
	}
	return nil
}

func classifyGoogle(err error) error {
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		switch {
		case ge.Code == http.StatusUnauthorized || ge.Code == http.StatusForbidden:
			return wrapAs(ErrAuth, err)
		case ge.Code == http.StatusTooManyRequests:
			return wrapAs(webinfra.ErrRateLimited, err)
		case ge.Code >= 500:
			return wrapAs(ErrTemporary, err)
		case ge.Code >= 400:
			return wrapAs(ErrRejected, err)
		}
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return wrapAs(ErrAuth, err)
	}
	return wrapAs(ErrTemporary, err)
}
