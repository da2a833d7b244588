package backup

import (
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/rclone/rclone/fs/fspath"
	"github.com/unknwon/goconfig"

	// The backends this package supports, registered by import.
	_ "github.com/rclone/rclone/backend/drive"
	_ "github.com/rclone/rclone/backend/googlecloudstorage"
	_ "github.com/rclone/rclone/backend/local"
	_ "github.com/rclone/rclone/backend/s3"

	"github.com/webinfra/webinfra"
)

// ConnectionString turns a remote as [Config.Remote] accepts it into an rclone connection
// string that needs no global configuration: a local path becomes ":local:<path>", a
// connection string stays as it is, and "name:path" is looked up in the rclone.conf at conf and
// rewritten as ":type,key=value,...:path".
//
// rclone's own config package keeps the loaded file in process-wide state (config.SetConfigPath,
// config.SetData), which two clients with different files, or parallel tests, would fight over;
// reading the file here with the INI parser rclone itself uses (goconfig) keeps each client's
// remote to itself. Encrypted rclone.conf files are not supported. Errors match
// webinfra.ErrInvalidArgument (or webinfra.ErrNotFound for a missing file or section).
func ConnectionString(remote, conf string) (string, error) {
	if path.IsAbs(remote) {
		return ":local:" + remote, nil
	}
	parsed, err := fspath.Parse(remote)
	if err != nil {
		return "", fmt.Errorf("backup: remote %q: %v: %w", RedactRemote(remote), err, webinfra.ErrInvalidArgument)
	}
	if strings.HasPrefix(parsed.Name, ":") {
		return remote, nil
	}
	if conf == "" || parsed.Name == "" {
		return "", fmt.Errorf("backup: remote %q: a named remote needs an rclone.conf: %w", RedactRemote(remote), webinfra.ErrInvalidArgument)
	}
	data, err := os.ReadFile(conf)
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("backup: rclone config %q: %w", conf, webinfra.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("backup: rclone config %q: %w", conf, err)
	}
	if strings.HasPrefix(strings.TrimSpace(string(data)), "# Encrypted rclone configuration") {
		return "", fmt.Errorf("backup: rclone config %q is encrypted: %w", conf, webinfra.ErrInvalidArgument)
	}
	gc, err := goconfig.LoadFromData(data)
	if err != nil {
		return "", fmt.Errorf("backup: rclone config %q: %v: %w", conf, err, webinfra.ErrInvalidArgument)
	}
	name, opts, _ := strings.Cut(parsed.Name, ",")
	section, err := gc.GetSection(name)
	if err != nil {
		return "", fmt.Errorf("backup: rclone config %q: remote %q: %w", conf, name, webinfra.ErrNotFound)
	}
	typ := section["type"]
	if !slices.Contains(supportedBackends, typ) {
		return "", fmt.Errorf("backup: rclone config %q: remote %q has type %q; supported: %v: %w", conf, name, typ, supportedBackends, webinfra.ErrInvalidArgument)
	}
	var b strings.Builder
	b.WriteString(":" + typ)
	for _, k := range slices.Sorted(mapKeys(section)) {
		if k == "type" {
			continue
		}
		b.WriteString("," + k + "=" + quoteOption(section[k]))
	}
	if opts != "" {
		b.WriteString("," + opts) // options given in Remote override the file's
	}
	b.WriteString(":" + parsed.Path)
	return b.String(), nil
}

// quoteOption quotes a connection-string value the way rclone's parser reads it: double quotes,
// with a double quote written twice.
func quoteOption(v string) string {
	return `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
