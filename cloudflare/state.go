package cloudflare

import (
	"regexp"
	"slices"
	"strings"

	"github.com/webinfra/webinfra"
)

// DNS is the desired DNS state of one zone: the records this SDK owns there. Records of the
// zone that it does not own are never changed or deleted.
type DNS struct {
	// Zone is the zone's name ("example.com").
	Zone string `json:"zone"`
	// Owner names this deployment in the ownership marker ("webinfra:<owner>"), so several
	// deployments can share a zone; "" means "default". Letters, digits, '.', '_' and '-'.
	Owner string `json:"owner,omitempty"`
	// Ownership says where the marker is kept: [OwnershipComment] (the default, every plan) or
	// [OwnershipTag] (paid plans).
	Ownership Ownership `json:"ownership,omitempty"`
	// Adopt takes over existing records that match a desired record's name, type and content
	// but carry no marker. Without it such a record makes Plan fail rather than collide.
	Adopt bool `json:"adopt,omitempty"`
	// Records are the desired records.
	Records []Record `json:"records"`
}

// Ownership is where the ownership marker lives on a record.
type Ownership string

// The places for the ownership marker. Both keep ownership on the record itself, unlike
// external-dns's TXT registry, which doubles the number of records.
const (
	// OwnershipComment appends " webinfra:<owner>" to the record's comment.
	OwnershipComment Ownership = "comment"
	// OwnershipTag adds the tag "webinfra:<owner>".
	OwnershipTag Ownership = "tag"
)

var ownerName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,40}$`)

func (d DNS) owner() string {
	if d.Owner == "" {
		return "default"
	}
	return d.Owner
}

func (d DNS) ownership() Ownership {
	if d.Ownership == "" {
		return OwnershipComment
	}
	return d.Ownership
}

// marker is the text that marks a record as owned.
func (d DNS) marker() string { return "webinfra:" + d.owner() }

// Validate reports every problem of the desired state with its field path: the zone, each
// record (name inside the zone, content valid for the type, TTL range, proxying only for A,
// AAAA and CNAME), duplicates, and CNAMEs that share a name with other records.
func (d DNS) Validate() error {
	var errs webinfra.ValidationError
	zone := strings.TrimSuffix(strings.ToLower(d.Zone), ".")
	if d.Zone == "" {
		errs.Required(webinfra.NewPath("zone"))
	} else if msgs := checkName(zone); len(msgs) > 0 || !strings.Contains(zone, ".") {
		errs.Invalid(webinfra.NewPath("zone"), d.Zone, "not a zone name")
	}
	if d.Owner != "" && !ownerName.MatchString(d.Owner) {
		errs.Invalid(webinfra.NewPath("owner"), d.Owner, "1-40 letters, digits, '.', '_' or '-'")
	}
	if d.Ownership != "" && d.Ownership != OwnershipComment && d.Ownership != OwnershipTag {
		errs.NotSupported(webinfra.NewPath("ownership"), string(d.Ownership), []string{string(OwnershipComment), string(OwnershipTag)})
	}
	maxComment := 100
	if d.ownership() == OwnershipComment {
		maxComment -= len(d.marker()) + 1
	}
	seen := map[string]webinfra.Path{}
	types := map[string][]RecordType{}
	firstAt := map[string]webinfra.Path{}
	for i, r := range d.Records {
		p := webinfra.NewPath("records").Index(i)
		r.validate(&errs, p, zone)
		if len(r.Comment) <= 100 && len(r.Comment) > maxComment {
			errs.Addf(p.Child("comment"), r.Comment, "longer than %d characters, the room the ownership marker leaves", maxComment)
		}
		n := r.normalized()
		id := n.String()
		if first, dup := seen[id]; dup {
			errs.Duplicate(p, id, first)
			continue
		}
		seen[id] = p
		if _, ok := firstAt[n.Name]; !ok {
			firstAt[n.Name] = p
		}
		types[n.Name] = append(types[n.Name], n.Type)
		if len(types[n.Name]) > 1 && (n.Type == TypeCNAME || slices.Contains(types[n.Name], TypeCNAME)) {
			errs.Addf(p, id, "a CNAME cannot share its name with other records (see %s)", firstAt[n.Name])
		}
	}
	return errs.Err()
}
