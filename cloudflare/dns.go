package cloudflare

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"

	cf "github.com/cloudflare/cloudflare-go/v6"
	"github.com/cloudflare/cloudflare-go/v6/dns"

	"github.com/webinfra/webinfra"
)

// listPageSize is the page size of record listings: large pages keep a 10,000-record zone to a
// handful of calls.
const listPageSize = 5000

// existing is a record found in the zone.
type existing struct {
	id     string
	record Record // normalized, with the ownership marker removed
	owned  bool
}

// listRecords reads every record of the zone, page by page, until the last page by
// result_info.total_pages (or an empty page).
//
// It decodes the pages itself with encoding/json instead of using cloudflare-go's typed pager:
// the generated union decoding of RecordResponse took two thirds of a no-op plan's time for a
// 10,000-record zone (see BenchmarkNoopReplan).
func (c *Client) listRecords(ctx context.Context, zoneID string, d DNS) ([]existing, error) {
	var out []existing
	for page := 1; ; page++ {
		var res struct {
			Result     []json.RawMessage `json:"result"`
			ResultInfo struct {
				TotalPages int `json:"total_pages"`
			} `json:"result_info"`
		}
		err := c.do(ctx, true, func(ctx context.Context) error {
			return c.api.Get(ctx, "zones/"+url.PathEscape(zoneID)+"/dns_records",
				dns.RecordListParams{Page: cf.F(float64(page)), PerPage: cf.F(float64(listPageSize))}, &res)
		})
		if err != nil {
			return nil, fmt.Errorf("cloudflare: list records of zone %q (page %d): %w", d.Zone, page, err)
		}
		for _, raw := range res.Result {
			w, r, err := fromWire(raw)
			if err != nil {
				return nil, fmt.Errorf("cloudflare: list records of zone %q: %w", d.Zone, err)
			}
			owned := d.stripMarker(&r)
			out = append(out, existing{id: w.ID, record: r.normalized(), owned: owned})
		}
		if len(res.Result) == 0 || page >= res.ResultInfo.TotalPages {
			return out, nil
		}
	}
}

// stripMarker removes this owner's marker from r and reports whether it was there.
func (d DNS) stripMarker(r *Record) bool {
	m := d.marker()
	if d.ownership() == OwnershipTag {
		i := slices.Index(r.Tags, m)
		if i < 0 {
			return false
		}
		r.Tags = slices.Delete(r.Tags, i, i+1)
		return true
	}
	switch {
	case r.Comment == m:
		r.Comment = ""
		return true
	case strings.HasSuffix(r.Comment, " "+m):
		r.Comment = strings.TrimSuffix(r.Comment, " "+m)
		return true
	}
	return false
}

// withMarker returns r carrying this owner's marker.
func (d DNS) withMarker(r Record) Record {
	if d.ownership() == OwnershipTag {
		r.Tags = append(slices.Clone(r.Tags), d.marker())
		slices.Sort(r.Tags)
		return r
	}
	if r.Comment == "" {
		r.Comment = d.marker()
	} else {
		r.Comment += " " + d.marker()
	}
	return r
}

// recordOp is one change to one record.
type recordOp struct {
	action webinfra.Action
	id     string  // the existing record's ID, for updates and deletes
	before *Record // nil for a create
	after  *Record // nil for a delete
	adopt  bool    // an update that takes over an unowned record
}

func (o recordOp) change() webinfra.Change {
	ch := webinfra.Change{Kind: "dns_record", Action: o.action}
	r := o.after
	if r == nil {
		r = o.before
	}
	ch.ID = r.String()
	if o.before != nil {
		ch.Before = o.before.fields()
		if o.adopt {
			ch.Before["owned"] = false
		}
	}
	if o.after != nil {
		ch.After = o.after.fields()
		if o.adopt {
			ch.After["owned"] = true
		}
	}
	return ch
}

// unit is a set of changes that must reach Cloudflare in the same batch, because applying one
// without the others would leave a name unanswered or break a DNS rule (a CNAME replacing
// other records at its name, or the reverse).
type unit []recordOp

func (u unit) createsOrUpdates() bool {
	return slices.ContainsFunc(u, func(o recordOp) bool { return o.action != webinfra.Delete })
}

// DNSPlan is what [Client.PlanDNS] found to do in one zone. Print it with [DNSPlan.Plan].
type DNSPlan struct {
	zoneID   string
	zonePlan string // the zone's plan, whose BatchLimit caps a batch
	state    DNS
	units    []unit
}

// Plan returns the changes as the shared plan type, in the order Apply sends them.
func (p *DNSPlan) Plan() webinfra.Plan {
	var plan webinfra.Plan
	for _, u := range p.units {
		for _, o := range u {
			plan.Add(o.change())
		}
	}
	return plan
}

// Empty reports whether the zone already holds the desired records.
func (p *DNSPlan) Empty() bool { return len(p.units) == 0 }

// Len returns the number of record changes.
func (p *DNSPlan) Len() int {
	n := 0
	for _, u := range p.units {
		n += len(u)
	}
	return n
}

// PlanDNS compares the zone with the desired state and returns the changes; it only reads
// (zone lookup and record listing). An invalid desired state gives its [*webinfra.ValidationError]
// before any call. A desired record colliding with one this owner does not own (same name,
// type and content without Adopt, or a CNAME where unowned records live) gives an error
// matching [webinfra.ErrFailedPrecondition] naming every such record.
func (c *Client) PlanDNS(ctx context.Context, d DNS) (*DNSPlan, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	d.Zone = strings.TrimSuffix(strings.ToLower(d.Zone), ".")
	zoneID, plan, err := c.zone(ctx, d.Zone)
	if err != nil {
		return nil, err
	}
	actual, err := c.listRecords(ctx, zoneID, d)
	if err != nil {
		return nil, err
	}
	units, err := diff(d, actual)
	if err != nil {
		return nil, err
	}
	return &DNSPlan{zoneID: zoneID, zonePlan: plan, state: d, units: units}, nil
}

// diff computes the changes that turn actual into desired, grouped into units and ordered:
// units that create or update first (make before break), then units that only delete; by name
// within each.
func diff(d DNS, actual []existing) ([]unit, error) {
	byName := map[string][]existing{}
	for _, e := range actual {
		byName[e.record.Name] = append(byName[e.record.Name], e)
	}
	desiredByName := map[string][]Record{}
	for _, r := range d.Records {
		n := r.normalized()
		desiredByName[n.Name] = append(desiredByName[n.Name], n)
	}
	names := make([]string, 0, len(byName)+len(desiredByName))
	for n := range byName {
		names = append(names, n)
	}
	for n := range desiredByName {
		if _, ok := byName[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)

	var units []unit
	var adoptable, blocking []string
	for _, name := range names {
		ops, adopt, block := diffName(d, desiredByName[name], byName[name])
		adoptable = append(adoptable, adopt...)
		blocking = append(blocking, block...)
		if len(ops) == 0 {
			continue
		}
		if cnameSwap(desiredByName[name], byName[name]) {
			units = append(units, ops)
			continue
		}
		for _, o := range ops {
			units = append(units, unit{o})
		}
	}
	// Two different fixes, so two messages: a record equal to a desired one can be taken over
	// with Adopt; one that cannot share its name with a desired one (a CNAME beside anything)
	// must go first, Adopt or not.
	var msgs []string
	if len(adoptable) > 0 {
		msgs = append(msgs, fmt.Sprintf("records equal to desired ones exist without this owner's marker (%s); set DNS.Adopt to take them over, or remove them: %s",
			d.marker(), strings.Join(adoptable, "; ")))
	}
	if len(blocking) > 0 {
		msgs = append(msgs, fmt.Sprintf("desired records cannot share their name with records this owner (%s) does not own (a CNAME stands alone at its name); Adopt does not take over a different record: remove those records or change the desired ones: %s",
			d.marker(), strings.Join(blocking, "; ")))
	}
	if len(msgs) > 0 {
		return nil, fmt.Errorf("cloudflare: %s: %w", strings.Join(msgs, "; and "), webinfra.ErrFailedPrecondition)
	}
	slices.SortStableFunc(units, func(a, b unit) int {
		return cmp.Compare(order(a), order(b))
	})
	return units, nil
}

func order(u unit) int {
	if u.createsOrUpdates() {
		return 0
	}
	return 1
}

// cnameSwap reports whether the owned records at a name change between a CNAME and other
// types, which Cloudflare only accepts as one transaction.
func cnameSwap(desired []Record, actual []existing) bool {
	wantCNAME := slices.ContainsFunc(desired, func(r Record) bool { return r.Type == TypeCNAME })
	haveCNAME, haveOther := false, false
	for _, e := range actual {
		if !e.owned {
			continue
		}
		if e.record.Type == TypeCNAME {
			haveCNAME = true
		} else {
			haveOther = true
		}
	}
	return (wantCNAME && haveOther) || (!wantCNAME && len(desired) > 0 && haveCNAME)
}

// diffName plans one name: exact matches stay or are updated in place, leftover records of the
// same type are rewritten in place (so the name keeps answering), the rest are created or
// deleted. It returns the ops and descriptions of collisions with records not owned: those
// Adopt would take over, and those that block a desired record whatever Adopt says.
func diffName(d DNS, desired []Record, actual []existing) (ops []recordOp, adoptable, blocking []string) {
	used := make([]bool, len(actual))
	var pending []Record

	for _, r := range desired {
		if i := matchUnused(actual, used, r, true); i >= 0 {
			used[i] = true
			e := actual[i]
			if !sameFields(e.record, r) {
				before, after := e.record, r
				ops = append(ops, recordOp{action: webinfra.Update, id: e.id, before: &before, after: &after})
			}
			continue
		}
		if i := matchUnused(actual, used, r, false); i >= 0 {
			used[i] = true
			if !d.Adopt {
				adoptable = append(adoptable, r.String())
				continue
			}
			before, after := actual[i].record, r
			ops = append(ops, recordOp{action: webinfra.Update, id: actual[i].id, before: &before, after: &after, adopt: true})
			continue
		}
		pending = append(pending, r)
	}
	for _, r := range pending {
		if i := slices.IndexFunc(actual, func(e existing) bool {
			return !e.owned && (r.Type == TypeCNAME || e.record.Type == TypeCNAME)
		}); i >= 0 {
			blocking = append(blocking, fmt.Sprintf("%s (beside %s)", r, actual[i].record))
			continue
		}
		// Rewrite a leftover owned record of the same type in place rather than delete + create.
		i := slices.IndexFunc(actual, func(e existing) bool { return e.owned && e.record.Type == r.Type })
		for i >= 0 && used[i] {
			i = nextOwnedOfType(actual, i+1, r.Type)
		}
		after := r
		if i >= 0 {
			used[i] = true
			before := actual[i].record
			ops = append(ops, recordOp{action: webinfra.Update, id: actual[i].id, before: &before, after: &after})
			continue
		}
		ops = append(ops, recordOp{action: webinfra.Create, after: &after})
	}
	for i, e := range actual {
		if !used[i] && e.owned {
			before := e.record
			ops = append(ops, recordOp{action: webinfra.Delete, id: e.id, before: &before})
		}
	}
	return ops, adoptable, blocking
}

// nextOwnedOfType returns the index of the first owned record of type t at or after from, or -1.
func nextOwnedOfType(actual []existing, from int, t RecordType) int {
	for i := from; i < len(actual); i++ {
		if actual[i].owned && actual[i].record.Type == t {
			return i
		}
	}
	return -1
}

func matchUnused(actual []existing, used []bool, r Record, owned bool) int {
	for i, e := range actual {
		if !used[i] && e.owned == owned && e.record.Type == r.Type && e.record.Content == r.Content {
			return i
		}
	}
	return -1
}

// sameFields reports whether two records of the same name, type and content need no update.
func sameFields(a, b Record) bool {
	return a.TTL == b.TTL && a.Proxied == b.Proxied && samePriority(a.Priority, b.Priority) &&
		a.Comment == b.Comment && slices.Equal(a.Tags, b.Tags)
}

// samePriority compares two optional priorities by value.
func samePriority(a, b *uint16) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}
