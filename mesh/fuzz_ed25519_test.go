package mesh

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/webinfra/webinfra"
)

// FuzzTincBase64 checks that decoding never panics and that, whatever decodes, encoding it and
// decoding again gives the same bytes through the canonical text (decode→encode→decode identity).
func FuzzTincBase64(f *testing.F) {
	// Seeds: the empty string; each remainder length (0, 2, 3 characters after full groups);
	// both alphabets; a non-canonical final character; padding and a lone character, which
	// must be refused; a golden public key; bytes outside ASCII.
	for _, s := range []string{
		"",
		"AA", "BIA", "BIwA", "IVGbs9GLgQXauNWI",
		"6vP/97//", "6vP_97__", "+A", "-A",
		"AE",
		"AA==", "A", "AAAAA",
		"AqV7aeIqKGGQfXxijMLfRAVRBLixnS45G5OoduIc8mD",
		"\x00\xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := tincBase64Decode(s)
		if err != nil {
			if !errors.Is(err, webinfra.ErrInvalidArgument) {
				t.Fatalf("decode %q: error %v does not wrap ErrInvalidArgument", s, err)
			}
			return
		}
		if want := len(s) / 4 * 3; len(b) < want || len(b) > want+2 {
			t.Fatalf("decode %q: %d bytes from %d characters", s, len(b), len(s))
		}
		e := tincBase64Encode(b)
		if len(e) != len(s) {
			t.Fatalf("encode(decode(%q)) = %q: length changed", s, e)
		}
		b2, err := tincBase64Decode(e)
		if err != nil {
			t.Fatalf("decode(encode(decode(%q))) = error %v", s, err)
		}
		if !bytes.Equal(b, b2) {
			t.Fatalf("decode→encode→decode of %q: %x then %x", s, b, b2)
		}
		if e2 := tincBase64Encode(b2); e2 != e {
			t.Fatalf("encoding is not canonical: %q then %q", e, e2)
		}
		// The URL-safe alphabet means the same bytes.
		url := strings.NewReplacer("+", "-", "/", "_").Replace(e)
		if b3, err := tincBase64Decode(url); err != nil || !bytes.Equal(b, b3) {
			t.Fatalf("URL-safe %q: %x, %v; want %x", url, b3, err, b)
		}
	})
}

// FuzzParseEd25519PrivateKey checks that parsing never panics, that every error is an
// ErrInvalidArgument starting with "mesh: ", and that a parsed key re-marshals to tinc's form
// and re-parses to the same key.
func FuzzParseEd25519PrivateKey(f *testing.F) {
	// Seeds: the golden files (two valid keys, the spliced pair) and variations of them that
	// exercise each branch: CRLF, a commented-out old key before the block, a missing END line,
	// a line split on and off a 4-character boundary, an empty line, padding, nothing at all.
	var golden [][]byte
	for _, name := range []string{"a.priv", "b.priv", "spliced.priv"} {
		b, err := os.ReadFile(filepath.Join("testdata", "tinc11", name))
		if err != nil {
			f.Fatal(err)
		}
		golden = append(golden, b)
		f.Add(b)
	}
	a := string(golden[0])
	l := strings.SplitAfter(a, "\n")
	for _, s := range []string{
		strings.ReplaceAll(a, "\n", "\r\n"),
		"#" + strings.ReplaceAll(strings.TrimSuffix(string(golden[1]), "\n"), "\n", "\n#") + "\n" + a,
		l[0] + l[1] + l[2],
		l[0] + l[1][:40] + "\n" + l[1][40:] + l[2] + l[3],
		l[0] + l[1][:42] + "\n" + l[1][42:] + l[2] + l[3],
		l[0] + l[1] + "\n" + l[2] + l[3],
		l[0] + l[1][:60] + "====\n" + l[2] + l[3],
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParseEd25519PrivateKey(data)
		if err != nil {
			if k != nil {
				t.Fatal("a key and an error")
			}
			if !errors.Is(err, webinfra.ErrInvalidArgument) || !strings.HasPrefix(err.Error(), "mesh: ") {
				t.Fatalf("error %q: want the mesh: prefix and ErrInvalidArgument", err)
			}
			return
		}
		out := k.MarshalPrivate()
		back, err := ParseEd25519PrivateKey(out)
		if err != nil {
			t.Fatalf("re-parsing MarshalPrivate's output: %v", err)
		}
		if *back.m.ed25519Bytes != *k.m.ed25519Bytes {
			t.Fatal("re-parsed key differs")
		}
		if !bytes.Equal(back.MarshalPrivate(), out) {
			t.Fatal("MarshalPrivate is not stable")
		}
		if !k.Matches(back.Public()) {
			t.Fatal("the key does not match its own public half")
		}
	})
}
