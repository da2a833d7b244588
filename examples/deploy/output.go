package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/webinfra/webinfra"
)

// report is the plan of the whole deployment: every step's changes in the order Apply performs
// them, each placed in its concern and on its node.
type report struct {
	entries  []entry
	concerns []concernInfo
}

// entry is one change with its place.
type entry struct {
	concern, node string
	change        webinfra.Change
}

// concernInfo is a concern's service and the count of its changes.
type concernInfo struct {
	Name    string           `json:"name"`
	Service string           `json:"service"`
	Real    bool             `json:"real"`
	Detail  string           `json:"detail,omitempty"`
	Summary webinfra.Summary `json:"summary"`
}

func (r *report) add(where placement, p webinfra.Plan) {
	i := r.concern(where)
	for _, c := range p.Changes {
		node := ""
		if where.node != nil {
			node = where.node(c)
		}
		r.entries = append(r.entries, entry{where.concern, node, c})
		count(&r.concerns[i].Summary, c.Action)
	}
}

// concern returns the index of where's concern, adding it on first sight.
func (r *report) concern(where placement) int {
	for i, c := range r.concerns {
		if c.Name == where.concern {
			return i
		}
	}
	r.concerns = append(r.concerns, concernInfo{
		Name: where.concern, Service: where.service.name, Real: !where.service.simulated, Detail: where.service.detail,
	})
	return len(r.concerns) - 1
}

func count(s *webinfra.Summary, a webinfra.Action) {
	switch a {
	case webinfra.Create:
		s.Create++
	case webinfra.Update:
		s.Update++
	case webinfra.Delete:
		s.Delete++
	}
}

// plan is the whole deployment's plan, in apply order.
func (r *report) plan() webinfra.Plan {
	var p webinfra.Plan
	for _, e := range r.entries {
		p.Add(e.change)
	}
	return p
}

// simulated reports whether any concern runs against a simulated service.
func (r *report) simulated() bool {
	for _, c := range r.concerns {
		if !c.Real {
			return true
		}
	}
	return false
}

// writeText prints the services, then the changes grouped by concern and node with their
// counts, then the total: the text form of the plan.
func (r *report) writeText(w io.Writer) error {
	var b strings.Builder
	b.WriteString("Services:\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, c := range r.concerns {
		kind := "real"
		switch {
		case !c.Real:
			kind = "simulated"
		case c.Service == localFiles:
			kind = "local"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", c.Name, kind, c.Service, c.Detail)
	}
	_ = tw.Flush()
	for _, c := range r.concerns {
		if c.Summary == (webinfra.Summary{}) {
			continue
		}
		fmt.Fprintf(&b, "\n# %s: %s\n", c.Name, counts(c.Summary))
		for _, node := range r.nodes(c.Name) {
			var s webinfra.Summary
			var blocks strings.Builder
			for _, e := range r.entries {
				if e.concern == c.Name && e.node == node {
					count(&s, e.change.Action)
					blocks.WriteString("\n" + e.change.String())
				}
			}
			where := "all nodes"
			if node != "" {
				where = "node " + node
			}
			fmt.Fprintf(&b, "\n## %s %s: %s\n%s", c.Name, where, counts(s), blocks.String())
		}
	}
	fmt.Fprintf(&b, "\n%s\n", r.plan().Summary())
	_, err := io.WriteString(w, b.String())
	return err
}

// nodes lists the nodes with changes in a concern, deployment-wide ("") first, then in the
// order of their first change.
func (r *report) nodes(concern string) []string {
	var out []string
	seen := map[string]bool{}
	wide := false
	for _, e := range r.entries {
		if e.concern != concern || seen[e.node] {
			continue
		}
		seen[e.node] = true
		if e.node == "" {
			wide = true
			continue
		}
		out = append(out, e.node)
	}
	if wide {
		out = append([]string{""}, out...)
	}
	return out
}

// counts renders the non-zero counts of a summary: "3 to create, 1 to delete".
func counts(s webinfra.Summary) string {
	var parts []string
	for _, p := range []struct {
		n    int
		verb string
	}{{s.Create, "create"}, {s.Update, "update"}, {s.Delete, "delete"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d to %s", p.n, p.verb))
		}
	}
	if len(parts) == 0 {
		return "no changes"
	}
	return strings.Join(parts, ", ")
}

// writeJSON prints the plan as {"services": [...], "changes": [...], "summary": {...}}: each
// concern with its service and counts, and each change (as webinfra.Change encodes it, secrets
// redacted) with its "concern" and "node" ("" for the whole deployment).
func (r *report) writeJSON(w io.Writer) error {
	changes := make([]map[string]any, 0, len(r.entries))
	for _, e := range r.entries {
		raw, err := json.Marshal(e.change)
		if err != nil {
			return err
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			return err
		}
		m["concern"], m["node"] = e.concern, e.node
		changes = append(changes, m)
	}
	concerns := r.concerns
	if concerns == nil {
		concerns = []concernInfo{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Services []concernInfo    `json:"services"`
		Changes  []map[string]any `json:"changes"`
		Summary  webinfra.Summary `json:"summary"`
	}{concerns, changes, r.plan().Summary()})
}
