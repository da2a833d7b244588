package cloudflaretest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"

	"github.com/webinfra/webinfra/cloudflare"
)

type batchRequest struct {
	Deletes []struct {
		ID string `json:"id"`
	} `json:"deletes"`
	Patches []Record `json:"patches"`
	Puts    []Record `json:"puts"`
	Posts   []Record `json:"posts"`
}

// batch applies deletes, patches, puts and posts in that order, as Cloudflare does, and
// commits only if every operation is valid: a failed batch changes nothing.
func (s *Server) batch(w http.ResponseWriter, r *http.Request, zoneID string) {
	var req batchRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, 9207, "Request body is invalid: "+err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	zone, ok := s.zones[zoneID]
	if !ok {
		writeError(w, http.StatusNotFound, 7003, "Could not route to /zones/"+zoneID+"/dns_records/batch, perhaps your object identifier is invalid?")
		return
	}
	if n, limit := len(req.Deletes)+len(req.Patches)+len(req.Puts)+len(req.Posts), cloudflare.BatchLimit(s.plans[zoneID]); n > limit {
		// Cloudflare documents the limit but not the error it answers with; this code is the
		// fake's own, the message says what it means.
		writeError(w, http.StatusBadRequest, 81062, fmt.Sprintf("Batch of %d changes exceeds the zone's limit of %d", n, limit))
		return
	}
	work := map[string]*Record{}
	for id, rec := range s.records[zoneID] {
		work[id] = cloneRecord(rec)
	}
	var errs []apiError
	fail := func(code int, format string, args ...any) {
		errs = append(errs, apiError{Code: code, Message: fmt.Sprintf(format, args...)})
	}
	result := map[string][]Record{"deletes": {}, "patches": {}, "puts": {}, "posts": {}}
	touched := map[string]bool{}

	for _, d := range req.Deletes {
		rec, ok := work[d.ID]
		if !ok {
			fail(81044, "Record does not exist. (delete %s)", d.ID)
			continue
		}
		result["deletes"] = append(result["deletes"], *rec)
		delete(work, d.ID)
	}
	for _, p := range req.Patches {
		rec, ok := work[p.ID]
		if !ok {
			fail(81044, "Record does not exist. (patch %s)", p.ID)
			continue
		}
		next := patchRecord(rec, &p)
		work[p.ID] = &next
		touched[p.ID] = true
		result["patches"] = append(result["patches"], next)
	}
	for _, p := range req.Puts {
		if _, ok := work[p.ID]; !ok {
			fail(81044, "Record does not exist. (put %s)", p.ID)
			continue
		}
		next := *cloneRecord(&p)
		work[p.ID] = &next
		touched[p.ID] = true
		result["puts"] = append(result["puts"], next)
	}
	for _, p := range req.Posts {
		s.nextID++
		next := *cloneRecord(&p)
		next.ID = fmt.Sprintf("rec%06d", s.nextID)
		work[next.ID] = &next
		touched[next.ID] = true
		result["posts"] = append(result["posts"], next)
	}
	for id := range touched {
		if rec, ok := work[id]; ok {
			for _, e := range validate(rec, zone, s.opts.MinTTL) {
				fail(e.Code, "%s (%s %s)", e.Message, rec.Name, rec.Type)
			}
		}
	}
	errs = append(errs, conflicts(work, touched)...)
	if len(errs) > 0 {
		writeErrors(w, http.StatusBadRequest, errs)
		return
	}
	s.records[zoneID] = work
	for _, k := range []string{"deletes", "patches", "puts", "posts"} {
		for i := range result[k] {
			if result[k][i].Tags == nil {
				result[k][i].Tags = []string{}
			}
		}
	}
	writeJSON(w, http.StatusOK, envelope{Success: true, Errors: []apiError{}, Messages: []string{}, Result: result})
}

// validate applies Cloudflare's per-record rules, normalising what Cloudflare normalises. The
// codes are those Cloudflare answers with since October 2024, when it stopped wrapping DNS
// validation errors in 1004 "DNS Validation Error" with an error chain and began returning the
// root cause directly: 9000 a bad name, 9005/9006 A/AAAA content, 9007 CNAME content, 9009 MX
// content, 9100 a required field missing, 9008 a priority out of range, 9021 a TTL, 9004 a
// record type that cannot be proxied.
func validate(r *Record, zone string, minTTL int) []apiError {
	var errs []apiError
	bad := func(code int, msg string) { errs = append(errs, apiError{Code: code, Message: msg}) }
	r.Name = strings.ToLower(strings.TrimSuffix(r.Name, "."))
	switch {
	case !validName(r.Name, true):
		bad(9000, "DNS name is invalid.")
	case len(r.Name) > 253:
		bad(9000, "DNS name is invalid: longer than 253 characters.")
	case r.Name != zone && !strings.HasSuffix(r.Name, "."+zone):
		bad(9000, "DNS name is invalid: it is not within the zone "+zone+".")
	}
	if r.TTL == 0 || r.Proxied {
		r.TTL = 1
	}
	// Cloudflare's API reference (dns-records ttl): "Setting to 1 means 'automatic'. Value must
	// be between 60 and 86400, with the minimum reduced to 30 for Enterprise zones."
	if r.TTL != 1 && (r.TTL < minTTL || r.TTL > 86400) {
		bad(9021, fmt.Sprintf("TTL must be between %d and 86400 seconds, or 1 for Automatic.", minTTL))
	}
	switch r.Type {
	case "A", "AAAA":
		a, err := netip.ParseAddr(r.Content)
		if r.Type == "A" && (err != nil || !a.Is4()) {
			bad(9005, "Content for A record must be a valid IPv4 address.")
		}
		if r.Type == "AAAA" && (err != nil || !a.Is6() || a.Is4In6() || a.Zone() != "") {
			bad(9006, "Content for AAAA record must be a valid IPv6 address.")
		}
	case "CNAME", "NS":
		r.Content = strings.ToLower(strings.TrimSuffix(r.Content, "."))
		if !validHostname(r.Content) {
			bad(9007, "Content for "+r.Type+" record is invalid: it must be a hostname.")
		}
	case "MX":
		r.Content = strings.ToLower(strings.TrimSuffix(r.Content, "."))
		if !validHostname(r.Content) {
			bad(9009, "Content for MX record must be a hostname (not an IP address).")
		}
		checkPriority(r.Priority, bad)
	case "TXT":
		if r.Content == "" || len(r.Content) > 2048 {
			bad(9005, "Content for TXT record is invalid.")
		}
	case "SRV":
		var d map[string]json.RawMessage
		if len(r.Data) == 0 || json.Unmarshal(r.Data, &d) != nil {
			bad(9100, "data is a required field.")
			break
		}
		var prio *int
		if raw, ok := d["priority"]; ok {
			var p int
			if json.Unmarshal(raw, &p) != nil {
				p = -1
			}
			prio = &p
		}
		checkPriority(prio, bad)
		var target string
		if json.Unmarshal(d["target"], &target) != nil || !validHostname(strings.TrimSuffix(target, ".")) {
			bad(9100, "data.target must be a hostname.")
		}
	case "CAA":
		if len(r.Data) == 0 {
			bad(9100, "data is a required field.")
		}
	default:
		bad(9000, "DNS record type is invalid.")
	}
	if r.Proxied && r.Type != "A" && r.Type != "AAAA" && r.Type != "CNAME" {
		bad(9004, "This record type cannot be proxied.")
	}
	if len(r.Comment) > 100 {
		bad(9200, "Comment is too long: the limit is 100 characters on this plan.")
	}
	return errs
}

// checkPriority applies the MX/SRV priority rule: it must be present (0 is a priority) and
// 0-65535.
func checkPriority(p *int, bad func(int, string)) {
	switch {
	case p == nil:
		bad(9100, "priority is a required field.")
	case *p < 0 || *p > 65535:
		bad(9008, "Invalid priority, priority must be set and be between 0 and 65535")
	}
}

// validName reports whether name is a DNS name Cloudflare stores: labels of 1-63 bytes, the
// first may be "*".
func validName(name string, wildcard bool) bool {
	if name == "" {
		return false
	}
	for i, l := range strings.Split(name, ".") {
		if l == "" || len(l) > 63 {
			return false
		}
		if wildcard && i == 0 && l == "*" {
			continue
		}
		for _, c := range []byte(l) {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// validHostname reports whether h is a hostname a CNAME, MX or SRV record may point to: a
// valid DNS name of at most 253 bytes with a dot, and not an IP address.
func validHostname(h string) bool {
	if _, err := netip.ParseAddr(h); err == nil {
		return false
	}
	return len(h) <= 253 && strings.Contains(h, ".") && validName(h, false)
}

// patchRecord is old with the fields p sets: a PATCH leaves out what it does not change.
func patchRecord(old, p *Record) Record {
	next := *cloneRecord(p)
	next.ID = old.ID
	if next.Name == "" {
		next.Name = old.Name
	}
	if next.Type == "" {
		next.Type = old.Type
	}
	if next.Content == "" && len(next.Data) == 0 {
		next.Content = old.Content
		next.Data = slices.Clone(old.Data)
	}
	if next.Priority == nil && old.Priority != nil {
		v := *old.Priority
		next.Priority = &v
	}
	if next.TTL == 0 {
		next.TTL = old.TTL
	}
	return next
}

// conflicts checks the zone-wide rules for the touched records: no identical records and no CNAME
// beside other records at its name.
func conflicts(work map[string]*Record, touched map[string]bool) []apiError {
	var errs []apiError
	byName := map[string][]*Record{}
	for _, r := range work {
		byName[r.Name] = append(byName[r.Name], r)
	}
	seen := map[string]bool{}
	for id := range touched {
		r, ok := work[id]
		if !ok || seen[r.Name] {
			continue
		}
		seen[r.Name] = true
		recs := byName[r.Name]
		cnames := 0
		ident := map[string]int{}
		for _, x := range recs {
			if x.Type == "CNAME" {
				cnames++
			}
			ident[x.Type+" "+x.Content]++
		}
		if cnames > 0 && len(recs) > 1 {
			errs = append(errs, apiError{Code: 81053, Message: "An A, AAAA, or CNAME record with that host already exists. (" + r.Name + ")"})
		}
		for k, n := range ident {
			if n > 1 {
				errs = append(errs, apiError{Code: 81058, Message: "An identical record already exists. (" + r.Name + " " + k + ")"})
			}
		}
	}
	return errs
}
