// Package replicationtest tests code that drives Syncthing through the replication package:
// a wire-level fake of Syncthing's REST API ([Server], served by httptest on loopback), a
// harness that runs the real syncthing binary on loopback ([StartSyncthing]), and the
// conformance suite ([RunConformance]) that holds both to the same contracts.
//
// The fake copies the behaviour measured on Syncthing v1.30.0, each point pinned by a
// conformance subtest: PUT decodes its body over the defaults and stores the object its body
// names (a body without an ID stores nothing), PATCH decodes over the existing object and
// replaces arrays whole, DELETE of an absent object answers 200, a folder always lists the
// own device and drops devices that are not configured, a folder is normalised as
// lib/config does (legacy types "readonly"/"readwrite" stored as sendonly/sendreceive and
// unknown ones as sendreceive, an unknown pull order as random, unknown fields dropped and
// names matched case-insensitively, intervals clamped, zero values defaulted, the path kept
// as given, and every decode, PATCH included, first resetting the fields with a default
// struct tag), a missing or wrong API key answers 403 "CSRF Error", and events carry
// per-filter subscription IDs.
package replicationtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/internal/retry"
	"github.com/webinfra/webinfra/replication"
)

type object = map[string]any

// Server is the fake Syncthing. Its methods are safe for concurrent use.
type Server struct {
	srv   *httptest.Server
	mux   *http.ServeMux
	myID  string
	key   string
	start time.Time

	mu            sync.Mutex
	devices       map[string]object
	folders       map[string]object
	options       object
	defaultFolder object
	defaultDevice object
	files         map[string]map[string]replication.FileInfo // folder -> name -> file
	subs          map[string]*subscription
	globalID      int64
	changed       chan struct{}
	calls         []string
	errs          []string
	faults        []*Fault
}

// NewServer starts a fake with a fresh device ID and API key on loopback. Close it when done.
func NewServer() *Server { return NewServerWithID(RandomDeviceID()) }

// NewServerWithID is [NewServer] for a given device ID, so a fake can stand in for a node whose
// identity exists already (see replication.Identity); id must be a valid device ID in canonical
// form.
func NewServerWithID(id string) *Server {
	s := &Server{
		myID: id, key: "fake-" + RandomDeviceID()[:7], start: time.Now().UTC().Truncate(time.Second),
		devices: map[string]object{}, folders: map[string]object{}, files: map[string]map[string]replication.FileInfo{},
		subs: map[string]*subscription{}, changed: make(chan struct{}),
	}
	s.options = mustObject(defaultOptionsJSON)
	s.defaultFolder = mustObject(defaultFolderJSON)
	s.defaultFolder["devices"] = []any{object{"deviceID": s.myID, "introducedBy": "", "encryptionPassword": ""}}
	s.defaultDevice = mustObject(defaultDeviceJSON)
	self := clone(s.defaultDevice)
	self["deviceID"], self["name"] = s.myID, "fake"
	s.devices[s.myID] = self
	s.subs[""] = &subscription{}
	s.routes()
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.emit("Starting", object{"home": "/fake", "myID": s.myID})
	s.emit("StartupComplete", object{"myID": s.myID})
	return s
}

// Start is NewServer for tests: the server closes when the test ends, and the test fails if the
// fake received requests it does not implement.
func Start(t testing.TB) *Server {
	t.Helper()
	s := NewServer()
	t.Cleanup(func() {
		s.Close()
		for _, e := range s.Errors() {
			t.Errorf("replicationtest: %s", e)
		}
	})
	return s
}

// URL is the base URL to give the client (Config.BaseURL).
func (s *Server) URL() string { return s.srv.URL }

// APIKey is the key the fake accepts in X-API-Key.
func (s *Server) APIKey() webinfra.Secret { return webinfra.NewSecret(s.key) }

// DeviceID is the fake instance's own device ID.
func (s *Server) DeviceID() string { return s.myID }

// Config returns a client configuration for the fake, with retries that wait at most 10ms.
func (s *Server) Config() replication.Config {
	return replication.Config{BaseURL: s.URL(), APIKey: s.APIKey(), Retry: retry.Policy{BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond}}
}

// Close stops the server and waits for outstanding requests; it is idempotent. Pending event
// polls end at once.
func (s *Server) Close() {
	s.mu.Lock()
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
	s.mu.Unlock()
	s.srv.Close()
}

// Calls returns every request received, as "METHOD /rest/path/{param}" (the route pattern,
// query left out), in order.
func (s *Server) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// Count returns how many requests matched endpoint, such as "PATCH /rest/config/folders/{id}".
func (s *Server) Count(endpoint string) int {
	n := 0
	for _, c := range s.Calls() {
		if c == endpoint {
			n++
		}
	}
	return n
}

// Mutations returns how many PUT, PATCH, POST and DELETE requests were received.
func (s *Server) Mutations() int {
	n := 0
	for _, c := range s.Calls() {
		if !strings.HasPrefix(c, "GET ") {
			n++
		}
	}
	return n
}

// ResetCalls forgets the recorded calls.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

// Errors returns the requests the fake could not serve (unknown routes), in order.
func (s *Server) Errors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.errs)
}

// Folders returns a copy of the configured folders, sorted by ID.
func (s *Server) Folders() []replication.Folder {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []replication.Folder
	for _, id := range sortedKeys(s.folders) {
		var f replication.Folder
		_ = json.Unmarshal(mustJSON(s.folders[id]), &f)
		out = append(out, f)
	}
	return out
}

// Devices returns a copy of the configured devices, own included, sorted by ID.
func (s *Server) Devices() []replication.Device {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []replication.Device
	for _, id := range sortedKeys(s.devices) {
		var d replication.Device
		_ = json.Unmarshal(mustJSON(s.devices[id]), &d)
		out = append(out, d)
	}
	return out
}

// SetFile puts a file into a folder's index as both its global and local version, for
// /rest/db/file.
func (s *Server) SetFile(folder string, f replication.FileInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.files[folder] == nil {
		s.files[folder] = map[string]replication.FileInfo{}
	}
	s.files[folder][f.Name] = f
}

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /rest/noauth/health", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, object{"status": "OK"}) })
	m.HandleFunc("GET /rest/system/status", s.status)
	m.HandleFunc("GET /rest/system/ping", ping)
	m.HandleFunc("POST /rest/system/ping", ping)
	m.HandleFunc("GET /rest/config", s.getConfig)
	m.HandleFunc("GET /rest/config/devices", s.listObjects(true))
	m.HandleFunc("POST /rest/config/devices", s.postObject(true))
	m.HandleFunc("GET /rest/config/devices/{id}", s.getObject(true))
	m.HandleFunc("PUT /rest/config/devices/{id}", s.putObject(true))
	m.HandleFunc("PATCH /rest/config/devices/{id}", s.patchObject(true))
	m.HandleFunc("DELETE /rest/config/devices/{id}", s.deleteObject(true))
	m.HandleFunc("GET /rest/config/folders", s.listObjects(false))
	m.HandleFunc("POST /rest/config/folders", s.postObject(false))
	m.HandleFunc("GET /rest/config/folders/{id}", s.getObject(false))
	m.HandleFunc("PUT /rest/config/folders/{id}", s.putObject(false))
	m.HandleFunc("PATCH /rest/config/folders/{id}", s.patchObject(false))
	m.HandleFunc("DELETE /rest/config/folders/{id}", s.deleteObject(false))
	for name, get := range map[string]func() *object{
		"options":         func() *object { return &s.options },
		"defaults/folder": func() *object { return &s.defaultFolder },
		"defaults/device": func() *object { return &s.defaultDevice },
	} {
		m.HandleFunc("GET /rest/config/"+name, func(w http.ResponseWriter, _ *http.Request) {
			s.mu.Lock()
			b := mustJSON(*get())
			s.mu.Unlock()
			writeRaw(w, b)
		})
		for _, method := range []string{"PUT", "PATCH"} {
			m.HandleFunc(method+" /rest/config/"+name, func(w http.ResponseWriter, r *http.Request) {
				body, ok := readObject(w, r)
				if !ok {
					return
				}
				s.mu.Lock()
				base := clone(*get())
				if method == "PUT" && name == "options" {
					base = mustObject(defaultOptionsJSON)
				}
				*get() = merge(base, body)
				s.mu.Unlock()
				s.configSaved()
			})
		}
	}
	m.HandleFunc("GET /rest/db/status", s.withFolder(s.dbStatus))
	m.HandleFunc("GET /rest/db/completion", s.completion)
	m.HandleFunc("GET /rest/db/need", s.withFolder(func(w http.ResponseWriter, _ *http.Request, _ string) {
		writeJSON(w, object{"page": 1, "perpage": 65536, "progress": []any{}, "queued": []any{}, "rest": []any{}})
	}))
	m.HandleFunc("GET /rest/db/file", s.file)
	m.HandleFunc("GET /rest/db/browse", s.withFolder(s.browse))
	m.HandleFunc("GET /rest/db/localchanged", s.withFolder(func(w http.ResponseWriter, _ *http.Request, _ string) {
		// The fake has no local changes: nothing writes behind its back.
		writeJSON(w, object{"files": []any{}, "page": 1, "perpage": 100})
	}))
	m.HandleFunc("GET /rest/folder/errors", s.withFolder(func(w http.ResponseWriter, _ *http.Request, id string) {
		writeJSON(w, object{"errors": nil, "folder": id, "page": 1, "perpage": 65536})
	}))
	m.HandleFunc("POST /rest/db/scan", func(w http.ResponseWriter, r *http.Request) {
		if !s.hasFolder(r.URL.Query().Get("folder")) {
			http.Error(w, "no such folder", http.StatusInternalServerError)
		}
	})
	for _, p := range []string{"/rest/db/scan", "/rest/db/revert", "/rest/db/override"} {
		m.HandleFunc("GET "+p, func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		})
	}
	m.HandleFunc("POST /rest/db/revert", func(http.ResponseWriter, *http.Request) {})
	m.HandleFunc("POST /rest/db/override", func(http.ResponseWriter, *http.Request) {})
	m.HandleFunc("GET /rest/events", s.events)
	m.HandleFunc("GET /rest/cluster/pending/devices", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, object{}) })
	m.HandleFunc("GET /rest/cluster/pending/folders", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, object{}) })
	s.mux = m
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	_, pattern := s.mux.Handler(r)
	s.mu.Lock()
	name := pattern
	if name == "" {
		name = r.Method + " " + r.URL.Path
		s.errs = append(s.errs, "unimplemented route "+name)
	}
	s.calls = append(s.calls, name)
	fault := s.matchFault(r.Method, r.URL.Path)
	s.mu.Unlock()
	if fault != nil {
		fault.write(w)
		return
	}
	if pattern == "" {
		http.Error(w, "replicationtest: not implemented: "+name, http.StatusNotImplemented)
		return
	}
	if !strings.HasPrefix(r.URL.Path, "/rest/noauth/") && r.Header.Get("X-API-Key") != s.key {
		http.Error(w, "CSRF Error", http.StatusForbidden)
		return
	}
	s.mux.ServeHTTP(w, r)
}

func ping(w http.ResponseWriter, _ *http.Request) { writeJSON(w, object{"ping": "pong"}) }

func (s *Server) status(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, object{"myID": s.myID, "startTime": s.start, "uptime": int64(time.Since(s.start) / time.Second)})
}

func (s *Server) getConfig(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	b := mustJSON(s.wholeConfig())
	s.mu.Unlock()
	writeRaw(w, b)
}

// wholeConfig is GET /rest/config; s.mu is held.
func (s *Server) wholeConfig() object {
	devs, folders := []any{}, []any{}
	for _, id := range s.deviceOrder() {
		devs = append(devs, s.devices[id])
	}
	for _, id := range sortedKeys(s.folders) {
		folders = append(folders, s.folders[id])
	}
	return object{
		"version": 37, "folders": folders, "devices": devs, "options": s.options,
		"gui":      object{"enabled": true, "address": strings.TrimPrefix(s.srv.URL, "http://"), "apiKey": s.key},
		"defaults": object{"folder": s.defaultFolder, "device": s.defaultDevice, "ignores": object{"lines": []any{}}},
	}
}

// deviceOrder lists the device IDs in Syncthing's order; s.mu is held.
func (s *Server) deviceOrder() []string {
	ids := sortedKeys(s.devices)
	SortDeviceIDs(ids)
	return ids
}

func (s *Server) table(devices bool) (map[string]object, string, string) {
	if devices {
		return s.devices, "deviceID", "No device with given ID"
	}
	return s.folders, "id", "No folder with given ID"
}

func (s *Server) listObjects(devices bool) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		tab, _, _ := s.table(devices)
		ids := sortedKeys(tab)
		if devices {
			ids = s.deviceOrder()
		}
		out := []any{}
		for _, id := range ids {
			out = append(out, tab[id])
		}
		b := mustJSON(out)
		s.mu.Unlock()
		writeRaw(w, b)
	}
}

// checkID answers 400 for a malformed device ID, as Syncthing does.
func checkID(w http.ResponseWriter, devices bool, id string) bool {
	if devices {
		if msg := deviceIDError(id); msg != "" {
			http.Error(w, strconv.Quote(id)+": "+msg, http.StatusBadRequest)
			return false
		}
	}
	return true
}

func (s *Server) getObject(devices bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if !checkID(w, devices, id) {
			return
		}
		s.mu.Lock()
		tab, _, missing := s.table(devices)
		o, ok := tab[id]
		b := mustJSON(o)
		s.mu.Unlock()
		if !ok {
			http.Error(w, missing, http.StatusNotFound)
			return
		}
		writeRaw(w, b)
	}
}

// store decodes body over base and stores the result under the ID it names; s.mu is held.
// Like Syncthing, an object without an ID is dropped (devices) or refused (folders).
func (s *Server) store(w http.ResponseWriter, devices bool, base, body object) bool {
	tab, key, _ := s.table(devices)
	o := merge(base, body)
	if !devices {
		o = normaliseFolder(merge(resetDefaults(base), canonicalFolderKeys(body)))
	}
	id, _ := o[key].(string)
	if devices {
		if id == "" {
			return true
		}
		if msg := deviceIDError(id); msg != "" {
			http.Error(w, strconv.Quote(id)+": "+msg, http.StatusBadRequest)
			return false
		}
		tab[id] = o
		return true
	}
	if id == "" {
		http.Error(w, "folder has empty ID", http.StatusInternalServerError)
		return false
	}
	if p, _ := o["path"].(string); p == "" {
		http.Error(w, fmt.Sprintf("folder %q: folder has empty path", id), http.StatusInternalServerError)
		return false
	}
	o["devices"] = s.folderDevices(o["devices"])
	tab[id] = o
	return true
}

// folderDevices normalises a folder's device list as Syncthing does: the own device added,
// unknown devices dropped, sorted by ID, each entry with all its fields; s.mu is held.
func (s *Server) folderDevices(v any) []any {
	list, _ := v.([]any)
	seen := map[string]object{}
	for _, e := range append(list, object{"deviceID": s.myID}) {
		d, ok := e.(object)
		if !ok {
			continue
		}
		id, _ := d["deviceID"].(string)
		if _, known := s.devices[id]; !known {
			continue
		}
		if _, dup := seen[id]; !dup {
			seen[id] = merge(object{"deviceID": id, "introducedBy": "", "encryptionPassword": ""}, d)
		}
	}
	ids := sortedKeys(seen)
	SortDeviceIDs(ids)
	out := []any{}
	for _, id := range ids {
		out = append(out, seen[id])
	}
	return out
}

func (s *Server) putObject(devices bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !checkID(w, devices, r.PathValue("id")) {
			return
		}
		s.putOrPost(w, r, devices)
	}
}

func (s *Server) postObject(devices bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { s.putOrPost(w, r, devices) }
}

func (s *Server) putOrPost(w http.ResponseWriter, r *http.Request, devices bool) {
	body, ok := readObject(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	base := clone(s.defaultFolder)
	if devices {
		base = clone(s.defaultDevice)
	}
	ok = s.store(w, devices, base, body)
	s.mu.Unlock()
	if ok {
		s.configSaved()
	}
}

func (s *Server) patchObject(devices bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if !checkID(w, devices, id) {
			return
		}
		body, ok := readObject(w, r)
		if !ok {
			return
		}
		s.mu.Lock()
		tab, _, missing := s.table(devices)
		cur, exists := tab[id]
		if !exists {
			s.mu.Unlock()
			http.Error(w, missing, http.StatusNotFound)
			return
		}
		ok = s.store(w, devices, clone(cur), body)
		s.mu.Unlock()
		if ok {
			s.configSaved()
		}
	}
}

func (s *Server) deleteObject(devices bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if !checkID(w, devices, id) {
			return
		}
		s.mu.Lock()
		tab, _, _ := s.table(devices)
		delete(tab, id)
		if devices {
			for _, f := range s.folders {
				f["devices"] = s.folderDevices(f["devices"])
			}
		}
		s.mu.Unlock()
		s.configSaved()
	}
}

func (s *Server) hasFolder(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.folders[id]
	return ok
}

func (s *Server) withFolder(h func(http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("folder")
		if !s.hasFolder(id) {
			http.Error(w, "no such folder", http.StatusNotFound)
			return
		}
		h(w, r, id)
	}
}

func (s *Server) dbStatus(w http.ResponseWriter, _ *http.Request, id string) {
	s.mu.Lock()
	n := len(s.files[id])
	// The fake stands for a cluster in sync: it reports every peer's index as received in full,
	// far beyond any sequence a peer can have.
	remote := object{}
	if devs, ok := s.folders[id]["devices"].([]any); ok {
		for _, d := range devs {
			if dev, _ := d.(object)["deviceID"].(string); dev != "" && dev != s.myID {
				remote[dev] = int64(1) << 40
			}
		}
	}
	s.mu.Unlock()
	writeJSON(w, object{
		"errors": 0, "pullErrors": 0, "invalid": "", "globalFiles": n, "globalBytes": 0, "localFiles": n, "localBytes": 0,
		"needFiles": 0, "needBytes": 0, "needTotalItems": 0, "receiveOnlyTotalItems": 0, "inSyncFiles": n,
		"state": "idle", "stateChanged": s.start, "error": "", "version": 0, "sequence": n, "remoteSequence": remote,
	})
}

func (s *Server) completion(w http.ResponseWriter, r *http.Request) {
	if id := r.URL.Query().Get("folder"); id != "" && !s.hasFolder(id) {
		http.Error(w, "no such folder", http.StatusNotFound)
		return
	}
	writeJSON(w, object{"completion": 100, "globalBytes": 0, "globalItems": 0, "needBytes": 0, "needDeletes": 0, "needItems": 0, "remoteState": "unknown", "sequence": 0})
}

// browse answers the folder's global tree built from the files given to SetFile, as
// Syncthing's /rest/db/browse does: directories with children, names sorted.
func (s *Server) browse(w http.ResponseWriter, _ *http.Request, id string) {
	type entry struct {
		Name     string   `json:"name"`
		Type     string   `json:"type"`
		Children []*entry `json:"children,omitempty"`
	}
	root := &entry{}
	s.mu.Lock()
	names := slices.Sorted(maps.Keys(s.files[id]))
	s.mu.Unlock()
	for _, name := range names {
		dir := root
		parts := strings.Split(name, "/")
		for i, part := range parts {
			var next *entry
			for _, c := range dir.Children {
				if c.Name == part {
					next = c
				}
			}
			if next == nil {
				next = &entry{Name: part, Type: "FILE_INFO_TYPE_DIRECTORY"}
				dir.Children = append(dir.Children, next)
			}
			if i == len(parts)-1 {
				next.Type = "FILE_INFO_TYPE_FILE"
			}
			dir = next
		}
	}
	out := root.Children
	if out == nil {
		out = []*entry{}
	}
	writeJSON(w, out)
}

func (s *Server) file(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	f, ok := s.files[q.Get("folder")][q.Get("file")]
	s.mu.Unlock()
	if !ok {
		http.Error(w, "No such object in the index", http.StatusNotFound)
		return
	}
	writeJSON(w, object{"availability": nil, "global": f, "local": f})
}

// configSaved records a ConfigSaved event carrying the whole configuration, as Syncthing does.
func (s *Server) configSaved() {
	s.mu.Lock()
	cfg := clone(s.wholeConfig())
	s.mu.Unlock()
	s.emit("ConfigSaved", cfg)
}

func readObject(w http.ResponseWriter, r *http.Request) (object, bool) {
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(r.Body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return nil, false
	}
	var o object
	if err := json.Unmarshal(buf.Bytes(), &o); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return nil, false
	}
	if o == nil {
		o = object{}
	}
	return o, true
}

// merge decodes patch over base as encoding/json decodes into a struct: objects merge key by
// key, everything else (arrays included) is replaced.
func merge(base, patch object) object {
	out := clone(base)
	if out == nil {
		out = object{}
	}
	for k, v := range patch {
		if po, ok := v.(object); ok {
			if bo, ok := out[k].(object); ok {
				out[k] = merge(bo, po)
				continue
			}
		}
		out[k] = v
	}
	return out
}

func clone(o object) object {
	if o == nil {
		return nil
	}
	var out object
	_ = json.Unmarshal(mustJSON(o), &out)
	return out
}

func mustObject(s string) object {
	var o object
	if err := json.Unmarshal([]byte(s), &o); err != nil {
		panic(err) // constant input
	}
	return o
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only maps, slices and scalars decoded from JSON
	}
	return b
}

func writeJSON(w http.ResponseWriter, v any) { writeRaw(w, mustJSON(v)) }

func writeRaw(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(b)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
