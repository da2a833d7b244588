package securitytest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/security"
)

// LandscapeHarness gives [RunLandscapeConformance] a Landscape to run against. Only the fake
// runs here (there is no real Landscape on these machines); a harness for a real server gives
// an account whose API credentials may run the named script on the named computer.
type LandscapeHarness interface {
	// NewLandscape returns the target of one subtest.
	NewLandscape(t *testing.T) LandscapeTarget
}

// LandscapeTarget is what [LandscapeHarness.NewLandscape] returns.
type LandscapeTarget struct {
	// Config reaches the server with an access key and secret key (the subtests sign legacy
	// calls and log in to the REST API with them).
	Config security.LandscapeConfig
	// ScriptID is a script in the account's library, safe to run (e.g. "true").
	ScriptID int
	// ScriptUnknown is an ID no script in the account has.
	ScriptUnknown int
	// ComputerID is a computer the script may run on.
	ComputerID int
}

// RunLandscapeConformance checks what Landscape refuses: unknown script IDs and API versions.
// Subtest names are stable (Area/Case).
func RunLandscapeConformance(t *testing.T, h LandscapeHarness) {
	t.Run("Scripts/KnownScriptRuns", func(t *testing.T) { testKnownScript(t, h) })
	t.Run("Scripts/UnknownScriptRefused", func(t *testing.T) { testUnknownScript(t, h) })
	t.Run("Legacy/UnknownVersionRefused", func(t *testing.T) { testLegacyVersion(t, h, "2099-01-01") })
	t.Run("Legacy/MissingVersionRefused", func(t *testing.T) { testLegacyVersion(t, h, "") })
	t.Run("REST/UnknownVersionNotFound", func(t *testing.T) { testRESTVersion(t, h) })
}

func landscapeClient(t *testing.T, tg LandscapeTarget) *security.Landscape {
	t.Helper()
	c, err := security.NewLandscape(tg.Config)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testKnownScript(t *testing.T, h LandscapeHarness) {
	tg := h.NewLandscape(t)
	c := landscapeClient(t, tg)
	a, err := c.ExecuteScript(t.Context(), []int{tg.ComputerID}, tg.ScriptID, "root", time.Minute)
	if err != nil {
		t.Fatalf("script %d: %v", tg.ScriptID, err)
	}
	if _, err := c.WaitActivity(t.Context(), a.ID); err != nil {
		t.Fatalf("script %d activity: %v", tg.ScriptID, err)
	}
}

// testUnknownScript: an ID outside the script library is refused with an error, not an
// activity that fails later; it matches webinfra.ErrNotFound.
func testUnknownScript(t *testing.T, h LandscapeHarness) {
	tg := h.NewLandscape(t)
	c := landscapeClient(t, tg)
	a, err := c.ExecuteScript(t.Context(), []int{tg.ComputerID}, tg.ScriptUnknown, "root", time.Minute)
	if err == nil {
		t.Fatalf("unknown script %d started activity %d", tg.ScriptUnknown, a.ID)
	}
	var api *security.APIError
	if !errors.As(err, &api) || !errors.Is(err, webinfra.ErrNotFound) || api.Code == "" || api.Message == "" {
		t.Fatalf("want an *APIError with Landscape's error and message matching ErrNotFound, got %v", err)
	}
}

// landscapeError is the body Landscape answers an error with.
type landscapeError struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

func send(t *testing.T, req *http.Request) (int, landscapeError) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var e landscapeError
	if resp.StatusCode >= 300 && (json.Unmarshal(body, &e) != nil || e.Error == "" || e.Message == "") {
		t.Fatalf("HTTP %d without Landscape's {error, message} body: %s", resp.StatusCode, body)
	}
	return resp.StatusCode, e
}

// testLegacyVersion: a signed legacy call with another version, or none, is refused with 400.
func testLegacyVersion(t *testing.T, h LandscapeHarness, version string) {
	tg := h.NewLandscape(t)
	u, err := url.Parse(strings.TrimRight(tg.Config.BaseURL, "/") + "/api/")
	if err != nil {
		t.Fatal(err)
	}
	q := url.Values{"action": {"GetComputers"}}
	if version != "" {
		q.Set("version", version)
	}
	u.RawQuery = security.SignLegacy(http.MethodGet, u.Host, u.Path, q, tg.Config.AccessKey, tg.Config.SecretKey, time.Now())
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	status, e := send(t, req)
	if status != http.StatusBadRequest {
		t.Fatalf("version %q: want HTTP 400, got %d %+v", version, status, e)
	}
}

// testRESTVersion: REST paths under a version other than v2 do not exist (404); v2 answers.
func testRESTVersion(t *testing.T, h LandscapeHarness) {
	tg := h.NewLandscape(t)
	base := strings.TrimRight(tg.Config.BaseURL, "/")
	b, _ := json.Marshal(map[string]string{"access_key": tg.Config.AccessKey, "secret_key": tg.Config.SecretKey.Reveal()})
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v2/login/access-key", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var login struct {
		Token string `json:"token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	if err != nil || login.Token == "" {
		t.Fatalf("login: HTTP %d %v", resp.StatusCode, err)
	}
	for _, v := range []string{"v1", "v3", "v20"} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/"+v+"/computers", nil)
		req.Header.Set("Authorization", "Bearer "+login.Token)
		if status, e := send(t, req); status != http.StatusNotFound {
			t.Errorf("/api/%s/computers: want 404, got %d %+v", v, status, e)
		}
	}
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v2/computers", nil)
	req.Header.Set("Authorization", "Bearer "+login.Token)
	if status, e := send(t, req); status != http.StatusOK {
		t.Fatalf("/api/v2/computers: want 200, got %d %+v", status, e)
	}
}
