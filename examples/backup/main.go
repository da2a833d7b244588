// Command backup drives the backup package from the command line: snapshot a set of folders to
// an rclone remote, list snapshots, verify, restore and prune, with a progress bar.
//
//	backup -remote /var/backups snapshot -set www -path /srv/www -hook 'db.sql=pg_dump site'
//	backup -remote /var/backups list
//	backup -remote /var/backups verify -set www -full
//	backup -remote /var/backups restore -set www -target /tmp/r -include 'srv/www/*.html'
//	backup -remote /var/backups prune -set www -keep-last 3 -keep-daily 7 [-apply]
//
// -remote takes a connection string (":googlecloudstorage,...:bucket/path"), a local path, or
// name:path with -rclone-config. Snapshots are encrypted with rclone crypt under the key read
// from -key-file (its first line) or the BACKUP_KEY environment variable; -encryption none
// stores them in the clear and must be said. Ctrl-C cancels cleanly: an interrupted snapshot leaves the
// latest one as it was.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/backup"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// readKey returns the first line of file, or BACKUP_KEY when file is "".
func readKey(file string) (webinfra.Secret, error) {
	if file == "" {
		return webinfra.NewSecret(os.Getenv("BACKUP_KEY")), nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return webinfra.Secret{}, fmt.Errorf("backup: key file: %w", err)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	return webinfra.NewSecret(strings.TrimSpace(line)), nil
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

// run is the whole program, testable: it returns the exit status (0 ok, 1 error, 2 usage,
// 3 verify found damage).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	top := flag.NewFlagSet("backup", flag.ContinueOnError)
	top.SetOutput(stderr)
	remote := top.String("remote", "", "rclone connection string, local path, or name:path with -rclone-config (required)")
	conf := top.String("rclone-config", "", "rclone.conf for a named remote")
	host := top.String("host", "", "host name snapshots are filed under; empty means this host's")
	transfers := top.Int("transfers", 4, "files moved at once")
	quiet := top.Bool("quiet", false, "no progress bar")
	encryption := top.String("encryption", backup.EncryptionCrypt, `"crypt" (the key from -key-file or BACKUP_KEY) or "none"`)
	keyFile := top.String("key-file", "", "file whose first line is the encryption key (else BACKUP_KEY)")
	top.Usage = func() {
		fmt.Fprintln(stderr, "usage: backup [flags] snapshot|list|verify|restore|prune [command flags]")
		top.PrintDefaults()
	}
	if err := top.Parse(args); err != nil {
		return 2
	}
	if top.NArg() == 0 {
		top.Usage()
		return 2
	}
	key, err := readKey(*keyFile)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	bar := newBar(stderr, *quiet)
	c, err := backup.New(backup.Config{Remote: *remote, RcloneConfig: *conf, Host: *host, Transfers: *transfers, Progress: bar.update,
		Encryption: *encryption, Key: key})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	cmd, rest := top.Arg(0), top.Args()[1:]
	sub := flag.NewFlagSet(cmd, flag.ContinueOnError)
	sub.SetOutput(stderr)
	set := sub.String("set", "", "set name")
	switch cmd {
	case "snapshot":
		var paths, excludes, hooks multi
		sub.Var(&paths, "path", "absolute path to include (repeatable)")
		sub.Var(&excludes, "exclude", "rclone filter pattern to leave out (repeatable)")
		sub.Var(&hooks, "hook", "name=command run first; its output becomes .hooks/<name> (repeatable)")
		if sub.Parse(rest) != nil {
			return 2
		}
		s := backup.Set{Name: *set, Paths: paths, Excludes: excludes}
		for _, h := range hooks {
			name, command, ok := strings.Cut(h, "=")
			if !ok {
				fmt.Fprintf(stderr, "-hook %q: want name=command\n", h)
				return 2
			}
			s.Hooks = append(s.Hooks, backup.Hook{Name: name, Command: strings.Fields(command)})
		}
		res, err := c.Snapshot(ctx, s, nil)
		bar.finish()
		if err != nil {
			return fail(stderr, err)
		}
		fmt.Fprintf(stdout, "snapshot %s/%s/%s: %d files, %d bytes; uploaded %d objects (%d bytes), %d unchanged, %d hashed, in %s\n",
			res.Info.Host, res.Info.Set, res.Info.ID, res.Files, res.Bytes, res.Uploaded, res.UploadedBytes, res.Unchanged, res.Hashed, res.Elapsed.Round(time.Millisecond))
	case "list":
		if sub.Parse(rest) != nil {
			return 2
		}
		snaps, err := c.List(ctx, *host, *set)
		if err != nil {
			return fail(stderr, err)
		}
		for _, s := range snaps {
			fmt.Fprintf(stdout, "%s/%s/%s\t%s\n", s.Host, s.Set, s.ID, s.Time.Format(time.RFC3339))
		}
	case "verify":
		id := sub.String("id", "latest", "snapshot ID")
		full := sub.Bool("full", false, "download and hash every object")
		asJSON := sub.Bool("json", false, "print the report as JSON")
		if sub.Parse(rest) != nil {
			return 2
		}
		rep, err := c.Verify(ctx, backup.Ref{Host: *host, Set: *set, ID: *id}, &backup.VerifyOptions{Full: *full})
		bar.finish()
		if err != nil {
			return fail(stderr, err)
		}
		if *asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			_ = enc.Encode(rep)
		} else {
			fmt.Fprintf(stdout, "verified %s: %d objects, %d missing, %d corrupt\n", rep.Snapshot.ID, rep.Objects, len(rep.Missing), len(rep.Corrupt))
			for _, p := range rep.Missing {
				fmt.Fprintf(stdout, "missing %s (%s)\n", p.Object, strings.Join(p.Paths, ", "))
			}
			for _, p := range rep.Corrupt {
				fmt.Fprintf(stdout, "corrupt %s: %s (%s)\n", p.Object, p.Reason, strings.Join(p.Paths, ", "))
			}
		}
		if !rep.OK() {
			return 3
		}
	case "restore":
		id := sub.String("id", "latest", "snapshot ID")
		target := sub.String("target", "", "directory to restore into (required)")
		dry := sub.Bool("dry-run", false, "list what would be restored")
		numeric := sub.Bool("numeric-ids", false, "apply recorded uid/gid even where the names resolve differently")
		var include multi
		sub.Var(&include, "include", "path prefix or glob to restore (repeatable); none means all")
		if sub.Parse(rest) != nil {
			return 2
		}
		res, err := c.Restore(ctx, backup.Ref{Host: *host, Set: *set, ID: *id}, *target, &backup.RestoreOptions{Include: include, DryRun: *dry, NumericIDs: *numeric})
		bar.finish()
		if err != nil {
			return fail(stderr, err)
		}
		for _, p := range res.Paths {
			fmt.Fprintln(stdout, "would restore", p)
		}
		fmt.Fprintf(stdout, "restore: %d files (%d bytes), %d dirs, %d symlinks; ownership applied: %v\n", res.Files, res.Bytes, res.Dirs, res.Symlinks, res.Owner)
	case "prune":
		var r backup.Retention
		sub.IntVar(&r.Last, "keep-last", 0, "keep the N newest")
		sub.IntVar(&r.Hourly, "keep-hourly", 0, "keep the newest of each of the N latest hours")
		sub.IntVar(&r.Daily, "keep-daily", 0, "... days")
		sub.IntVar(&r.Weekly, "keep-weekly", 0, "... ISO weeks")
		sub.IntVar(&r.Monthly, "keep-monthly", 0, "... months")
		sub.IntVar(&r.Yearly, "keep-yearly", 0, "... years")
		apply := sub.Bool("apply", false, "remove what the plan lists; without it, only print the plan")
		if sub.Parse(rest) != nil {
			return 2
		}
		plan, err := c.PlanPrune(ctx, *set, r)
		if err != nil {
			return fail(stderr, err)
		}
		fmt.Fprint(stdout, plan)
		if *apply {
			res, err := c.Prune(ctx, plan)
			if err != nil {
				return fail(stderr, err)
			}
			fmt.Fprintf(stdout, "pruned %d snapshots, %d objects (%d bytes)\n", res.Snapshots, res.Objects, res.Bytes)
		}
	default:
		top.Usage()
		return 2
	}
	return 0
}

func fail(stderr io.Writer, err error) int {
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(stderr, "cancelled; the latest complete snapshot is unchanged")
		return 1
	}
	fmt.Fprintln(stderr, err)
	return 1
}

// bar shows backup.Progress as a byte progress bar with rate and ETA.
type bar struct {
	w     io.Writer
	quiet bool
	pb    *progressbar.ProgressBar
	phase string
}

func newBar(w io.Writer, quiet bool) *bar { return &bar{w: w, quiet: quiet} }

// update is called by the client from one goroutine at a time.
func (b *bar) update(p backup.Progress) {
	if b.quiet {
		return
	}
	if b.pb == nil || b.phase != p.Phase {
		b.phase = p.Phase
		b.pb = progressbar.NewOptions64(max(p.BytesTotal, 1),
			progressbar.OptionSetWriter(b.w), progressbar.OptionShowBytes(true), progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionShowCount())
	}
	if p.BytesTotal > 0 {
		b.pb.ChangeMax64(p.BytesTotal)
	}
	b.pb.Describe(fmt.Sprintf("%s %d/%d files", p.Phase, p.FilesDone, p.FilesTotal))
	_ = b.pb.Set64(p.BytesDone)
}

func (b *bar) finish() {
	if b.pb != nil {
		_ = b.pb.Finish()
		fmt.Fprintln(b.w)
		b.pb = nil
	}
}
