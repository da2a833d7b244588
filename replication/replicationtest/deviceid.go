package replicationtest

import (
	"bytes"
	"crypto/rand"
	"slices"
	"strings"

	"github.com/syncthing/syncthing/lib/protocol"
)

// DeviceIDFromSeed returns the canonical Syncthing device ID whose 32 bytes are the SHA-256 of
// seed, as Syncthing derives an ID from a certificate: deterministic, valid, and accepted by
// a real Syncthing, which checks only the form.
func DeviceIDFromSeed(seed string) string {
	return protocol.NewDeviceID([]byte(seed)).String()
}

// RandomDeviceID returns a fresh valid device ID.
func RandomDeviceID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	id, _ := protocol.DeviceIDFromBytes(b) // 32 bytes: cannot fail
	return id.String()
}

// deviceIDError returns why Syncthing refuses s as a device ID, in Syncthing's own words (its
// lib/protocol parses it), or "".
func deviceIDError(s string) string {
	if _, err := protocol.DeviceIDFromString(s); err != nil {
		return err.Error()
	}
	return ""
}

// compareDeviceIDs orders device IDs as Syncthing does, by the bytes they encode: base32
// alphabet order (A-Z, then 2-7), not string order.
func compareDeviceIDs(a, b string) int {
	ia, errA := protocol.DeviceIDFromString(a)
	ib, errB := protocol.DeviceIDFromString(b)
	if errA != nil || errB != nil {
		return strings.Compare(a, b)
	}
	return bytes.Compare(ia[:], ib[:])
}

// SortDeviceIDs sorts ids in place in Syncthing's order (see a folder's device list).
func SortDeviceIDs(ids []string) { slices.SortFunc(ids, compareDeviceIDs) }
