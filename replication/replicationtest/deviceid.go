package replicationtest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"slices"
	"strings"
)

const luhnAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

func luhnCodepoint(b byte) int {
	switch {
	case 'A' <= b && b <= 'Z':
		return int(b - 'A')
	case '2' <= b && b <= '7':
		return int(b-'2') + 26
	}
	return -1
}

func luhnCheck(s string) byte {
	factor, sum := 1, 0
	for i := 0; i < len(s); i++ {
		addend := factor * luhnCodepoint(s[i])
		factor = 3 - factor
		sum += addend/32 + addend%32
	}
	return luhnAlphabet[(32-sum%32)%32]
}

// DeviceIDFromSeed returns the canonical Syncthing device ID whose 32 bytes are the SHA-256 of
// seed, as Syncthing derives an ID from a certificate: deterministic, valid, and accepted by
// a real Syncthing, which checks only the form.
func DeviceIDFromSeed(seed string) string {
	sum := sha256.Sum256([]byte(seed))
	return formatID(sum[:])
}

// RandomDeviceID returns a fresh valid device ID.
func RandomDeviceID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return formatID(b)
}

func formatID(b []byte) string {
	s := strings.TrimRight(base32.StdEncoding.EncodeToString(b), "=") // 52 characters
	var l strings.Builder
	for i := range 4 {
		chunk := s[i*13 : i*13+13]
		l.WriteString(chunk)
		l.WriteByte(luhnCheck(chunk))
	}
	flat := l.String()
	groups := make([]string, 8)
	for i := range groups {
		groups[i] = flat[i*7 : i*7+7]
	}
	return strings.Join(groups, "-")
}

// validDeviceID reports whether s is a canonical device ID, and why not.
func deviceIDError(s string) string {
	flat := strings.ReplaceAll(s, "-", "")
	if len(flat) != 56 {
		return "device ID invalid: incorrect length"
	}
	for i := 0; i < len(flat); i++ {
		if luhnCodepoint(flat[i]) < 0 {
			return "device ID invalid: invalid character"
		}
	}
	for i := range 4 {
		chunk := flat[i*14 : i*14+14]
		if luhnCheck(chunk[:13]) != chunk[13] {
			return "device ID invalid: check digit incorrect"
		}
	}
	return ""
}

// compareDeviceIDs orders device IDs as Syncthing does, by the bytes they encode: base32
// alphabet order (A-Z, then 2-7), not string order.
func compareDeviceIDs(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if ca, cb := luhnCodepoint(a[i]), luhnCodepoint(b[i]); ca != cb {
			return ca - cb
		}
	}
	return len(a) - len(b)
}

// SortDeviceIDs sorts ids in place in Syncthing's order (see a folder's device list).
func SortDeviceIDs(ids []string) { slices.SortFunc(ids, compareDeviceIDs) }
