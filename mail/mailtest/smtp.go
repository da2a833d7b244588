package mailtest

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// SMTPServerConfig configures an in-process SMTP server.
type SMTPServerConfig struct {
	// Users are the accounts for AUTH PLAIN: username to password.
	Users map[string]string
	// Tokens are the accounts for AUTH XOAUTH2: username to access token.
	Tokens map[string]string
	// ImplicitTLS serves TLS from the first byte (as port 465) instead of offering STARTTLS.
	ImplicitTLS bool
	// NoTLS serves in the clear and offers no STARTTLS, to test clients that require TLS.
	NoTLS bool
	// RejectRecipients are addresses RCPT refuses with 550.
	RejectRecipients []string
}

// Received is one message the server accepted.
type Received struct {
	// From is the envelope sender (MAIL FROM).
	From string
	// To are the envelope recipients (RCPT TO).
	To []string
	// Data is the message exactly as sent, CRLF line ends included.
	Data []byte
	// User is the authenticated user, or "".
	User string
	// TLS reports whether the message came over TLS.
	TLS bool
	// MailCommand and RcptCommands are the MAIL and RCPT command lines of the message exactly
	// as the client sent them, without CRLF ("MAIL FROM:<\"john smith\"@example.com>"), where
	// From and To hold the paths as go-smtp decoded them (quotes removed). They are recorded on
	// plain connections only (a server with NoTLS): the tap sits below TLS, so they are empty
	// for messages sent over TLS.
	MailCommand  string
	RcptCommands []string
}

// SMTPServer is an SMTP server on 127.0.0.1 built on go-smtp, with a throwaway CA for TLS,
// AUTH PLAIN and XOAUTH2 against configured accounts, and a record of accepted messages. When
// any account is configured, MAIL needs AUTH first. It is safe for concurrent use.
type SMTPServer struct {
	// Addr is "127.0.0.1:port".
	Addr string
	// Host and Port are Addr's parts.
	Host string
	Port int
	// CA issued the server's certificate; clients trust CA.Pool.
	CA *CA

	cfg SMTPServerConfig
	srv *smtp.Server
	l   net.Listener
	wg  sync.WaitGroup

	mu       sync.Mutex
	received []Received
	conns    int
	authFail int
}

// NewSMTPServer starts a server on a free loopback port. Close it when done.
func NewSMTPServer(cfg SMTPServerConfig) (*SMTPServer, error) {
	ca, err := NewCA()
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("mailtest: listen: %w", err)
	}
	s := &SMTPServer{Addr: l.Addr().String(), Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, CA: ca, cfg: cfg}
	l = &tapListener{Listener: &countingListener{Listener: l, s: s}}
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "localhost"
	srv.MaxRecipients = 100
	srv.MaxMessageBytes = 25 << 20
	switch {
	case cfg.NoTLS:
	case cfg.ImplicitTLS:
		l = tls.NewListener(l, ca.ServerConfig())
	default:
		srv.TLSConfig = ca.ServerConfig()
	}
	s.srv, s.l = srv, l
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = srv.Serve(l) // returns when Close closes the listener
	}()
	return s, nil
}

// StartSMTP starts a server and closes it when the test ends.
func StartSMTP(t testing.TB, cfg SMTPServerConfig) *SMTPServer {
	t.Helper()
	s, err := NewSMTPServer(cfg)
	if err != nil {
		t.Fatalf("mailtest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Close stops the server and its connections, and waits for them.
func (s *SMTPServer) Close() {
	// Closing the listener ourselves ends Serve even when Close races with its start, before
	// go-smtp has registered the listener.
	_ = s.l.Close()
	_ = s.srv.Close()
	s.wg.Wait()
}

// ClientTLS returns a client TLS config trusting the server's CA.
func (s *SMTPServer) ClientTLS() *tls.Config { return s.CA.ClientConfig() }

// Messages returns a copy of the accepted messages, in order.
func (s *SMTPServer) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Received, len(s.received))
	for i, r := range s.received {
		r.To = append([]string(nil), r.To...)
		r.Data = bytes.Clone(r.Data)
		out[i] = r
	}
	return out
}

// Connections returns how many connections the server has accepted.
func (s *SMTPServer) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// AuthFailures returns how many AUTH attempts failed.
func (s *SMTPServer) AuthFailures() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.authFail
}

// countingListener counts TCP connections; go-smtp starts a new session after STARTTLS, so
// sessions would count them twice.
type countingListener struct {
	net.Listener
	s *SMTPServer
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.s.mu.Lock()
		l.s.conns++
		l.s.mu.Unlock()
	}
	return c, err
}

// tapListener hands out connections that remember the lines the client sent, so that sessions
// can record their MAIL and RCPT commands byte for byte.
type tapListener struct{ net.Listener }

func (l *tapListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &tapConn{Conn: c}, nil
}

// tapConn keeps the command lines read from the client, up to the last 64.
type tapConn struct {
	net.Conn
	mu      sync.Mutex
	partial []byte
	lines   []string
}

func (c *tapConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.partial = append(c.partial, p[:n]...)
	for {
		i := bytes.IndexByte(c.partial, '\n')
		if i < 0 {
			break
		}
		c.lines = append(c.lines, string(bytes.TrimSuffix(c.partial[:i], []byte{'\r'})))
		c.partial = c.partial[i+1:]
	}
	if len(c.lines) > 64 {
		c.lines = slices.Clone(c.lines[len(c.lines)-64:])
	}
	c.mu.Unlock()
	return n, err
}

// last returns the last line read that starts with prefix, ignoring case, or "".
func (c *tapConn) last(prefix string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.lines) - 1; i >= 0; i-- {
		if l := c.lines[i]; len(l) >= len(prefix) && strings.EqualFold(l[:len(prefix)], prefix) {
			return l
		}
	}
	return ""
}

// rawCommand returns the session's last command line starting with prefix, when the session's
// connection is a tap (no STARTTLS in between).
func (ss *session) rawCommand(prefix string) string {
	if tc, ok := ss.c.Conn().(*tapConn); ok {
		return tc.last(prefix)
	}
	return ""
}

func (s *SMTPServer) newSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: s, c: c}, nil
}

type session struct {
	s        *SMTPServer
	c        *smtp.Conn
	user     string
	from     string
	to       []string
	mailCmd  string
	rcptCmds []string
}

var _ smtp.AuthSession = (*session)(nil)

func (ss *session) needsAuth() bool { return len(ss.s.cfg.Users)+len(ss.s.cfg.Tokens) > 0 }

func (ss *session) AuthMechanisms() []string {
	var m []string
	if len(ss.s.cfg.Users) > 0 {
		m = append(m, sasl.Plain)
	}
	if len(ss.s.cfg.Tokens) > 0 {
		m = append(m, "XOAUTH2")
	}
	return m
}

func (ss *session) failed() error {
	ss.s.mu.Lock()
	ss.s.authFail++
	ss.s.mu.Unlock()
	return smtp.ErrAuthFailed
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, user, pass string) error {
			want, ok := ss.s.cfg.Users[user]
			if !ok || want != pass || (identity != "" && identity != user) {
				return ss.failed()
			}
			ss.user = user
			return nil
		}), nil
	case "XOAUTH2":
		return &xoauth2Server{check: func(user, token string) error {
			want, ok := ss.s.cfg.Tokens[user]
			if !ok || want != token {
				return ss.failed()
			}
			ss.user = user
			return nil
		}}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.needsAuth() && ss.user == "" {
		return smtp.ErrAuthRequired
	}
	ss.from, ss.mailCmd = from, ss.rawCommand("MAIL FROM:")
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	for _, r := range ss.s.cfg.RejectRecipients {
		if strings.EqualFold(r, to) {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
	}
	ss.to = append(ss.to, to)
	if cmd := ss.rawCommand("RCPT TO:"); cmd != "" {
		ss.rcptCmds = append(ss.rcptCmds, cmd)
	}
	return nil
}

func (ss *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := ss.c.TLSConnectionState()
	ss.s.mu.Lock()
	ss.s.received = append(ss.s.received, Received{From: ss.from, To: ss.to, Data: b, User: ss.user, TLS: isTLS, MailCommand: ss.mailCmd, RcptCommands: ss.rcptCmds})
	ss.s.mu.Unlock()
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to, ss.mailCmd, ss.rcptCmds = "", nil, "", nil }
func (ss *session) Logout() error { return nil }

// xoauth2Server checks Gmail's XOAUTH2 initial response: "user=U\x01auth=Bearer T\x01\x01".
// go-sasl has no XOAUTH2 server, hence this one.
type xoauth2Server struct {
	check func(user, token string) error
}

func (x *xoauth2Server) Next(resp []byte) ([]byte, bool, error) {
	if resp == nil {
		return []byte{}, false, nil // ask for the initial response
	}
	var user, token string
	for _, kv := range strings.Split(string(resp), "\x01") {
		if v, ok := strings.CutPrefix(kv, "user="); ok {
			user = v
		}
		if v, ok := strings.CutPrefix(kv, "auth=Bearer "); ok {
			token = v
		}
	}
	if user == "" || token == "" {
		return nil, false, errors.New("malformed XOAUTH2 response")
	}
	if err := x.check(user, token); err != nil {
		return nil, false, err
	}
	return nil, true, nil
}
