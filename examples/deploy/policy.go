package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"reflect"
	"slices"

	"github.com/webinfra/webinfra"
)

// policyPlan is the change of the policies a deployment hands to the programs on its servers
// (the backup schedule and retention, the scan schedule, the OS-update rollout): records of
// fields, kept under --state as last applied, so that the plan shows what a run changes.
type policyPlan struct {
	path string
	kind string
	want map[string]webinfra.Fields
	have map[string]webinfra.Fields
}

// planPolicies compares the policies wanted (by ID) with those recorded in path, reading only.
// Values are compared in their JSON form, the form they are recorded in.
func planPolicies(path, kind string, want map[string]any) (*policyPlan, error) {
	p := &policyPlan{path: path, kind: kind, want: map[string]webinfra.Fields{}, have: map[string]webinfra.Fields{}}
	for id, v := range want {
		f, err := toFields(v)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", kind, id, err)
		}
		p.want[id] = f
	}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		if err := json.Unmarshal(data, &p.have); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return p, nil
}

func toFields(v any) (webinfra.Fields, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var f webinfra.Fields
	return f, json.Unmarshal(raw, &f)
}

// Plan shows one change per policy that differs from the one recorded.
func (p *policyPlan) Plan() webinfra.Plan {
	var out webinfra.Plan
	for _, id := range slices.Sorted(maps.Keys(p.want)) {
		old, ok := p.have[id]
		switch {
		case !ok:
			out.Add(webinfra.Change{Kind: p.kind, ID: id, Action: webinfra.Create, After: p.want[id]})
		case !reflect.DeepEqual(old, p.want[id]):
			out.Add(webinfra.Change{Kind: p.kind, ID: id, Action: webinfra.Update, Before: old, After: p.want[id]})
		}
	}
	for _, id := range slices.Sorted(maps.Keys(p.have)) {
		if _, ok := p.want[id]; !ok {
			out.Add(webinfra.Change{Kind: p.kind, ID: id, Action: webinfra.Delete, Before: p.have[id]})
		}
	}
	return out
}

// applyPolicies records the wanted policies, atomically, readable by the owner only (0600 in a
// 0700 directory): a policy may name a credential, as a backup remote's connection string can.
func (s *stateDir) applyPolicies(_ context.Context, p *policyPlan) error {
	data, err := json.MarshalIndent(p.want, "", "  ")
	if err != nil {
		return err
	}
	return s.writeFile(p.path, append(data, '\n'), 0o600, 0o700)
}
