package mail

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/webinfra/webinfra"
)

// DefaultSignedHeaders are the header fields [DKIMSigner] signs by default: those RFC 6376
// section 5.4.1 recommends that a sender sets, with From listed twice ("oversigned") so that a
// second From added in transit breaks the signature instead of being shown to the reader.
// A field absent from the message is signed as empty, which likewise stops it being added.
var DefaultSignedHeaders = []string{
	"From", "From", "To", "Cc", "Subject", "Date", "Message-ID", "MIME-Version",
	"Content-Type", "Reply-To", "In-Reply-To", "References",
}

// DKIMSigner signs outgoing messages with go-msgauth. It is immutable after construction and
// safe for concurrent use.
type DKIMSigner struct {
	opts dkim.SignOptions
}

// DKIMSignerConfig configures [NewDKIMSigner].
type DKIMSignerConfig struct {
	// Domain is the signing domain (d=), normally the From domain; required.
	Domain string
	// Selector names the published key (s=); required. Workspace's own key is "google", so a
	// key made here needs another selector.
	Selector string
	// Key is the private key; required.
	Key *DKIMKey
	// Headers are the fields to sign; nil means [DefaultSignedHeaders]. It must include From.
	Headers []string
}

// NewDKIMSigner checks cfg and returns a signer using relaxed/relaxed canonicalisation, which
// survives the whitespace and folding changes relays make. Problems give a
// *webinfra.ValidationError.
func NewDKIMSigner(cfg DKIMSignerConfig) (*DKIMSigner, error) {
	var errs webinfra.ValidationError
	root := webinfra.Path{}
	if !isHostname(cfg.Domain) {
		errs.Invalid(root.Child("domain"), cfg.Domain, "not a domain name")
	}
	if cfg.Selector == "" || !isHostname(cfg.Selector+".x") {
		errs.Invalid(root.Child("selector"), cfg.Selector, "not a selector")
	}
	if cfg.Key == nil {
		errs.Required(root.Child("key"))
	}
	headers := cfg.Headers
	if headers == nil {
		headers = DefaultSignedHeaders
	}
	hasFrom := false
	for i, h := range headers {
		if !validHeaderName(h) {
			errs.Invalid(root.Child("headers").Index(i), h, "not a header field name")
		}
		hasFrom = hasFrom || strings.EqualFold(h, "From")
	}
	if !hasFrom {
		errs.Invalid(root.Child("headers"), strings.Join(headers, ","), "must include From")
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return &DKIMSigner{opts: dkim.SignOptions{
		Domain:                 strings.ToLower(cfg.Domain),
		Selector:               strings.ToLower(cfg.Selector),
		Signer:                 cfg.Key.Signer(),
		HeaderCanonicalization: dkim.CanonicalizationRelaxed,
		BodyCanonicalization:   dkim.CanonicalizationRelaxed,
		HeaderKeys:             append([]string(nil), headers...),
	}}, nil
}

// Domain returns the signing domain.
func (s *DKIMSigner) Domain() string { return s.opts.Domain }

// String returns "mail.DKIMSigner(d=DOMAIN s=SELECTOR)": never the key.
func (s *DKIMSigner) String() string {
	if s == nil {
		return "mail.DKIMSigner(none)"
	}
	return "mail.DKIMSigner(d=" + s.opts.Domain + " s=" + s.opts.Selector + ")"
}

// GoString returns the same as [DKIMSigner.String].
func (s *DKIMSigner) GoString() string { return s.String() }

// Format prints [DKIMSigner.String] for every verb and flag.
func (s *DKIMSigner) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// LogValue makes slog log the domain and selector only.
func (s *DKIMSigner) LogValue() slog.Value {
	if s == nil {
		return slog.StringValue("none")
	}
	return slog.GroupValue(slog.String("domain", s.opts.Domain), slog.String("selector", s.opts.Selector))
}

// Sign returns the raw RFC 5322 message with a DKIM-Signature field prepended. The input is
// not changed.
func (s *DKIMSigner) Sign(raw []byte) ([]byte, error) {
	opts := s.opts // go-msgauth keeps no reference, but a copy keeps s immutable regardless
	var out bytes.Buffer
	out.Grow(len(raw) + 512)
	if err := dkim.Sign(&out, bytes.NewReader(raw), &opts); err != nil {
		return nil, fmt.Errorf("mail: dkim sign (d=%s s=%s): %w", s.opts.Domain, s.opts.Selector, err)
	}
	return out.Bytes(), nil
}

// VerifyDKIM checks every DKIM signature of a raw message, fetching keys through the checker's
// resolver. It returns one verification per signature (Err nil when valid); the error is for a
// message that cannot be read or parsed, or a cancelled ctx.
func (c *Checker) VerifyDKIM(ctx context.Context, raw io.Reader) ([]*dkim.Verification, error) {
	vs, err := dkim.VerifyWithOptions(raw, &dkim.VerifyOptions{
		LookupTXT:        func(name string) ([]string, error) { return c.LookupTXT(ctx, name) },
		MaxVerifications: 10,
	})
	if ctxErr := ctx.Err(); ctxErr != nil {
		return nil, fmt.Errorf("mail: verify dkim: %w", ctxErr)
	}
	if err != nil {
		return vs, fmt.Errorf("mail: verify dkim: %w", err)
	}
	return vs, nil
}
