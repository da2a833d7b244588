package mail

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	netmail "net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	gomail "github.com/wneessen/go-mail"
	"golang.org/x/net/idna"

	"github.com/webinfra/webinfra"
)

// Message is an outgoing mail. Build one and hand it to a [Sender]; the sender validates it
// (see [Message.Validate]) before anything goes on the wire, and renders it with go-mail.
type Message struct {
	// From is the author, "Name <addr@example.com>" or "addr@example.com"; required.
	From string `json:"from"`
	// To, Cc and Bcc are recipients in the same form; at least one in all. Bcc recipients get
	// the mail but appear in no header the others see.
	To  []string `json:"to,omitempty"`
	Cc  []string `json:"cc,omitempty"`
	Bcc []string `json:"bcc,omitempty"`
	// ReplyTo is where replies go; "" means From.
	ReplyTo string `json:"reply_to,omitempty"`
	// Subject is the subject line (any Unicode, encoded as RFC 2047 when needed).
	Subject string `json:"subject"`
	// Text and HTML are the bodies; both give multipart/alternative, either alone a single
	// part.
	Text string `json:"text,omitempty"`
	HTML string `json:"html,omitempty"`
	// Headers are further header fields ("In-Reply-To", "References", "List-Unsubscribe",
	// "X-..."). The fields set from the other Message fields, and the MIME and DKIM fields, are
	// refused here.
	Headers map[string]string `json:"headers,omitempty"`
	// Date is the Date field; zero means the time of sending.
	Date time.Time `json:"date,omitzero"`
	// MessageID is the Message-ID without angle brackets ("id@example.com"); "" means a random
	// one at the From domain.
	MessageID string `json:"message_id,omitempty"`
}

// reservedHeaders are set from Message fields or by the MIME writer and the signer.
var reservedHeaders = []string{
	"from", "to", "cc", "bcc", "reply-to", "subject", "date", "message-id", "mime-version",
	"content-type", "content-transfer-encoding", "dkim-signature", "sender", "return-path",
}

// Validate reports every problem at once, as a *webinfra.ValidationError with field paths
// ("to[1]", "headers[X-Tag]"): a missing or malformed address (parsed with net/mail), an
// address the SMTP envelope cannot carry (see [Message.Envelope]), no recipients, a CR, LF or NUL in any header value or the subject (header injection), a bad or
// reserved extra header name, a bad Message-ID.
func (m *Message) Validate() error {
	var errs webinfra.ValidationError
	root := webinfra.Path{}
	if m.From == "" {
		errs.Required(root.Child("from"))
	} else {
		checkAddress(&errs, root.Child("from"), m.From)
	}
	if m.ReplyTo != "" {
		checkAddress(&errs, root.Child("reply_to"), m.ReplyTo)
	}
	for field, list := range map[string][]string{"to": m.To, "cc": m.Cc, "bcc": m.Bcc} {
		for i, a := range list {
			checkAddress(&errs, root.Child(field).Index(i), a)
		}
	}
	if len(m.To)+len(m.Cc)+len(m.Bcc) == 0 {
		errs.Add(root.Child("to"), nil, "no recipients (to, cc and bcc are all empty)")
	}
	if hasControl(m.Subject) {
		errs.Invalid(root.Child("subject"), m.Subject, "contains CR, LF or NUL")
	}
	for name, v := range m.Headers {
		p := root.Child("headers").Key(name)
		switch {
		case !validHeaderName(name):
			errs.Invalid(p, name, "not a header field name")
		case slices.Contains(reservedHeaders, strings.ToLower(name)):
			errs.Invalid(p, name, "set from the message's own fields")
		}
		if hasControl(v) {
			errs.Invalid(p, v, "contains CR, LF or NUL")
		}
	}
	if m.MessageID != "" {
		l, r, ok := strings.Cut(m.MessageID, "@")
		if !ok || l == "" || r == "" || strings.ContainsAny(m.MessageID, "<> \t\r\n\x00") {
			errs.Invalid(root.Child("message_id"), m.MessageID, `not "left@right" (no angle brackets)`)
		}
	}
	return errs.Err()
}

func checkAddress(errs *webinfra.ValidationError, p webinfra.Path, s string) {
	if hasControl(s) {
		errs.Invalid(p, s, "contains CR, LF or NUL")
		return
	}
	a, err := netmail.ParseAddress(s)
	if err != nil {
		errs.Invalid(p, s, "not an address: "+strings.TrimPrefix(err.Error(), "mail: "))
		return
	}
	if _, err := envelopePath(a.Address); err != nil {
		errs.Invalid(p, s, err.Error())
	}
}

// maxLocalPart is the longest local part RFC 5321 section 4.5.3.1.1 requires servers to accept.
const maxLocalPart = 64

// envelopePath renders addr, a net/mail Address.Address (the decoded local part, "@", the
// domain), as the Mailbox of an SMTP MAIL or RCPT path (RFC 5321 section 4.1.2): the local part
// as a Dot-string when it is one, else as a Quoted-string with every \ and " escaped; an
// internationalised domain as its A-labels (IDNA 2008 lookup rules), an ASCII domain as given.
//
// It refuses what a path cannot carry or what would let an address add to the command: a
// control character (CR, LF, NUL, tab, DEL...) or '<' or '>' in the local part (even quoted,
// '>' ends the path for many servers, after which the rest reads as ESMTP parameters), a local
// part over 64 octets, invalid UTF-8, and a domain that is not a host name. The error text
// says which, for a validation message.
func envelopePath(addr string) (string, error) {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return "", errors.New("no @domain")
	}
	local, domain := addr[:at], addr[at+1:]
	if !isASCII(domain) {
		ascii, err := idna.Lookup.ToASCII(domain)
		if err != nil {
			return "", errors.New("domain is not a host name (IDNA: " + err.Error() + ")")
		}
		domain = ascii
	}
	if !isHostname(domain) {
		return "", errors.New("domain is not a host name")
	}
	switch {
	case local == "":
		return "", errors.New("empty local part")
	case len(local) > maxLocalPart:
		return "", fmt.Errorf("local part of %d octets, at most %d on the SMTP envelope (RFC 5321 4.5.3.1.1)", len(local), maxLocalPart)
	case !utf8.ValidString(local):
		return "", errors.New("local part is not valid UTF-8")
	}
	for _, r := range local {
		switch {
		case r < 0x20 || r == 0x7f:
			return "", fmt.Errorf("local part contains the control character %U, which the SMTP envelope cannot carry", r)
		case r == '<' || r == '>':
			return "", fmt.Errorf("local part contains %q, which would end the SMTP path and let the rest pass as ESMTP parameters", r)
		}
	}
	if isDotString(local) {
		return local + "@" + domain, nil
	}
	var b strings.Builder
	b.Grow(len(local) + 3 + len(domain))
	b.WriteByte('"')
	for i := 0; i < len(local); i++ {
		if c := local[i]; c == '\\' || c == '"' {
			b.WriteByte('\\')
		}
		b.WriteByte(local[i])
	}
	b.WriteString(`"@`)
	b.WriteString(domain)
	return b.String(), nil
}

// isDotString reports whether s is an RFC 5321 Dot-string: atoms of atext joined by single
// dots, with UTF-8 beyond ASCII counted as atext (RFC 6531).
func isDotString(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '.' && c < 0x80 && !isAlpha(c) && !isDigit(c) && !strings.ContainsRune("!#$%&'*+-/=?^_`{|}~", rune(c)) {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func hasControl(s string) bool { return strings.ContainsAny(s, "\r\n\x00") }

// validHeaderName accepts RFC 5322 field names: printable ASCII except ':'.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 33 || s[i] > 126 || s[i] == ':' {
			return false
		}
	}
	return true
}

// Envelope returns the SMTP envelope: the From address and every recipient address (To, Cc,
// Bcc, duplicates removed, in that order), each in the form RFC 5321 section 4.1.2 gives it on
// MAIL FROM and RCPT TO, ready to go between the angle brackets: a local part that is not a
// Dot-string quoted, with \ and " escaped (`"john smith"@example.com` stays quoted), an
// internationalised domain as A-labels. It validates m first, so an address that could add
// ESMTP parameters or commands (CR, LF, NUL or another control character, '<' or '>') never
// gets here: the *webinfra.ValidationError names its field and value.
func (m *Message) Envelope() (from string, rcpts []string, err error) {
	if err := m.Validate(); err != nil {
		return "", nil, err
	}
	path := func(s string) string {
		a, _ := netmail.ParseAddress(s) // validated above
		p, _ := envelopePath(a.Address) // likewise
		return p
	}
	for _, a := range slices.Concat(m.To, m.Cc, m.Bcc) {
		if p := path(a); !slices.Contains(rcpts, p) {
			rcpts = append(rcpts, p)
		}
	}
	return path(m.From), rcpts, nil
}

// Bytes validates m and renders it as an RFC 5322 message with CRLF line ends, without a Bcc
// field: the form for SMTP, where the envelope carries the Bcc recipients.
func (m *Message) Bytes() ([]byte, error) { return m.render(false) }

// render builds the message with go-mail. withBcc adds a Bcc field, which the Gmail API needs
// to learn the blind recipients (Gmail removes it before delivery).
func (m *Message) render(withBcc bool) ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	from, _ := netmail.ParseAddress(m.From)
	msg.FromMailAddress(from)
	addrs := func(list []string) []*netmail.Address {
		out := make([]*netmail.Address, 0, len(list))
		for _, s := range list {
			a, _ := netmail.ParseAddress(s) // validated above
			out = append(out, a)
		}
		return out
	}
	if len(m.To) > 0 {
		msg.ToMailAddress(addrs(m.To)...)
	}
	if len(m.Cc) > 0 {
		msg.CcMailAddress(addrs(m.Cc)...)
	}
	if m.ReplyTo != "" {
		msg.ReplyToMailAddress(addrs([]string{m.ReplyTo})...)
	}
	if withBcc && len(m.Bcc) > 0 {
		var parts []string
		for _, a := range addrs(m.Bcc) {
			parts = append(parts, a.String())
		}
		msg.SetGenHeaderPreformatted("Bcc", strings.Join(parts, ", "))
	}
	msg.Subject(m.Subject)
	date := m.Date
	if date.IsZero() {
		date = time.Now()
	}
	msg.SetDateWithValue(date)
	id := m.MessageID
	if id == "" {
		var b [12]byte
		_, _ = rand.Read(b[:])
		_, host, _ := strings.Cut(from.Address, "@")
		id = hex.EncodeToString(b[:]) + "@" + host
	}
	msg.SetMessageIDWithValue(id)
	names := make([]string, 0, len(m.Headers))
	for k := range m.Headers {
		names = append(names, k)
	}
	slices.Sort(names) // a stable order keeps rendered messages reproducible
	for _, k := range names {
		msg.SetGenHeader(gomail.Header(k), m.Headers[k])
	}
	switch {
	case m.Text != "" && m.HTML != "":
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	case m.HTML != "":
		msg.SetBodyString(gomail.TypeTextHTML, m.HTML)
	default:
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	}
	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("mail: render message: %w", err)
	}
	return buf.Bytes(), nil
}
