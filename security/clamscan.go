package security

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/internal/command"
)

// ClamscanConfig configures [Clamscan].
type ClamscanConfig struct {
	// Path is the clamscan program; "" means "clamscan" from PATH.
	Path string
	// Database is a signature file or directory passed as -d; "" means clamscan's default.
	Database string
	// Runner runs the program; nil means [webinfra.LocalRunner].
	Runner webinfra.Runner
	// Logger receives debug logs; nil discards them.
	Logger *slog.Logger
}

// Clamscan scans with one clamscan process per call. Each run loads the whole signature
// database, which costs seconds with the official databases: prefer [Clamd] for many scans.
// It implements [Scanner] and is safe for concurrent use.
type Clamscan struct {
	cfg ClamscanConfig
	log *slog.Logger
}

var _ Scanner = (*Clamscan)(nil)

// NewClamscan fills defaults; it runs nothing.
func NewClamscan(cfg ClamscanConfig) (*Clamscan, error) {
	if cfg.Path == "" {
		cfg.Path = "clamscan"
	}
	if cfg.Runner == nil {
		cfg.Runner = command.Exec{}
	}
	return &Clamscan{cfg: cfg, log: orDiscard(cfg.Logger).With("pkg", "security", "engine", "clamscan")}, nil
}

// Args returns clamscan's arguments for a scan: --no-summary, -r, the database, one
// --exclude/--exclude-dir regular expression per glob, then "--" and the paths.
func (c *Clamscan) Args(paths []string, opts *ScanOptions) []string {
	args := []string{"--no-summary", "-r"}
	if c.cfg.Database != "" {
		args = append(args, "-d", c.cfg.Database)
	}
	if opts != nil {
		for _, g := range opts.Exclude {
			re := globRegexp(g)
			args = append(args, "--exclude="+re, "--exclude-dir="+re)
		}
	}
	return append(append(args, "--"), paths...)
}

// Scan implements [Scanner]. clamscan exits 0 (clean), 1 (threats found) or 2 (errors); with 2
// the files it names are [FileError]s, and only exit 2 with nothing parsed is a scanner failure.
func (c *Clamscan) Scan(ctx context.Context, paths []string, opts *ScanOptions) (*Report, error) {
	rep := &Report{Engine: "clamscan", Paths: slices.Clone(paths), Started: time.Now()}
	res, err := c.cfg.Runner.Run(ctx, command.Cmd{Name: c.cfg.Path, Args: c.Args(paths, opts)})
	if ctx.Err() != nil {
		return nil, fmt.Errorf("security: clamscan: %w", ctx.Err())
	}
	var exit *command.ExitError
	if err != nil && !errors.As(err, &exit) {
		return nil, fmt.Errorf("security: clamscan: %w: %w", ErrScannerFailed, err)
	}
	if err := ParseClamscan(res.Stdout, rep); err != nil {
		return nil, err
	}
	switch res.ExitCode {
	case 0:
	case 1:
		if len(rep.Findings) == 0 {
			return nil, fmt.Errorf("security: clamscan exit 1 without a FOUND line: %w", ErrUnexpectedOutput)
		}
	case 2:
		if rep.Scanned == 0 {
			return nil, fmt.Errorf("security: clamscan: %w: %w", ErrScannerFailed, err)
		}
	default:
		return nil, fmt.Errorf("security: clamscan: %w: %w", ErrScannerFailed, err)
	}
	rep.Finished = time.Now()
	sortReport(rep)
	return rep, nil
}

// ParseClamscan reads clamscan's per-file lines into rep: "PATH: OK", "PATH: NAME FOUND",
// "PATH: Symbolic link" / "Empty file" / "Excluded" (skipped, not counted) and any other
// "PATH: reason" (an error, "Access denied"). Lines without ": " are ignored (summaries).
func ParseClamscan(out []byte, rep *Report) error {
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		i := strings.LastIndex(line, ": ")
		if i <= 0 {
			continue
		}
		path, verdict := line[:i], strings.TrimSpace(line[i+2:])
		switch {
		case verdict == "OK":
			rep.Scanned++
		case strings.HasSuffix(verdict, " FOUND"):
			rep.Scanned++
			rep.Findings = append(rep.Findings, Finding{Path: path, Threat: strings.TrimSuffix(verdict, " FOUND"), Engine: "clamscan"})
		case verdict == "Symbolic link", verdict == "Empty file", strings.HasPrefix(verdict, "Excluded"):
		default:
			rep.Scanned++
			rep.Errors = append(rep.Errors, FileError{Path: path, Msg: strings.TrimSuffix(strings.TrimSuffix(verdict, " ERROR"), ".")})
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("security: clamscan output: %w: %w", ErrUnexpectedOutput, err)
	}
	return nil
}
