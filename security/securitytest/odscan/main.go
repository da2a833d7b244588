// Command odscan stands in for ESET Server Security for Linux's on-demand scanner in tests. It
// accepts the options the security package passes (--scan, --profile=, --readonly,
// --exclude=GLOB, then paths), treats a regular file as infected when it contains the EICAR test
// string or ODSCAN_SIGNATURE (environment), prints one record line per file in odscan's
// key="value" form (the threat= variant; odscan 8 reportedly writes result=) and exits with the
// codes security.Odscan* lists, whose sources security/eset.go records: 0 no threat, 1 threats
// cleaned (deleted, without --readonly), 10 some files not scanned, 50 threats found (with
// --readonly), 100 error (bad options, a missing path, or ODSCAN_EXIT=100 to simulate a broken
// installation). --exclude= is this package's assumption, not a confirmed odscan option.
package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/webinfra/webinfra/security"
)

const eicar = `X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	if os.Getenv("ODSCAN_EXIT") == "100" {
		fmt.Fprintln(os.Stderr, "odscan: cannot connect to the scanning daemon")
		return security.OdscanError
	}
	var scan, readonly bool
	var excludes, paths []string
	for _, a := range args {
		switch {
		case a == "--scan":
			scan = true
		case a == "--readonly":
			readonly = true
		case strings.HasPrefix(a, "--profile="):
		case strings.HasPrefix(a, "--exclude="):
			excludes = append(excludes, strings.TrimPrefix(a, "--exclude="))
		case strings.HasPrefix(a, "-"):
			fmt.Fprintln(os.Stderr, "odscan: unknown option", a)
			return security.OdscanError
		default:
			paths = append(paths, a)
		}
	}
	if !scan || len(paths) == 0 {
		fmt.Fprintln(os.Stderr, "odscan: usage: odscan --scan [--profile=NAME] [--readonly] [--exclude=GLOB] PATH...")
		return security.OdscanError
	}
	sigs := [][]byte{[]byte(eicar)}
	if s := os.Getenv("ODSCAN_SIGNATURE"); s != "" {
		sigs = append(sigs, []byte(s))
	}
	var found, cleaned, notScanned bool
	record := func(name, threat, action, info string) {
		fmt.Printf("name=%s, threat=%s, action=%s, info=%s\n", security.QuoteOdscan(name), security.QuoteOdscan(threat), security.QuoteOdscan(action), security.QuoteOdscan(info))
	}
	fmt.Println("Scan started at: (stand-in)")
	for _, root := range paths {
		if _, err := os.Lstat(root); err != nil {
			fmt.Fprintln(os.Stderr, "odscan:", err)
			return security.OdscanError
		}
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				record(p, "", "", "Error opening file")
				notScanned = true
				return nil
			}
			for _, g := range excludes {
				if ok, _ := filepath.Match(g, p); ok {
					if d.IsDir() {
						return filepath.SkipDir
					}
					return nil
				}
			}
			if d.IsDir() {
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				record(p, "", "", "Error opening file")
				notScanned = true
				return nil
			}
			for _, sig := range sigs {
				if !bytes.Contains(data, sig) {
					continue
				}
				if readonly {
					record(p, "Eicar test file", "retained", "")
					found = true
				} else if err := os.Remove(p); err == nil {
					record(p, "Eicar test file", "cleaned by deleting", "")
					cleaned = true
				} else {
					record(p, "Eicar test file", "retained", "Error deleting file")
					found = true
				}
				return nil
			}
			record(p, "", "", "")
			return nil
		})
	}
	fmt.Println("Scan completed")
	switch {
	case notScanned:
		return security.OdscanNotAllScanned
	case found:
		return security.OdscanThreat
	case cleaned:
		return security.OdscanCleaned
	}
	return security.OdscanNoThreat
}
