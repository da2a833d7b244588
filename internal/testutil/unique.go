package testutil

import (
	"crypto/rand"
	"encoding/hex"
)

// UniqueName returns prefix, a dash and 6 random hex digits: a DNS label for something a test
// creates in a backend other tests (or runs) share, such as a control plane or a real zone.
func UniqueName(prefix string) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}
