package replication

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/syncthing/syncthing/lib/protocol"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/internal/testbin"
)

var identityDeviceIDForm = regexp.MustCompile(`^([A-Z2-7]{7}-){7}[A-Z2-7]{7}$`)

func identityNew(t *testing.T) *Identity {
	t.Helper()
	id, err := NewIdentity()
	require.NoError(t, err)
	return id
}

// identityCert decodes the single certificate and the key block of an identity.
func identityCert(t *testing.T, certPEM []byte, keyPEM string) (*x509.Certificate, *pem.Block) {
	t.Helper()
	block, rest := pem.Decode(certPEM)
	require.NotNil(t, block)
	require.Equal(t, "CERTIFICATE", block.Type)
	require.Empty(t, bytes.TrimSpace(rest))
	cert, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	key, _ := pem.Decode([]byte(keyPEM))
	require.NotNil(t, key)
	return cert, key
}

func TestIdentityNewIsSyncthingShaped(t *testing.T) {
	id := identityNew(t)
	assert.Regexp(t, identityDeviceIDForm, id.DeviceID())
	cert, key := identityCert(t, id.CertPEM(), id.KeyPEM().Reveal())
	assert.Equal(t, id.DeviceID(), protocol.NewDeviceID(cert.Raw).String())
	parsed, err := protocol.DeviceIDFromString(id.DeviceID())
	require.NoError(t, err, "the device ID passes Syncthing's Luhn checks")
	assert.Equal(t, id.DeviceID(), parsed.String())

	assert.Equal(t, "syncthing", cert.Subject.CommonName)
	assert.Equal(t, []string{"Syncthing"}, cert.Subject.Organization)
	assert.Equal(t, []string{"Automatically Generated"}, cert.Subject.OrganizationalUnit)
	assert.Equal(t, []string{"syncthing"}, cert.DNSNames)
	assert.Equal(t, x509.ECDSAWithSHA256, cert.SignatureAlgorithm)
	assert.Equal(t, 20*365*24*time.Hour, cert.NotAfter.Sub(cert.NotBefore))
	assert.WithinDuration(t, time.Now(), cert.NotBefore, 24*time.Hour, "valid from today's midnight UTC")
	assert.Equal(t, time.Duration(0), cert.NotBefore.Sub(cert.NotBefore.Truncate(24*time.Hour)))
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	require.True(t, ok)
	assert.Equal(t, elliptic.P384(), pub.Curve)
	assert.Equal(t, "EC PRIVATE KEY", key.Type)
	_, err = x509.ParseECPrivateKey(key.Bytes)
	require.NoError(t, err)

	assert.NotEqual(t, id.DeviceID(), identityNew(t).DeviceID(), "every call makes a new key")
}

func TestIdentityParseRoundTrip(t *testing.T) {
	id := identityNew(t)
	again, err := ParseIdentity(id.CertPEM(), []byte(id.KeyPEM().Reveal()))
	require.NoError(t, err)
	assert.Equal(t, id.DeviceID(), again.DeviceID())
	assert.Equal(t, id.CertPEM(), again.CertPEM())
	assert.True(t, id.KeyPEM().Equal(again.KeyPEM()))

	c := id.CertPEM()
	c[0] = 'X'
	assert.NotEqual(t, c, id.CertPEM(), "CertPEM returns a copy")
}

func TestIdentityParseRejects(t *testing.T) {
	a, b := identityNew(t), identityNew(t)
	key := []byte(a.KeyPEM().Reveal())
	cases := map[string][2][]byte{
		"empty":          {nil, nil},
		"not PEM":        {[]byte("hello"), key},
		"mismatched key": {b.CertPEM(), key},
		"key as cert":    {key, key},
		"cert as key":    {a.CertPEM(), a.CertPEM()},
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ParseIdentity(in[0], in[1])
			require.Error(t, err)
			assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
			assert.NotContains(t, err.Error(), "PRIVATE KEY-----")
			assert.NotContains(t, err.Error(), identityKeyBody(a))
		})
	}
}

// identityKeyBody is a distinctive piece of the base64 body of the key.
func identityKeyBody(id *Identity) string {
	lines := strings.Split(id.KeyPEM().Reveal(), "\n")
	return lines[2]
}

func TestIdentityNeverPrintsKey(t *testing.T) {
	id := identityNew(t)
	holder := struct {
		Node string
		ID   *Identity
		id   *Identity
	}{"n1", id, id}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("identity", "identity", id, "holder", holder)
	outputs := []string{
		id.String(), id.GoString(), logs.String(),
		fmt.Sprint(id), fmt.Sprintf("%v %+v %#v %s %q %x %d", id, id, id, id, id, id, id),
		fmt.Sprintf("%v %+v %#v", holder, holder, holder),
		fmt.Sprint(id.KeyPEM()),
	}
	for _, out := range outputs {
		assert.NotContains(t, out, "PRIVATE KEY")
		assert.NotContains(t, out, identityKeyBody(id))
	}
	assert.Equal(t, "syncthing identity "+id.DeviceID(), fmt.Sprint(id))
	assert.Contains(t, logs.String(), `"device_id":"`+id.DeviceID()+`"`)
}

func TestIdentityWriteHome(t *testing.T) {
	home := filepath.Join(t.TempDir(), "st")
	id := identityNew(t)
	require.NoError(t, id.WriteHome(home))
	for _, name := range []string{IdentityCertFile, IdentityKeyFile} {
		fi, err := os.Stat(filepath.Join(home, name))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), name)
	}
	fi, err := os.Stat(home)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())

	loaded, err := LoadIdentity(home)
	require.NoError(t, err)
	assert.Equal(t, id.DeviceID(), loaded.DeviceID())

	require.NoError(t, id.WriteHome(home), "writing the same identity again succeeds")
	require.NoError(t, os.Remove(filepath.Join(home, IdentityCertFile)))
	require.NoError(t, id.WriteHome(home), "a half-written home is completed")
	loaded, err = LoadIdentity(home)
	require.NoError(t, err)
	assert.Equal(t, id.DeviceID(), loaded.DeviceID())

	other := identityNew(t)
	err = other.WriteHome(home)
	require.ErrorIs(t, err, webinfra.ErrAlreadyExists)
	assert.NotContains(t, err.Error(), "PRIVATE KEY")
	loaded, err = LoadIdentity(home)
	require.NoError(t, err)
	assert.Equal(t, id.DeviceID(), loaded.DeviceID(), "another identity is never written over")

	// Only the certificate of another identity present: still refused, and nothing is written.
	mixed := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(mixed, IdentityCertFile), other.CertPEM(), 0o644))
	require.ErrorIs(t, id.WriteHome(mixed), webinfra.ErrAlreadyExists)
	_, err = os.Stat(filepath.Join(mixed, IdentityKeyFile))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestIdentityLoadErrors(t *testing.T) {
	_, err := LoadIdentity(t.TempDir())
	assert.ErrorIs(t, err, webinfra.ErrNotFound)

	home := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(home, IdentityCertFile), []byte("junk"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(home, IdentityKeyFile), []byte("junk"), 0o600))
	_, err = LoadIdentity(home)
	assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
}

// identityGenerate runs the real `syncthing generate` on home and returns its output.
func identityGenerate(t *testing.T, home string) string {
	t.Helper()
	bin := testbin.Require(t, "syncthing")
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "generate", "--home", home, "--no-default-folder", "--skip-port-probing")
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "STNOUPGRADE=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "syncthing generate: %s", out)
	return string(out)
}

// TestIdentitySyncthingAdopts writes an identity into an empty home and runs the real
// `syncthing generate` there: it must keep the key (cert.pem and key.pem unchanged) and report
// the device ID computed here.
func TestIdentitySyncthingAdopts(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	id := identityNew(t)
	require.NoError(t, id.WriteHome(home))

	out := identityGenerate(t, home)
	assert.Contains(t, out, "Device ID: "+id.DeviceID())
	assert.Contains(t, out, "will not overwrite")
	assert.NotContains(t, out, "Generating ECDSA key")

	cert, err := os.ReadFile(filepath.Join(home, IdentityCertFile))
	require.NoError(t, err)
	assert.Equal(t, id.CertPEM(), cert, "cert.pem unchanged")
	key, err := os.ReadFile(filepath.Join(home, IdentityKeyFile))
	require.NoError(t, err)
	assert.Equal(t, id.KeyPEM().Reveal(), string(key), "key.pem unchanged")
	config, err := os.ReadFile(filepath.Join(home, "config.xml"))
	require.NoError(t, err)
	assert.Contains(t, string(config), `id="`+id.DeviceID()+`"`, "config.xml names this device")
}

// TestIdentityMatchesSyncthingGenerated lets the real Syncthing generate an identity and checks
// that ours reads it to the device ID Syncthing printed, and that ours has the same shape.
func TestIdentityMatchesSyncthingGenerated(t *testing.T) {
	home := t.TempDir()
	out := identityGenerate(t, home)
	theirs, err := LoadIdentity(home)
	require.NoError(t, err)
	assert.Contains(t, out, "Device ID: "+theirs.DeviceID())

	ours := identityNew(t)
	tc, tk := identityCert(t, theirs.CertPEM(), theirs.KeyPEM().Reveal())
	oc, ok := identityCert(t, ours.CertPEM(), ours.KeyPEM().Reveal())
	assert.Equal(t, tk.Type, ok.Type)
	assert.Equal(t, tc.Subject.String(), oc.Subject.String())
	assert.Equal(t, tc.Issuer.String(), oc.Issuer.String())
	assert.Equal(t, tc.DNSNames, oc.DNSNames)
	assert.Equal(t, tc.KeyUsage, oc.KeyUsage)
	assert.Equal(t, tc.ExtKeyUsage, oc.ExtKeyUsage)
	assert.Equal(t, tc.SignatureAlgorithm, oc.SignatureAlgorithm)
	assert.Equal(t, tc.PublicKeyAlgorithm, oc.PublicKeyAlgorithm)
	assert.Equal(t, tc.PublicKey.(*ecdsa.PublicKey).Curve, oc.PublicKey.(*ecdsa.PublicKey).Curve)
	assert.Equal(t, tc.BasicConstraintsValid, oc.BasicConstraintsValid)
	assert.Equal(t, tc.IsCA, oc.IsCA)
	assert.Equal(t, tc.NotAfter.Sub(tc.NotBefore), oc.NotAfter.Sub(oc.NotBefore))
	assert.Equal(t, tc.Version, oc.Version)
}
