package mesh

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"

	"github.com/webinfra/webinfra"
)

// GenerateRSAKey generates a tinc 1.0 node key of the given size in bits (0 means 2048, what
// `tincd -K` generates). It takes about 0.1 s for 2048 bits on one core.
func GenerateRSAKey(bits int) (*rsa.PrivateKey, error) {
	if bits == 0 {
		bits = 2048
	}
	if bits < 2048 {
		return nil, fmt.Errorf("mesh: RSA key of %d bits: want at least 2048: %w", bits, webinfra.ErrInvalidArgument)
	}
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, fmt.Errorf("mesh: generate RSA key: %w", err)
	}
	return k, nil
}

// ParseRSAPrivateKey parses rsa_key.priv: a PKCS#1 "RSA PRIVATE KEY" PEM block, as tincd -K and
// [MarshalRSAPrivateKey] write it, optionally after blank lines (tincd appends to the file and
// starts with a newline). Anything else, an encrypted key included, is an error matching
// webinfra.ErrInvalidArgument.
func ParseRSAPrivateKey(data []byte) (*rsa.PrivateKey, error) {
	p, rest := pem.Decode(data)
	switch {
	case p == nil:
		return nil, fmt.Errorf("mesh: parse RSA private key: no PEM block: %w", webinfra.ErrInvalidArgument)
	case p.Type != rsaPrivateType:
		return nil, fmt.Errorf("mesh: parse RSA private key: PEM block %q, want %q: %w", p.Type, rsaPrivateType, webinfra.ErrInvalidArgument)
	case len(p.Headers) > 0:
		return nil, fmt.Errorf("mesh: parse RSA private key: encrypted keys are not supported: %w", webinfra.ErrInvalidArgument)
	case len(bytes.TrimSpace(rest)) > 0:
		return nil, fmt.Errorf("mesh: parse RSA private key: data after the key: %w", webinfra.ErrInvalidArgument)
	}
	k, err := x509.ParsePKCS1PrivateKey(p.Bytes)
	if err != nil {
		return nil, fmt.Errorf("mesh: parse RSA private key: %w: %w", err, webinfra.ErrInvalidArgument)
	}
	return k, nil
}

// MarshalRSAPrivateKey renders rsa_key.priv as OpenSSL's PEM_write_RSAPrivateKey does: PKCS#1
// DER in an "RSA PRIVATE KEY" block, 64 columns. Write it with mode 0600.
func MarshalRSAPrivateKey(k *rsa.PrivateKey) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: rsaPrivateType, Bytes: x509.MarshalPKCS1PrivateKey(k)})
}

// MarshalRSAPublicKey renders the public key block of a host file as OpenSSL's
// PEM_write_RSAPublicKey does: PKCS#1 DER in an "RSA PUBLIC KEY" block.
func MarshalRSAPublicKey(k *rsa.PublicKey) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: rsaPublicType, Bytes: x509.MarshalPKCS1PublicKey(k)})
}

// Keys are one node's private keys. They never print: String, GoString, every fmt verb, slog and
// JSON show only which keys are present ("mesh.Keys{RSA: (sensitive), Ed25519: none}"). Both
// are pointers, so a struct holding Keys in an unexported field, which fmt prints without asking
// Keys, shows addresses only.
type Keys struct {
	// RSA is the tinc 1.0 key; required.
	RSA *rsa.PrivateKey
	// Ed25519 is the tinc 1.1 key; nil unless [Network.Ed25519] is set.
	Ed25519 *Ed25519Key
}

// String says which keys are present, never their content.
func (k Keys) String() string {
	return fmt.Sprintf("mesh.Keys{RSA: %s, Ed25519: %s}", present(k.RSA != nil), present(k.Ed25519 != nil))
}

// GoString returns the same as [Keys.String].
func (k Keys) GoString() string { return k.String() }

// Format redacts the keys for every verb.
func (k Keys) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(k.String())) }

// LogValue makes slog log which keys are present.
func (k Keys) LogValue() slog.Value {
	return slog.GroupValue(slog.String("rsa", present(k.RSA != nil)), slog.String("ed25519", present(k.Ed25519 != nil)))
}

// MarshalJSON encodes which keys are present ({"rsa":"(sensitive)","ed25519":"none"}); the
// key files are the keys' formats ([MarshalRSAPrivateKey], [Ed25519Key.MarshalPrivate]).
func (k Keys) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"rsa": present(k.RSA != nil), "ed25519": present(k.Ed25519 != nil)})
}

func present(ok bool) string {
	if ok {
		return webinfra.Redacted
	}
	return "none"
}
