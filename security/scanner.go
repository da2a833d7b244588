package security

import (
	"context"
	"io/fs"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Scanner scans file system paths for malware. ESET's odscan ([ESET]), clamd ([Clamd]) and
// clamscan ([Clamscan]) implement it; securitytest.FakeScanner stands in for them.
//
// Scan scans every path (files or directories, recursively) and returns a [Report]. Threats and
// files that could not be scanned are data in the report, never an error: Scan returns an error
// only when the scanner itself could not run or answer (wrapping [ErrScannerFailed]), when its
// output disagrees with its exit status ([ErrUnexpectedOutput]), or when ctx ends (the error
// then matches ctx.Err()). opts may be nil. Implementations are safe for concurrent use.
type Scanner interface {
	Scan(ctx context.Context, paths []string, opts *ScanOptions) (*Report, error)
}

// ScanOptions tune one scan.
type ScanOptions struct {
	// Exclude lists glob patterns (path.Match syntax); a file or directory whose full path or base
	// name matches one is not scanned.
	Exclude []string
}

// Finding is one threat in one file.
type Finding struct {
	// Path is the infected file; for archives, the archive.
	Path string `json:"path"`
	// Threat is the scanner's name for the threat: "Eicar test file", "Win.Test.EICAR_HDB-1".
	Threat string `json:"threat"`
	// Action is what the scanner did about it: "" (nothing, reported only), "cleaned by deleting"...
	Action string `json:"action,omitempty"`
	// Engine names the scanner: "eset", "clamd", "clamscan".
	Engine string `json:"engine"`
}

// FileError is a file that could not be scanned, and why.
type FileError struct {
	// Path is the file; "" when the scanner only said that some files were not scanned.
	Path string `json:"path"`
	// Msg is the scanner's reason: "Access denied", "Error opening file".
	Msg string `json:"msg"`
}

// Report is the result of one scan. Findings and Errors are sorted by path.
type Report struct {
	// Engine names the scanner.
	Engine string `json:"engine"`
	// Paths are the paths that were asked for.
	Paths []string `json:"paths"`
	// Scanned counts the files scanned (clean, infected or failed).
	Scanned int `json:"scanned"`
	// Findings are the threats found.
	Findings []Finding `json:"findings"`
	// Errors are the files that could not be scanned.
	Errors []FileError `json:"errors"`
	// Started and Finished bound the scan.
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
}

// Clean reports whether the scan found no threat and scanned every file.
func (r *Report) Clean() bool { return len(r.Findings) == 0 && len(r.Errors) == 0 }

// excluded reports whether p (or its base name) matches one of the glob patterns.
func excluded(p string, patterns []string) bool {
	base := filepath.Base(p)
	for _, pat := range patterns {
		if ok, _ := filepath.Match(pat, p); ok {
			return true
		}
		if ok, _ := filepath.Match(pat, base); ok {
			return true
		}
	}
	return false
}

// globRegexp translates a glob pattern into the regular expression clamscan's --exclude wants
// (it matches anywhere in the path, so the pattern is anchored at a path element).
func globRegexp(glob string) string {
	var b strings.Builder
	if !strings.HasPrefix(glob, "/") {
		b.WriteString("(^|/)")
	} else {
		b.WriteString("^")
	}
	for _, r := range glob {
		switch r {
		case '*':
			b.WriteString("[^/]*")
		case '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return b.String()
}

// walkFiles calls fn for every regular file under paths, skipping excluded ones and symbolic
// links (as clamscan does by default). A path that cannot be read is passed to onErr.
func walkFiles(ctx context.Context, paths []string, exclude []string, fn func(string) error, onErr func(string, error)) error {
	for _, root := range paths {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return ctxErr
			}
			if err != nil {
				onErr(p, err)
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if excluded(p, exclude) {
				if d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() {
				return nil
			}
			return fn(p)
		})
		if err != nil {
			return err
		}
	}
	return nil
}
