package security

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/webinfra/webinfra"
)

// Action is what a scan hook does with findings.
type Action string

// The actions.
const (
	// ActionReport only reports findings to the callback.
	ActionReport Action = "report"
	// ActionQuarantine moves each infected file into the quarantine directory, then reports.
	ActionQuarantine Action = "quarantine"
	// ActionFail reports, then makes the scan fail with a [*ThreatsError].
	ActionFail Action = "fail"
)

// Engines a ScanPolicy may name.
var engines = []string{"eset", "clamd", "clamscan"}

// ScanPolicy is the desired scanning of a server, as a deployment plan declares it.
type ScanPolicy struct {
	// Engine is "eset", "clamd" or "clamscan"; required.
	Engine string `json:"engine"`
	// Paths are absolute paths to scan (the replicated data folders, say); at least one.
	Paths []string `json:"paths"`
	// Exclude lists glob patterns not scanned.
	Exclude []string `json:"exclude,omitempty"`
	// Interval scans every so often; 0 means no schedule (only after syncs). At least 1m.
	Interval time.Duration `json:"interval,omitempty"`
	// AfterSync also scans a folder each time replication reports it synced.
	AfterSync bool `json:"after_sync,omitempty"`
	// OnFinding is the action on threats; "" means "report".
	OnFinding Action `json:"on_finding,omitempty"`
	// QuarantineDir receives quarantined files; required with "quarantine", absolute, and not
	// inside a scanned path.
	QuarantineDir string `json:"quarantine_dir,omitempty"`
}

// Validate reports every problem of the policy as one [*webinfra.ValidationError].
func (p ScanPolicy) Validate() error {
	var errs webinfra.ValidationError
	p.validate(webinfra.Path{}, &errs)
	return errs.Err()
}

func (p ScanPolicy) validate(at webinfra.Path, errs *webinfra.ValidationError) {
	if p.Engine == "" {
		errs.Required(at.Child("engine"))
	} else if !slices.Contains(engines, p.Engine) {
		errs.NotSupported(at.Child("engine"), p.Engine, engines)
	}
	if len(p.Paths) == 0 {
		errs.Required(at.Child("paths"))
	}
	seen := map[string]int{}
	for i, path := range p.Paths {
		switch {
		case !filepath.IsAbs(path):
			errs.Invalid(at.Child("paths").Index(i), path, "not an absolute path")
		case filepath.Clean(path) != path:
			errs.Invalid(at.Child("paths").Index(i), path, "not a clean path")
		}
		if j, dup := seen[path]; dup {
			errs.Duplicate(at.Child("paths").Index(i), path, at.Child("paths").Index(j))
		} else {
			seen[path] = i
		}
	}
	for i, g := range p.Exclude {
		if _, err := filepath.Match(g, ""); err != nil {
			errs.Invalid(at.Child("exclude").Index(i), g, "not a glob pattern")
		}
	}
	if p.Interval < 0 || (p.Interval > 0 && p.Interval < time.Minute) {
		errs.Invalid(at.Child("interval"), p.Interval.String(), "must be 0 or at least 1m")
	}
	if p.Interval == 0 && !p.AfterSync {
		errs.Add(at.Child("interval"), nil, "set an interval or after_sync, or nothing ever scans")
	}
	switch p.OnFinding {
	case "", ActionReport, ActionFail:
	case ActionQuarantine:
		switch {
		case p.QuarantineDir == "":
			errs.Required(at.Child("quarantine_dir"))
		case !filepath.IsAbs(p.QuarantineDir):
			errs.Invalid(at.Child("quarantine_dir"), p.QuarantineDir, "not an absolute path")
		default:
			for _, path := range p.Paths {
				if within(p.QuarantineDir, path) {
					errs.Invalid(at.Child("quarantine_dir"), p.QuarantineDir, fmt.Sprintf("inside scanned path %s", path))
				}
			}
		}
	default:
		errs.NotSupported(at.Child("on_finding"), string(p.OnFinding), []string{string(ActionReport), string(ActionQuarantine), string(ActionFail)})
	}
}

func within(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}
