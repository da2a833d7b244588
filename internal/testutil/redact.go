package testutil

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// RedactionVerbs are the fmt verbs and flags a value holding key material is printed with by
// [AssertRedacted]: every verb that prints a value's content, with the flags that change how.
var RedactionVerbs = []string{
	"%v", "%+v", "%#v", "%s", "%q", "%#q", "%+q", "%x", "%X", "% x", "%#x", "%d", "%+d",
	"%10v", "%-10s", "%.5s", "%o", "%b", "%c", "%U",
}

// KeyForms returns the forms in which key's private material could show when printed: the
// private scalar (RSA's D and primes, ECDSA's D, Ed25519's seed) in decimal, hex and base64, the
// decimal byte list fmt prints for a []byte, and the PKCS#8 DER in hex and base64 with the lines
// of its PEM body after the first (whose prefix is shared by keys of a type). It fails t for a
// key type it does not know.
func KeyForms(t testing.TB, key crypto.PrivateKey) []string {
	t.Helper()
	var raw [][]byte
	var forms []string
	switch k := key.(type) {
	case *rsa.PrivateKey:
		forms = append(forms, k.D.String(), k.D.Text(16))
		raw = append(raw, k.D.Bytes())
		for _, p := range k.Primes {
			forms = append(forms, p.String(), p.Text(16))
		}
	case *ecdsa.PrivateKey:
		b, err := k.Bytes()
		if err != nil {
			t.Fatalf("testutil: ecdsa key bytes: %v", err)
		}
		raw = append(raw, b)
	case ed25519.PrivateKey:
		raw = append(raw, k.Seed())
	default:
		t.Fatalf("testutil: KeyForms: unsupported key type %T", key)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("testutil: marshal key: %v", err)
	}
	for _, b := range raw {
		forms = append(forms, BytesForms(b)...)
	}
	forms = append(forms, hex.EncodeToString(der), strings.ToUpper(hex.EncodeToString(der)),
		base64.StdEncoding.EncodeToString(der), base64.RawURLEncoding.EncodeToString(der))
	return append(forms, PEMBodyLines(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))...)
}

// BytesForms returns the printed forms of secret bytes b: hex (both cases, and spaced as % x
// prints it), standard and URL base64 (without the final padding, which a longer encoding does
// not share), and the decimal and octal byte lists fmt prints for a []byte with %v and %o.
func BytesForms(b []byte) []string {
	h := hex.EncodeToString(b)
	return []string{
		h, strings.ToUpper(h), fmt.Sprintf("% x", b),
		strings.TrimRight(base64.StdEncoding.EncodeToString(b), "="),
		strings.TrimRight(base64.URLEncoding.EncodeToString(b), "="),
		strings.Trim(fmt.Sprint(b), "[]"), strings.Trim(fmt.Sprintf("%o", b), "[]"),
	}
}

// PEMBodyLines returns the base64 lines of every PEM block in data after each block's first.
func PEMBodyLines(data []byte) []string {
	var out []string
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return out
		}
		lines := strings.Split(strings.TrimSpace(string(pem.EncodeToMemory(block))), "\n")
		for _, l := range lines[2 : len(lines)-1] {
			if len(l) >= 16 {
				out = append(out, l)
			}
		}
	}
}

// RedactOptions adjust [AssertRedacted].
type RedactOptions struct {
	// JSONIsFormat skips json.Marshal of v itself, for a type whose documented file format is
	// JSON (its slog JSON output is still checked).
	JSONIsFormat bool
	// ExportedFieldsOnly skips printing v from an unexported struct field, where fmt cannot
	// call its methods: for a type that keeps material in exported fields and so cannot hide
	// it from reflection.
	ExportedFieldsOnly bool
}

// AssertRedacted prints v every way a program might and fails t for each output holding any
// of forms (see [KeyForms]): fmt.Sprint and Sprintf with every [RedactionVerbs] entry, of v
// itself, of v in an exported struct field, in a slice and in a map, and (unless
// ExportedFieldsOnly) in an unexported field; slog's text and JSON handlers with v as an
// attribute and inside a group; and json.Marshal of v and of a struct holding it (unless
// JSONIsFormat). Each failure names the route and the start of the form found.
func AssertRedacted(t testing.TB, v any, forms []string, opts *RedactOptions) {
	t.Helper()
	if opts == nil {
		opts = &RedactOptions{}
	}
	if len(forms) == 0 {
		t.Fatal("testutil: AssertRedacted needs the forms to look for")
	}
	check := func(route, out string) {
		t.Helper()
		for _, f := range forms {
			if strings.Contains(out, f) {
				t.Errorf("%s leaks key material (%.24q...) in %.200q", route, f, out)
				return
			}
		}
	}
	type exported struct{ Field any }
	type unexported struct{ field any }
	holders := map[string]any{
		"value":            v,
		"exported field":   exported{v},
		"pointer to field": &exported{v},
		"slice":            []any{v},
		"map":              map[string]any{"k": v},
	}
	if !opts.ExportedFieldsOnly {
		holders["unexported field"] = unexported{v}
	}
	for name, h := range holders {
		check("fmt.Sprint of "+name, fmt.Sprint(h))
		check("fmt.Sprintln of "+name, fmt.Sprintln(h))
		for _, verb := range RedactionVerbs {
			check(verb+" of "+name, fmt.Sprintf(verb, h))
		}
	}
	for _, handler := range []struct {
		name string
		new  func(*bytes.Buffer) slog.Handler
	}{
		{"slog text", func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) }},
		{"slog JSON", func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) }},
	} {
		var buf bytes.Buffer
		log := slog.New(handler.new(&buf))
		log.Info("m", "key", v)
		log.Info("m", slog.Group("g", "key", v))
		log.With("key", v).Info("m")
		log.Info("m", "holder", exported{v})
		check(handler.name, buf.String())
	}
	if !opts.JSONIsFormat {
		if b, err := json.Marshal(v); err == nil {
			check("json.Marshal", string(b))
		}
		if b, err := json.Marshal(exported{v}); err == nil {
			check("json.Marshal of exported field", string(b))
		}
	}
}
