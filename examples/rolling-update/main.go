// Command rolling-update updates the OS of a Kubernetes cluster's nodes through Canonical
// Landscape, node by node, with security.Rollout wired to the cluster package: the lock is a
// coordination.k8s.io Lease, the rollout's progress is kept in that Lease's annotation, cordon
// and drain are cluster.Client's (PodDisruptionBudgets honoured), readiness is the node's Ready
// condition.
//
//	LANDSCAPE_API_KEY=... LANDSCAPE_API_SECRET=... rolling-update \
//	    --landscape https://landscape.example.com --tag k8s --id 2026-w19
//
// Exit status: 0 done, 1 stopped (the reason on stderr; run again to resume), 2 bad usage.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/cluster"
	"github.com/webinfra/webinfra/security"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rolling-update", flag.ContinueOnError)
	fs.SetOutput(stderr)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file (default: KUBECONFIG, ~/.kube/config, in-cluster)")
	landscapeURL := fs.String("landscape", "", "Landscape server URL (required)")
	legacy := fs.Bool("legacy", false, "use Landscape's signed legacy API (servers before 24.04)")
	id := fs.String("id", "", "rollout ID; rerunning an ID resumes it (required)")
	tag := fs.String("tag", "", "Landscape tag of the nodes to update (required)")
	concurrency := fs.Int("concurrency", 1, "nodes updated at once")
	maxUnavailable := fs.Int("max-unavailable", 0, "nodes out at once, counting those already down (0: concurrency)")
	securityOnly := fs.Bool("security-only", false, "only security upgrades")
	reboot := fs.String("reboot", "if-required", "reboot: if-required, always, never")
	drainTimeout := fs.Duration("drain-timeout", 5*time.Minute, "give up draining a node after this")
	leaseNS := fs.String("lease-namespace", "kube-system", "namespace of the lock Lease")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *landscapeURL == "" || *id == "" || *tag == "" {
		fmt.Fprintln(stderr, "rolling-update: --landscape, --id and --tag are required")
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	kc, err := cluster.New(cluster.Config{Kubeconfig: *kubeconfig, Logger: log})
	if err != nil {
		fmt.Fprintln(stderr, "rolling-update:", err)
		return 1
	}
	ls, err := security.NewLandscape(security.LandscapeConfig{
		BaseURL: *landscapeURL, AccessKey: os.Getenv("LANDSCAPE_API_KEY"), SecretKey: webinfra.NewSecret(os.Getenv("LANDSCAPE_API_SECRET")),
		Legacy: *legacy, Logger: log,
	})
	if err != nil {
		fmt.Fprintln(stderr, "rolling-update:", err)
		return 2
	}
	host, _ := os.Hostname()
	pol := security.UpdatePolicy{Tag: *tag, Concurrency: *concurrency, MaxUnavailable: *maxUnavailable, SecurityOnly: *securityOnly,
		Reboot: security.RebootMode(*reboot), DrainTimeout: *drainTimeout + time.Minute}
	cfg := Wire(kc, ls, pol, cluster.LeaseSpec{Name: "webinfra-rolling-update", Namespace: *leaseNS, Holder: fmt.Sprintf("%s-%d", host, os.Getpid())},
		cluster.DrainOptions{Timeout: *drainTimeout})
	cfg.ID, cfg.Logger, cfg.WaitForWindow = *id, log, true
	r, err := security.NewRollout(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "rolling-update:", err)
		return 2
	}
	res, err := r.Run(ctx)
	if res != nil {
		fmt.Fprintf(stdout, "updated %v, rebooted %v, already done %v\n", res.Updated, res.Rebooted, res.Skipped)
	}
	if err != nil {
		fmt.Fprintln(stderr, "rolling-update:", err)
		return 1
	}
	return 0
}

// Wire builds a rollout configuration (without ID) from the cluster package's client: the lock
// is spec's Lease and the progress lives in its annotation [StateAnnotation].
func Wire(kc *cluster.Client, ls *security.Landscape, pol security.UpdatePolicy, spec cluster.LeaseSpec, drain cluster.DrainOptions) security.RolloutConfig {
	if spec.Namespace == "" {
		spec.Namespace = "default"
	}
	return security.RolloutConfig{
		Policy: pol,
		Lock: func(ctx context.Context) (security.Lock, error) {
			l, err := kc.TryAcquireLease(ctx, spec)
			if err != nil {
				return nil, err
			}
			return l, nil
		},
		Nodes:   kc,
		Drainer: security.DrainFunc(func(ctx context.Context, node string) error { return kc.Drain(ctx, node, drain) }),
		Lister: security.NodeListerFunc(func(ctx context.Context) ([]security.NodeState, error) {
			nodes, err := kc.Nodes(ctx)
			if err != nil {
				return nil, err
			}
			out := make([]security.NodeState, len(nodes))
			for i, n := range nodes {
				out[i] = security.NodeState{Name: n.Name, Ready: n.Ready, Cordoned: n.Cordoned}
			}
			return out, nil
		}),
		Landscape: ls,
		State:     &LeaseState{Client: kc, Namespace: spec.Namespace, Name: spec.Name},
	}
}

// StateAnnotation holds the rollout's progress on the lock Lease: the state is kept with the
// lock, so whoever holds the lock owns it.
const StateAnnotation = "webinfra.io/rolling-update-state"

// LeaseState is a security.StateStore in an annotation of the lock's Lease.
type LeaseState struct {
	Client          *cluster.Client
	Namespace, Name string
}

// Load implements security.StateStore.
func (s *LeaseState) Load(ctx context.Context) (security.RolloutState, error) {
	l, err := s.Client.Typed().CoordinationV1().Leases(s.Namespace).Get(ctx, s.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return security.RolloutState{}, nil
	}
	if err != nil {
		return security.RolloutState{}, err
	}
	var st security.RolloutState
	if raw := l.Annotations[StateAnnotation]; raw != "" {
		if err := json.Unmarshal([]byte(raw), &st); err != nil {
			return st, fmt.Errorf("rollout state on lease %s/%s: %w", s.Namespace, s.Name, err)
		}
	}
	return st, nil
}

// Save implements security.StateStore with a merge patch of the annotation only, so it never
// conflicts with the lease's renewals.
func (s *LeaseState) Save(ctx context.Context, st security.RolloutState) error {
	raw, err := json.Marshal(st)
	if err != nil {
		return err
	}
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{StateAnnotation: string(raw)}}})
	_, err = s.Client.Typed().CoordinationV1().Leases(s.Namespace).Patch(ctx, s.Name, types.MergePatchType, patch, metav1.PatchOptions{})
	return err
}
