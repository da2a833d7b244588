// Command sandbox runs a three-server webinfra cloud on one Linux machine, as root, with the real
// components and the SDK's packages used as any program would use them:
//
//	sudo go run ./examples/sandbox            # bring it up; it runs until Ctrl-C, then tears down
//	sudo go run ./examples/sandbox --down     # remove what a run that died left behind
//
// The servers a, b and c, a firewall fw and a stand-in for Cloudflare's edge are network
// namespaces on one bridge (nothing touches the machine's own network). Package mesh renders the
// tinc configuration of a, b, c and fw, and tincd 1.0 joins them in a mesh; a service address
// (the load balancer pool's first address) is a Subnet of a, b and c, so tinc delivers it to the
// first live owner and fails over when that server dies. Each server runs Traefik with a static
// and a dynamic configuration from package ingress, routing the site's host to a small file
// server: on the two servers that hold the site's data (chosen by replication.Place) the local
// one, on the third the holders' over the mesh. Syncthing replicates the data from the active
// writer to the receive-only replica with ownership and modes, configured by package
// replication. The firewall forwards public port 80 to the service address with the nftables
// rules of ingress.FirewallRuleset, admitting only Cloudflare's ranges, which it reads through
// package cloudflare from the Cloudflare fake; the site's DNS record is published there too, and
// the edge proxies requests from a loopback port of this machine to the address in that record.
//
// The run prints what to curl. Everything it makes (namespaces, processes, files under --state)
// is recorded in --state/sandbox.json, so that --down removes exactly that, even after a crash;
// --down also stops a sandbox that is still running.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
)

func main() {
	if os.Getenv(roleEnv) == roleBackend {
		os.Exit(serveBackend(os.Args[1:], os.Stderr))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options are the command line.
type options struct {
	state  string
	down   bool
	listen string
	// bins are the programs' paths: tincd, traefik and syncthing.
	bins map[string]string
}

// run is the whole program, testable: it returns the exit status. Up, it returns when ctx is
// done (Ctrl-C or SIGTERM), after tearing everything down.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, code := parseFlags(args, stderr)
	if code >= 0 {
		return code
	}
	if o.down {
		if err := down(ctx, o.state, stderr); err != nil {
			fmt.Fprintf(stderr, "sandbox: down: %v\n", err)
			return 1
		}
		return 0
	}
	if err := up(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "sandbox: %v\n", err)
		return 1
	}
	return 0
}

// parseFlags returns the options, or an exit status >= 0 when the program should stop.
func parseFlags(args []string, stderr io.Writer) (options, int) {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := options{bins: map[string]string{}}
	fs.StringVar(&o.state, "state", defaultStateDir(), "directory for everything the sandbox makes (keys, data, logs, sandbox.json)")
	fs.BoolVar(&o.down, "down", false, "remove what the run recorded in --state made, stopping it if it still runs")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:8480", "loopback address where the Cloudflare edge stand-in takes requests")
	bins := map[string]*string{}
	for _, b := range []string{"tincd", "traefik", "syncthing"} {
		bins[b] = fs.String(b, "", "path of "+b+`; "" means .testbin/bin of this repository, then PATH`)
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return o, 0
		}
		return o, 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sandbox: unexpected arguments %q\n", fs.Args())
		return o, 2
	}
	if o.state == "" {
		fmt.Fprintln(stderr, "sandbox: --state must not be empty")
		return o, 2
	}
	abs, err := filepath.Abs(o.state)
	if err != nil {
		fmt.Fprintf(stderr, "sandbox: --state: %v\n", err)
		return o, 2
	}
	o.state = abs
	for name, p := range bins {
		o.bins[name] = *p
	}
	return o, -1
}

// defaultStateDir is $XDG_STATE_HOME/webinfra/sandbox, or /run/webinfra-sandbox without it:
// the sandbox's files live no longer than the machine's run.
func defaultStateDir() string {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "webinfra", "sandbox")
	}
	return "/run/webinfra-sandbox"
}
