package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/examples/deploy/stack"
	"github.com/webinfra/webinfra/security"
	"github.com/webinfra/webinfra/security/securitytest"
)

// securityPolicies turns the stack's security section into the security package's policies:
// the scanner runs after every sync of the data folders, and OS updates roll through the nodes
// Landscape knows by the stack's tag, inside the daily window.
func securityPolicies(st *stack.Stack) (security.ScanPolicy, security.UpdatePolicy, error) {
	sec := st.Security
	engine := "clamd"
	if sec.Scanner == "eset" {
		engine = "eset"
	}
	scan := security.ScanPolicy{Engine: engine, Paths: sec.ScanPaths, AfterSync: true, OnFinding: security.ActionReport}
	start, end, err := stack.ParseWindow(sec.Updates.Window)
	if err != nil {
		return scan, security.UpdatePolicy{}, err
	}
	length := end - start
	if length <= 0 {
		length += 24 * time.Hour
	}
	updates := security.UpdatePolicy{
		Tag:            landscapeTag(st),
		MaxUnavailable: sec.Updates.MaxUnavailable,
		Reboot:         security.RebootIfRequired,
		Windows:        []security.Window{{Start: fmt.Sprintf("%02d:%02d", int(start.Hours()), int(start.Minutes())%60), Duration: length}},
	}
	var errs webinfra.ValidationError
	errs.Merge(webinfra.NewPath("security", "scan"), scan.Validate())
	errs.Merge(webinfra.NewPath("security", "updates"), updates.Validate())
	return scan, updates, errs.Err()
}

// landscapeTag is the Landscape tag of the stack's computers.
func landscapeTag(st *stack.Stack) string { return "webinfra-" + st.Name }

// landscapeClient returns a client for the Landscape server LANDSCAPE_API_URI names (with
// LANDSCAPE_API_KEY and LANDSCAPE_API_SECRET), or else one for a built-in simulated
// Landscape in which every stack node is registered with the stack's tag.
func landscapeClient(st *stack.Stack) (*security.Landscape, service, func(), error) {
	if u := os.Getenv("LANDSCAPE_API_URI"); u != "" {
		c, err := security.NewLandscape(security.LandscapeConfig{
			BaseURL:   u,
			AccessKey: os.Getenv("LANDSCAPE_API_KEY"),
			SecretKey: webinfra.NewSecret(os.Getenv("LANDSCAPE_API_SECRET")),
		})
		return c, service{name: "Landscape API", detail: "LANDSCAPE_API_URI=" + u}, func() {}, err
	}
	srv := securitytest.NewLandscapeServer()
	for _, n := range st.Nodes {
		srv.AddComputer(securitytest.FakeComputer{Hostname: n.Name, Title: n.Name, Tags: []string{landscapeTag(st)}})
	}
	c, err := security.NewLandscape(srv.Config())
	return c, service{name: "Landscape API", simulated: true, detail: "set LANDSCAPE_API_URI, LANDSCAPE_API_KEY and LANDSCAPE_API_SECRET for a real server"}, srv.Close, err
}

// securityStep plans the scan and update policies, after checking with Landscape that every
// node of the stack is one of its computers under the stack's tag: an update rollout would
// otherwise leave that node out.
func securityStep(st *stack.Stack, sd *stateDir) (step, func(), error) {
	state := sd.root
	if st.Security == nil {
		return nil, func() {}, nil
	}
	scan, updates, err := securityPolicies(st)
	if err != nil {
		return nil, nil, err
	}
	ls, svc, closeLS, err := landscapeClient(st)
	if err != nil {
		return nil, nil, err
	}
	return &planner[*policyPlan]{
		name:  "security",
		where: placement{concern: "security", service: svc},
		plan: func(ctx context.Context) (*policyPlan, error) {
			computers, err := ls.ComputersByTag(ctx, updates.Tag)
			if err != nil {
				return nil, fmt.Errorf("landscape: %w", err)
			}
			var names []string
			for _, c := range computers {
				names = append(names, c.Hostname)
			}
			for _, n := range st.Nodes {
				if !slices.Contains(names, n.Name) {
					return nil, fmt.Errorf("node %s is not a Landscape computer tagged %q: register it, or the update rollout leaves it out", n.Name, updates.Tag)
				}
			}
			slices.Sort(names)
			w := updates.Windows[0]
			return planPolicies(filepath.Join(state, "policies", "security.json"), "security_policy", map[string]any{
				"scan " + scan.Engine: map[string]any{
					"paths": scan.Paths, "after_sync": scan.AfterSync, "on_finding": string(scan.OnFinding),
				},
				"updates " + updates.Tag: map[string]any{
					"window":          fmt.Sprintf("%s for %s (UTC)", w.Start, w.Duration),
					"max_unavailable": updates.MaxUnavailable,
					"reboot":          string(updates.Reboot),
					"computers":       names,
				},
			})
		},
		apply: sd.applyPolicies,
	}, closeLS, nil
}
