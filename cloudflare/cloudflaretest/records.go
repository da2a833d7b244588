package cloudflaretest

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// createRecord serves POST /zones/{id}/dns_records: the record is checked with the same rules
// as a batch's posts, and stored only if it passes.
func (s *Server) createRecord(w http.ResponseWriter, r *http.Request, zoneID string) {
	var rec Record
	if err := json.NewDecoder(r.Body).Decode(&rec); err != nil {
		writeError(w, http.StatusBadRequest, 9207, "Request body is invalid: "+err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	zone, ok := s.zones[zoneID]
	if !ok {
		writeError(w, http.StatusNotFound, 7003, "Could not route to /zones/"+zoneID+"/dns_records, perhaps your object identifier is invalid?")
		return
	}
	s.nextID++
	next := cloneRecord(&rec)
	next.ID = fmt.Sprintf("rec%06d", s.nextID)
	s.commitOne(w, zoneID, zone, next)
}

// record serves GET, PUT, PATCH and DELETE of /zones/{id}/dns_records/{id}. PUT replaces the
// record, PATCH changes the fields it sets; both are checked as a batch's puts and patches.
func (s *Server) record(w http.ResponseWriter, r *http.Request, zoneID, recID string) {
	var body Record
	if r.Method == http.MethodPut || r.Method == http.MethodPatch {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			writeError(w, http.StatusBadRequest, 9207, "Request body is invalid: "+err.Error())
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	zone, ok := s.zones[zoneID]
	if !ok {
		writeError(w, http.StatusNotFound, 7003, "Could not route to /zones/"+zoneID+"/dns_records/"+recID+", perhaps your object identifier is invalid?")
		return
	}
	old, ok := s.records[zoneID][recID]
	if !ok {
		writeError(w, http.StatusNotFound, 81044, "Record does not exist.")
		return
	}
	switch r.Method {
	case http.MethodGet:
		out := *cloneRecord(old)
		if out.Tags == nil {
			out.Tags = []string{}
		}
		writeJSON(w, http.StatusOK, envelope{Success: true, Errors: []apiError{}, Messages: []string{}, Result: out})
	case http.MethodDelete:
		delete(s.records[zoneID], recID)
		writeJSON(w, http.StatusOK, envelope{Success: true, Errors: []apiError{}, Messages: []string{}, Result: map[string]string{"id": recID}})
	case http.MethodPut:
		next := cloneRecord(&body)
		next.ID = recID
		s.commitOne(w, zoneID, zone, next)
	default:
		next := patchRecord(old, &body)
		s.commitOne(w, zoneID, zone, &next)
	}
}

// commitOne validates rec against the zone's rules and stores it, answering with the stored
// record or Cloudflare's errors; s.mu is held.
func (s *Server) commitOne(w http.ResponseWriter, zoneID, zone string, rec *Record) {
	errs := validate(rec, zone, s.opts.MinTTL)
	work := map[string]*Record{}
	for id, x := range s.records[zoneID] {
		work[id] = x
	}
	work[rec.ID] = rec
	errs = append(errs, conflicts(work, map[string]bool{rec.ID: true})...)
	if len(errs) > 0 {
		writeErrors(w, http.StatusBadRequest, errs)
		return
	}
	s.records[zoneID][rec.ID] = rec
	out := *cloneRecord(rec)
	if out.Tags == nil {
		out.Tags = []string{}
	}
	writeJSON(w, http.StatusOK, envelope{Success: true, Errors: []apiError{}, Messages: []string{}, Result: out})
}
