package backup

import (
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/rclone/rclone/fs/filter"
	"github.com/rclone/rclone/fs/fspath"

	"github.com/webinfra/webinfra"
)

// Policy is the desired backup state of a host, as a stack file holds it: what to snapshot, where
// to, how often, and how long to keep it. It is plain data; [Policy.Validate] checks it without
// I/O.
type Policy struct {
	// Remote is where snapshots go: an rclone connection string
	// (":googlecloudstorage,bucket_policy_only=true:bucket/prefix", ":local:/backups"), a local
	// absolute path, or "name:path" naming a remote of RcloneConfig. Required.
	Remote string `json:"remote"`
	// RcloneConfig is the path of an rclone.conf defining the remote named in Remote; "" means
	// Remote is a connection string or a local path.
	RcloneConfig string `json:"rcloneConfig,omitempty"`
	// Encryption is "crypt" (what "" means: contents and names encrypted with rclone's crypt
	// backend, readable with stock rclone and Key) or "none", which must be said explicitly.
	// See [EncryptionCrypt].
	Encryption string `json:"encryption,omitempty"`
	// Key is the encryption passphrase; required unless Encryption is "none". Plans show only
	// whether a set is encrypted, never the key.
	Key webinfra.Secret `json:"key,omitzero"`
	// Schedule says when snapshots run: "@every 6h" (at least 1m), "@hourly", "@daily",
	// "@weekly", "@monthly", "@yearly", or a five-field cron line ("30 2 * * *"), in UTC.
	// Required; see [ParseSchedule].
	Schedule string `json:"schedule"`
	// Sets are the snapshot sets; at least one, names unique.
	Sets []Set `json:"sets"`
	// Retention says which snapshots of each set prune keeps; the zero value keeps all.
	Retention Retention `json:"retention"`
}

// Set is one unit of snapshot, lock and retention: folders and hook outputs snapshotted together.
type Set struct {
	// Name identifies the set on the remote: 1-63 of [a-z0-9._-], starting with a letter or
	// digit. Required.
	Name string `json:"name"`
	// Paths are absolute, clean directory (or file) paths, none inside another, not "/" and not
	// a symbolic link (refused when the snapshot runs, naming its target). A path's files
	// appear in the snapshot under the path without its leading slash ("/srv/www/a" is
	// "srv/www/a"). At least one path or hook.
	Paths []string `json:"paths,omitempty"`
	// Excludes are rclone filter patterns ("*.tmp", "/cache/**"), matched against paths relative
	// to each of Paths.
	Excludes []string `json:"excludes,omitempty"`
	// Hooks run before the files are read; each one's standard output becomes the file
	// ".hooks/<name>" of the snapshot (a database dump, for example).
	Hooks []Hook `json:"hooks,omitempty"`
}

// Hook is a command run before a snapshot whose standard output the snapshot includes.
type Hook struct {
	// Name names the output file, ".hooks/<name>": 1-63 of [a-z0-9._-]. Required, unique in
	// its set.
	Name string `json:"name"`
	// Command is the program and its arguments, run without a shell. Required.
	Command []string `json:"command"`
	// Timeout bounds the run; 0 means 10 minutes. A hook that fails or times out fails the
	// snapshot.
	Timeout time.Duration `json:"timeout,omitempty"`
}

// HooksDir is the snapshot directory holding hook outputs.
const HooksDir = ".hooks"

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// supportedBackends are the rclone backends this package links in.
var supportedBackends = []string{"local", "googlecloudstorage", "drive", "s3"}

// Validate reports every problem of the policy in one *webinfra.ValidationError whose entries
// name the field path ("sets[1].paths[0]"), or nil. It does no I/O.
func (p Policy) Validate() error {
	var errs webinfra.ValidationError
	validateRemote(webinfra.NewPath("remote"), p.Remote, p.RcloneConfig, &errs)
	if p.RcloneConfig != "" && !path.IsAbs(p.RcloneConfig) {
		errs.Invalid(webinfra.NewPath("rcloneConfig"), p.RcloneConfig, "not an absolute path")
	}
	validateEncryption(webinfra.Path{}, p.Encryption, p.Key, &errs)
	if p.Schedule == "" {
		errs.Required(webinfra.NewPath("schedule"))
	} else if _, err := ParseSchedule(p.Schedule); err != nil {
		errs.Invalid(webinfra.NewPath("schedule"), p.Schedule, strings.TrimPrefix(err.Error(), "backup: "))
	}
	if len(p.Sets) == 0 {
		errs.Required(webinfra.NewPath("sets"))
	}
	seen := map[string]int{}
	for i, s := range p.Sets {
		sp := webinfra.NewPath("sets").Index(i)
		s.validate(sp, &errs)
		if j, dup := seen[s.Name]; dup && s.Name != "" {
			errs.Duplicate(sp.Child("name"), s.Name, webinfra.NewPath("sets").Index(j).Child("name"))
		} else {
			seen[s.Name] = i
		}
	}
	p.Retention.validate(webinfra.NewPath("retention"), &errs)
	return errs.Err()
}

// Validate reports every problem of the set, with paths relative to the set.
func (s Set) Validate() error {
	var errs webinfra.ValidationError
	s.validate(webinfra.Path{}, &errs)
	return errs.Err()
}

func (s Set) validate(p webinfra.Path, errs *webinfra.ValidationError) {
	if s.Name == "" {
		errs.Required(p.Child("name"))
	} else if !nameRE.MatchString(s.Name) {
		errs.Invalid(p.Child("name"), s.Name, "want 1-63 of [a-z0-9._-], starting with a letter or digit")
	}
	if len(s.Paths) == 0 && len(s.Hooks) == 0 {
		errs.Add(p.Child("paths"), nil, "want at least one path or hook")
	}
	for i, sp := range s.Paths {
		pp := p.Child("paths").Index(i)
		switch {
		case !path.IsAbs(sp):
			errs.Invalid(pp, sp, "not an absolute path")
		case sp == "/":
			errs.Invalid(pp, sp, "the root directory cannot be a set path (its entries would have no name): name the directories under it")
		case path.Clean(sp) != sp:
			errs.Invalid(pp, sp, "not clean (want "+path.Clean(sp)+")")
		case sp == "/"+HooksDir || strings.HasPrefix(sp, "/"+HooksDir+"/"):
			errs.Invalid(pp, sp, "reserved for hook outputs")
		}
		for j := range i {
			if within(sp, s.Paths[j]) || within(s.Paths[j], sp) {
				errs.Invalid(pp, sp, "overlaps "+p.Child("paths").Index(j).String()+" ("+s.Paths[j]+")")
			}
		}
	}
	if len(s.Excludes) > 0 {
		if _, err := newFilter(s.Excludes); err != nil {
			for i, e := range s.Excludes {
				if _, err := newFilter([]string{e}); err != nil {
					errs.Invalid(p.Child("excludes").Index(i), e, "not an rclone filter pattern")
				}
			}
		}
	}
	seen := map[string]int{}
	for i, h := range s.Hooks {
		hp := p.Child("hooks").Index(i)
		if h.Name == "" {
			errs.Required(hp.Child("name"))
		} else if !nameRE.MatchString(h.Name) {
			errs.Invalid(hp.Child("name"), h.Name, "want 1-63 of [a-z0-9._-], starting with a letter or digit")
		} else if j, dup := seen[h.Name]; dup {
			errs.Duplicate(hp.Child("name"), h.Name, p.Child("hooks").Index(j).Child("name"))
		} else {
			seen[h.Name] = i
		}
		if len(h.Command) == 0 || h.Command[0] == "" {
			errs.Required(hp.Child("command"))
		}
		if h.Timeout < 0 {
			errs.Invalid(hp.Child("timeout"), h.Timeout, "negative")
		}
	}
}

// within reports whether p is q or inside q.
func within(p, q string) bool {
	return p == q || strings.HasPrefix(p, strings.TrimSuffix(q, "/")+"/")
}

func validateRemote(p webinfra.Path, remote, conf string, errs *webinfra.ValidationError) {
	if remote == "" {
		errs.Required(p)
		return
	}
	if path.IsAbs(remote) {
		return
	}
	parsed, err := fspath.Parse(remote)
	if err != nil {
		errs.Invalid(p, RedactRemote(remote), "not an rclone remote: "+err.Error())
		return
	}
	switch {
	case strings.HasPrefix(parsed.Name, ":"):
		backend := strings.TrimPrefix(parsed.Name, ":")
		ok := false
		for _, b := range supportedBackends {
			ok = ok || b == backend
		}
		if !ok {
			errs.NotSupported(p, RedactRemote(remote), supportedBackends)
		}
	case parsed.Name == "":
		errs.Invalid(p, RedactRemote(remote), "want a connection string, an absolute path or name:path with rcloneConfig")
	case conf == "":
		errs.Invalid(p, RedactRemote(remote), "a named remote needs rcloneConfig")
	}
}

func newFilter(excludes []string) (*filter.Filter, error) {
	fi, err := filter.NewFilter(nil)
	if err != nil {
		return nil, err
	}
	for _, rule := range excludes {
		if err := fi.Add(false, rule); err != nil {
			return nil, err
		}
	}
	return fi, nil
}
