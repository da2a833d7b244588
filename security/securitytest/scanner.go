package securitytest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/webinfra/webinfra/security"
)

// FakeScanner is an in-process [security.Scanner]: a file is infected when its content
// contains one of the Signatures, and paths in Unreadable fail. Safe for concurrent use once
// configured.
type FakeScanner struct {
	// Signatures maps threat names to byte patterns.
	Signatures map[string][]byte
	// Err, if set, is returned by every Scan (a scanner that cannot run).
	Err error

	mu    sync.Mutex
	scans [][]string
}

var _ security.Scanner = (*FakeScanner)(nil)

// Scan implements [security.Scanner].
func (f *FakeScanner) Scan(ctx context.Context, paths []string, opts *security.ScanOptions) (*security.Report, error) {
	f.mu.Lock()
	f.scans = append(f.scans, slices.Clone(paths))
	f.mu.Unlock()
	if f.Err != nil {
		return nil, f.Err
	}
	rep := &security.Report{Engine: "fake", Paths: slices.Clone(paths), Started: time.Now()}
	var excl []string
	if opts != nil {
		excl = opts.Exclude
	}
	for _, root := range paths {
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				rep.Errors = append(rep.Errors, security.FileError{Path: p, Msg: err.Error()})
				return nil
			}
			for _, g := range excl {
				if ok, _ := filepath.Match(g, filepath.Base(p)); ok {
					if d.IsDir() {
						return filepath.SkipDir
					}
					return nil
				}
			}
			if !d.Type().IsRegular() {
				return nil
			}
			rep.Scanned++
			data, err := os.ReadFile(p)
			if err != nil {
				rep.Errors = append(rep.Errors, security.FileError{Path: p, Msg: err.Error()})
				return nil
			}
			for name, sig := range f.Signatures {
				if bytes.Contains(data, sig) {
					rep.Findings = append(rep.Findings, security.Finding{Path: p, Threat: name, Engine: "fake"})
					break
				}
			}
			return ctx.Err()
		})
		if err != nil {
			return nil, err
		}
	}
	rep.Finished = time.Now()
	return rep, nil
}

// Scans returns the path lists of every Scan call, in order.
func (f *FakeScanner) Scans() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.scans)
}
