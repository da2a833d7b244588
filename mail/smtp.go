package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"golang.org/x/oauth2"

	"github.com/webinfra/webinfra"
)

// Gmail's SMTP endpoints.
const (
	// GmailSMTPHost is the submission server for users of the domain (app password or OAuth).
	GmailSMTPHost = "smtp.gmail.com"
	// GmailRelayHost is the Workspace SMTP relay, which admins configure to accept mail from
	// the cloud's addresses (with or without SMTP AUTH).
	GmailRelayHost = "smtp-relay.gmail.com"
)

// Security is how an SMTP connection is protected.
type Security string

// The SMTP security modes.
const (
	// STARTTLS upgrades a plain connection (port 587) and refuses servers that do not offer
	// it. The default.
	STARTTLS Security = "starttls"
	// ImplicitTLS speaks TLS from the first byte (port 465).
	ImplicitTLS Security = "tls"
	// Insecure sends in the clear. Only for local test servers; it cannot be combined with
	// credentials.
	Insecure Security = "none"
)

// SMTPConfig configures an [SMTPSender].
type SMTPConfig struct {
	// Host is the server; "" means [GmailSMTPHost].
	Host string
	// Port is the server's port; 0 means 587, or 465 with [ImplicitTLS].
	Port int
	// Security protects the connection; "" means [STARTTLS].
	Security Security
	// Username is the account (the full address) for AUTH PLAIN or XOAUTH2; "" sends without
	// AUTH (the relay with IP-based authorisation).
	Username string
	// Password is an app password for AUTH PLAIN. Exclusive with TokenSource.
	Password webinfra.Secret
	// TokenSource gives OAuth 2.0 access tokens for AUTH XOAUTH2 (scope
	// https://mail.google.com/). Exclusive with Password.
	TokenSource oauth2.TokenSource
	// TLSConfig is cloned for every connection; nil means the system roots. ServerName
	// defaults to Host. Tests put their CA in RootCAs.
	TLSConfig *tls.Config
	// LocalName is the name sent with EHLO after TLS starts; "" means "localhost".
	LocalName string
	// DialTimeout bounds connecting, TLS and AUTH; 0 means 30 s.
	DialTimeout time.Duration
	// CommandTimeout bounds each command's reply; 0 means 1 minute.
	CommandTimeout time.Duration
	// SubmissionTimeout bounds the reply after the message data; 0 means 5 minutes.
	SubmissionTimeout time.Duration
	// Signer DKIM-signs every message before it is sent; nil sends unsigned (Gmail then signs
	// with the Workspace key, when one is set up).
	Signer *DKIMSigner
	// DialContext opens the TCP connection; nil means a net.Dialer.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// Logger receives a debug line per connection and message; nil discards. Credentials are
	// never logged.
	Logger *slog.Logger
}

// SMTPSender sends through an SMTP server: Gmail's submission server or relay by default.
// [SMTPSender.Send] uses a connection per message, [SMTPSender.SendBatch] and
// [SMTPSender.Dial] one connection for many. It is safe for concurrent use.
type SMTPSender struct {
	cfg  SMTPConfig
	addr string
	log  *slog.Logger
}

var _ Sender = (*SMTPSender)(nil)

// NewSMTPSender checks cfg and fills its defaults; it does no network I/O. Problems give a
// *webinfra.ValidationError.
func NewSMTPSender(cfg SMTPConfig) (*SMTPSender, error) {
	var errs webinfra.ValidationError
	root := webinfra.Path{}
	if cfg.Host == "" {
		cfg.Host = GmailSMTPHost
	}
	if cfg.Security == "" {
		cfg.Security = STARTTLS
	}
	switch cfg.Security {
	case STARTTLS, Insecure:
		if cfg.Port == 0 {
			cfg.Port = 587
		}
	case ImplicitTLS:
		if cfg.Port == 0 {
			cfg.Port = 465
		}
	default:
		errs.NotSupported(root.Child("security"), string(cfg.Security), []string{string(STARTTLS), string(ImplicitTLS), string(Insecure)})
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		errs.Invalid(root.Child("port"), cfg.Port, "must be 1-65535")
	}
	if !cfg.Password.IsZero() && cfg.TokenSource != nil {
		errs.Add(root.Child("password"), nil, "password and token_source are exclusive")
	}
	if (!cfg.Password.IsZero() || cfg.TokenSource != nil) && cfg.Username == "" {
		errs.Required(root.Child("username"))
	}
	if cfg.Username != "" && cfg.Password.IsZero() && cfg.TokenSource == nil {
		errs.Add(root.Child("password"), nil, "username given without password or token_source")
	}
	if cfg.Security == Insecure && cfg.Username != "" {
		errs.Invalid(root.Child("security"), string(cfg.Security), "credentials are never sent without TLS")
	}
	for name, d := range map[string]time.Duration{"dial_timeout": cfg.DialTimeout, "command_timeout": cfg.CommandTimeout, "submission_timeout": cfg.SubmissionTimeout} {
		if d < 0 {
			errs.Invalid(root.Child(name), d, "must not be negative")
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	if cfg.LocalName == "" {
		cfg.LocalName = "localhost"
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = 30 * time.Second
	}
	if cfg.CommandTimeout == 0 {
		cfg.CommandTimeout = time.Minute
	}
	if cfg.SubmissionTimeout == 0 {
		cfg.SubmissionTimeout = 5 * time.Minute
	}
	if cfg.DialContext == nil {
		d := &net.Dialer{}
		cfg.DialContext = d.DialContext
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &SMTPSender{cfg: cfg, addr: net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)), log: log.With("pkg", "mail", "server", cfg.Host)}, nil
}

// Send validates m, signs it if configured, and sends it over a new connection that is closed
// afterwards. Cancelling ctx aborts the exchange by closing the connection.
func (s *SMTPSender) Send(ctx context.Context, m *Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	sess, err := s.Dial(ctx)
	if err != nil {
		return err
	}
	if err := sess.Send(ctx, m); err != nil {
		sess.Close()
		return err
	}
	return sess.Close()
}

// SendBatch validates every message, then sends them in order over one connection. It
// returns a *[BatchError] naming the first failed message.
func (s *SMTPSender) SendBatch(ctx context.Context, ms []*Message) error {
	if err := validateAll(ms); err != nil {
		return err
	}
	if len(ms) == 0 {
		return nil
	}
	sess, err := s.Dial(ctx)
	if err != nil {
		return &BatchError{Index: 0, Err: err}
	}
	for i, m := range ms {
		if err := sess.Send(ctx, m); err != nil {
			sess.Close()
			return &BatchError{Index: i, Sent: i, Err: err}
		}
	}
	return sess.Close()
}

// SMTPSession is one authenticated connection, for sending many messages. It is not safe for
// concurrent use; Close it when done.
type SMTPSession struct {
	s      *SMTPSender
	conn   net.Conn
	c      *smtp.Client
	closed bool
	mu     sync.Mutex
}

// Dial connects, secures the connection (STARTTLS or implicit TLS, as configured), and
// authenticates. Errors: [ErrTLSRequired] when the server offers no STARTTLS, [ErrAuth] when
// it refuses the credentials, [ErrTemporary] when it cannot be reached; ctx's error when ctx
// ends first.
func (s *SMTPSender) Dial(ctx context.Context) (*SMTPSession, error) {
	hctx, cancel := context.WithTimeout(ctx, s.cfg.DialTimeout)
	defer cancel()
	conn, err := s.cfg.DialContext(hctx, "tcp", s.addr)
	if err != nil {
		return nil, s.fail(ctx, "dial", err)
	}
	// go-smtp takes no context and resets the connection's deadlines on every command, so
	// ending the context closes the connection, which fails the command in progress.
	stop := context.AfterFunc(hctx, func() { conn.Close() })
	defer stop()
	tlsCfg := s.tlsConfig()
	var c *smtp.Client
	switch s.cfg.Security {
	case ImplicitTLS:
		tc := tls.Client(conn, tlsCfg)
		if err := tc.HandshakeContext(hctx); err != nil {
			conn.Close()
			return nil, s.fail(ctx, "tls handshake", err)
		}
		conn = tc
		c = smtp.NewClient(tc)
	case STARTTLS:
		c, err = smtp.NewClientStartTLS(conn, tlsCfg)
		if err != nil {
			conn.Close()
			// go-smtp reports a missing STARTTLS with a plain error; match its text to give
			// callers a sentinel.
			if err.Error() == "smtp: server doesn't support STARTTLS" {
				return nil, fmt.Errorf("mail: connect %s: %w", s.addr, ErrTLSRequired)
			}
			return nil, s.fail(ctx, "starttls", err)
		}
	default:
		c = smtp.NewClient(conn)
	}
	c.CommandTimeout, c.SubmissionTimeout = s.cfg.CommandTimeout, s.cfg.SubmissionTimeout
	if err := c.Hello(s.cfg.LocalName); err != nil {
		c.Close()
		return nil, s.fail(ctx, "ehlo", err)
	}
	if s.cfg.Username != "" {
		auth, err := s.auth()
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("mail: auth at %s: %w", s.addr, wrapAs(ErrAuth, err))
		}
		if err := c.Auth(auth); err != nil {
			c.Close()
			return nil, s.fail(ctx, "auth", err)
		}
	}
	s.log.Debug("connected", "security", string(s.cfg.Security), "auth", s.cfg.Username != "")
	return &SMTPSession{s: s, conn: conn, c: c}, nil
}

func (s *SMTPSender) tlsConfig() *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.cfg.TLSConfig != nil {
		cfg = s.cfg.TLSConfig.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = s.cfg.Host
	}
	return cfg
}

func (s *SMTPSender) auth() (sasl.Client, error) {
	if s.cfg.TokenSource != nil {
		tok, err := s.cfg.TokenSource.Token()
		if err != nil {
			return nil, fmt.Errorf("get oauth2 token: %w", err)
		}
		return &xoauth2{user: s.cfg.Username, token: tok.AccessToken}, nil
	}
	return sasl.NewPlainClient("", s.cfg.Username, s.cfg.Password.Reveal()), nil
}

// fail wraps an SMTP or network error with its category; ctx's error wins when ctx ended.
func (s *SMTPSender) fail(ctx context.Context, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("mail: %s at %s: %w", op, s.addr, ctxErr)
	}
	return fmt.Errorf("mail: %s at %s: %w", op, s.addr, classify(op, err))
}

// classify maps an SMTP reply to a category: 530, 534 and 535 (and any failure during AUTH)
// to ErrAuth, other 5xx to ErrRejected, 4xx and network failures to ErrTemporary.
func classify(op string, err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		switch {
		case se.Code == 530 || se.Code == 534 || se.Code == 535 || (op == "auth" && se.Code >= 500):
			return wrapAs(ErrAuth, err)
		case se.Code >= 500:
			return wrapAs(ErrRejected, err)
		default:
			return wrapAs(ErrTemporary, err)
		}
	}
	if op == "auth" {
		return wrapAs(ErrAuth, err)
	}
	return wrapAs(ErrTemporary, err)
}

// Send sends one message on the session's connection (MAIL, RCPT, DATA), signing it first if
// the sender has a signer. After a refused message the session stays usable (it sends RSET);
// after a network failure or a cancelled ctx it is closed.
func (ss *SMTPSession) Send(ctx context.Context, m *Message) error {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		return fmt.Errorf("mail: send on closed session: %w", webinfra.ErrFailedPrecondition)
	}
	from, rcpts, err := m.Envelope()
	if err != nil {
		return err
	}
	raw, err := m.Bytes()
	if err != nil {
		return err
	}
	if ss.s.cfg.Signer != nil {
		if raw, err = ss.s.cfg.Signer.Sign(raw); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { ss.conn.Close() })
	err = ss.c.SendMail(from, rcpts, bytes.NewReader(raw))
	stop()
	if err != nil {
		var se *smtp.SMTPError
		if errors.As(err, &se) && ctx.Err() == nil {
			_ = ss.c.Reset()
		} else {
			ss.closeLocked()
		}
		return ss.s.fail(ctx, "send", err)
	}
	ss.s.log.Debug("sent", "recipients", len(rcpts), "bytes", len(raw))
	return nil
}

// Close says QUIT and closes the connection. It is idempotent; the error is QUIT's.
func (ss *SMTPSession) Close() error {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		return nil
	}
	ss.closed = true
	err := ss.c.Quit()
	ss.c.Close()
	if err != nil {
		return fmt.Errorf("mail: quit at %s: %w", ss.s.addr, classify("quit", err))
	}
	return nil
}

func (ss *SMTPSession) closeLocked() {
	if !ss.closed {
		ss.closed = true
		ss.c.Close()
	}
}

// xoauth2 is the SASL XOAUTH2 mechanism Gmail accepts for OAuth 2.0 access tokens. go-sasl has
// OAUTHBEARER but not XOAUTH2, which Gmail documents for SMTP, so it is written here.
type xoauth2 struct{ user, token string }

// Format keeps the access token out of any print of the mechanism.
func (a *xoauth2) Format(f fmt.State, _ rune) {
	_, _ = fmt.Fprintf(f, "xoauth2{user: %s, token: %s}", a.user, webinfra.Redacted)
}

func (a *xoauth2) Start() (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + a.user + "\x01auth=Bearer " + a.token + "\x01\x01"), nil
}

// Next answers the server's error challenge (a base64 JSON status) with an empty line, after
// which the server sends its final 535.
func (a *xoauth2) Next([]byte) ([]byte, error) { return []byte{}, nil }
