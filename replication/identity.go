package replication

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/syncthing/syncthing/lib/protocol"
	"github.com/syncthing/syncthing/lib/tlsutil"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/internal/atomicfile"
)

// The names of the identity files in a Syncthing home directory, which `syncthing generate`
// and `syncthing serve` load instead of generating a new key when both are present.
const (
	IdentityCertFile = "cert.pem"
	IdentityKeyFile  = "key.pem"
)

// What Syncthing v1.30 passes to tlsutil for a device certificate (lib/syncthing's
// tlsDefaultCommonName and deviceCertLifetimeDays, which it does not export).
const (
	identityCommonName   = "syncthing"
	identityLifetimeDays = 20 * 365
)

// Identity is a Syncthing device identity: the self-signed TLS certificate whose hash is the
// device ID, and its private key. Generating it offline lets a deployment know every node's
// device ID before any Syncthing runs, so that devices and folders can be configured in one
// pass.
//
// The private key never prints: String, GoString, every fmt verb and slog show only the device
// ID, and [Identity.KeyPEM] returns a [webinfra.Secret]. An Identity is immutable and safe for
// concurrent use.
type Identity struct {
	certPEM []byte
	keyPEM  webinfra.Secret
	id      protocol.DeviceID
}

// NewIdentity generates a new identity exactly as Syncthing v1.30 does on first start, with its
// own lib/tlsutil: an ECDSA P-384 key and a self-signed certificate for the common name
// "syncthing" (organisation "Syncthing", unit "Automatically Generated"), valid for 20 years
// from today's midnight UTC. The key is PEM "EC PRIVATE KEY" (SEC 1), as Syncthing writes it.
// It reads the system's random source and does no other I/O.
func NewIdentity() (*Identity, error) {
	cert, err := tlsutil.NewCertificateInMemory(identityCommonName, identityLifetimeDays)
	if err != nil {
		return nil, fmt.Errorf("replication: generate identity: %w", err)
	}
	key, ok := cert.PrivateKey.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("replication: generate identity: unexpected key type %T", cert.PrivateKey)
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("replication: generate identity: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
	return &Identity{certPEM: certPEM, keyPEM: webinfra.NewSecret(string(keyPEM)), id: protocol.NewDeviceID(cert.Certificate[0])}, nil
}

// ParseIdentity reads an identity from a PEM certificate and its PEM private key, as found in
// cert.pem and key.pem of a Syncthing home. It accepts what Syncthing's own loading
// (tls.X509KeyPair) accepts, so older RSA identities work too, and it keeps both inputs byte for
// byte: [Identity.CertPEM] returns certPEM. An input that is not PEM, a certificate that does not
// parse or a key that does not belong to the certificate gives an error matching
// [webinfra.ErrInvalidArgument]; the error never contains key material.
func ParseIdentity(certPEM, keyPEM []byte) (*Identity, error) {
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("replication: parse identity: %w: %w", webinfra.ErrInvalidArgument, err)
	}
	return &Identity{certPEM: bytes.Clone(certPEM), keyPEM: webinfra.NewSecret(string(keyPEM)), id: protocol.NewDeviceID(cert.Certificate[0])}, nil
}

// LoadIdentity reads the identity of the Syncthing home directory home (its cert.pem and
// key.pem). When either file is absent the error matches [webinfra.ErrNotFound]; contents that
// [ParseIdentity] rejects give its error.
func LoadIdentity(home string) (*Identity, error) {
	certPEM, err := os.ReadFile(filepath.Join(home, IdentityCertFile))
	if err != nil {
		return nil, identityReadError(home, err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(home, IdentityKeyFile))
	if err != nil {
		return nil, identityReadError(home, err)
	}
	id, err := ParseIdentity(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("replication: load identity from %q: %w", home, err)
	}
	return id, nil
}

func identityReadError(home string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("replication: load identity from %q: %w: %w", home, webinfra.ErrNotFound, err)
	}
	return fmt.Errorf("replication: load identity from %q: %w", home, err)
}

// DeviceID returns the Syncthing device ID, the form Syncthing prints and its configuration
// uses: eight dash-separated groups of seven base32 characters (protocol.DeviceID.String of
// the SHA-256 of the certificate's DER, with Luhn check characters).
func (id *Identity) DeviceID() string { return id.id.String() }

// CertPEM returns the certificate in PEM form, a copy the caller may keep or modify. It holds
// no secret.
func (id *Identity) CertPEM() []byte { return bytes.Clone(id.certPEM) }

// KeyPEM returns the private key in PEM form. Only its Reveal method gives the content.
func (id *Identity) KeyPEM() webinfra.Secret { return id.keyPEM }

// WriteHome writes the identity into the Syncthing home directory home, creating it (mode 0700)
// if needed, as cert.pem and key.pem with mode 0600, each atomically, so that `syncthing
// generate --home home` and `syncthing serve --home home` adopt it instead of generating a key.
//
// WriteHome never replaces another identity: when either file already exists with different
// content it writes nothing and returns an error matching [webinfra.ErrAlreadyExists]. Files
// already holding this identity are left as they are, so the call is idempotent and completes
// a write interrupted between the two files.
func (id *Identity) WriteHome(home string) error {
	if err := os.MkdirAll(home, 0o700); err != nil {
		return fmt.Errorf("replication: write identity %s to %q: %w", id.DeviceID(), home, err)
	}
	files := []struct {
		name string
		data []byte
	}{
		{IdentityKeyFile, []byte(id.keyPEM.Reveal())},
		{IdentityCertFile, id.certPEM},
	}
	present := make([]bool, len(files))
	for i, f := range files {
		old, err := os.ReadFile(filepath.Join(home, f.name))
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return fmt.Errorf("replication: write identity %s to %q: %w", id.DeviceID(), home, err)
		case !bytes.Equal(old, f.data):
			return fmt.Errorf("replication: write identity %s to %q: %s holds another identity: %w",
				id.DeviceID(), home, f.name, webinfra.ErrAlreadyExists)
		default:
			present[i] = true
		}
	}
	for i, f := range files {
		if present[i] {
			continue
		}
		if err := atomicfile.WriteFile(filepath.Join(home, f.name), f.data, 0o600); err != nil {
			return fmt.Errorf("replication: write identity %s to %q: %w", id.DeviceID(), home, err)
		}
	}
	return nil
}

// String returns `syncthing identity <device ID>`; it never contains the key.
func (id *Identity) String() string { return "syncthing identity " + id.DeviceID() }

// GoString returns the same as [Identity.String], so %#v does not reveal the key either.
func (id *Identity) GoString() string { return id.String() }

// Format prints [Identity.String] for every verb and flag.
func (id *Identity) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(id.String())) }

// LogValue makes slog log the device ID only.
func (id *Identity) LogValue() slog.Value {
	return slog.GroupValue(slog.String("device_id", id.DeviceID()))
}

var (
	_ fmt.Stringer   = (*Identity)(nil)
	_ fmt.GoStringer = (*Identity)(nil)
	_ fmt.Formatter  = (*Identity)(nil)
	_ slog.LogValuer = (*Identity)(nil)
)
