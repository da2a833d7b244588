package backup

import (
	"fmt"
	"strings"

	"github.com/webinfra/webinfra"
)

// Fields returns what a plan shows of one set of the policy: remote (with credentials
// redacted, see [RedactRemote]), whether it is encrypted (never the key), schedule, paths, excludes, hook names and retention, as plain
// strings and lists.
func (p Policy) Fields(s Set) webinfra.Fields {
	hooks := make([]string, len(s.Hooks))
	for i, h := range s.Hooks {
		hooks[i] = h.Name + ": " + strings.Join(h.Command, " ")
	}
	f := webinfra.Fields{
		"remote":    RedactRemote(p.Remote),
		"schedule":  p.Schedule,
		"paths":     append([]string(nil), s.Paths...),
		"retention": p.Retention.String(),
		"encrypted": p.Encryption != EncryptionNone,
	}
	if p.RcloneConfig != "" {
		f["rcloneConfig"] = p.RcloneConfig
	}
	if len(s.Excludes) > 0 {
		f["excludes"] = append([]string(nil), s.Excludes...)
	}
	if len(hooks) > 0 {
		f["hooks"] = hooks
	}
	return f
}

// String renders the rules that are set, "last=3 daily=7", or "keep all".
func (r Retention) String() string {
	var parts []string
	for _, ru := range r.rules() {
		if ru.n != 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", ru.name, ru.n))
		}
	}
	if len(parts) == 0 {
		return "keep all"
	}
	return strings.Join(parts, " ")
}
