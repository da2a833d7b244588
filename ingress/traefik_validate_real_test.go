package ingress_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/ingress"
	"github.com/webinfra/webinfra/ingress/ingresstest"
	"github.com/webinfra/webinfra/internal/testutil"
)

// Each test below shows what real Traefik does with one class of bad configuration, and that the
// SDK reports the same problem before deployment.

func fieldPaths(t *testing.T, err error) []string {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, webinfra.ErrInvalidArgument)
	var ve *webinfra.ValidationError
	require.ErrorAs(t, err, &ve)
	var paths []string
	for _, e := range ve.Errors {
		paths = append(paths, e.Path)
	}
	return paths
}

// disabledRouter writes d, which holds a broken router "bad" beside a good router "good", and
// returns what Traefik's API says about "bad" once it knows both.
func disabledRouter(t *testing.T, d *ingress.Dynamic) ingresstest.RouterInfo {
	t.Helper()
	tr := ingresstest.Start(t, ingresstest.Config{})
	e := ingresstest.StartEcho(t)
	if d.HTTP.Services == nil {
		d.HTTP.Services = map[string]ingress.Service{}
	}
	d.HTTP.Services["good"] = lb(e.URL)
	d.HTTP.Routers["good"] = ingress.Router{Rule: ingress.Host("good.example.com").String(), Service: "good"}
	tr.WriteDynamic(t, "d.yaml", d)
	tr.WaitStatus(t, ingresstest.Request{Host: "good.example.com"}, http.StatusOK, served)
	ri := tr.WaitRouter(t, "bad", served)
	t.Logf("traefik: router bad: status %q, errors %q", ri.Status, ri.Error)
	return ri
}

func TestRealValidateMissingService(t *testing.T) {
	d := &ingress.Dynamic{HTTP: ingress.HTTP{Routers: map[string]ingress.Router{
		"bad": {Rule: ingress.Host("bad.example.com").String(), Service: "nowhere"},
	}}}
	ri := disabledRouter(t, d)
	assert.Equal(t, "disabled", ri.Status)
	assert.Contains(t, strings.Join(ri.Error, "\n"), "nowhere")

	assert.Contains(t, fieldPaths(t, d.Validate()), "http.routers[bad].service")
}

func TestRealValidateMissingMiddleware(t *testing.T) {
	d := &ingress.Dynamic{HTTP: ingress.HTTP{Routers: map[string]ingress.Router{
		"bad": {Rule: ingress.Host("bad.example.com").String(), Service: "good", Middlewares: []string{"ghost"}},
	}}}
	ri := disabledRouter(t, d)
	assert.Equal(t, "disabled", ri.Status)
	assert.Contains(t, strings.Join(ri.Error, "\n"), "ghost")

	assert.Equal(t, []string{"http.routers[bad].middlewares[0]"}, fieldPaths(t, d.Validate()))
}

func TestRealValidateBadRule(t *testing.T) {
	for _, rule := range []string{
		"Host(`bad.example.com`) && ",  // syntax
		"Host(`bad.example.com`, `x`)", // arity
		"Path(`no-slash`)",             // matcher value
		"Hots(`bad.example.com`)",      // unknown matcher
	} {
		t.Run(rule, func(t *testing.T) {
			d := &ingress.Dynamic{HTTP: ingress.HTTP{Routers: map[string]ingress.Router{
				"bad": {Rule: rule, Service: "good"},
			}}}
			ri := disabledRouter(t, d)
			assert.Equal(t, "disabled", ri.Status)
			assert.NotEmpty(t, ri.Error)

			_, err := ingress.ParseRule(rule)
			var re *ingress.RuleError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, []string{"http.routers[bad].rule"}, fieldPaths(t, d.Validate()))
		})
	}
}

func TestRealValidateServiceWithoutServers(t *testing.T) {
	tr := ingresstest.Start(t, ingresstest.Config{})
	e := ingresstest.StartEcho(t)
	tr.WriteDynamic(t, "d.yaml", oneRoute("old.example.com", lb(e.URL), nil))
	tr.WaitStatus(t, ingresstest.Request{Host: "old.example.com"}, http.StatusOK, served)

	// An empty load balancer: Traefik rejects the whole file and keeps the old configuration.
	d := oneRoute("empty.example.com", ingress.Service{LoadBalancer: &ingress.LoadBalancer{}}, nil)
	tr.WriteDynamic(t, "d.yaml", d)
	testutil.Eventually(t, served, func() error {
		if !strings.Contains(tr.Log(), "standalone element") {
			return errors.New("traefik has not logged the empty service yet")
		}
		return nil
	})
	t.Logf("traefik: %s", lastLine(tr.Log(), "standalone element"))
	assert.Equal(t, http.StatusOK, tr.Get(t, "old.example.com", "/").Status, "old configuration kept")
	assert.Equal(t, http.StatusNotFound, tr.Get(t, "empty.example.com", "/").Status)
	assert.Equal(t, []string{"http.services[s].loadBalancer.servers"}, fieldPaths(t, d.Validate()))

	// A load balancer with settings but no server: loaded, router enabled, every request 503.
	f := false
	d = oneRoute("noserver.example.com", ingress.Service{LoadBalancer: &ingress.LoadBalancer{PassHostHeader: &f}}, nil)
	tr.WriteDynamic(t, "d.yaml", d)
	r := tr.WaitStatus(t, ingresstest.Request{Host: "noserver.example.com"}, http.StatusServiceUnavailable, served)
	ri, err := tr.Router("r")
	require.NoError(t, err)
	t.Logf("traefik: router to a service without servers: status %q, errors %q, answer %d %q", ri.Status, ri.Error, r.Status, r.Body)
	assert.Equal(t, []string{"http.services[s].loadBalancer.servers"}, fieldPaths(t, d.Validate()))
}

func TestRealMergeDuplicateRouter(t *testing.T) {
	tr := ingresstest.Start(t, ingresstest.Config{})
	a, b := ingresstest.StartEcho(t), ingresstest.StartEcho(t)
	fa := oneRoute("dup.example.com", lb(a.URL), nil)
	fb := oneRoute("dup.example.com", lb(b.URL), nil)
	fb.HTTP.Services = map[string]ingress.Service{"s2": lb(b.URL)}
	r := fb.HTTP.Routers["r"]
	r.Service = "s2"
	fb.HTTP.Routers["r"] = r
	tr.WriteDynamic(t, "a.yaml", fa)
	tr.WriteDynamic(t, "b.yaml", fb)
	resp := tr.WaitStatus(t, ingresstest.Request{Host: "dup.example.com"}, http.StatusOK, served)
	ri, err := tr.Router("r")
	require.NoError(t, err)
	e := echoed(t, resp)
	t.Logf("traefik: duplicate router r: served by a=%v b=%v; status %q, service %q, errors %q",
		e.Local == a.Addr, e.Local == b.Addr, ri.Status, ri.Service, ri.Error)
	// Observed on v3.6.12: the file read first (a.yaml) wins, the router is "enabled" without an
	// error in the API, and the conflict is only a warning in the log.
	assert.Equal(t, a.Addr, e.Local)
	assert.Equal(t, "enabled", ri.Status)
	testutil.Eventually(t, served, func() error {
		if !strings.Contains(tr.Log(), "already configured, skipping") {
			return errors.New("no warning about the duplicate yet")
		}
		return nil
	})
	t.Logf("traefik: %s", lastLine(tr.Log(), "already configured"))

	_, err = ingress.Merge(ingress.File{Name: "a.yaml", Config: fa}, ingress.File{Name: "b.yaml", Config: fb})
	assert.Equal(t, []string{"files[b.yaml].http.routers[r]"}, fieldPaths(t, err))
}

func TestRealParseUnknownField(t *testing.T) {
	tr := ingresstest.Start(t, ingresstest.Config{})
	e := ingresstest.StartEcho(t)
	good := oneRoute("unk.example.com", lb(e.URL), nil)
	tr.WriteDynamic(t, "d.yaml", good)
	tr.WaitStatus(t, ingresstest.Request{Host: "unk.example.com"}, http.StatusOK, served)

	y, err := good.FileYAML()
	require.NoError(t, err)
	bad := strings.Replace(string(y), "unk.example.com", "unk2.example.com", 1)
	bad = strings.Replace(bad, "      service: s\n", "      sevice: s\n", 1)
	require.Contains(t, bad, "sevice")
	tr.WriteFile(t, "d.yaml", []byte(bad))
	testutil.Eventually(t, served, func() error {
		if !strings.Contains(tr.Log(), "sevice") {
			return errors.New("traefik has not logged the unknown field yet")
		}
		return nil
	})
	t.Logf("traefik: %s", lastLine(tr.Log(), "sevice"))
	assert.Equal(t, http.StatusOK, tr.Get(t, "unk.example.com", "/").Status, "old configuration kept")
	assert.Equal(t, http.StatusNotFound, tr.Get(t, "unk2.example.com", "/").Status, "new file ignored")

	_, err = ingress.ParseFileYAML([]byte(bad))
	assert.Equal(t, []string{"http.routers[r].sevice"}, fieldPaths(t, err))
}

func lastLine(log, substr string) string {
	lines := strings.Split(log, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], substr) {
			return lines[i]
		}
	}
	return ""
}
