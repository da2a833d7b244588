package cloudflaretest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
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
		next := *cloneRecord(&p)
		if next.Name == "" {
			next.Name = rec.Name
		}
		if next.Type == "" {
			next.Type = rec.Type
		}
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
			for _, e := range validate(rec, zone) {
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

// validate applies Cloudflare's per-record rules, normalising what Cloudflare normalises.
func validate(r *Record, zone string) []apiError {
	var errs []apiError
	bad := func(code int, msg string) { errs = append(errs, apiError{Code: code, Message: msg}) }
	r.Name = strings.ToLower(strings.TrimSuffix(r.Name, "."))
	if r.Name != zone && !strings.HasSuffix(r.Name, "."+zone) {
		bad(9100, "DNS record name is not within the zone.")
	}
	if r.TTL == 0 || r.Proxied {
		r.TTL = 1
	}
	if r.TTL != 1 && (r.TTL < 60 || r.TTL > 86400) {
		bad(9021, "Invalid TTL. Must be between 60 and 86400 seconds, or 1 for Automatic.")
	}
	switch r.Type {
	case "A", "AAAA":
		a, err := netip.ParseAddr(r.Content)
		if err != nil || (r.Type == "A") != a.Is4() {
			bad(9005, fmt.Sprintf("Content for %s record is invalid. Must be a valid IPv%s address.", r.Type, map[string]string{"A": "4", "AAAA": "6"}[r.Type]))
		}
	case "CNAME", "MX", "NS":
		r.Content = strings.ToLower(strings.TrimSuffix(r.Content, "."))
		if r.Content == "" || strings.ContainsAny(r.Content, " \t\"") {
			bad(9005, "Content for "+r.Type+" record is invalid.")
		}
		if r.Type == "MX" && r.Priority == nil {
			bad(9101, "priority is required for MX records.")
		}
	case "TXT":
		if r.Content == "" || len(r.Content) > 2048 {
			bad(9005, "Content for TXT record is invalid.")
		}
	case "SRV", "CAA":
		if len(r.Data) == 0 {
			bad(9101, "data is required for "+r.Type+" records.")
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
