// Package securitytest tests code that uses package security: a wire-level fake of Canonical
// Landscape ([LandscapeServer]: REST API v2 and the signed legacy API), a fake [security.Scanner]
// ([FakeScanner]), a stand-in odscan program printing ESET's record lines and exit codes
// ([BuildOdscan]), and a harness for a real clamd with a signature database the test writes
// ([StartClamd], [SignatureDB]).
package securitytest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/security"
)

// FakeComputer is a computer registered with the fake Landscape.
type FakeComputer struct {
	// ID is assigned by [LandscapeServer.AddComputer] when 0.
	ID       int
	Hostname string
	Title    string
	Tags     []string
	// Upgrades are the pending upgrades; an upgrade activity clears them (security ones only
	// when security_only).
	Upgrades []security.Package
	// RebootAfterUpgrade sets RebootRequired when an upgrade activity upgraded something.
	RebootAfterUpgrade bool
	// RebootRequired is Landscape's reboot-required flag; a reboot activity clears it.
	RebootRequired bool
}

// LandscapeFault makes matching requests fail: Method and Path match the request (Path may end
// in "*"), Action the legacy action; empty fields match anything. Times limits how many
// requests it hits (0 means all). Faults are checked in order; the first match wins.
type LandscapeFault struct {
	Method, Path, Action string
	Status               int
	Times                int
	hits                 int
}

type fakeActivity struct {
	security.Activity
	kind      string // "upgrade", "reboot", "script"
	computers []int
	security  bool
	polls     int
	fail      bool
	done      bool
}

// LandscapeServer is the fake Landscape, served over HTTP on loopback. Its methods are safe for
// concurrent use.
type LandscapeServer struct {
	srv *httptest.Server

	// Credentials it accepts; fixed at creation.
	AccessKey string
	SecretKey webinfra.Secret
	Email     string
	Password  webinfra.Secret

	mu         sync.Mutex
	computers  map[int]*FakeComputer
	activities map[int]*fakeActivity
	nextID     int
	tokens     map[string]bool
	calls      []string
	errs       []string
	faults     []*LandscapeFault
	failNext   map[string]int // "hostname kind" -> count
	onReboot   func(hostname string)
	polls      int
	scripts    map[int]string // script ID -> title
}

// NewLandscapeServer starts a fake with fixed test credentials (AccessKey "TESTKEY", SecretKey
// "test-secret", Email "admin@example.com", Password "pw"). Close it when done.
func NewLandscapeServer() *LandscapeServer {
	s := &LandscapeServer{
		AccessKey: "TESTKEY", SecretKey: webinfra.NewSecret("test-secret"),
		Email: "admin@example.com", Password: webinfra.NewSecret("pw"),
		computers: map[int]*FakeComputer{}, activities: map[int]*fakeActivity{}, tokens: map[string]bool{},
		failNext: map[string]int{}, polls: 1, nextID: 100, scripts: map[int]string{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// StartLandscape is [NewLandscapeServer] closed by t.Cleanup.
func StartLandscape(t testing.TB) *LandscapeServer {
	s := NewLandscapeServer()
	t.Cleanup(s.Close)
	return s
}

// URL is the server's base URL (for LandscapeConfig.BaseURL).
func (s *LandscapeServer) URL() string { return s.srv.URL }

// Close shuts the server down.
func (s *LandscapeServer) Close() { s.srv.Close() }

// Config returns a client configuration for this server using the access key (REST API).
func (s *LandscapeServer) Config() security.LandscapeConfig {
	return security.LandscapeConfig{BaseURL: s.URL(), AccessKey: s.AccessKey, SecretKey: s.SecretKey, PollInterval: 10 * time.Millisecond}
}

// AddComputer registers a computer and returns its ID.
func (s *LandscapeServer) AddComputer(c FakeComputer) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.ID == 0 {
		s.nextID++
		c.ID = s.nextID
	}
	c.Tags, c.Upgrades = slices.Clone(c.Tags), slices.Clone(c.Upgrades)
	s.computers[c.ID] = &c
	return c.ID
}

// Computer returns a copy of the computer with hostname; ok is false when there is none.
func (s *LandscapeServer) Computer(hostname string) (FakeComputer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.computers {
		if c.Hostname == hostname {
			cp := *c
			cp.Tags, cp.Upgrades = slices.Clone(c.Tags), slices.Clone(c.Upgrades)
			return cp, true
		}
	}
	return FakeComputer{}, false
}

// SetActivityPolls sets how many reads of an activity it takes to finish (default 1: the
// first read after creation finishes it).
func (s *LandscapeServer) SetActivityPolls(n int) {
	s.mu.Lock()
	s.polls = max(n, 1)
	s.mu.Unlock()
}

// FailNext makes the next n activities of kind ("upgrade", "reboot", "script") on hostname end
// "failed".
func (s *LandscapeServer) FailNext(hostname, kind string, n int) {
	s.mu.Lock()
	s.failNext[hostname+" "+kind] += n
	s.mu.Unlock()
}

// OnReboot sets a hook called (without the server's lock) when a reboot activity finishes,
// before the activity reads as succeeded: tests flip the node NotReady there, and back to
// Ready later, as a real reboot would.
func (s *LandscapeServer) OnReboot(f func(hostname string)) {
	s.mu.Lock()
	s.onReboot = f
	s.mu.Unlock()
}

// AddFault appends a fault.
func (s *LandscapeServer) AddFault(f LandscapeFault) {
	s.mu.Lock()
	s.faults = append(s.faults, &f)
	s.mu.Unlock()
}

// Calls returns the requests so far as "METHOD /path" or "ACTION" (legacy), in order.
func (s *LandscapeServer) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// Count returns how many recorded calls equal call.
func (s *LandscapeServer) Count(call string) int {
	n := 0
	for _, c := range s.Calls() {
		if c == call {
			n++
		}
	}
	return n
}

// Errors returns the requests the fake could not serve (unknown routes, bad signatures).
func (s *LandscapeServer) Errors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.errs)
}

type apiErr struct {
	status    int
	code, msg string
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *LandscapeServer) serve(w http.ResponseWriter, r *http.Request) {
	action := ""
	if r.URL.Path == "/api/" {
		action = r.URL.Query().Get("action")
	}
	s.mu.Lock()
	call := r.Method + " " + r.URL.Path
	if action != "" {
		call = action
	}
	s.calls = append(s.calls, call)
	for _, f := range s.faults {
		if (f.Method == "" || f.Method == r.Method) && pathMatch(f.Path, r.URL.Path) && (f.Action == "" || f.Action == action) && (f.Times == 0 || f.hits < f.Times) {
			f.hits++
			s.mu.Unlock()
			writeJSON(w, f.Status, map[string]string{"error": "InjectedFault", "message": "fault injected by the test"})
			return
		}
	}
	s.mu.Unlock()

	var status int
	var body any
	var e *apiErr
	var hook func()
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/api/v2/login":
		body, e = s.login(r, false)
	case r.Method == http.MethodPost && r.URL.Path == "/api/v2/login/access-key":
		body, e = s.login(r, true)
	case unknownRESTVersion(r.URL.Path):
		// Landscape serves only /api/v2: another version is a path it does not have.
		e = &apiErr{http.StatusNotFound, "NotFound", "The requested URL " + r.URL.Path + " was not found on the server."}
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/api/v2/"):
		if e = s.checkBearer(r); e == nil {
			body, hook, e = s.restGet(r)
		}
	case r.Method == http.MethodGet && r.URL.Path == "/api/":
		if e = s.checkLegacy(r); e == nil {
			body, hook, e = s.legacyAction(r.URL.Query())
		}
	default:
		s.mu.Lock()
		s.errs = append(s.errs, "unhandled "+call)
		s.mu.Unlock()
		e = &apiErr{http.StatusNotImplemented, "NotImplemented", "the fake does not serve " + call}
	}
	if hook != nil {
		hook()
	}
	if e != nil {
		writeJSON(w, e.status, map[string]string{"error": e.code, "message": e.msg})
		return
	}
	if status == 0 {
		status = http.StatusOK
	}
	writeJSON(w, status, body)
}

// unknownRESTVersion reports whether p is under /api/vN/ for a version N other than 2.
func unknownRESTVersion(p string) bool {
	rest, ok := strings.CutPrefix(p, "/api/v")
	if !ok {
		return false
	}
	n, _, _ := strings.Cut(rest, "/")
	if _, err := strconv.Atoi(n); err != nil {
		return false
	}
	return n != "2"
}

func pathMatch(pattern, p string) bool {
	if pattern == "" {
		return true
	}
	if strings.HasSuffix(pattern, "*") {
		return strings.HasPrefix(p, strings.TrimSuffix(pattern, "*"))
	}
	return pattern == p
}

func (s *LandscapeServer) login(r *http.Request, accessKey bool) (any, *apiErr) {
	var in map[string]string
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		return nil, &apiErr{http.StatusBadRequest, "InvalidRequest", "body is not JSON"}
	}
	ok := false
	if accessKey {
		ok = in["access_key"] == s.AccessKey && in["secret_key"] == s.SecretKey.Reveal()
	} else {
		ok = in["email"] == s.Email && in["password"] == s.Password.Reveal()
	}
	if !ok {
		return nil, &apiErr{http.StatusUnauthorized, "Unauthorized", "invalid credentials"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tok := fmt.Sprintf("fake-jwt-%d", len(s.tokens)+1)
	s.tokens[tok] = true
	return map[string]any{"token": tok, "email": s.Email, "name": "Test Admin", "current_account": "standalone",
		"accounts": []map[string]any{{"name": "standalone", "title": "Test", "default": true}}}, nil
}

// AddScript stores a script under id, as Landscape's script library does; ExecuteScript
// refuses IDs that were not added.
func (s *LandscapeServer) AddScript(id int, title string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scripts[id] = title
}

// ExpireTokens forgets every JWT issued, as after their expiry: the next call answers 401.
func (s *LandscapeServer) ExpireTokens() {
	s.mu.Lock()
	s.tokens = map[string]bool{}
	s.mu.Unlock()
}

func (s *LandscapeServer) checkBearer(r *http.Request) *apiErr {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	defer s.mu.Unlock()
	if !ok || !s.tokens[tok] {
		return &apiErr{http.StatusUnauthorized, "Unauthorized", "missing or invalid token"}
	}
	return nil
}

func (s *LandscapeServer) checkLegacy(r *http.Request) *apiErr {
	if r.Header.Get("Authorization") != "" {
		if e := s.checkBearer(r); e != nil {
			return e
		}
		return checkVersion(r.URL.Query())
	}
	q := r.URL.Query()
	for _, k := range []string{"access_key_id", "signature_method", "signature_version", "timestamp", "signature", "version"} {
		if q.Get(k) == "" {
			return &apiErr{http.StatusBadRequest, "MissingParameter", "missing " + k}
		}
	}
	if e := checkVersion(q); e != nil {
		return e
	}
	if q.Get("signature_method") != "HmacSHA256" || q.Get("signature_version") != "2" {
		return &apiErr{http.StatusBadRequest, "InvalidSignatureMethod", "want HmacSHA256 version 2"}
	}
	ts, err := time.Parse("2006-01-02T15:04:05Z", q.Get("timestamp"))
	if err != nil || time.Since(ts).Abs() > 15*time.Minute {
		return &apiErr{http.StatusUnauthorized, "InvalidTimestamp", "timestamp missing or too far from now"}
	}
	key, ok := security.VerifyLegacy(r.Method, r.Host, r.URL.Path, q, s.SecretKey)
	if key != s.AccessKey || !ok {
		s.mu.Lock()
		s.errs = append(s.errs, "bad signature for "+q.Get("action"))
		s.mu.Unlock()
		return &apiErr{http.StatusUnauthorized, "AuthFailure", "signature does not match"}
	}
	return nil
}

// checkVersion refuses a legacy call whose version parameter is missing or not the one API
// version Landscape's legacy API has, 2011-08-01.
func checkVersion(q url.Values) *apiErr {
	switch v := q.Get("version"); v {
	case "":
		return &apiErr{http.StatusBadRequest, "MissingParameter", "missing version"}
	case security.LegacyAPIVersion:
		return nil
	default:
		return &apiErr{http.StatusBadRequest, "UnknownVersion", fmt.Sprintf("Unknown API version %q; the supported version is %s", v, security.LegacyAPIVersion)}
	}
}

// matches evaluates a Landscape search query: terms joined by " OR ", each alternative a
// space-separated AND of tag:, hostname:, id: or bare words (hostname or title).
func matches(c *FakeComputer, query string) bool {
	if strings.TrimSpace(query) == "" {
		return true
	}
	for _, alt := range strings.Split(query, " OR ") {
		all := true
		for _, term := range strings.Fields(alt) {
			k, v, hasKey := strings.Cut(term, ":")
			var ok bool
			switch {
			case !hasKey:
				ok = c.Hostname == term || c.Title == term
			case k == "tag":
				ok = slices.Contains(c.Tags, v)
			case k == "hostname":
				ok = c.Hostname == v
			case k == "id":
				ok = strconv.Itoa(c.ID) == v
			}
			all = all && ok
		}
		if all {
			return true
		}
	}
	return false
}

func (s *LandscapeServer) selectComputers(query string) []security.Computer {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []security.Computer
	for _, c := range s.computers {
		if matches(c, query) {
			out = append(out, security.Computer{ID: c.ID, Title: c.Title, Hostname: c.Hostname, Tags: slices.Clone(c.Tags), RebootRequiredFlag: c.RebootRequired})
		}
	}
	slices.SortFunc(out, func(a, b security.Computer) int { return a.ID - b.ID })
	return out
}

func paginate[T any](items []T, q url.Values) ([]T, int) {
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit <= 0 {
		limit = 1000
	}
	offset, _ := strconv.Atoi(q.Get("offset"))
	total := len(items)
	if offset > len(items) {
		offset = len(items)
	}
	items = items[offset:]
	if len(items) > limit {
		items = items[:limit]
	}
	return items, total
}

func (s *LandscapeServer) packages(q url.Values) []security.Package {
	var out []security.Package
	sec := q.Get("security") == "true"
	for _, c := range s.selectComputers(q.Get("query")) {
		s.mu.Lock()
		for _, p := range s.computers[c.ID].Upgrades {
			if !sec || p.Security {
				out = append(out, p)
			}
		}
		s.mu.Unlock()
	}
	return out
}

func (s *LandscapeServer) restGet(r *http.Request) (any, func(), *apiErr) {
	q := r.URL.Query()
	rest := strings.TrimPrefix(r.URL.Path, "/api/v2")
	switch {
	case rest == "/computers":
		items, total := paginate(s.selectComputers(q.Get("query")), q)
		return map[string]any{"count": total, "results": nonNil(items), "next": nil, "previous": nil}, nil, nil
	case rest == "/packages":
		items, total := paginate(s.packages(q), q)
		return map[string]any{"count": total, "results": nonNil(items), "next": nil, "previous": nil}, nil, nil
	case strings.HasPrefix(rest, "/activities/"):
		id, err := strconv.Atoi(strings.TrimPrefix(rest, "/activities/"))
		if err != nil {
			return nil, nil, &apiErr{http.StatusNotFound, "NotFound", "no such activity"}
		}
		a, hook, ok := s.readActivity(id)
		if !ok {
			return nil, nil, &apiErr{http.StatusNotFound, "NotFound", "no such activity"}
		}
		return a, hook, nil
	}
	s.mu.Lock()
	s.errs = append(s.errs, "unhandled GET "+r.URL.Path)
	s.mu.Unlock()
	return nil, nil, &apiErr{http.StatusNotImplemented, "NotImplemented", "the fake does not serve GET " + r.URL.Path}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (s *LandscapeServer) legacyAction(q url.Values) (any, func(), *apiErr) {
	switch q.Get("action") {
	case "GetComputers":
		items, _ := paginate(s.selectComputers(q.Get("query")), q)
		return nonNil(items), nil, nil
	case "GetPackages":
		items, _ := paginate(s.packages(q), q)
		return nonNil(items), nil, nil
	case "GetActivities":
		id, err := strconv.Atoi(strings.TrimPrefix(q.Get("query"), "id:"))
		if err != nil {
			return nil, nil, &apiErr{http.StatusBadRequest, "InvalidQuery", "the fake understands only id:N"}
		}
		a, hook, ok := s.readActivity(id)
		if !ok {
			return []security.Activity{}, nil, nil
		}
		return []security.Activity{a}, hook, nil
	case "UpgradePackages":
		return s.startActivity("upgrade", s.ids(q.Get("query")), q.Get("security_only") == "true", "Upgrade packages")
	case "RebootComputers":
		var ids []int
		for i := 1; ; i++ {
			v := q.Get("computer_ids." + strconv.Itoa(i))
			if v == "" {
				break
			}
			id, err := strconv.Atoi(v)
			if err != nil {
				return nil, nil, &apiErr{http.StatusBadRequest, "InvalidParameter", "computer_ids." + strconv.Itoa(i)}
			}
			ids = append(ids, id)
		}
		return s.startActivity("reboot", ids, false, "Restart computer")
	case "ExecuteScript":
		if q.Get("script_id") == "" {
			return nil, nil, &apiErr{http.StatusBadRequest, "MissingParameter", "script_id"}
		}
		id, err := strconv.Atoi(q.Get("script_id"))
		if err != nil {
			return nil, nil, &apiErr{http.StatusBadRequest, "InvalidParameter", "script_id must be an integer"}
		}
		s.mu.Lock()
		_, known := s.scripts[id]
		s.mu.Unlock()
		if !known {
			return nil, nil, &apiErr{http.StatusNotFound, "UnknownScript", fmt.Sprintf("Unknown script with ID %d", id)}
		}
		return s.startActivity("script", s.ids(q.Get("query")), false, "Run script "+q.Get("script_id"))
	}
	s.mu.Lock()
	s.errs = append(s.errs, "unhandled action "+q.Get("action"))
	s.mu.Unlock()
	return nil, nil, &apiErr{http.StatusNotImplemented, "UnknownAction", "the fake does not serve " + q.Get("action")}
}

func (s *LandscapeServer) ids(query string) []int {
	var ids []int
	for _, c := range s.selectComputers(query) {
		ids = append(ids, c.ID)
	}
	return ids
}

func (s *LandscapeServer) startActivity(kind string, ids []int, sec bool, summary string) (any, func(), *apiErr) {
	if len(ids) == 0 {
		return nil, nil, &apiErr{http.StatusBadRequest, "UnknownComputer", "no computers selected"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	a := &fakeActivity{kind: kind, computers: ids, security: sec}
	a.ID, a.Type, a.Summary, a.Status = s.nextID, kindType[kind], summary, "undelivered"
	if len(ids) == 1 {
		a.ComputerID = ids[0]
	}
	for _, id := range ids {
		if c := s.computers[id]; c != nil && s.failNext[c.Hostname+" "+kind] > 0 {
			s.failNext[c.Hostname+" "+kind]--
			a.fail = true
		}
	}
	s.activities[a.ID] = a
	return a.Activity, nil, nil
}

var kindType = map[string]string{"upgrade": "ChangePackagesRequest", "reboot": "RestartRequest", "script": "ExecuteScriptRequest"}

// readActivity returns the activity after one more poll; finishing it applies its effect and,
// for a reboot, returns the reboot hook to run before the reply is sent.
func (s *LandscapeServer) readActivity(id int) (security.Activity, func(), bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.activities[id]
	if !ok {
		return security.Activity{}, nil, false
	}
	var hook func()
	if !a.done {
		a.polls++
		a.Status = "delivered"
		if a.polls >= s.polls {
			a.done = true
			if a.fail {
				a.Status, a.ResultText = "failed", "injected failure"
			} else {
				a.Status, a.ResultText = "succeeded", ""
				hook = s.apply(a)
			}
		}
	}
	return a.Activity, hook, true
}

func (s *LandscapeServer) apply(a *fakeActivity) func() {
	var rebooted []string
	for _, id := range a.computers {
		c := s.computers[id]
		if c == nil {
			continue
		}
		switch a.kind {
		case "upgrade":
			var keep []security.Package
			upgraded := false
			for _, p := range c.Upgrades {
				if a.security && !p.Security {
					keep = append(keep, p)
				} else {
					upgraded = true
				}
			}
			c.Upgrades = keep
			if upgraded && c.RebootAfterUpgrade {
				c.RebootRequired = true
			}
		case "reboot":
			c.RebootRequired = false
			rebooted = append(rebooted, c.Hostname)
		}
	}
	if f := s.onReboot; f != nil && len(rebooted) > 0 {
		return func() {
			for _, h := range rebooted {
				f(h)
			}
		}
	}
	return nil
}
