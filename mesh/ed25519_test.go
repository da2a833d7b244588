package mesh

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
)

// The golden files are real tinc 1.1 keys; testdata/tinc11/README.md says where they come from.

func readGolden(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "tinc11", name))
	require.NoError(t, err)
	return b
}

// goldenHostKey returns the value of the Ed25519PublicKey line of a golden host file, split the
// way tinc's config parser splits "Key = value".
func goldenHostKey(t *testing.T, name string) string {
	t.Helper()
	line, ok := strings.CutSuffix(string(readGolden(t, name)), "\n")
	require.True(t, ok, "%s must end in a newline, as tinc writes it", name)
	v, ok := strings.CutPrefix(line, "Ed25519PublicKey = ")
	require.True(t, ok, "%s must hold one Ed25519PublicKey line", name)
	return v
}

func goldenKey(t *testing.T, name string) *Ed25519Key {
	t.Helper()
	k, err := ParseEd25519PrivateKey(readGolden(t, name+".priv"))
	require.NoError(t, err)
	return k
}

func requireInvalid(t *testing.T, err error, contains string) {
	t.Helper()
	require.Error(t, err)
	assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
	assert.True(t, strings.HasPrefix(err.Error(), "mesh: "), "error %q lacks the mesh: prefix", err)
	assert.Contains(t, err.Error(), contains)
}

func TestEd25519GoldenPairs(t *testing.T) {
	for _, name := range []string{"a", "b"} {
		t.Run(name, func(t *testing.T) {
			file := readGolden(t, name+".priv")
			k, err := ParseEd25519PrivateKey(file)
			require.NoError(t, err)

			line := goldenHostKey(t, name+".host")
			pub, err := ParseEd25519PublicKey(line)
			require.NoError(t, err)
			assert.Equal(t, pub, k.Public(), "public half of %s.priv vs %s.host", name, name)
			assert.True(t, k.Matches(pub))
			assert.Equal(t, line, pub.String(), "String must give back what tinc wrote")
			assert.Equal(t, "Ed25519PublicKey = "+k.Public().String()+"\n", string(readGolden(t, name+".host")))

			assert.Equal(t, string(file), string(k.MarshalPrivate()), "MarshalPrivate must re-emit tinc's file byte for byte")
		})
	}
}

func TestEd25519GoldenKeysDiffer(t *testing.T) {
	a, b := goldenKey(t, "a"), goldenKey(t, "b")
	assert.NotEqual(t, a.Public(), b.Public())
	assert.False(t, a.Matches(b.Public()))
	assert.False(t, b.Matches(a.Public()))
}

func TestEd25519SplicedPairRefused(t *testing.T) {
	spliced := readGolden(t, "spliced.priv")

	// The fixture is what it claims to be: a's private half, b's public half.
	blob, err := readTincPEM(spliced, ed25519PrivateBlock, ed25519BlobSize)
	require.NoError(t, err)
	a, b := goldenKey(t, "a"), goldenKey(t, "b")
	assert.Equal(t, a.m.private[:], blob[:ed25519PrivateSize])
	assert.Equal(t, b.m.public[:], blob[ed25519PrivateSize:])

	k, err := ParseEd25519PrivateKey(spliced)
	assert.Nil(t, k)
	requireInvalid(t, err, "the public half does not belong to the private half")
}

// The golden files also show why the base64 is hand-written: RFC 4648 base64 reads different
// bytes out of tinc's text, and writes different text for the same bytes.
func TestEd25519GoldenIsNotRFC4648(t *testing.T) {
	a := goldenKey(t, "a")
	pub := a.Public()
	assert.NotEqual(t, base64.RawStdEncoding.EncodeToString(pub[:]), pub.String())

	lines := strings.Split(string(readGolden(t, "a.priv")), "\n")
	std, err := base64.StdEncoding.DecodeString(lines[1] + lines[2])
	require.NoError(t, err, "tinc's lines happen to be valid RFC 4648 text...")
	assert.NotEqual(t, a.m.private[:48], std[:48], "...but they do not mean the same bytes")
}

func TestGenerateEd25519KeyRoundTrip(t *testing.T) {
	k, err := GenerateEd25519Key(nil)
	require.NoError(t, err)

	out := k.MarshalPrivate()
	lines := strings.Split(string(out), "\n")
	require.Len(t, lines, 5, "BEGIN, two data lines, END, then the empty rest after the final newline")
	assert.Equal(t, "-----BEGIN ED25519 PRIVATE KEY-----", lines[0])
	assert.Len(t, lines[1], 64)
	assert.Len(t, lines[2], 64)
	assert.Equal(t, "-----END ED25519 PRIVATE KEY-----", lines[3])
	assert.Empty(t, lines[4])

	back, err := ParseEd25519PrivateKey(out)
	require.NoError(t, err)
	assert.Equal(t, *k.m, *back.m)
	assert.Equal(t, out, back.MarshalPrivate())
	assert.True(t, back.Matches(k.Public()))

	p, err := ParseEd25519PublicKey(k.Public().String())
	require.NoError(t, err)
	assert.Equal(t, k.Public(), p)

	other, err := GenerateEd25519Key(nil)
	require.NoError(t, err)
	assert.NotEqual(t, k.Public(), other.Public())
	assert.False(t, k.Matches(other.Public()))
}

// tinc's key generation is RFC 8032's, so crypto/ed25519 serves as an independent check of the
// derivation: same seed, same public key, same expanded private key.
func TestGenerateEd25519KeyFromSeed(t *testing.T) {
	seed := bytes.Repeat([]byte{0x5a}, ed25519SeedSize)
	k, err := GenerateEd25519Key(bytes.NewReader(seed))
	require.NoError(t, err)

	std := ed25519.NewKeyFromSeed(seed)
	assert.Equal(t, []byte(std[32:]), k.m.public[:])

	h := sha512.Sum512(seed)
	h[0] &= 248
	h[31] = h[31]&63 | 64
	assert.Equal(t, h, k.m.private)
}

func TestGenerateEd25519KeyShortRandom(t *testing.T) {
	k, err := GenerateEd25519Key(bytes.NewReader(make([]byte, 31)))
	assert.Nil(t, k)
	require.Error(t, err)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.NotErrorIs(t, err, webinfra.ErrInvalidArgument, "a failing random source is not bad input")
}

// Known vectors, computed with the algorithm of b64encode_tinc in tinc's src/utils.c (tinc's
// own tests have none). The RFC 4648 encoding is in the comment to show the difference.
var tincBase64Vectors = []struct {
	in  []byte
	out string
}{
	{nil, ""},
	{[]byte{0x00}, "AA"},                                     // RFC 4648: AA==
	{[]byte{0x01}, "BA"},                                     // AQ==
	{[]byte{0xff}, "/D"},                                     // /w==
	{[]byte{0x3e}, "+A"},                                     // Pg==
	{[]byte{0x01, 0x02}, "BIA"},                              // AQI=
	{[]byte{0x01, 0x02, 0x03}, "BIwA"},                       // AQID
	{[]byte{0xff, 0xff, 0xff}, "////"},                       // ////
	{[]byte("tinc"), "0lmbjB"},                               // dGluYw==
	{[]byte("Hello, tinc!"), "IVGbs9GLgQXauNWI"},             // SGVsbG8sIHRpbmMh
	{[]byte{0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff}, "6vP/97//"}, // +vv8/f7/
}

func TestTincBase64Vectors(t *testing.T) {
	for _, v := range tincBase64Vectors {
		assert.Equal(t, v.out, tincBase64Encode(v.in), "encode %x", v.in)
		got, err := tincBase64Decode(v.out)
		require.NoError(t, err, "decode %q", v.out)
		assert.Equal(t, hex.EncodeToString(v.in), hex.EncodeToString(got), "decode %q", v.out)
	}
}

// tinc's decoder reads the URL-safe alphabet too: '-' is '+' and '_' is '/'.
func TestTincBase64DecodesURLSafe(t *testing.T) {
	for std, url := range map[string]string{"+A": "-A", "/D": "_D", "6vP/97//": "6vP_97__"} {
		want, err := tincBase64Decode(std)
		require.NoError(t, err)
		got, err := tincBase64Decode(url)
		require.NoError(t, err)
		assert.Equal(t, want, got, "%q vs %q", std, url)
	}
}

func TestTincBase64DecodeRefuses(t *testing.T) {
	for _, s := range []string{
		"AA==", // padding is not tinc base64
		"AQ=",
		"A",     // a lone final character
		"AAAAA", // 4n+1
		"AA AA",
		"AA\n",
		"AA\x00A",
		"AA.A",
		"\xff\xfe",
	} {
		_, err := tincBase64Decode(s)
		assert.ErrorIs(t, err, webinfra.ErrInvalidArgument, "%q", s)
	}
}

// As in tinc, the bits of the last character beyond the decoded bytes are ignored, so a
// non-canonical final character decodes; encoding then gives the canonical text.
func TestTincBase64IgnoresSpareBits(t *testing.T) {
	got, err := tincBase64Decode("AE") // 'E' is 4, bit 8 of the group: beyond the one byte
	require.NoError(t, err)
	assert.Equal(t, []byte{0x00}, got)
	assert.Equal(t, "AA", tincBase64Encode(got))
}

func TestParseEd25519PrivateKeyTolerates(t *testing.T) {
	golden := readGolden(t, "a.priv")
	want := goldenKey(t, "a")
	lines := strings.SplitAfter(string(golden), "\n")

	// disable_old_keys in tinc's src/tincctl.c comments an old block out with '#' when
	// "tinc generate-ed25519-keys" appends a new one.
	var commented strings.Builder
	for _, l := range strings.SplitAfter(string(readGolden(t, "b.priv")), "\n") {
		if l != "" {
			commented.WriteString("#" + l)
		}
	}

	for name, data := range map[string]string{
		"CRLF":                 strings.ReplaceAll(string(golden), "\n", "\r\n"),
		"no final newline":     strings.TrimSuffix(string(golden), "\n"),
		"text before":          "# a note\nAddress = 192.0.2.1\n\n" + string(golden),
		"old key commented":    commented.String() + string(golden),
		"text after":           string(golden) + "trailing\n",
		"second block ignored": string(golden) + string(readGolden(t, "spliced.priv")),
		// Any split on a 4-character boundary means the same bytes.
		"other line lengths": lines[0] + lines[1][:40] + "\n" + lines[1][40:] + lines[2] + lines[3],
	} {
		t.Run(name, func(t *testing.T) {
			k, err := ParseEd25519PrivateKey([]byte(data))
			require.NoError(t, err)
			assert.Equal(t, *want.m, *k.m)
			assert.Equal(t, golden, k.MarshalPrivate())
		})
	}
}

func TestParseEd25519PrivateKeyRefuses(t *testing.T) {
	golden := string(readGolden(t, "a.priv"))
	l := strings.Split(golden, "\n") // BEGIN, data, data, END, ""
	begin, d1, d2, end := l[0]+"\n", l[1]+"\n", l[2]+"\n", l[3]+"\n"

	// A blob with an unclamped scalar, but otherwise consistent.
	blob, err := readTincPEM([]byte(golden), ed25519PrivateBlock, ed25519BlobSize)
	require.NoError(t, err)
	blob[0] |= 1
	unclamped := string(appendTincPEM(nil, ed25519PrivateBlock, blob))

	cases := []struct {
		name, data, want string
	}{
		{"empty", "", "no \"-----BEGIN ED25519 PRIVATE KEY-----\" line"},
		{"public key only", "Ed25519PublicKey = " + goldenHostKey(t, "a.host") + "\n", "no \"-----BEGIN"},
		{"RSA block", "-----BEGIN RSA PRIVATE KEY-----\n" + d1 + "-----END RSA PRIVATE KEY-----\n", "no \"-----BEGIN"},
		{"commented out", "#" + begin + "#" + d1 + "#" + d2 + "#" + end, "no \"-----BEGIN"},
		{"no END", begin + d1 + d2, "no \"-----END ED25519 PRIVATE KEY-----\" line"},
		{"wrong END", begin + d1 + d2 + "-----END RSA PRIVATE KEY-----\n", "a delimiter line other than"},
		{"too little", begin + d1 + end, "48 bytes, want 96"},
		{"too much", begin + d1 + d2 + d2 + end, "more than 96 bytes"},
		{"too much in one line", begin + strings.Repeat("A", 1<<20) + "\n" + end, "more than 96 bytes"},
		{"empty line", begin + d1 + "\n" + d2 + end, "line 3 is empty"},
		{"RFC padding", begin + d1 + d2[:60] + "====\n" + end, "line 3: not a tinc base64 character"},
		{"blank in line", begin + " " + d1[1:] + d2 + end, "line 2: not a tinc base64 character at offset 0"},
		// tinc decodes line by line: a split off a 4-character boundary loses bits.
		{"split off a boundary", begin + d1[:42] + "\n" + d1[42:] + d2 + end, "95 bytes, want 96"},
		{"lone character", begin + d1 + d2[:61] + "\n" + d2[61:] + end, "line 3: tinc base64 of 61 characters"},
		{"unclamped", unclamped, "not clamped"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k, err := ParseEd25519PrivateKey([]byte(c.data))
			assert.Nil(t, k)
			requireInvalid(t, err, c.want)
			// Errors point at lines, never quote them: the lines are key material.
			for _, secret := range []string{l[1], l[2], l[1][:16], l[2][:16]} {
				assert.NotContains(t, err.Error(), secret)
			}
		})
	}
}

func TestParseEd25519PublicKeyRefuses(t *testing.T) {
	good := goldenHostKey(t, "a.host")
	for _, c := range []struct{ in, want string }{
		{"", "0 characters, want 43"},
		{good[:42], "42 characters, want 43"},
		{good + "A", "44 characters, want 43"},
		{" " + good, "44 characters"},
		{good[:42] + "=", "not a tinc base64 character at offset 42"},
		{"CAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "not a point on the Ed25519 curve"}, // y = 2
		{base64.StdEncoding.EncodeToString(make([]byte, 32)), "44 characters"},              // RFC 4648, padded
	} {
		_, err := ParseEd25519PublicKey(c.in)
		requireInvalid(t, err, c.want)
	}
}

func TestParseEd25519PublicKeyURLSafe(t *testing.T) {
	good := goldenHostKey(t, "b.host") // holds both '+' and '/'
	require.True(t, strings.ContainsAny(good, "+/"))
	url := strings.NewReplacer("+", "-", "/", "_").Replace(good)
	want, err := ParseEd25519PublicKey(good)
	require.NoError(t, err)
	got, err := ParseEd25519PublicKey(url)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.Equal(t, good, got.String(), "String always writes the standard alphabet")
}

// A hosts file in the older form: the public key as an "ED25519 PUBLIC KEY" block, which tinc
// writes with ecdsa_write_pem_public_key (32 bytes: one line of 43 characters).
func TestParseEd25519PublicKeyPEM(t *testing.T) {
	a := goldenKey(t, "a")
	pub := a.Public()
	block := appendTincPEM(nil, ed25519PublicBlock, pub[:])
	assert.Equal(t, "-----BEGIN ED25519 PUBLIC KEY-----\n"+goldenHostKey(t, "a.host")+"\n-----END ED25519 PUBLIC KEY-----\n", string(block))

	host := "Address = 192.0.2.1\nSubnet = 10.0.0.1/32\n\n" +
		"-----BEGIN RSA PUBLIC KEY-----\nMIIBCgKCAQEAxDHl0TIhhT2yH5rT\n-----END RSA PUBLIC KEY-----\n" +
		string(block)
	got, err := ParseEd25519PublicKeyPEM([]byte(host))
	require.NoError(t, err)
	assert.Equal(t, pub, got)
	assert.True(t, a.Matches(got))

	_, err = ParseEd25519PublicKeyPEM(readGolden(t, "a.host"))
	requireInvalid(t, err, "no \"-----BEGIN ED25519 PUBLIC KEY-----\" line")
	_, err = ParseEd25519PublicKeyPEM([]byte("-----BEGIN ED25519 PUBLIC KEY-----\nCAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n-----END ED25519 PUBLIC KEY-----\n"))
	requireInvalid(t, err, "not a point on the Ed25519 curve")
	_, err = ParseEd25519PublicKeyPEM(readGolden(t, "a.priv"))
	requireInvalid(t, err, "no \"-----BEGIN ED25519 PUBLIC KEY-----\" line")
}

func TestEd25519KeyNeverPrints(t *testing.T) {
	k := goldenKey(t, "a")
	file := string(readGolden(t, "a.priv"))
	lines := strings.Split(file, "\n")

	// Every form the private half could leak in.
	var secrets []string
	for _, b := range [][]byte{k.m.private[:], k.m.private[:32], k.m.private[32:]} {
		secrets = append(secrets,
			hex.EncodeToString(b), strings.ToUpper(hex.EncodeToString(b)), hex.EncodeToString(b[:8]),
			base64.StdEncoding.EncodeToString(b), base64.RawStdEncoding.EncodeToString(b[:12]),
			tincBase64Encode(b[:12]), fmt.Sprint(b[:4]), fmt.Sprintf("%#v", b[:4]),
		)
	}
	secrets = append(secrets, lines[1], lines[1][:16], lines[2][:16])

	type holder struct {
		key   Ed25519Key
		ptr   *Ed25519Key
		Other Ed25519Key
	}
	h := holder{key: *k, ptr: k, Other: *k}

	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3v"} {
		outputs = append(outputs, fmt.Sprintf(verb, k), fmt.Sprintf(verb, *k), fmt.Sprintf(verb, h), fmt.Sprintf(verb, &h))
		assert.Equal(t, webinfra.Redacted, fmt.Sprintf(verb, k), verb)
	}
	outputs = append(outputs, fmt.Sprint(k), fmt.Sprint(*k), fmt.Sprintln(k), fmt.Sprint([]*Ed25519Key{k}),
		fmt.Sprint(map[string]Ed25519Key{"a": *k}), k.String(), k.GoString())
	assert.Equal(t, webinfra.Redacted, fmt.Sprint(k))
	assert.Equal(t, webinfra.Redacted, k.String())
	assert.Equal(t, webinfra.Redacted, k.GoString())

	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("key", "key", k, "value", *k)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("key", "key", k)
	outputs = append(outputs, logged.String())
	assert.Contains(t, logged.String(), webinfra.Redacted)

	for _, out := range outputs {
		for _, s := range secrets {
			require.NotContains(t, out, s, "printed output leaks key material")
		}
	}
}

// The public key is not secret and prints as tinc writes it.
func TestEd25519PublicKeyPrints(t *testing.T) {
	want := goldenHostKey(t, "a.host")
	p := goldenKey(t, "a").Public()
	assert.Equal(t, want, fmt.Sprint(p))
	assert.Equal(t, "key "+want, fmt.Sprintf("key %s", p))
}

func TestEd25519ZeroKey(t *testing.T) {
	for _, k := range []*Ed25519Key{nil, {}} {
		assert.Nil(t, k.MarshalPrivate())
		assert.Equal(t, Ed25519PublicKey{}, k.Public())
		assert.False(t, k.Matches(Ed25519PublicKey{}))
		assert.Equal(t, webinfra.Redacted, fmt.Sprintf("%v", Ed25519Key{}))
	}
	assert.Equal(t, "<nil>", fmt.Sprint((*Ed25519Key)(nil)))
}
