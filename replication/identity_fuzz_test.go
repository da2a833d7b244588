package replication

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
)

// FuzzParseIdentity: ParseIdentity never panics, rejects with ErrInvalidArgument, and what it
// accepts parses again from its own output to the same device ID, never printing the key.
func FuzzParseIdentity(f *testing.F) {
	id, err := NewIdentity()
	require.NoError(f, err)
	other, err := NewIdentity()
	require.NoError(f, err)
	cert, key := id.CertPEM(), []byte(id.KeyPEM().Reveal())
	seeds := [][2][]byte{
		{cert, key},                              // valid, as NewIdentity writes it
		{append([]byte("junk\n"), cert...), key}, // text before the block is skipped
		{append(cert, other.CertPEM()...), key},  // a chain: the first certificate counts
		{other.CertPEM(), key},                   // key of another certificate
		{cert, cert},                             // certificate where the key belongs
		{key, key},                               // key where the certificate belongs
		{cert[:len(cert)/2], key},                // truncated certificate
		{cert, key[:len(key)-30]},                // truncated key
		{[]byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"), key}, // empty block
		{nil, nil},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, certPEM, keyPEM []byte) {
		got, err := ParseIdentity(certPEM, keyPEM)
		if err != nil {
			assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
			return
		}
		again, err := ParseIdentity(got.CertPEM(), []byte(got.KeyPEM().Reveal()))
		require.NoError(t, err)
		assert.Equal(t, got.DeviceID(), again.DeviceID())
		assert.Regexp(t, identityDeviceIDForm, got.DeviceID())
		assert.Equal(t, "syncthing identity "+got.DeviceID(), got.String())
	})
}
