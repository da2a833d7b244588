package mesh

// tinc 1.1 Ed25519 keys, read and written exactly as tinc 1.1 does. The formats come from tinc's
// source (gsliepen/tinc, branch 1.1):
//
//   - src/ed25519/ecdsa.c and ecdsagen.c: a key in memory is ecdsa_t, the 64-byte expanded
//     private key followed by the 32-byte public key. ed25519_key.priv holds those 96 bytes,
//     tinc-base64 encoded 48 bytes (64 characters) a line between "-----BEGIN ED25519 PRIVATE
//     KEY-----" and "-----END ED25519 PRIVATE KEY-----", every line ending in "\n". The public
//     key travels alone as the 43 characters of an "Ed25519PublicKey = ..." line in hosts/NAME;
//     older 1.1 prereleases put it in an "ED25519 PUBLIC KEY" block instead, which tinc still
//     reads when the line is absent.
//   - src/ed25519/keypair.c: the expanded private key is SHA-512 of a 32-byte random seed with
//     the first half clamped (the scalar) and the second half kept (the signing prefix). The
//     seed itself is not stored.
//   - src/utils.c: b64encode_tinc and b64decode_tinc, described at tincBase64AppendEncode.

import (
	"bytes"
	cryptorand "crypto/rand"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"filippo.io/edwards25519"

	"github.com/webinfra/webinfra"
)

const (
	ed25519PrivateBlock = "ED25519 PRIVATE KEY"
	ed25519PublicBlock  = "ED25519 PUBLIC KEY"

	ed25519SeedSize    = 32
	ed25519PrivateSize = 64 // expanded: clamped scalar, then signing prefix
	ed25519PublicSize  = 32
	ed25519BlobSize    = ed25519PrivateSize + ed25519PublicSize // ecdsa_t as tinc writes it

	// ed25519PublicKeyChars is the length of a public key in tinc base64; tinc refuses any other
	// (ecdsa_set_base64_public_key).
	ed25519PublicKeyChars = 43

	// pemLineBytes is how many bytes tinc encodes a line (write_pem): 48 bytes, 64 characters.
	pemLineBytes = 48
)

// Ed25519Key is a tinc 1.1 Ed25519 key pair: the content of ed25519_key.priv. It holds the
// expanded private key (the clamped scalar and the signing prefix) and the public key, the layout
// tinc keeps in memory and on disk.
//
// A key never prints: String, GoString, every fmt verb, slog and JSON give [webinfra.Redacted],
// like [webinfra.Secret]. The material sits behind pointers, so printing a struct that holds an
// Ed25519Key in an unexported field shows an address, never key bytes. Only
// [Ed25519Key.MarshalPrivate] returns the private half.
//
// Get one from [GenerateEd25519Key] or [ParseEd25519PrivateKey]. The zero value holds no key:
// MarshalPrivate returns nil, Public the zero public key and Matches false; a nil *Ed25519Key
// behaves the same. Keys are immutable and safe for concurrent use.
type Ed25519Key struct {
	m *ed25519Material
}

// ed25519Material keeps the key bytes one more pointer away: where fmt cannot call Format (an
// unexported field) and the verb does not suit a pointer (%s, %q, %c...), fmt prints the struct a
// pointer points to, and here it meets only the address of the bytes.
type ed25519Material struct {
	*ed25519Bytes
}

type ed25519Bytes struct {
	private [ed25519PrivateSize]byte
	public  [ed25519PublicSize]byte
}

// GenerateEd25519Key makes a new key pair the way tinc 1.1 does (ecdsa_generate): it reads a
// 32-byte seed from rand, nil meaning crypto/rand, and derives the key from it (see
// [ParseEd25519PrivateKey]). The seed is not kept. An error reading rand is returned wrapped.
func GenerateEd25519Key(rand io.Reader) (*Ed25519Key, error) {
	if rand == nil {
		rand = cryptorand.Reader
	}
	var seed [ed25519SeedSize]byte
	defer clear(seed[:])
	if _, err := io.ReadFull(rand, seed[:]); err != nil {
		return nil, fmt.Errorf("mesh: reading an Ed25519 seed: %w", err)
	}
	return ed25519KeyFromSeed(seed[:]), nil
}

// ed25519KeyFromSeed is ed25519_create_keypair (src/ed25519/keypair.c): SHA-512 of the seed,
// clamp the first half into a scalar, public key = scalar·B. It is RFC 8032 key generation, so
// the public key equals crypto/ed25519's for the same seed.
func ed25519KeyFromSeed(seed []byte) *Ed25519Key {
	m := &ed25519Material{&ed25519Bytes{private: sha512.Sum512(seed)}}
	m.private[0] &= 248
	m.private[31] &= 63
	m.private[31] |= 64
	m.public = ed25519ScalarBaseMult(m.private[:32])
	return &Ed25519Key{m: m}
}

// ed25519ScalarBaseMult returns the encoding of scalar·B for a 32-byte little-endian scalar
// that is already clamped (clamping again is a no-op).
func ed25519ScalarBaseMult(scalar []byte) [ed25519PublicSize]byte {
	var out [ed25519PublicSize]byte
	s, err := edwards25519.NewScalar().SetBytesWithClamping(scalar)
	if err != nil { // only for a length other than 32, which callers never pass
		return out
	}
	copy(out[:], new(edwards25519.Point).ScalarBaseMult(s).Bytes())
	return out
}

// ParseEd25519PrivateKey reads the content of a tinc 1.1 ed25519_key.priv file.
//
// Like tinc (read_pem in src/ed25519/ecdsa.c) it skips every line before
// "-----BEGIN ED25519 PRIVATE KEY-----", so the "#"-commented blocks that tinc leaves when it
// replaces a key are ignored, decodes each following line on its own in tinc base64 (lines may
// end in "\r\n"), and takes the first block only. The block must decode to exactly 96 bytes and
// end with "-----END ED25519 PRIVATE KEY-----".
//
// Stricter than tinc, which trusts the file: the scalar must be clamped as tinc's key generation
// leaves it, and the public half must equal scalar·B, so a file whose halves come from different
// keys (a splice, a bad merge, corruption) is refused here rather than failing every handshake
// later. Also refused: an empty line, a line whose length leaves a lone character, any
// character outside tinc's alphabet, and a missing END line.
//
// Every error starts with "mesh: ", wraps [webinfra.ErrInvalidArgument] and never quotes the
// file's content. It never panics, whatever data holds.
func ParseEd25519PrivateKey(data []byte) (*Ed25519Key, error) {
	blob, err := readTincPEM(data, ed25519PrivateBlock, ed25519BlobSize)
	defer clear(blob)
	if err != nil {
		return nil, err
	}
	// keypair.c clamps; a scalar outside that form was not written by tinc, and tinc's
	// ge_scalarmult_base assumes the top bit clear.
	if blob[0]&7 != 0 || blob[31]&0xc0 != 0x40 {
		return nil, fmt.Errorf("mesh: Ed25519 private key: the scalar is not clamped as tinc generates it: %w", webinfra.ErrInvalidArgument)
	}
	m := &ed25519Material{&ed25519Bytes{}}
	copy(m.private[:], blob[:ed25519PrivateSize])
	copy(m.public[:], blob[ed25519PrivateSize:])
	derived := ed25519ScalarBaseMult(m.private[:32])
	if subtle.ConstantTimeCompare(derived[:], m.public[:]) != 1 {
		clear(m.private[:])
		return nil, fmt.Errorf("mesh: Ed25519 private key: the public half does not belong to the private half (spliced or corrupt file): %w", webinfra.ErrInvalidArgument)
	}
	return &Ed25519Key{m: m}, nil
}

// MarshalPrivate returns the key as tinc 1.1 writes ed25519_key.priv (ecdsa_write_pem_private_key),
// byte for byte: the BEGIN line, the 96 bytes in two lines of 64 tinc-base64 characters, the END
// line, each ending in "\n". The caller should write it with mode 0600, as tinc does, and may
// clear the slice afterwards. A zero or nil key gives nil.
func (k *Ed25519Key) MarshalPrivate() []byte {
	if k == nil || k.m == nil {
		return nil
	}
	var blob [ed25519BlobSize]byte
	defer clear(blob[:])
	copy(blob[:], k.m.private[:])
	copy(blob[ed25519PrivateSize:], k.m.public[:])
	return appendTincPEM(nil, ed25519PrivateBlock, blob[:])
}

// Public returns the public half, the value of the Ed25519PublicKey line that goes into the
// node's hosts file. A zero or nil key gives the zero public key.
func (k *Ed25519Key) Public() Ed25519PublicKey {
	if k == nil || k.m == nil {
		return Ed25519PublicKey{}
	}
	return Ed25519PublicKey(k.m.public)
}

// Matches reports whether p is this key's public half, for checking the Ed25519PublicKey a host
// file declares against the node's private key. It takes the same time wherever the keys differ.
// A zero or nil key matches nothing.
func (k *Ed25519Key) Matches(p Ed25519PublicKey) bool {
	if k == nil || k.m == nil {
		return false
	}
	return subtle.ConstantTimeCompare(k.m.public[:], p[:]) == 1
}

// String returns [webinfra.Redacted].
func (Ed25519Key) String() string { return webinfra.Redacted }

// GoString returns [webinfra.Redacted], so %#v does not reveal the key either.
func (Ed25519Key) GoString() string { return webinfra.Redacted }

// Format prints [webinfra.Redacted] for every verb and flag.
func (Ed25519Key) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(webinfra.Redacted)) }

// LogValue makes slog log [webinfra.Redacted].
func (Ed25519Key) LogValue() slog.Value { return slog.StringValue(webinfra.Redacted) }

// MarshalJSON encodes [webinfra.Redacted]: JSON is not a key format here; use
// [Ed25519Key.MarshalPrivate].
func (Ed25519Key) MarshalJSON() ([]byte, error) { return json.Marshal(webinfra.Redacted) }

// Ed25519PublicKey is a tinc 1.1 Ed25519 public key, the 32-byte encoding of the curve point. It
// is not secret: String gives the form tinc writes in hosts files.
type Ed25519PublicKey [ed25519PublicSize]byte

// ParseEd25519PublicKey reads the value of an Ed25519PublicKey line of a tinc 1.1 hosts file:
// exactly 43 characters of tinc base64 (ecdsa_set_base64_public_key), with nothing around them
// (the config parser has already split off "Ed25519PublicKey =" and trimmed blanks). Both the
// standard and the URL-safe alphabet are accepted, as tinc's decoder does. Like tinc it ignores
// the two unused bits of the last character, so [Ed25519PublicKey.String] may differ from s in
// that character for input tinc did not write. Unlike tinc, it refuses a value that is not a
// point on the curve, which could never verify a signature.
//
// Every error starts with "mesh: " and wraps [webinfra.ErrInvalidArgument]. It never panics.
func ParseEd25519PublicKey(s string) (Ed25519PublicKey, error) {
	var p Ed25519PublicKey
	if len(s) != ed25519PublicKeyChars {
		return p, fmt.Errorf("mesh: Ed25519PublicKey: %d characters, want %d: %w", len(s), ed25519PublicKeyChars, webinfra.ErrInvalidArgument)
	}
	b, err := tincBase64Decode(s)
	if err != nil {
		return p, fmt.Errorf("mesh: Ed25519PublicKey: %w", err)
	}
	copy(p[:], b) // 43 valid characters always decode to 32 bytes
	return p, p.checkPoint("Ed25519PublicKey")
}

// ParseEd25519PublicKeyPEM reads the public key from an "ED25519 PUBLIC KEY" block, the form
// tinc 1.1 prereleases wrote into hosts files and that tinc still falls back to when a hosts file
// has no Ed25519PublicKey line (ecdsa_read_pem_public_key). data is the whole file: lines before
// the block, such as Address or Subnet lines and an RSA key, are skipped; the block must decode
// to exactly 32 bytes that are a point on the curve. Errors are as for [ParseEd25519PrivateKey].
func ParseEd25519PublicKeyPEM(data []byte) (Ed25519PublicKey, error) {
	var p Ed25519PublicKey
	b, err := readTincPEM(data, ed25519PublicBlock, ed25519PublicSize)
	if err != nil {
		return p, err
	}
	copy(p[:], b)
	return p, p.checkPoint(ed25519PublicBlock + " block")
}

func (p Ed25519PublicKey) checkPoint(what string) error {
	if _, err := new(edwards25519.Point).SetBytes(p[:]); err != nil {
		return fmt.Errorf("mesh: %s: not a point on the Ed25519 curve: %w", what, webinfra.ErrInvalidArgument)
	}
	return nil
}

// String returns the key in tinc base64, 43 characters, as tinc writes it after
// "Ed25519PublicKey = " (ecdsa_get_base64_public_key).
func (p Ed25519PublicKey) String() string { return tincBase64Encode(p[:]) }

// readTincPEM is read_pem of src/ed25519/ecdsa.c with the stricter rules ParseEd25519PrivateKey
// documents: it returns the size bytes of the first block of the given type. Errors name line
// numbers, never content, because the content is key material.
func readTincPEM(data []byte, typ string, size int) ([]byte, error) {
	begin := "-----BEGIN " + typ + "-----"
	end := "-----END " + typ + "-----"
	out := make([]byte, 0, size)
	inBlock := false
	for n := 1; len(data) > 0; n++ {
		var line []byte
		line, data, _ = bytes.Cut(data, []byte{'\n'})
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if !inBlock {
			inBlock = string(line) == begin
			continue
		}
		if string(line) == end {
			if len(out) != size {
				clear(out)
				return nil, fmt.Errorf("mesh: %s block: %d bytes, want %d: %w", typ, len(out), size, webinfra.ErrInvalidArgument)
			}
			return out, nil
		}
		if bytes.HasPrefix(line, []byte("-----")) {
			clear(out)
			return nil, fmt.Errorf("mesh: %s block: line %d: a delimiter line other than %q: %w", typ, n, end, webinfra.ErrInvalidArgument)
		}
		if len(line) == 0 {
			clear(out)
			return nil, fmt.Errorf("mesh: %s block: line %d is empty: %w", typ, n, webinfra.ErrInvalidArgument)
		}
		// Decoding line by line, as tinc does, matters: a line whose length is not a multiple of
		// 4 ends its own bytes, it does not carry bits into the next line.
		// Checked before decoding, so out never outgrows (and never leaves behind) its array.
		if decoded := len(line)/4*3 + max(len(line)%4-1, 0); decoded > size-len(out) {
			clear(out)
			return nil, fmt.Errorf("mesh: %s block: more than %d bytes: %w", typ, size, webinfra.ErrInvalidArgument)
		}
		var err error
		if out, err = tincBase64AppendDecode(out, line); err != nil {
			clear(out[:cap(out)])
			return nil, fmt.Errorf("mesh: %s block: line %d: %w", typ, n, err)
		}
	}
	clear(out[:cap(out)])
	if !inBlock {
		return nil, fmt.Errorf("mesh: no %q line: %w", begin, webinfra.ErrInvalidArgument)
	}
	return nil, fmt.Errorf("mesh: %s block: no %q line: %w", typ, end, webinfra.ErrInvalidArgument)
}

// appendTincPEM is write_pem of src/ed25519/ecdsagen.c.
func appendTincPEM(dst []byte, typ string, data []byte) []byte {
	dst = append(dst, "-----BEGIN "+typ+"-----\n"...)
	for len(data) > 0 {
		n := min(len(data), pemLineBytes)
		dst = tincBase64AppendEncode(dst, data[:n])
		dst = append(dst, '\n')
		data = data[n:]
	}
	return append(dst, "-----END "+typ+"-----\n"...)
}

// tinc base64 (src/utils.c) uses the standard alphabet but is not RFC 4648 base64, so
// encoding/base64 cannot read or write it: tinc packs each 3 bytes into a 24-bit little-endian
// number (first byte lowest) and emits its 6-bit groups lowest first, where RFC 4648 takes the
// bits most significant first. It never pads: a final 1 or 2 bytes give 2 or 3 characters.
const (
	tincBase64Std     = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	tincBase64URLSafe = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
)

// tincBase64DecodeMap maps a character to its 6-bit value, 0xff for none. Like tinc's table it
// takes both alphabets at once: '+' and '-' are 62, '/' and '_' are 63. '=' is not a character
// of tinc base64.
var tincBase64DecodeMap = func() (m [256]byte) {
	for i := range m {
		m[i] = 0xff
	}
	for i := range len(tincBase64Std) {
		m[tincBase64Std[i]] = byte(i)
		m[tincBase64URLSafe[i]] = byte(i)
	}
	return m
}()

// tincBase64Encode returns src in tinc base64 with the standard alphabet, as b64encode_tinc.
func tincBase64Encode(src []byte) string {
	return string(tincBase64AppendEncode(make([]byte, 0, (len(src)*4+2)/3), src))
}

// tincBase64AppendEncode appends src in tinc base64 to dst (b64encode_tinc). Appending to a
// byte slice lets private keys be encoded without leaving an immutable string copy behind.
func tincBase64AppendEncode(dst, src []byte) []byte {
	const a = tincBase64Std
	for ; len(src) >= 3; src = src[3:] {
		t := uint32(src[0]) | uint32(src[1])<<8 | uint32(src[2])<<16
		dst = append(dst, a[t&63], a[t>>6&63], a[t>>12&63], a[t>>18])
	}
	switch len(src) {
	case 2:
		t := uint32(src[0]) | uint32(src[1])<<8
		dst = append(dst, a[t&63], a[t>>6&63], a[t>>12])
	case 1:
		t := uint32(src[0])
		dst = append(dst, a[t&63], a[t>>6])
	}
	return dst
}

// tincBase64Decode decodes s from tinc base64 (b64decode_tinc).
func tincBase64Decode(s string) ([]byte, error) {
	return tincBase64AppendDecode(make([]byte, 0, len(s)*3/4), []byte(s))
}

// tincBase64AppendDecode appends the bytes src encodes to dst (b64decode_tinc), accepting both
// alphabets. A final 3 or 2 characters give 2 or 1 bytes and, as in tinc, the bits of the last
// character beyond them are ignored, so decoding then encoding is the identity only on canonical
// input while encoding then decoding always is. Stricter than tinc, which stops at a NUL and
// silently drops a lone final character (a length of 4n+1, which no encoder produces), it
// refuses both. Errors wrap [webinfra.ErrInvalidArgument] and give positions, not characters.
func tincBase64AppendDecode(dst, src []byte) ([]byte, error) {
	if len(src)%4 == 1 {
		return dst, fmt.Errorf("tinc base64 of %d characters leaves a lone final character: %w", len(src), webinfra.ErrInvalidArgument)
	}
	var t uint32
	for i, c := range src {
		v := tincBase64DecodeMap[c]
		if v == 0xff {
			return dst, fmt.Errorf("not a tinc base64 character at offset %d: %w", i, webinfra.ErrInvalidArgument)
		}
		t |= uint32(v) << (6 * (i & 3))
		if i&3 == 3 {
			dst = append(dst, byte(t), byte(t>>8), byte(t>>16))
			t = 0
		}
	}
	switch len(src) & 3 {
	case 3:
		dst = append(dst, byte(t), byte(t>>8))
	case 2:
		dst = append(dst, byte(t))
	}
	return dst, nil
}

var (
	_ fmt.Stringer   = Ed25519Key{}
	_ fmt.GoStringer = Ed25519Key{}
	_ fmt.Formatter  = Ed25519Key{}
	_ slog.LogValuer = Ed25519Key{}
	_ fmt.Stringer   = Ed25519PublicKey{}
)
