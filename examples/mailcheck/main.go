// Command mailcheck checks a domain's mail records for Google Workspace and prints the
// findings grouped by severity. It exits 1 when any finding is an error, 2 on bad usage.
//
//	go run ./examples/mailcheck --resolver 127.0.0.1:53 example.com
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/webinfra/webinfra/mail"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("mailcheck", flag.ContinueOnError)
	fl.SetOutput(stderr)
	resolver := fl.String("resolver", "", `DNS server "host:port" (default: the first of /etc/resolv.conf)`)
	timeout := fl.Duration("timeout", 5*time.Second, "timeout of each DNS query and of the MTA-STS policy fetch")
	selectors := fl.String("selectors", "google", "comma-separated DKIM selectors that must have keys")
	asJSON := fl.Bool("json", false, "print the findings as JSON")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: mailcheck [flags] DOMAIN")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if fl.NArg() != 1 {
		fl.Usage()
		return 2
	}
	domain := fl.Arg(0)
	c := &mail.Checker{Resolver: *resolver, Timeout: *timeout}
	fs, err := c.Check(ctx, domain, &mail.CheckOptions{DKIMSelectors: strings.Split(*selectors, ",")})
	if err != nil {
		fmt.Fprintln(stderr, "mailcheck:", err)
		return 2
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(fs)
	} else {
		printGrouped(stdout, domain, fs)
	}
	if max, ok := fs.Max(); ok && max == mail.Error {
		return 1
	}
	return 0
}

func printGrouped(w io.Writer, domain string, fs mail.Findings) {
	if len(fs) == 0 {
		fmt.Fprintf(w, "%s: no findings\n", domain)
		return
	}
	for _, sev := range []mail.Severity{mail.Error, mail.Warning, mail.Info} {
		var group []mail.Finding
		for _, f := range fs {
			if f.Severity == sev {
				group = append(group, f)
			}
		}
		if len(group) == 0 {
			continue
		}
		fmt.Fprintf(w, "%s (%d)\n", strings.ToUpper(sev.String()), len(group))
		for _, f := range group {
			fmt.Fprintf(w, "  %-28s %s: %s\n", f.Code, f.Name, f.Message)
		}
	}
}
