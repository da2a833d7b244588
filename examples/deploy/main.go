// Command deploy plans and applies a whole webinfra deployment from one stack file.
//
//	go run ./examples/deploy                       # the demo stack: plan, apply, plan again
//	go build -o deploy ./examples/deploy && ./deploy --stack my.yaml --output json --apply=false --detailed-exitcode
//
// (go run reports any non-zero status of the program as its own exit status 1, so the 2 of
// --detailed-exitcode needs the built binary.)
//
// It loads the stack strictly, validates it (every problem reported with its field path),
// composes the plans of every concern package into one and prints it: the services planned
// against (real, simulated or local files), then the changes grouped by concern and node with
// counts. It applies the plan (unless --apply=false or --dry-run) and plans again to show that
// nothing is left to do. Exit status: 1 on any error; with --detailed-exitcode, 0 when there
// was nothing to do and 2 when the plan had changes, as terraform plan -detailed-exitcode.
//
// With no credentials every service runs simulated, built in. CLOUDFLARE_API_TOKEN selects the
// real Cloudflare (zone settings, the sites' and the mail domain's DNS records); KUBECONFIG the
// real cluster (node labels and annotations, and a server-side apply of the ingress's objects as
// inventory webinfra-STACK); SYNCTHING_URL_NODE and SYNCTHING_API_KEY_NODE a worker's real
// Syncthing; LANDSCAPE_API_URI, LANDSCAPE_API_KEY and LANDSCAPE_API_SECRET the real Landscape;
// GOOGLE_APPLICATION_CREDENTIALS the real Google Cloud Storage for the backup remote.
//
// Every file under --state is written atomically (a temporary, fsync, rename, fsync of the
// directory), a worker's Syncthing identity as one directory, the mesh's private keys before
// any host file carrying their public halves; a run killed at any moment leaves a state the next
// run completes without replacing a key, and it removes the killed run's temporaries. One
// applying deploy holds --state/deploy.lock at a time: a second one fails at once, naming the
// lock file and the holder's PID; planning only (--dry-run) takes no lock and writes nothing.
// --log-level debug logs every file written. WEBINFRA_DEPLOY_CRASH_AT and
// WEBINFRA_DEPLOY_CRASH_POINT are test hooks that kill the process at a chosen write (state.go).
//
// Files that must persist go under --state: every node's tinc directory with its keys, the
// ingress configuration (Traefik, Kubernetes manifests, each firewall's nftables rules), the
// workers' Syncthing identities, the DKIM key, and the policies (backup, scanning, OS updates)
// as last applied.
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/cloudflare"
	"github.com/webinfra/webinfra/cluster"
	"github.com/webinfra/webinfra/examples/deploy/stack"
	"github.com/webinfra/webinfra/mesh"
)

//go:embed stack.yaml
var demoStack []byte

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program, testable: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("deploy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	stackPath := fs.String("stack", "", "stack file (YAML); empty means the built-in demo stack")
	output := fs.String("output", "text", "plan format: text or json")
	apply := fs.Bool("apply", true, "apply the plan after printing it; --apply=false plans only")
	dryRun := fs.Bool("dry-run", false, "plan only; change nothing (the same as --apply=false)")
	detailed := fs.Bool("detailed-exitcode", false, "exit 0 when there was nothing to do, 2 when the plan had changes (applied unless planning only), 1 on any error")
	stateDir := fs.String("state", "", "directory for generated files and keys (the mesh's tinc directories); empty means $XDG_STATE_HOME/webinfra/STACK")
	logLevel := fs.String("log-level", "warn", "log to stderr from this level on: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return exitError
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "deploy: unexpected arguments %q\n", fs.Args())
		return exitError
	}
	if *output != "text" && *output != "json" {
		fmt.Fprintf(stderr, "deploy: --output %q: want text or json\n", *output)
		return exitError
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "deploy: --log-level %q: want debug, info, warn or error\n", *logLevel)
		return exitError
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if *dryRun {
		*apply = false
	}
	// done is the status of a successful run, in the manner of terraform's -detailed-exitcode.
	done := func(changes bool) int {
		if changes && *detailed {
			return exitChanges
		}
		return exitOK
	}

	st, name, err := load(*stackPath)
	if err != nil {
		fmt.Fprintf(stderr, "deploy: %v\n", err)
		return exitError
	}
	if err := st.Validate(); err != nil {
		var ve *webinfra.ValidationError
		if errors.As(err, &ve) {
			fmt.Fprintf(stderr, "deploy: invalid stack %s (%d problems):\n", name, len(ve.Errors))
			for _, e := range ve.Errors {
				fmt.Fprintf(stderr, "  %s\n", e.Error())
			}
			return exitError
		}
		fmt.Fprintf(stderr, "deploy: invalid stack %s: %v\n", name, err)
		return exitError
	}

	fmt.Fprintf(stderr, "deploy: stack %q from %s: %s\n", st.Name, name, describe(st))

	if *stateDir == "" {
		*stateDir = defaultStateDir(st.Name)
	}
	state, err := newStateDir(*stateDir, log)
	if err != nil {
		fmt.Fprintf(stderr, "deploy: %v\n", err)
		return exitError
	}
	if *apply {
		// One applying deploy per --state at a time, for the whole run: its plan is made from
		// what it reads there. Planning only takes no lock: it writes nothing, and every file
		// under --state is replaced atomically, so it reads each one whole.
		lock, err := lockState(*stateDir)
		if err != nil {
			fmt.Fprintf(stderr, "deploy: %v\n", err)
			return exitError
		}
		defer lock.Close()
		log.Debug("state locked", "lock_file", filepath.Join(*stateDir, lockFileName))
		if err := state.removeTemps(); err != nil {
			fmt.Fprintf(stderr, "deploy: %v\n", err)
			return exitError
		}
	}
	steps, closeAll, err := connect(st, state, log)
	if err != nil {
		fmt.Fprintf(stderr, "deploy: %v\n", err)
		return exitError
	}
	defer closeAll()

	plan, err := planAll(ctx, steps)
	if err != nil {
		fmt.Fprintf(stderr, "deploy: plan: %v\n", err)
		return exitError
	}
	if plan.simulated() {
		fmt.Fprintln(stderr, "deploy: no credentials given for some services: those run against the built-in simulated services (see Services)")
	}
	if *output == "json" {
		err = plan.writeJSON(stdout)
	} else {
		err = plan.writeText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "deploy: %v\n", err)
		return exitError
	}
	changes := len(plan.entries) > 0
	if !*apply || !changes {
		return done(changes)
	}
	for _, s := range steps {
		if err := s.Apply(ctx); err != nil {
			fmt.Fprintf(stderr, "deploy: apply: %v\n", err)
			return exitError
		}
	}
	again, err := planAll(ctx, steps)
	if err != nil {
		fmt.Fprintf(stderr, "deploy: plan after apply: %v\n", err)
		return exitError
	}
	fmt.Fprintf(stderr, "deploy: applied; plan after apply: %s\n", again.plan().Summary())
	if len(again.entries) > 0 {
		return exitError
	}
	return done(true)
}

// Exit statuses, in the manner of terraform plan -detailed-exitcode.
const (
	exitOK      = 0 // success; with --detailed-exitcode, also: there was nothing to do
	exitError   = 1 // bad flags, an invalid stack, or a failed plan or apply
	exitChanges = 2 // with --detailed-exitcode only: success, and the plan had changes
)

// connect builds the steps of every concern that has landed, with real clients where
// credentials are given and simulated services otherwise.
func connect(st *stack.Stack, sd *stateDir, log *slog.Logger) (steps []step, closeAll func(), err error) {
	state := sd.root
	var closers []func()
	closeEach := func() {
		for _, c := range slices.Backward(closers) {
			c()
		}
	}
	defer func() {
		if err != nil {
			closeEach()
		}
	}()
	meshMgr, err := meshManager(sd, log)
	if err != nil {
		return nil, nil, err
	}
	network := meshNetwork(st)
	cf, cfService, closeCF, err := cloudflareClient(st)
	if err != nil {
		return nil, nil, err
	}
	closers = append(closers, closeCF)
	kube, kubeService, err := clusterClient(st)
	if err != nil {
		return nil, nil, err
	}
	zones, nodes := dnsStates(st), nodeMetadata(st)
	mailRecs, dkimFiles, err := mailRecords(st, state)
	if err != nil {
		return nil, nil, err
	}
	zones[0].Records = append(zones[0].Records, mailRecs...) // the mail domain is in the stack's domain
	meshStep := &planner[*mesh.Rollout]{
		name: "mesh",
		where: placement{
			concern: "mesh",
			service: service{name: localFiles, detail: fmt.Sprintf("%s/NODE: copy to /etc/tinc/%s on each server", filepath.Join(state, "mesh"), network.Name)},
			node:    firstWord,
		},
		plan: func(ctx context.Context) (*mesh.Rollout, error) { return meshMgr.Plan(ctx, network, nil) },
		apply: func(ctx context.Context, r *mesh.Rollout) error {
			keys, rest := keysFirst(r)
			if err := meshMgr.Apply(ctx, keys); err != nil {
				return err
			}
			return meshMgr.Apply(ctx, rest)
		},
	}
	syncSteps, closeSync, err := syncthingSteps(st, sd, meshStep)
	if err != nil {
		return nil, nil, err
	}
	closers = append(closers, closeSync)
	var extra []step
	backupSt, closeBackup, err := backupStep(st, sd)
	if err != nil {
		return nil, nil, err
	}
	closers = append(closers, closeBackup)
	if backupSt != nil {
		extra = append(extra, backupSt)
	}
	secStep, closeSec, err := securityStep(st, sd)
	if err != nil {
		return nil, nil, err
	}
	closers = append(closers, closeSec)
	if secStep != nil {
		extra = append(extra, secStep)
	}
	var keep []step
	if dkimFiles != nil {
		// Before the DNS step: a published key must already be kept.
		keep = append(keep, &planner[*filePlan]{
			name:  "mail",
			where: placement{concern: "mail", service: service{name: localFiles, detail: filepath.Join(state, "mail") + ": the DKIM key the cloud's own mail is signed with"}},
			plan: func(context.Context) (*filePlan, error) {
				p, err := planFiles(filepath.Join(state, "mail"), "mail_file", dkimFiles)
				if p != nil {
					p.secret = true
				}
				return p, err
			},
			apply: sd.applyFiles,
		})
	}
	cfWhere := placement{concern: "cloudflare", service: cfService}
	var ingressObjects []*unstructured.Unstructured // the ingress step's plan renders them
	steps = []step{
		meshStep,
		&planner[*filePlan]{
			name: "ingress",
			where: placement{
				concern: "ingress",
				service: service{name: localFiles, detail: filepath.Join(state, "ingress") + ": Traefik's configuration, Kubernetes manifests, firewall rules"},
				node:    firewallNode,
			},
			// Runs after the mesh step's plan, whose network has every node's address.
			plan: func(ctx context.Context) (*filePlan, error) {
				ranges, err := cf.IPRanges(ctx)
				if err != nil {
					return nil, err
				}
				files, objs, err := ingressFiles(st, meshStep.last.Network, ranges.All())
				if err != nil {
					return nil, err
				}
				ingressObjects = objs
				return planFiles(filepath.Join(state, "ingress"), "ingress_file", files)
			},
			apply: sd.applyFiles,
		},
	}
	if !kubeService.simulated {
		// The simulated cluster's dynamic fake cannot create objects: there the manifests stay
		// files only.
		steps = append(steps, kubeObjectsStep(st, kube, kubeService, func() []*unstructured.Unstructured { return ingressObjects }))
	}
	steps = append(steps,
		&planner[*cluster.NodePlan]{
			name:  "nodes",
			where: placement{concern: "cluster", service: kubeService, node: func(c webinfra.Change) string { return c.ID }},
			plan:  func(ctx context.Context) (*cluster.NodePlan, error) { return kube.PlanNodes(ctx, nodes) },
			apply: kube.ApplyNodes,
		},
	)
	steps = append(steps, keep...)
	for _, records := range zones {
		suffix := "" // the stack's own zone keeps the plain step names
		if records.Zone != st.Domain {
			suffix = " " + records.Zone
		}
		settings := zoneSettings(records.Zone)
		steps = append(steps,
			&planner[*cloudflare.SettingsPlan]{
				name:  "zone settings" + suffix,
				where: cfWhere,
				plan:  func(ctx context.Context) (*cloudflare.SettingsPlan, error) { return cf.PlanSettings(ctx, settings) },
				apply: cf.ApplySettings,
			},
			&planner[*cloudflare.DNSPlan]{
				name:  "dns" + suffix,
				where: cfWhere,
				plan:  func(ctx context.Context) (*cloudflare.DNSPlan, error) { return cf.PlanDNS(ctx, records) },
				apply: cf.ApplyDNS,
			},
		)
	}
	steps = append(steps, syncSteps...)
	return append(steps, extra...), closeEach, nil
}

// firstWord is the node of a change whose ID starts with the node's name ("fw-1 tinc.conf").
func firstWord(c webinfra.Change) string {
	node, _, _ := strings.Cut(c.ID, " ")
	return node
}

// firewallNode is the node of an ingress file under firewall/NODE/; the other files are the
// whole cluster's.
func firewallNode(c webinfra.Change) string {
	if rest, ok := strings.CutPrefix(c.ID, "firewall/"); ok {
		node, _, _ := strings.Cut(rest, "/")
		return node
	}
	return ""
}

// describe summarises a valid stack in one line.
func describe(st *stack.Stack) string {
	regions := map[string]bool{}
	for _, n := range st.Nodes {
		regions[n.Region] = true
	}
	folders := 0
	for _, s := range st.Sites {
		folders += len(s.Data)
	}
	return fmt.Sprintf("%d nodes in %d regions, %d sites, %d data folders", len(st.Nodes), len(regions), len(st.Sites), folders)
}

func load(path string) (*stack.Stack, string, error) {
	if path == "" {
		st, err := stack.Parse(demoStack)
		return st, "(built-in demo)", err
	}
	st, err := stack.Load(path)
	return st, path, err
}

// planAll composes the plans of every step, in the order Apply runs them.
func planAll(ctx context.Context, steps []step) (*report, error) {
	r := &report{}
	for _, s := range steps {
		p, err := s.Plan(ctx)
		if err != nil {
			return nil, err
		}
		r.add(s.Where(), p)
	}
	return r, nil
}
