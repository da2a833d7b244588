package mail

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/webinfra/webinfra"
)

// KeyAlgorithm is a DKIM key algorithm.
type KeyAlgorithm string

// The DKIM key algorithms [GenerateDKIMKey] makes. Google Workspace signs with RSA; Ed25519
// (RFC 8463) is smaller but not every verifier checks it, so publish it beside an RSA key.
const (
	RSA2048 KeyAlgorithm = "rsa-2048"
	Ed25519 KeyAlgorithm = "ed25519"
)

// DKIMKey is a DKIM private key with its public half. It is immutable and safe for concurrent
// use.
//
// A key never prints: String, GoString, every fmt verb, slog and JSON give
// [webinfra.Redacted] with the algorithm ("mail.DKIMKey(ed25519, (sensitive))"), never key
// bytes. The material sits behind a pointer, so a struct holding a DKIMKey in an unexported
// field prints an address. Only [DKIMKey.PrivateKeyPEM] (a [webinfra.Secret]) gives the private
// half; [DKIMKey.Signer] signs with it.
type DKIMKey struct {
	m *dkimMaterial
}

// dkimMaterial holds the private key. As the crypto.Signer that [DKIMKey.Signer] returns it
// redacts itself too, so printing a signer (or go-msgauth's SignOptions) shows no key.
//
// The key sits two pointers away from any value that holds it: where fmt cannot call methods
// (an unexported field) and a verb does not suit a pointer (%s, %q, %c...), fmt prints the
// pointed-to struct once, and there it meets only another pointer, shown as an address. One
// pointer would leave an ed25519.PrivateKey (a byte slice) on show.
type dkimMaterial struct {
	key *crypto.Signer // *rsa.PrivateKey or ed25519.PrivateKey
}

func newDKIMKey(s crypto.Signer) *DKIMKey { return &DKIMKey{m: &dkimMaterial{key: &s}} }

func (m *dkimMaterial) signer() crypto.Signer { return *m.key }

// Public returns the public key.
func (m *dkimMaterial) Public() crypto.PublicKey { return m.signer().Public() }

// Sign signs digest with the private key.
func (m *dkimMaterial) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return m.signer().Sign(rand, digest, opts)
}

func (m *dkimMaterial) String() string               { return "mail.DKIMKey.Signer(" + webinfra.Redacted + ")" }
func (m *dkimMaterial) GoString() string             { return m.String() }
func (m *dkimMaterial) Format(f fmt.State, _ rune)   { _, _ = io.WriteString(f, m.String()) }
func (m *dkimMaterial) LogValue() slog.Value         { return slog.StringValue(webinfra.Redacted) }
func (m *dkimMaterial) MarshalJSON() ([]byte, error) { return json.Marshal(webinfra.Redacted) }

// GenerateDKIMKey makes a new key: RSA 2048 bits or Ed25519. Any other algorithm is an error
// matching webinfra.ErrInvalidArgument.
func GenerateDKIMKey(alg KeyAlgorithm) (*DKIMKey, error) {
	switch alg {
	case RSA2048:
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, fmt.Errorf("mail: generate rsa key: %w", err)
		}
		return newDKIMKey(k), nil
	case Ed25519:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("mail: generate ed25519 key: %w", err)
		}
		return newDKIMKey(k), nil
	default:
		return nil, fmt.Errorf("mail: dkim key algorithm %q: %w (supported: %s, %s)", alg, webinfra.ErrInvalidArgument, RSA2048, Ed25519)
	}
}

// ParseDKIMPrivateKey reads a PEM private key: PKCS#8 ("PRIVATE KEY", RSA or Ed25519) or
// PKCS#1 ("RSA PRIVATE KEY"). RSA keys under 1024 bits are refused, since verifiers ignore
// their signatures (RFC 8301). Errors match webinfra.ErrInvalidArgument.
func ParseDKIMPrivateKey(pemBytes []byte) (*DKIMKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, fmt.Errorf("mail: dkim private key: no PEM block: %w", webinfra.ErrInvalidArgument)
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("mail: dkim private key: PEM block %q: %w", block.Type, webinfra.ErrInvalidArgument)
	}
	if err != nil {
		return nil, fmt.Errorf("mail: dkim private key: %w: %w", webinfra.ErrInvalidArgument, err)
	}
	return NewDKIMKey(key)
}

// NewDKIMKey wraps an *rsa.PrivateKey (at least 1024 bits) or an ed25519.PrivateKey.
func NewDKIMKey(key any) (*DKIMKey, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 1024 {
			return nil, fmt.Errorf("mail: dkim rsa key of %d bits: %w (at least 1024)", k.N.BitLen(), webinfra.ErrInvalidArgument)
		}
		return newDKIMKey(k), nil
	case ed25519.PrivateKey:
		return newDKIMKey(k), nil
	default:
		return nil, fmt.Errorf("mail: dkim key of type %T: %w (rsa or ed25519)", key, webinfra.ErrInvalidArgument)
	}
}

// Signer returns a crypto.Signer over the private key for signing (its Public is an
// *rsa.PublicKey or ed25519.PublicKey). Like the key, it never prints key material.
func (k *DKIMKey) Signer() crypto.Signer { return k.m }

// Algorithm returns the key's algorithm tag value: "rsa" or "ed25519".
func (k *DKIMKey) Algorithm() string {
	if _, ok := k.m.signer().(ed25519.PrivateKey); ok {
		return "ed25519"
	}
	return "rsa"
}

// String returns "mail.DKIMKey(ALGORITHM, (sensitive))"; a nil or zero key gives
// "mail.DKIMKey(none)".
func (k DKIMKey) String() string {
	if k.m == nil {
		return "mail.DKIMKey(none)"
	}
	return "mail.DKIMKey(" + k.Algorithm() + ", " + webinfra.Redacted + ")"
}

// GoString returns the same as [DKIMKey.String], so %#v does not reveal the key either.
func (k DKIMKey) GoString() string { return k.String() }

// Format prints [DKIMKey.String] for every verb and flag.
func (k DKIMKey) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }

// LogValue makes slog log the algorithm and [webinfra.Redacted].
func (k DKIMKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// MarshalJSON encodes [DKIMKey.String] as a JSON string: JSON is not a key format here; use
// [DKIMKey.PrivateKeyPEM] to store the key.
func (k DKIMKey) MarshalJSON() ([]byte, error) { return json.Marshal(k.String()) }

var (
	_ fmt.Stringer   = DKIMKey{}
	_ fmt.GoStringer = DKIMKey{}
	_ fmt.Formatter  = DKIMKey{}
	_ slog.LogValuer = DKIMKey{}
	_ json.Marshaler = DKIMKey{}
	_ crypto.Signer  = (*dkimMaterial)(nil)
	_ fmt.Formatter  = (*dkimMaterial)(nil)
)

// PrivateKeyPEM returns the key as a PKCS#8 PEM block, as a secret; write it to a 0600 file.
func (k *DKIMKey) PrivateKeyPEM() webinfra.Secret {
	der, err := x509.MarshalPKCS8PrivateKey(k.m.signer())
	if err != nil {
		// Unreachable: NewDKIMKey admits only key types x509 marshals.
		panic("mail: marshal dkim key: " + err.Error())
	}
	return webinfra.NewSecret(string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))
}

// TXT returns the DNS TXT value publishing the public key at SELECTOR._domainkey.DOMAIN:
// "v=DKIM1; k=rsa; p=<base64 SubjectPublicKeyInfo>" (the form Google Workspace shows) or
// "v=DKIM1; k=ed25519; p=<base64 raw key>" (RFC 8463).
func (k *DKIMKey) TXT() string {
	txt, _ := DKIMTXT(k.m.signer().Public())
	return txt
}

// DKIMTXT returns the DNS TXT value for a public key (*rsa.PublicKey or ed25519.PublicKey).
func DKIMTXT(pub crypto.PublicKey) (string, error) {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(p)
		if err != nil {
			return "", fmt.Errorf("mail: dkim public key: %w", err)
		}
		return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der), nil
	case ed25519.PublicKey:
		return "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(p), nil
	default:
		return "", fmt.Errorf("mail: dkim public key of type %T: %w", pub, webinfra.ErrInvalidArgument)
	}
}

// DKIMKeyRecord is a parsed DKIM key record (RFC 6376 section 3.6.1).
//
// go-msgauth parses key records too, but only inside verification and unexported; a checker
// needs the record's fields (key size, flags) without a message, hence this parser.
type DKIMKeyRecord struct {
	// KeyType is the k= tag: "rsa" (also when absent) or "ed25519".
	KeyType string
	// PublicKey is *rsa.PublicKey or ed25519.PublicKey; nil when the key is revoked.
	PublicKey crypto.PublicKey
	// Bits is the RSA modulus size, or 256 for Ed25519; 0 when revoked.
	Bits int
	// Flags are the t= flags ("y" testing, "s" strict).
	Flags []string
	// Hashes are the h= hash algorithms; nil means all.
	Hashes []string

	tags []tag
}

// ParseDKIMKey parses a DKIM key record's text. It returns a *[ParseError] for broken syntax,
// a v= other than DKIM1 or not first, an unknown key type, or key data that does not decode,
// and a record together with an error matching [ErrKeyRevoked] when p= is empty. Keys of any
// size are returned: judging their strength is the caller's business (the checker calls RSA
// under 1024 bits weak).
func ParseDKIMKey(s string) (*DKIMKeyRecord, error) {
	tags, err := parseTags("dkim", s)
	if err != nil {
		return nil, err
	}
	bad := func(term, msg string) (*DKIMKeyRecord, error) {
		return nil, &ParseError{Record: "dkim", Term: term, Msg: msg}
	}
	rec := &DKIMKeyRecord{KeyType: "rsa", tags: tags}
	if v, ok := lookupTag(tags, "v"); ok && (v != "DKIM1" || tags[0].name != "v") {
		return bad("v="+v, `v= must be "DKIM1" and come first`)
	}
	if k, ok := lookupTag(tags, "k"); ok {
		rec.KeyType = k
	}
	if rec.KeyType != "rsa" && rec.KeyType != "ed25519" {
		return bad("k="+rec.KeyType, "unknown key type")
	}
	if h, ok := lookupTag(tags, "h"); ok {
		rec.Hashes = splitColonList(h)
	}
	if t, ok := lookupTag(tags, "t"); ok {
		rec.Flags = splitColonList(t)
	}
	p, ok := lookupTag(tags, "p")
	if !ok {
		return bad("", "no p= tag")
	}
	p = strings.Join(strings.Fields(p), "")
	if p == "" {
		return rec, ErrKeyRevoked
	}
	der, err := base64.StdEncoding.DecodeString(p)
	if err != nil {
		return bad("p=", "key data is not base64")
	}
	switch rec.KeyType {
	case "rsa":
		pub, err := x509.ParsePKIXPublicKey(der)
		if err != nil {
			// RFC 6376 erratum 3017: some publish a bare PKCS#1 RSAPublicKey.
			pub, err = x509.ParsePKCS1PublicKey(der)
		}
		rp, ok := pub.(*rsa.PublicKey)
		if err != nil || !ok {
			return bad("p=", "not an RSA public key")
		}
		rec.PublicKey, rec.Bits = rp, rp.N.BitLen()
	case "ed25519":
		if len(der) != ed25519.PublicKeySize {
			return bad("p=", fmt.Sprintf("Ed25519 key of %d bytes, want 32", len(der)))
		}
		rec.PublicKey, rec.Bits = ed25519.PublicKey(der), 256
	}
	return rec, nil
}

// Testing reports whether the record carries the t=y flag (domain testing DKIM).
func (r *DKIMKeyRecord) Testing() bool {
	for _, f := range r.Flags {
		if f == "y" {
			return true
		}
	}
	return false
}

// String formats the record's tags in their original order; parsing it gives the same record.
func (r *DKIMKeyRecord) String() string { return formatTags(r.tags) }

func formatTags(tags []tag) string {
	parts := make([]string, len(tags))
	for i, t := range tags {
		parts[i] = t.name + "=" + t.value
	}
	return strings.Join(parts, "; ")
}

func splitColonList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ":") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
