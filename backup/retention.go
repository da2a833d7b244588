package backup

import (
	"fmt"
	"slices"
	"time"

	"github.com/webinfra/webinfra"
)

// Retention says which snapshots of a set to keep, with restic's forget semantics: each rule
// keeps the newest snapshot of each of its N most recent periods (hours, days, ISO weeks,
// months, years, in UTC) that have one, Last keeps the N newest snapshots, and a snapshot kept by
// any rule is kept. The zero value (no rule) keeps everything. Whatever the rules, the newest
// complete snapshot is always kept.
type Retention struct {
	// Last keeps the Last newest snapshots; 0 disables the rule.
	Last int `json:"last,omitempty"`
	// Hourly keeps the newest snapshot of each of the Hourly most recent hours with one.
	Hourly int `json:"hourly,omitempty"`
	// Daily keeps the newest snapshot of each of the Daily most recent days with one.
	Daily int `json:"daily,omitempty"`
	// Weekly keeps the newest snapshot of each of the Weekly most recent ISO weeks with one.
	Weekly int `json:"weekly,omitempty"`
	// Monthly keeps the newest snapshot of each of the Monthly most recent months with one.
	Monthly int `json:"monthly,omitempty"`
	// Yearly keeps the newest snapshot of each of the Yearly most recent years with one.
	Yearly int `json:"yearly,omitempty"`
}

// Validate reports negative counts, with paths relative to the retention.
func (r Retention) Validate() error {
	var errs webinfra.ValidationError
	r.validate(webinfra.Path{}, &errs)
	return errs.Err()
}

func (r Retention) validate(p webinfra.Path, errs *webinfra.ValidationError) {
	for _, f := range r.rules() {
		if f.n < 0 {
			errs.Invalid(p.Child(f.name), f.n, "negative")
		}
	}
}

// IsZero reports whether no rule is set (everything is kept).
func (r Retention) IsZero() bool { return r == Retention{} }

type rule struct {
	name   string
	n      int
	bucket func(time.Time) int
}

func (r Retention) rules() []rule {
	return []rule{
		{"last", r.Last, nil},
		{"hourly", r.Hourly, func(t time.Time) int { return t.Year()*1000000 + int(t.Month())*10000 + t.Day()*100 + t.Hour() }},
		{"daily", r.Daily, func(t time.Time) int { return t.Year()*10000 + int(t.Month())*100 + t.Day() }},
		{"weekly", r.Weekly, func(t time.Time) int { y, w := t.ISOWeek(); return y*100 + w }},
		{"monthly", r.Monthly, func(t time.Time) int { return t.Year()*100 + int(t.Month()) }},
		{"yearly", r.Yearly, func(t time.Time) int { return t.Year() }},
	}
}

// Decision is what retention decided for one snapshot.
type Decision struct {
	// Snapshot is the snapshot decided on.
	Snapshot SnapshotInfo `json:"snapshot"`
	// Keep is true when the snapshot stays.
	Keep bool `json:"keep"`
	// Reasons name the rules that keep it ("daily", "last", "newest"); empty when it goes.
	Reasons []string `json:"reasons,omitempty"`
}

// ApplyRetention decides, for the complete snapshots of one set, which ones r keeps. It is pure:
// the result is newest first, one Decision per snapshot. The newest snapshot is always kept
// (reason "newest"), so retention can never leave a set without its last good snapshot.
func ApplyRetention(snaps []SnapshotInfo, r Retention) []Decision {
	sorted := slices.Clone(snaps)
	slices.SortStableFunc(sorted, func(a, b SnapshotInfo) int { return b.Time.Compare(a.Time) })
	out := make([]Decision, len(sorted))
	rules := r.rules()
	left := make([]int, len(rules))
	last := make([]*int, len(rules))
	for i, ru := range rules {
		left[i] = ru.n
	}
	for i, s := range sorted {
		d := Decision{Snapshot: s}
		if r.IsZero() {
			d.Keep, d.Reasons = true, []string{"no retention rule"}
		}
		t := s.Time.UTC()
		for j, ru := range rules {
			if left[j] <= 0 {
				continue
			}
			b := i // keep-last: every snapshot is its own period
			if ru.bucket != nil {
				b = ru.bucket(t)
			}
			if last[j] != nil && *last[j] == b {
				continue
			}
			last[j] = &b
			left[j]--
			d.Keep = true
			d.Reasons = append(d.Reasons, ru.name)
		}
		if i == 0 && !slices.Contains(d.Reasons, "newest") {
			d.Keep = true
			d.Reasons = append(d.Reasons, "newest")
		}
		out[i] = d
	}
	return out
}

// String renders a decision as one plan line.
func (d Decision) String() string {
	if d.Keep {
		return fmt.Sprintf("keep   %s %v", d.Snapshot.ID, d.Reasons)
	}
	return fmt.Sprintf("remove %s", d.Snapshot.ID)
}
