package cloudflaretest

import (
	"encoding/json"
	"net/http"
	"slices"
	"time"
)

// defaultSettings are the values a new zone starts with, as Cloudflare gives a Free zone.
func defaultSettings() map[string]any {
	return map[string]any{
		"ssl":                      "full",
		"always_use_https":         "off",
		"automatic_https_rewrites": "on",
		"min_tls_version":          "1.0",
		"brotli":                   "on",
		"browser_cache_ttl":        float64(14400),
		"security_header": map[string]any{"strict_transport_security": map[string]any{
			"enabled": false, "max_age": float64(0), "include_subdomains": false, "preload": false, "nosniff": false,
		}},
	}
}

// allowed lists the values Cloudflare accepts for enumerated settings.
var allowed = map[string][]any{
	"ssl":                      {"off", "flexible", "full", "strict"},
	"min_tls_version":          {"1.0", "1.1", "1.2", "1.3"},
	"always_use_https":         {"on", "off"},
	"automatic_https_rewrites": {"on", "off"},
	"brotli":                   {"on", "off"},
}

// Setting returns a zone setting's current value (a copy, decoded as encoding/json does).
func (s *Server) Setting(zoneID, name string) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return copyJSON(s.settings[zoneID][name])
}

func copyJSON(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

func (s *Server) setting(w http.ResponseWriter, r *http.Request, zoneID, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	zs, ok := s.settings[zoneID]
	if !ok {
		writeError(w, http.StatusNotFound, 7003, "Could not route to /zones/"+zoneID+"/settings, perhaps your object identifier is invalid?")
		return
	}
	cur, ok := zs[name]
	if !ok {
		writeError(w, http.StatusBadRequest, 1003, "Invalid or missing zone setting: "+name)
		return
	}
	if r.Method == http.MethodPatch {
		var body struct {
			Value any `json:"value"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Value == nil {
			writeError(w, http.StatusBadRequest, 1007, "Invalid value for zone setting "+name)
			return
		}
		if vals, enum := allowed[name]; enum && !slices.Contains(vals, body.Value) {
			writeError(w, http.StatusBadRequest, 1007, "Invalid value for zone setting "+name)
			return
		}
		cur = merge(cur, copyJSON(body.Value))
		zs[name] = cur
	}
	writeJSON(w, http.StatusOK, envelope{Success: true, Errors: []apiError{}, Messages: []string{},
		Result: map[string]any{"id": name, "value": cur, "editable": true, "modified_on": time.Unix(0, 0).UTC().Format(time.RFC3339)}})
}

// merge applies a patch to an object value key by key, as Cloudflare does for security_header;
// scalars are replaced.
func merge(cur, patch any) any {
	cm, ok1 := cur.(map[string]any)
	pm, ok2 := patch.(map[string]any)
	if !ok1 || !ok2 {
		return patch
	}
	out := map[string]any{}
	for k, v := range cm {
		out[k] = v
	}
	for k, v := range pm {
		out[k] = merge(cm[k], v)
	}
	return out
}
