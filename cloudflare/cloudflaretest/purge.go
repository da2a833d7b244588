package cloudflaretest

import (
	"encoding/json"
	"net/http"
	"slices"
)

// PurgeRequest is one purge call the fake received.
type PurgeRequest struct {
	ZoneID     string
	Everything bool
	Files      []string
	Hosts      []string
	Tags       []string
	Prefixes   []string
}

// Purges returns the purge calls received, in order.
func (s *Server) Purges() []PurgeRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.purges)
}

// purge accepts exactly one kind of purge per call, and at most Options.MaxPurgeItems items.
func (s *Server) purge(w http.ResponseWriter, r *http.Request, zoneID string) {
	var body struct {
		Everything *bool    `json:"purge_everything"`
		Files      []string `json:"files"`
		Hosts      []string `json:"hosts"`
		Tags       []string `json:"tags"`
		Prefixes   []string `json:"prefixes"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, 1012, "Request must contain one of \"purge_everything\", \"files\", \"tags\", \"hosts\" or \"prefixes\"")
		return
	}
	kinds, longest := 0, 0
	for _, l := range [][]string{body.Files, body.Hosts, body.Tags, body.Prefixes} {
		if len(l) > 0 {
			kinds++
			longest = max(longest, len(l))
		}
	}
	if body.Everything != nil && *body.Everything {
		kinds++
	}
	if kinds != 1 {
		writeError(w, http.StatusBadRequest, 1012, "Request must contain one of \"purge_everything\", \"files\", \"tags\", \"hosts\" or \"prefixes\"")
		return
	}
	if longest > s.opts.MaxPurgeItems {
		writeError(w, http.StatusBadRequest, 1015, "You are only allowed to purge up to 30 items per request")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.zones[zoneID]; !ok {
		writeError(w, http.StatusNotFound, 7003, "Could not route to /zones/"+zoneID+"/purge_cache, perhaps your object identifier is invalid?")
		return
	}
	s.purges = append(s.purges, PurgeRequest{ZoneID: zoneID, Everything: body.Everything != nil && *body.Everything,
		Files: body.Files, Hosts: body.Hosts, Tags: body.Tags, Prefixes: body.Prefixes})
	writeJSON(w, http.StatusOK, envelope{Success: true, Errors: []apiError{}, Messages: []string{}, Result: map[string]string{"id": zoneID}})
}
