package cloudflaretest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// This file holds the conformance subtests that talk to the API past the cloudflare client,
// so that they see what the service itself refuses, whatever the client checks first.

// wireEnvelope is the part of Cloudflare's response envelope the wire subtests read.
type wireEnvelope struct {
	Success bool            `json:"success"`
	Errors  []apiError      `json:"errors"`
	Result  json.RawMessage `json:"result"`
}

// authHeader is how a raw request authenticates: nil sends the target's token.
type authHeader *string

// raw sends one request and decodes the envelope. body, if not nil, is sent as JSON.
func raw(t *testing.T, tg Target, auth authHeader, method, path string, body any) (int, wireEnvelope) {
	t.Helper()
	base := tg.BaseURL
	if base == "" {
		base = "https://api.cloudflare.com/client/v4/"
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(base, "/")+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	switch {
	case auth == nil:
		req.Header.Set("Authorization", "Bearer "+tg.Token.Reveal())
	case *auth != "":
		req.Header.Set("Authorization", *auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var env wireEnvelope
	if err := json.Unmarshal(data, &env); err != nil {
		t.Fatalf("%s %s: %d, not Cloudflare's envelope: %v\n%s", method, path, resp.StatusCode, err, data)
	}
	return resp.StatusCode, env
}

func header(v string) authHeader { return &v }

// zoneID looks the target's zone up by name.
func zoneID(t *testing.T, tg Target) string {
	t.Helper()
	status, env := raw(t, tg, nil, http.MethodGet, "/zones?name="+url.QueryEscape(tg.Zone), nil)
	var zones []struct {
		ID string `json:"id"`
	}
	if status != http.StatusOK || json.Unmarshal(env.Result, &zones) != nil || len(zones) != 1 {
		t.Fatalf("zone %s: HTTP %d %+v", tg.Zone, status, env.Errors)
	}
	return zones[0].ID
}

// wantRefused checks that the answer is Cloudflare's error envelope with the status and, if
// code is not 0, that code among its errors.
func wantRefused(t *testing.T, status int, env wireEnvelope, wantStatus, code int) {
	t.Helper()
	if status != wantStatus || env.Success || len(env.Errors) == 0 {
		t.Fatalf("want HTTP %d with success false and errors, got HTTP %d success=%v errors=%+v", wantStatus, status, env.Success, env.Errors)
	}
	if code == 0 {
		return
	}
	codes := make([]int, len(env.Errors))
	for i, e := range env.Errors {
		codes[i] = e.Code
	}
	if !slices.Contains(codes, code) {
		t.Fatalf("want error code %d, got %+v", code, env.Errors)
	}
}

func testAuthMissing(t *testing.T, h Harness) {
	tg := h.New(t)
	status, env := raw(t, tg, header(""), http.MethodGet, "/zones", nil)
	wantRefused(t, status, env, http.StatusBadRequest, 9106)
}

func testAuthMalformed(t *testing.T, h Harness) {
	tg := h.New(t)
	for _, v := range []string{"Basic " + tg.Token.Reveal(), "Bearer not a token", tg.Token.Reveal()} {
		status, env := raw(t, tg, header(v), http.MethodGet, "/zones", nil)
		wantRefused(t, status, env, http.StatusBadRequest, 6003)
	}
}

func testAuthWrong(t *testing.T, h Harness) {
	tg := h.New(t)
	id := zoneID(t, tg)
	wrong := header("Bearer " + strings.Repeat("x", 40))
	status, env := raw(t, tg, wrong, http.MethodGet, "/zones", nil)
	wantRefused(t, status, env, http.StatusForbidden, 9109)
	status, env = raw(t, tg, wrong, http.MethodGet, "/zones/"+id+"/dns_records", nil)
	wantRefused(t, status, env, http.StatusForbidden, 10000)
	status, env = raw(t, tg, wrong, http.MethodPost, "/zones/"+id+"/dns_records",
		map[string]any{"name": "auth." + tg.Prefix + "." + tg.Zone, "type": "A", "content": "192.0.2.1"})
	wantRefused(t, status, env, http.StatusForbidden, 10000)
	if n := len(listByName(t, tg, id, "auth."+tg.Prefix+"."+tg.Zone)); n != 0 {
		t.Fatalf("a request with a wrong token made %d records", n)
	}
}

// wireCase is a record Cloudflare refuses; label is the record's first label under the
// subtest's prefix, or the whole name if it ends in ".".
type wireCase struct {
	name   string
	record map[string]any
	code   int // 0: any code
}

var wireCases = []wireCase{
	{"LabelTooLong", map[string]any{"name": strings.Repeat("a", 64), "type": "A", "content": "192.0.2.1"}, 0},
	{"NameTooLong", map[string]any{"name": strings.Repeat(strings.Repeat("b", 63)+".", 4)[:240], "type": "A", "content": "192.0.2.1"}, 0},
	{"EmptyLabel", map[string]any{"name": "a..b", "type": "A", "content": "192.0.2.1"}, 0},
	{"OutsideZone", map[string]any{"name": "www.example.invalid.", "type": "A", "content": "192.0.2.1"}, 0},
	{"MXPriorityAbsent", map[string]any{"name": "mx", "type": "MX", "content": "smtp.example.net"}, 9100},
	{"MXPriorityOutOfRange", map[string]any{"name": "mx", "type": "MX", "content": "smtp.example.net", "priority": 65536}, 9008},
	{"MXContentIP", map[string]any{"name": "mx", "type": "MX", "content": "192.0.2.1", "priority": 10}, 0},
	{"SRVPriorityAbsent", map[string]any{"name": "_sip._tcp", "type": "SRV",
		"data": map[string]any{"weight": 5, "port": 5060, "target": "sip.example.net"}}, 9100},
	{"TTLTooLow", map[string]any{"name": "ttl", "type": "A", "content": "192.0.2.1", "ttl": 10}, 9021},
	{"TTLZeroPlusOne", map[string]any{"name": "ttl", "type": "A", "content": "192.0.2.1", "ttl": 2}, 9021},
	{"TTLTooHigh", map[string]any{"name": "ttl", "type": "A", "content": "192.0.2.1", "ttl": 86401}, 9021},
	{"AContentIPv6", map[string]any{"name": "a", "type": "A", "content": "2001:db8::1"}, 9005},
	{"AContentHostname", map[string]any{"name": "a", "type": "A", "content": "www.example.net"}, 9005},
	{"AAAAContentIPv4", map[string]any{"name": "aaaa", "type": "AAAA", "content": "192.0.2.1"}, 9006},
	{"CNAMEContentIP", map[string]any{"name": "cname", "type": "CNAME", "content": "192.0.2.1"}, 0},
	{"CNAMEContentNotHostname", map[string]any{"name": "cname", "type": "CNAME", "content": "not a host"}, 0},
	{"ProxiedTXT", map[string]any{"name": "txt", "type": "TXT", "content": "hello", "proxied": true}, 9004},
	{"ProxiedMX", map[string]any{"name": "mx", "type": "MX", "content": "smtp.example.net", "priority": 10, "proxied": true}, 9004},
}

// fullName turns a case's label into the record's name under the subtest's prefix.
func fullName(tg Target, label string) string {
	if strings.HasSuffix(label, ".") {
		return strings.TrimSuffix(label, ".")
	}
	return label + "." + tg.Prefix + "." + tg.Zone
}

func caseRecord(tg Target, rec map[string]any) map[string]any {
	out := make(map[string]any, len(rec))
	for k, v := range rec {
		out[k] = v
	}
	out["name"] = fullName(tg, rec["name"].(string))
	return out
}

// listByName returns the zone's records named name.
func listByName(t *testing.T, tg Target, zone, name string) []Record {
	t.Helper()
	status, env := raw(t, tg, nil, http.MethodGet, "/zones/"+zone+"/dns_records?per_page=100&name="+url.QueryEscape(name), nil)
	var recs []Record
	if status != http.StatusOK || json.Unmarshal(env.Result, &recs) != nil {
		t.Fatalf("list %s: HTTP %d %+v", name, status, env.Errors)
	}
	return recs
}

// deleteOnCleanup removes the record when the subtest ends.
func deleteOnCleanup(t *testing.T, tg Target, zone, id string) {
	t.Cleanup(func() {
		if status, env := raw(t, tg, nil, http.MethodDelete, "/zones/"+zone+"/dns_records/"+id, nil); status != http.StatusOK {
			t.Errorf("cleanup of record %s: HTTP %d %+v", id, status, env.Errors)
		}
	})
}

func testWireRefused(t *testing.T, h Harness, c wireCase) {
	tg := h.New(t)
	id := zoneID(t, tg)
	rec := caseRecord(tg, c.record)
	status, env := raw(t, tg, nil, http.MethodPost, "/zones/"+id+"/dns_records", rec)
	if status == http.StatusOK {
		var made Record
		if json.Unmarshal(env.Result, &made) == nil && made.ID != "" {
			deleteOnCleanup(t, tg, id, made.ID)
		}
	}
	wantRefused(t, status, env, http.StatusBadRequest, c.code)
	// The same record in a batch is refused too.
	status, env = raw(t, tg, nil, http.MethodPost, "/zones/"+id+"/dns_records/batch", map[string]any{"posts": []any{rec}})
	wantRefused(t, status, env, http.StatusBadRequest, c.code)
	if name, ok := rec["name"].(string); ok && len(name) <= 253 {
		if n := len(listByName(t, tg, id, name)); n != 0 {
			t.Fatalf("a refused record was stored (%d records named %s)", n, name)
		}
	}
}

func testWirePriorityZero(t *testing.T, h Harness) {
	tg := h.New(t)
	id := zoneID(t, tg)
	for _, rec := range []map[string]any{
		{"name": "mx0", "type": "MX", "content": "smtp.example.net", "priority": 0},
		{"name": "_sip._udp", "type": "SRV", "data": map[string]any{"priority": 0, "weight": 0, "port": 5060, "target": "sip.example.net"}},
	} {
		status, env := raw(t, tg, nil, http.MethodPost, "/zones/"+id+"/dns_records", caseRecord(tg, rec))
		var made Record
		if status != http.StatusOK || json.Unmarshal(env.Result, &made) != nil || made.ID == "" {
			t.Fatalf("%s with priority 0 refused: HTTP %d %+v", rec["type"], status, env.Errors)
		}
		deleteOnCleanup(t, tg, id, made.ID)
	}
}

func testWireBatch(t *testing.T, h Harness) {
	tg := h.New(t)
	id := zoneID(t, tg)
	good := map[string]any{"name": fullName(tg, "good"), "type": "A", "content": "192.0.2.7"}
	bad := map[string]any{"name": fullName(tg, "bad"), "type": "MX", "content": "smtp.example.net"}
	status, env := raw(t, tg, nil, http.MethodPost, "/zones/"+id+"/dns_records/batch", map[string]any{"posts": []any{good, bad}})
	wantRefused(t, status, env, http.StatusBadRequest, 9100)
	if n := len(listByName(t, tg, id, good["name"].(string))); n != 0 {
		t.Fatalf("a refused batch stored its valid record")
	}
}

func testWireUpdate(t *testing.T, h Harness) {
	tg := h.New(t)
	id := zoneID(t, tg)
	name := fullName(tg, "upd")
	status, env := raw(t, tg, nil, http.MethodPost, "/zones/"+id+"/dns_records",
		map[string]any{"name": name, "type": "MX", "content": "smtp.example.net", "priority": 10, "ttl": 300})
	var made Record
	if status != http.StatusOK || json.Unmarshal(env.Result, &made) != nil || made.ID == "" {
		t.Fatalf("create: HTTP %d %+v", status, env.Errors)
	}
	deleteOnCleanup(t, tg, id, made.ID)
	path := "/zones/" + id + "/dns_records/" + made.ID
	// PUT replaces the whole record: without priority it is refused.
	status, env = raw(t, tg, nil, http.MethodPut, path, map[string]any{"name": name, "type": "MX", "content": "smtp.example.net", "ttl": 300})
	wantRefused(t, status, env, http.StatusBadRequest, 9100)
	status, env = raw(t, tg, nil, http.MethodPatch, path, map[string]any{"ttl": 5})
	wantRefused(t, status, env, http.StatusBadRequest, 9021)
	status, env = raw(t, tg, nil, http.MethodPost, "/zones/"+id+"/dns_records/batch",
		map[string]any{"patches": []any{map[string]any{"id": made.ID, "proxied": true}}})
	wantRefused(t, status, env, http.StatusBadRequest, 9004)
	recs := listByName(t, tg, id, name)
	if len(recs) != 1 || recs[0].TTL != 300 || recs[0].Priority == nil || *recs[0].Priority != 10 || recs[0].Proxied {
		t.Fatalf("refused updates changed the record: %+v", recs)
	}
	// A PATCH without priority keeps the record's.
	status, env = raw(t, tg, nil, http.MethodPatch, path, map[string]any{"ttl": 600})
	if status != http.StatusOK {
		t.Fatalf("patch of the TTL alone: HTTP %d %+v", status, env.Errors)
	}
}
