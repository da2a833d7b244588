package backup

import (
	"regexp"
	"slices"
	"strings"

	rfs "github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/fspath"

	"github.com/webinfra/webinfra"
)

// RedactRemote returns remote with the value of every credential option replaced by
// webinfra.Redacted, so that a remote can be shown in a plan, an error or a log.
//
// An option is a credential when its backend's registration marks it sensitive or a password
// (as `rclone config redacted` decides: S3's secret_access_key and sse_customer_key, GCS's
// service_account_credentials, crypt's password, ...). The remote of a crypt (or other
// wrapping) backend is itself a connection string and is redacted the same way. Options of an
// unknown backend, and a remote that does not parse, are redacted by name instead (any name
// with secret, token, pass, key or credentials in it), so that a typo never reveals a value.
func RedactRemote(remote string) string {
	parsed, err := fspath.Parse(remote)
	if err != nil || parsed.Name == "" || len(parsed.Config) == 0 {
		return secretOption.ReplaceAllString(remote, "${1}"+webinfra.Redacted)
	}
	name := parsed.Name
	if i := strings.IndexByte(name, ','); i >= 0 {
		name = name[:i]
	}
	var info *rfs.RegInfo
	if strings.HasPrefix(name, ":") {
		info, _ = rfs.Find(strings.TrimPrefix(name, ":"))
	}
	var b strings.Builder
	b.WriteString(name)
	for _, k := range slices.Sorted(mapKeys(parsed.Config)) {
		v := parsed.Config[k]
		switch opt := findOption(info, k); {
		case opt != nil && (opt.Sensitive || opt.IsPassword):
			v = webinfra.Redacted
		case opt != nil && opt.Name == "remote":
			v = RedactRemote(v)
		case opt == nil && secretName.MatchString(k):
			v = webinfra.Redacted
		}
		if strings.ContainsAny(v, `,:"'`) {
			v = quoteOption(v)
		}
		b.WriteString("," + k + "=" + v)
	}
	b.WriteString(":" + parsed.Path)
	return b.String()
}

// findOption returns the option named k of the backend, nil when either is unknown. rclone
// accepts dashes for underscores in connection strings.
func findOption(info *rfs.RegInfo, k string) *rfs.Option {
	if info == nil {
		return nil
	}
	k = strings.ReplaceAll(k, "-", "_")
	for i := range info.Options {
		if info.Options[i].Name == k {
			return &info.Options[i]
		}
	}
	return nil
}

// secretName matches option names that look like credentials; the fallback for options no
// registration describes.
var secretName = regexp.MustCompile(`(?i)secret|token|pass|key|credential|session|auth|sse_`)

// secretOption finds such options in a remote that does not parse as a connection string.
var secretOption = regexp.MustCompile(`(?i)([,:]\s*[a-z0-9_-]*(?:secret|token|pass|key|credential|session|auth|sse_)[a-z0-9_-]*\s*=\s*)("(?:[^"]|"")*"|'(?:[^']|'')*'|[^,:]*)`)
