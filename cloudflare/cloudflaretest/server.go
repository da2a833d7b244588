// Package cloudflaretest is an in-memory fake of the parts of Cloudflare's API the cloudflare
// package uses, served over HTTP on loopback so that the real client code is what tests run:
// zones, DNS record listing (with the empty last page cloudflare-go's pager waits for), the
// transactional batch endpoint, zone settings, cache purges, Origin CA certificates, and IP
// ranges. It answers in Cloudflare's envelope with its error codes, refuses requests without
// the API token it was made with and records Cloudflare would refuse (see [Options.Token] and
// the record endpoints), enforces a request budget with 429 and Retry-After, injects faults and
// latency, and counts calls per endpoint.
package cloudflaretest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Record is a DNS record as the fake stores it.
type Record struct {
	ID       string          `json:"id"`
	Name     string          `json:"name"`
	Type     string          `json:"type"`
	Content  string          `json:"content"`
	TTL      int             `json:"ttl"`
	Proxied  bool            `json:"proxied"`
	Priority *int            `json:"priority,omitempty"`
	Comment  string          `json:"comment"`
	Tags     []string        `json:"tags"`
	Data     json.RawMessage `json:"data,omitempty"`
}

// Budget is the request limit the fake enforces: more than Requests calls within Window locks
// every call out with 429 for Lockout (0 means Window), as Cloudflare does; the budget starts
// afresh when the lockout ends.
type Budget struct {
	Requests int
	Window   time.Duration
	Lockout  time.Duration
}

// DefaultToken is the API token a fake made without [Options.Token] accepts.
const DefaultToken = "cloudflaretest-token"

// Options configure a [Server]; the zero value is a fake with no limit, latency or faults,
// accepting [DefaultToken].
type Options struct {
	// Token is the API token every request must carry as "Authorization: Bearer TOKEN"; ""
	// means [DefaultToken]. A request without an Authorization header is answered 400 with
	// code 9106, one whose header is not a bearer token 400 with code 6003 (error chain 6111),
	// and one with another token 403 with code 9109 "Invalid access token" (on GET /zones) or
	// 10000 "Authentication error" (elsewhere), as Cloudflare answers.
	Token string
	// MinTTL is the smallest TTL other than 1 (automatic) the zones accept: 0 means 60, the
	// minimum Cloudflare documents for Free, Pro and Business zones; Enterprise zones go down
	// to 30.
	MinTTL int
	// Budget, if Requests > 0, is enforced.
	Budget Budget
	// Latency delays every response.
	Latency time.Duration
	// Now is the clock for the budget; nil means time.Now.
	Now func() time.Time
	// MaxPerPage caps per_page of record listings; 0 means 5000.
	MaxPerPage int
	// MaxPurgeItems caps the items of one purge call; 0 means 30, the Free plan's limit.
	MaxPurgeItems int
	// IPv4 and IPv6 are the ranges /ips returns; nil means a fixed realistic set.
	IPv4, IPv6 []netip.Prefix
}

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	srv  *httptest.Server
	opts Options

	mu       sync.Mutex
	zones    map[string]string             // id -> name
	plans    map[string]string             // id -> plan legacy_id ("free" unless SetZonePlan)
	records  map[string]map[string]*Record // zone id -> record id -> record
	settings map[string]map[string]any     // zone id -> setting name -> value
	purges   []PurgeRequest
	origin   *originCA
	nextID   int
	calls    []string
	faults   []*Fault
	errs     []string
	window   time.Time
	used     int
	locked   time.Time
	limited  int
}

// NewServer starts a fake on loopback. Close it when done.
func NewServer(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxPurgeItems == 0 {
		opts.MaxPurgeItems = 30
	}
	if opts.Token == "" {
		opts.Token = DefaultToken
	}
	if opts.MinTTL == 0 {
		opts.MinTTL = 60
	}
	if opts.MaxPerPage == 0 {
		opts.MaxPerPage = 5000
	}
	if opts.IPv4 == nil {
		for _, p := range []string{"173.245.48.0/20", "103.21.244.0/22", "104.16.0.0/13", "172.64.0.0/13", "162.158.0.0/15"} {
			opts.IPv4 = append(opts.IPv4, netip.MustParsePrefix(p))
		}
	}
	if opts.IPv6 == nil {
		for _, p := range []string{"2400:cb00::/32", "2606:4700::/32", "2803:f800::/32"} {
			opts.IPv6 = append(opts.IPv6, netip.MustParsePrefix(p))
		}
	}
	s := &Server{opts: opts, zones: map[string]string{}, records: map[string]map[string]*Record{}, settings: map[string]map[string]any{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Start is NewServer for tests: the server closes when the test ends, and the test fails if the
// fake received requests it does not implement.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := NewServer(opts)
	t.Cleanup(func() {
		s.Close()
		for _, e := range s.Errors() {
			t.Errorf("cloudflaretest: %s", e)
		}
	})
	return s
}

// URL is the base URL to give the client (Config.BaseURL).
func (s *Server) URL() string { return s.srv.URL + "/" }

// Token is the API token the fake accepts (give it to the client as Config.Token).
func (s *Server) Token() string { return s.opts.Token }

// Close stops the server; it is idempotent.
func (s *Server) Close() { s.srv.Close() }

// AddZone creates a zone and returns its ID.
func (s *Server) AddZone(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	id := fmt.Sprintf("zone%04d", s.nextID)
	s.zones[id] = name
	if s.plans == nil {
		s.plans = map[string]string{}
	}
	s.plans[id] = "free"
	s.records[id] = map[string]*Record{}
	s.settings[id] = defaultSettings()
	return id
}

// SetZonePlan sets the plan of zone id by its legacy ID ("free", "pro", "business",
// "enterprise"), which the zone listing reports and the batch limit follows. Zones start on
// "free".
func (s *Server) SetZonePlan(id, plan string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.plans[id] = plan
}

// AddRecord stores a record in a zone as if someone else made it, and returns its ID.
func (s *Server) AddRecord(zoneID string, r Record) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	r.ID = fmt.Sprintf("rec%06d", s.nextID)
	if r.TTL == 0 {
		r.TTL = 1
	}
	s.records[zoneID][r.ID] = cloneRecord(&r)
	return r.ID
}

// Records returns a copy of a zone's records sorted by name, type and content.
func (s *Server) Records(zoneID string) []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sorted(zoneID)
}

func (s *Server) sorted(zoneID string) []Record {
	out := make([]Record, 0, len(s.records[zoneID]))
	for _, r := range s.records[zoneID] {
		out = append(out, *cloneRecord(r))
	}
	slices.SortFunc(out, func(a, b Record) int {
		return strings.Compare(a.Name+"\x00"+a.Type+"\x00"+a.Content+"\x00"+a.ID, b.Name+"\x00"+b.Type+"\x00"+b.Content+"\x00"+b.ID)
	})
	return out
}

// Calls returns every request received, as "METHOD /path/with/{id}", in order.
func (s *Server) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// Count returns how many requests matched endpoint, e.g. "POST /zones/{id}/dns_records/batch".
func (s *Server) Count(endpoint string) int {
	n := 0
	for _, c := range s.Calls() {
		if c == endpoint {
			n++
		}
	}
	return n
}

// Limited returns how many requests were answered 429 because the budget was spent.
func (s *Server) Limited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limited
}

// Zones returns the zones by name, with their IDs.
func (s *Server) Zones() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.zones))
	for id, name := range s.zones {
		out[name] = id
	}
	return out
}

// ResetCalls forgets the recorded calls.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

// Errors returns requests the fake could not serve (unknown routes), which a test should treat
// as failures.
func (s *Server) Errors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.errs)
}

func cloneRecord(r *Record) *Record {
	c := *r
	c.Tags = slices.Clone(r.Tags)
	c.Data = slices.Clone(r.Data)
	if r.Priority != nil {
		p := *r.Priority
		c.Priority = &p
	}
	return &c
}

// endpoint normalises a path: zone and record IDs become {id}.
func endpoint(method, path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for i := range parts {
		if i > 0 && (parts[i-1] == "zones" || parts[i-1] == "dns_records") && parts[i] != "batch" {
			parts[i] = "{id}"
		}
	}
	return method + " /" + strings.Join(parts, "/")
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if s.opts.Latency > 0 {
		time.Sleep(s.opts.Latency)
	}
	ep := endpoint(r.Method, r.URL.Path)
	s.mu.Lock()
	s.calls = append(s.calls, ep)
	if status, errs := s.authenticate(r, ep); errs != nil {
		s.mu.Unlock()
		writeErrors(w, status, errs)
		return
	}
	if wait, limited := s.overBudget(); limited {
		s.limited++
		s.mu.Unlock()
		w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
		writeError(w, http.StatusTooManyRequests, 971, "Please wait and consider throttling your request speed")
		return
	}
	if f := s.matchFault(r.Method, r.URL.Path); f != nil {
		s.mu.Unlock()
		f.write(w)
		return
	}
	s.mu.Unlock()

	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case ep == "GET /zones":
		s.listZones(w, r)
	case ep == "GET /ips":
		s.listIPs(w)
	case ep == "GET /zones/{id}/dns_records":
		s.listRecords(w, r, parts[1])
	case ep == "POST /zones/{id}/dns_records/batch":
		s.batch(w, r, parts[1])
	case ep == "POST /zones/{id}/dns_records":
		s.createRecord(w, r, parts[1])
	case ep == "GET /zones/{id}/dns_records/{id}", ep == "PUT /zones/{id}/dns_records/{id}",
		ep == "PATCH /zones/{id}/dns_records/{id}", ep == "DELETE /zones/{id}/dns_records/{id}":
		s.record(w, r, parts[1], parts[3])
	case ep == "POST /certificates":
		s.issueOriginCert(w, r)
	case ep == "POST /zones/{id}/purge_cache":
		s.purge(w, r, parts[1])
	case len(parts) == 4 && parts[0] == "zones" && parts[2] == "settings" && (r.Method == http.MethodGet || r.Method == http.MethodPatch):
		s.setting(w, r, parts[1], parts[3])
	default:
		s.mu.Lock()
		s.errs = append(s.errs, "unimplemented endpoint "+ep)
		s.mu.Unlock()
		writeError(w, http.StatusNotImplemented, 0, "cloudflaretest: "+ep+" is not implemented")
	}
}

// overBudget counts the request against the budget; it reports a lockout and its remainder.
func (s *Server) overBudget() (time.Duration, bool) {
	b := s.opts.Budget
	if b.Requests <= 0 {
		return 0, false
	}
	now := s.opts.Now()
	if now.Before(s.locked) {
		return s.locked.Sub(now), true
	}
	if s.window.IsZero() || now.Sub(s.window) >= b.Window {
		s.window, s.used = now, 0
	}
	s.used++
	if s.used > b.Requests {
		lock := b.Lockout
		if lock == 0 {
			lock = b.Window
		}
		s.locked = now.Add(lock)
		s.window = time.Time{} // a fresh budget once the lockout ends
		return lock, true
	}
	return 0, false
}

type envelope struct {
	Success    bool        `json:"success"`
	Errors     []apiError  `json:"errors"`
	Messages   []string    `json:"messages"`
	Result     any         `json:"result"`
	ResultInfo *resultInfo `json:"result_info,omitempty"`
}

type apiError struct {
	Code       int        `json:"code"`
	Message    string     `json:"message"`
	ErrorChain []apiError `json:"error_chain,omitempty"`
}

type resultInfo struct {
	Page       int `json:"page"`
	PerPage    int `json:"per_page"`
	Count      int `json:"count"`
	TotalCount int `json:"total_count"`
	TotalPages int `json:"total_pages"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status, code int, msg string) {
	writeErrors(w, status, []apiError{{Code: code, Message: msg}})
}

func writeErrors(w http.ResponseWriter, status int, errs []apiError) {
	writeJSON(w, status, envelope{Errors: errs, Messages: []string{}})
}

func (s *Server) listZones(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	s.mu.Lock()
	var out []map[string]any
	for id, n := range s.zones {
		if name == "" || n == name {
			out = append(out, map[string]any{"id": id, "name": n, "status": "active", "plan": map[string]string{"legacy_id": s.plans[id]}})
		}
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b map[string]any) int { return strings.Compare(a["name"].(string), b["name"].(string)) })
	if out == nil {
		out = []map[string]any{}
	}
	writeJSON(w, http.StatusOK, envelope{Success: true, Errors: []apiError{}, Messages: []string{}, Result: out,
		ResultInfo: &resultInfo{Page: 1, PerPage: 20, Count: len(out), TotalCount: len(out), TotalPages: 1}})
}

func (s *Server) listIPs(w http.ResponseWriter) {
	v4 := make([]string, len(s.opts.IPv4))
	for i, p := range s.opts.IPv4 {
		v4[i] = p.String()
	}
	v6 := make([]string, len(s.opts.IPv6))
	for i, p := range s.opts.IPv6 {
		v6[i] = p.String()
	}
	writeJSON(w, http.StatusOK, envelope{Success: true, Errors: []apiError{}, Messages: []string{},
		Result: map[string]any{"ipv4_cidrs": v4, "ipv6_cidrs": v6, "etag": "fake"}})
}

func (s *Server) listRecords(w http.ResponseWriter, r *http.Request, zoneID string) {
	q := r.URL.Query()
	page, perPage := atoiOr(q.Get("page"), 1), atoiOr(q.Get("per_page"), 100)
	if page < 1 || perPage < 1 || perPage > s.opts.MaxPerPage {
		writeError(w, http.StatusBadRequest, 1004, fmt.Sprintf("per_page must be 1-%d and page at least 1", s.opts.MaxPerPage))
		return
	}
	s.mu.Lock()
	if _, ok := s.zones[zoneID]; !ok {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, 7003, "Could not route to /zones/"+zoneID+"/dns_records, perhaps your object identifier is invalid?")
		return
	}
	all := s.sorted(zoneID)
	s.mu.Unlock()
	if name := q.Get("name"); name != "" {
		// name= is an exact match, as Cloudflare's name.exact.
		name = strings.ToLower(strings.TrimSuffix(name, "."))
		all = slices.DeleteFunc(all, func(r Record) bool { return r.Name != name })
	}
	start := min((page-1)*perPage, len(all))
	end := min(start+perPage, len(all))
	pageRecs := all[start:end]
	for i := range pageRecs {
		if pageRecs[i].Tags == nil {
			pageRecs[i].Tags = []string{}
		}
	}
	writeJSON(w, http.StatusOK, envelope{Success: true, Errors: []apiError{}, Messages: []string{}, Result: pageRecs,
		ResultInfo: &resultInfo{Page: page, PerPage: perPage, Count: len(pageRecs), TotalCount: len(all), TotalPages: (len(all) + perPage - 1) / perPage}})
}

func atoiOr(s string, def int) int {
	if s == "" {
		return def
	}
	if n, err := strconv.Atoi(strings.TrimSuffix(s, ".0")); err == nil {
		return n
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return int(f)
	}
	return -1
}
