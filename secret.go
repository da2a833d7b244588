package webinfra

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"log/slog"
)

// Redacted is what a [Secret] and a sensitive plan value print instead of their content.
const Redacted = "(sensitive)"

// Secret holds a token, password or private key so that it never prints: String, GoString, every
// fmt verb, JSON and text encoding and slog all give [Redacted]. Only [Secret.Reveal] returns the
// content, so every use of it is explicit and easy to audit.
//
// The content sits behind a pointer, so even printing a struct that holds a Secret in an
// unexported field (which fmt cannot call methods on) shows an address, never the value.
//
// The zero value is the empty secret. Secrets are immutable and safe for concurrent use. Do not
// compare them with ==, which compares identity; use [Secret.Equal].
type Secret struct {
	v *string
}

// NewSecret wraps s.
func NewSecret(s string) Secret {
	return Secret{v: &s}
}

// Reveal returns the content. Call it only where the value is handed to the system that needs it.
func (s Secret) Reveal() string {
	if s.v == nil {
		return ""
	}
	return *s.v
}

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.Reveal() == "" }

// Equal reports whether both secrets hold the same content, in time that does not depend on
// where they differ.
func (s Secret) Equal(o Secret) bool {
	return subtle.ConstantTimeCompare([]byte(s.Reveal()), []byte(o.Reveal())) == 1
}

// String returns [Redacted].
func (Secret) String() string { return Redacted }

// GoString returns [Redacted], so %#v does not reveal the content either.
func (Secret) GoString() string { return Redacted }

// Format prints [Redacted] for every verb and flag.
func (Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(Redacted)) }

// LogValue makes slog log [Redacted].
func (Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalJSON encodes [Redacted], so a config holding a secret can be dumped safely. The
// encoding does not round-trip: decoding it gives a secret holding the text "(sensitive)".
func (Secret) MarshalJSON() ([]byte, error) { return json.Marshal(Redacted) }

// MarshalText encodes [Redacted] (YAML, TOML and map keys use it).
func (Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// UnmarshalJSON reads a JSON string, so secrets can be loaded from configuration files.
func (s *Secret) UnmarshalJSON(b []byte) error {
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("secret: want a JSON string: %w", err)
	}
	*s = NewSecret(v)
	return nil
}

// UnmarshalText reads the text as the secret's content.
func (s *Secret) UnmarshalText(b []byte) error {
	*s = NewSecret(string(b))
	return nil
}

var (
	_ fmt.Stringer     = Secret{}
	_ fmt.GoStringer   = Secret{}
	_ fmt.Formatter    = Secret{}
	_ slog.LogValuer   = Secret{}
	_ json.Marshaler   = Secret{}
	_ json.Unmarshaler = (*Secret)(nil)
)
