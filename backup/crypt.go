package backup

import (
	"errors"
	"fmt"

	"github.com/rclone/rclone/backend/crypt"
	"github.com/rclone/rclone/fs/config/obscure"

	"github.com/webinfra/webinfra"
)

// Encryption modes of [Config.Encryption] and [Policy.Encryption].
const (
	// EncryptionCrypt encrypts file contents and names with rclone's crypt backend layered over
	// the remote (XSalsa20-Poly1305 for contents, EME for names, keys derived from the key with
	// scrypt), so that stock rclone with the same key reads the snapshots (see
	// [CryptConnectionString]). It is what an empty mode with a key means.
	EncryptionCrypt = "crypt"
	// EncryptionNone stores everything in the clear. It must be asked for by name: a policy or
	// config without a key and without it is refused.
	EncryptionNone = "none"
)

// encryptionModes lists the accepted modes, for validation messages.
var encryptionModes = []string{EncryptionCrypt, EncryptionNone}

// validateEncryption checks the mode and key pair: a key with crypt (or no mode), no key with
// none. The key itself never reaches the error.
func validateEncryption(p webinfra.Path, mode string, key webinfra.Secret, errs *webinfra.ValidationError) {
	switch mode {
	case "", EncryptionCrypt:
		if key.IsZero() {
			errs.Add(p.Child("key"), nil, `required: backups are encrypted unless encryption is "none"`)
		}
	case EncryptionNone:
		if !key.IsZero() {
			errs.Add(p.Child("key"), webinfra.Redacted, `set with encryption "none": remove one of them`)
		}
	default:
		errs.NotSupported(p.Child("encryption"), mode, encryptionModes)
	}
}

// CryptConnectionString returns the rclone connection string of an encrypted set's remote:
// rclone's crypt backend over the connection string inner, with key's password obscured as
// rclone's configuration expects. It reveals the key (obscuring is not encryption): use it to
// read snapshots with stock rclone (`rclone lsl "$(...)"`), never print it. Filenames and
// directory names are encrypted ("standard" mode), contents always.
func CryptConnectionString(inner string, key webinfra.Secret) (string, error) {
	if key.IsZero() {
		return "", fmt.Errorf("backup: crypt: empty key: %w", webinfra.ErrInvalidArgument)
	}
	ob, err := obscure.Obscure(key.Reveal())
	if err != nil {
		return "", fmt.Errorf("backup: crypt: obscure key: %w", err)
	}
	return ":crypt,filename_encryption=standard,directory_name_encryption=true,remote=" + quoteOption(inner) +
		",password=" + quoteOption(ob) + ":", nil
}

// isDamage reports whether err from reading an object means its content is damaged (an
// encrypted object that fails authentication) rather than that the read failed.
func isDamage(err error) bool {
	return errors.Is(err, crypt.ErrorEncryptedBadBlock) || errors.Is(err, crypt.ErrorEncryptedBadMagic) ||
		errors.Is(err, crypt.ErrorEncryptedFileBadHeader) || errors.Is(err, crypt.ErrorEncryptedFileTooShort)
}
