package webinfra

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// Action is what a [Change] does to its resource.
type Action int

// The actions, in the order a plan summary counts them.
const (
	// Create makes a resource that does not exist yet.
	Create Action = iota + 1
	// Update changes fields of an existing resource in place.
	Update
	// Delete removes an existing resource.
	Delete
)

var actionNames = map[Action]string{Create: "create", Update: "update", Delete: "delete"}

// String returns "create", "update" or "delete", and "Action(N)" for anything else.
func (a Action) String() string {
	if s, ok := actionNames[a]; ok {
		return s
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// symbol is the diff marker of the action, as Terraform prints it.
func (a Action) symbol() string {
	switch a {
	case Create:
		return "+"
	case Update:
		return "~"
	case Delete:
		return "-"
	}
	return "?"
}

// MarshalText encodes the action by name; an unknown action is an error.
func (a Action) MarshalText() ([]byte, error) {
	s, ok := actionNames[a]
	if !ok {
		return nil, fmt.Errorf("webinfra: unknown action %d", int(a))
	}
	return []byte(s), nil
}

// UnmarshalText decodes "create", "update" or "delete".
func (a *Action) UnmarshalText(b []byte) error {
	for k, v := range actionNames {
		if v == string(b) {
			*a = k
			return nil
		}
	}
	return fmt.Errorf("webinfra: unknown action %q (want create, update or delete): %w", b, ErrInvalidArgument)
}

// Fields maps field names to values of a resource, as a plan shows them. Values are plain data:
// strings, numbers, booleans, lists and maps of those, or anything with a String method.
type Fields map[string]any

// Change is one step of a [Plan]: an action on one resource, with the resource's fields before
// and after. Before is nil for a create, After is nil for a delete. Fields named in Sensitive,
// and any [Secret] value, print and encode as [Redacted].
type Change struct {
	// Kind names the resource type, in snake case: "dns_record", "syncthing_folder".
	Kind string `json:"kind"`
	// ID identifies the resource within its kind, in the terms the user declared it:
	// "www.example.com A", "node/fw-1".
	ID string `json:"id"`
	// Action is what the change does.
	Action Action `json:"action"`
	// Before holds the fields as they are now; nil for a create.
	Before Fields `json:"before,omitempty"`
	// After holds the fields as they will be; nil for a delete.
	After Fields `json:"after,omitempty"`
	// Sensitive names fields whose values must never be shown.
	Sensitive []string `json:"sensitive,omitempty"`
}

// Address returns "kind id", the resource's name in a plan.
func (c Change) Address() string { return c.Kind + " " + c.ID }

// Diff returns the names of the fields whose values differ between Before and After, sorted.
// For a create it returns the fields of After; for a delete those of Before.
func (c Change) Diff() []string {
	var names []string
	for _, k := range slices.Sorted(maps.Keys(union(c.Before, c.After))) {
		b, inB := c.Before[k]
		a, inA := c.After[k]
		if inB != inA || !reflect.DeepEqual(b, a) {
			names = append(names, k)
		}
	}
	return names
}

func (c Change) sensitive(field string) bool { return slices.Contains(c.Sensitive, field) }

// show renders one field value for humans: strings quoted, secrets and sensitive fields redacted.
func (c Change) show(field string, v any, present bool) string {
	switch {
	case !present:
		return "(none)"
	case c.sensitive(field):
		return Redacted
	}
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("%q", x)
	case nil:
		return "null"
	case Secret, *Secret:
		return Redacted
	case fmt.Stringer:
		return x.String()
	}
	if b, err := json.Marshal(v); err == nil {
		return string(b)
	}
	return fmt.Sprint(v)
}

// String renders the change as [Plan.String] shows it: a line "+ kind id" (`~` for an update,
// `-` for a delete) followed by one indented line per field that differs. Sensitive values
// show as [Redacted].
func (c Change) String() string {
	var b strings.Builder
	c.write(&b)
	return b.String()
}

// write appends the Terraform-like rendering of the change to b.
func (c Change) write(b *strings.Builder) {
	fmt.Fprintf(b, "%s %s\n", c.Action.symbol(), c.Address())
	fields := c.Diff()
	width := 0
	for _, f := range fields {
		width = max(width, len(f))
	}
	for _, f := range fields {
		before, inBefore := c.Before[f]
		after, inAfter := c.After[f]
		switch c.Action {
		case Create:
			fmt.Fprintf(b, "    %-*s = %s\n", width, f, c.show(f, after, inAfter))
		case Delete:
			fmt.Fprintf(b, "    %-*s = %s\n", width, f, c.show(f, before, inBefore))
		default:
			fmt.Fprintf(b, "    %-*s = %s -> %s\n", width, f, c.show(f, before, inBefore), c.show(f, after, inAfter))
		}
	}
}

// redacted returns a copy of fields with every sensitive value replaced by Redacted.
func (c Change) redacted(fields Fields) Fields {
	if fields == nil {
		return nil
	}
	out := make(Fields, len(fields))
	for k, v := range fields {
		switch v.(type) {
		case Secret, *Secret:
			v = Redacted
		}
		if c.sensitive(k) {
			v = Redacted
		}
		out[k] = v
	}
	return out
}

// MarshalJSON encodes the change with sensitive values replaced by [Redacted].
func (c Change) MarshalJSON() ([]byte, error) {
	type plain Change // drops the method, so encoding does not recurse
	r := plain(c)
	r.Before, r.After = c.redacted(c.Before), c.redacted(c.After)
	return json.Marshal(r)
}

// Plan is an ordered list of changes: the order in which Apply performs them. The zero Plan is
// empty and ready to use. A Plan is plain data; it is not safe for concurrent mutation.
type Plan struct {
	// Changes lists the changes in the order they will be applied.
	Changes []Change `json:"changes"`
}

// Add appends changes to the plan.
func (p *Plan) Add(changes ...Change) { p.Changes = append(p.Changes, changes...) }

// Append appends the changes of other plans, in order; composing the plans of several packages
// into one printable plan is the usual use.
func (p *Plan) Append(others ...Plan) {
	for _, o := range others {
		p.Changes = append(p.Changes, o.Changes...)
	}
}

// Empty reports whether the plan has no changes: the desired state is already in place.
func (p Plan) Empty() bool { return len(p.Changes) == 0 }

// Summary counts the changes of a plan by action.
type Summary struct {
	// Create counts the changes that create a resource.
	Create int `json:"create"`
	// Update counts the changes that update a resource in place.
	Update int `json:"update"`
	// Delete counts the changes that delete a resource.
	Delete int `json:"delete"`
}

// String renders "Plan: 1 to create, 2 to update, 0 to delete.", or "No changes." for none.
func (s Summary) String() string {
	if s == (Summary{}) {
		return "No changes."
	}
	return fmt.Sprintf("Plan: %d to create, %d to update, %d to delete.", s.Create, s.Update, s.Delete)
}

// Summary counts the changes by action.
func (p Plan) Summary() Summary {
	var s Summary
	for _, c := range p.Changes {
		switch c.Action {
		case Create:
			s.Create++
		case Update:
			s.Update++
		case Delete:
			s.Delete++
		}
	}
	return s
}

// String renders the plan as a Terraform-like diff: one block per change (`+` create,
// `~` update showing `field = old -> new` for the fields that differ, `-` delete), then the
// summary line. Sensitive values show as [Redacted].
func (p Plan) String() string {
	var b strings.Builder
	for _, c := range p.Changes {
		c.write(&b)
		b.WriteByte('\n')
	}
	b.WriteString(p.Summary().String())
	b.WriteByte('\n')
	return b.String()
}

// MarshalJSON encodes the plan as {"changes": [...], "summary": {...}}, the form of
// `--output json`. Sensitive values are [Redacted]. An empty plan encodes "changes": [].
func (p Plan) MarshalJSON() ([]byte, error) {
	changes := p.Changes
	if changes == nil {
		changes = []Change{}
	}
	return json.Marshal(struct {
		Changes []Change `json:"changes"`
		Summary Summary  `json:"summary"`
	}{changes, p.Summary()})
}

func union(a, b Fields) Fields {
	out := make(Fields, len(a)+len(b))
	maps.Copy(out, a)
	maps.Copy(out, b)
	return out
}
