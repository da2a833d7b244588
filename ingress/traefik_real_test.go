package ingress_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra/ingress"
	"github.com/webinfra/webinfra/ingress/ingresstest"
	"github.com/webinfra/webinfra/internal/testutil"
)

const served = 10 * time.Second

func lb(urls ...string) ingress.Service {
	var s []ingress.Server
	for _, u := range urls {
		s = append(s, ingress.Server{URL: u})
	}
	return ingress.Service{LoadBalancer: &ingress.LoadBalancer{Servers: s}}
}

func echoed(t *testing.T, r *ingresstest.Response) ingresstest.Echoed {
	t.Helper()
	e, err := r.Echo()
	require.NoError(t, err, "body: %s", r.Body)
	return e
}

// TestRealRoutingByHostAndPath: routers by host, by path prefix within a host, and a host with
// no router gets 404.
func TestRealRoutingByHostAndPath(t *testing.T) {
	tr := ingresstest.Start(t, ingresstest.Config{})
	a, b := ingresstest.StartEcho(t), ingresstest.StartEcho(t)
	d := &ingress.Dynamic{HTTP: ingress.HTTP{
		Routers: map[string]ingress.Router{
			"www": {Rule: ingress.Host("www.example.com").String(), Service: "a", EntryPoints: []string{ingress.EntryPointWeb}},
			"api": {Rule: ingress.And(ingress.Host("www.example.com"), ingress.PathPrefix("/api")).String(), Service: "b", EntryPoints: []string{ingress.EntryPointWeb}},
		},
		Services: map[string]ingress.Service{"a": lb(a.URL), "b": lb(b.URL)},
	}}
	require.NoError(t, d.Validate())
	tr.WriteDynamic(t, "routes.yaml", d)

	r := tr.WaitStatus(t, ingresstest.Request{Host: "www.example.com", Path: "/api/v1"}, http.StatusOK, served)
	e := echoed(t, r)
	assert.Equal(t, "/api/v1", e.Path)
	assert.Equal(t, "www.example.com", e.Host)
	assert.Equal(t, b.Addr, e.Local)

	ri, err := tr.Router("api")
	require.NoError(t, err)
	assert.Equal(t, "enabled", ri.Status)

	r = tr.Get(t, "www.example.com", "/index.html")
	require.Equal(t, http.StatusOK, r.Status)
	e = echoed(t, r)
	assert.Equal(t, "/index.html", e.Path)
	assert.Equal(t, a.Addr, e.Local)

	assert.Equal(t, http.StatusNotFound, tr.Get(t, "other.example.com", "/").Status)
}

func oneRoute(host string, svc ingress.Service, middlewares map[string]ingress.Middleware, chain ...string) *ingress.Dynamic {
	return &ingress.Dynamic{HTTP: ingress.HTTP{
		Routers:     map[string]ingress.Router{"r": {Rule: ingress.Host(host).String(), Service: "s", Middlewares: chain}},
		Services:    map[string]ingress.Service{"s": svc},
		Middlewares: middlewares,
	}}
}

// TestRealIPAllowList: an ipAllowList on the TCP peer admits 127.0.0.2 and refuses 127.0.0.3.
func TestRealIPAllowList(t *testing.T) {
	tr := ingresstest.Start(t, ingresstest.Config{})
	e := ingresstest.StartEcho(t)
	d := oneRoute("allow.example.com", lb(e.URL), map[string]ingress.Middleware{
		"allow": {IPAllowList: &ingress.IPAllowList{SourceRange: []string{"127.0.0.2/32"}}},
	}, "allow")
	require.NoError(t, d.Validate())
	tr.WriteDynamic(t, "allow.yaml", d)
	tr.WaitStatus(t, ingresstest.Request{Host: "allow.example.com", LocalAddr: "127.0.0.2"}, http.StatusOK, served)
	r, err := tr.Do(ingresstest.Request{Host: "allow.example.com", LocalAddr: "127.0.0.3"})
	require.NoError(t, err)
	assert.Equal(t, http.StatusForbidden, r.Status)
}

// TestRealForwardedHeaders: X-Forwarded-For is kept from a trusted peer and replaced when an
// untrusted one forges it.
func TestRealForwardedHeaders(t *testing.T) {
	tr := ingresstest.Start(t, ingresstest.Config{Static: func(o *ingress.StaticOptions) {
		o.TrustedIPs = []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}
	}})
	e := ingresstest.StartEcho(t)
	tr.WriteDynamic(t, "fwd.yaml", oneRoute("fwd.example.com", lb(e.URL), nil))
	forged := http.Header{"X-Forwarded-For": {"6.6.6.6"}, "X-Real-Ip": {"6.6.6.6"}}
	r := tr.WaitStatus(t, ingresstest.Request{Host: "fwd.example.com", Header: forged, LocalAddr: "127.0.0.2"}, http.StatusOK, served)
	got := echoed(t, r)
	assert.Equal(t, "6.6.6.6, 127.0.0.2", got.Header.Get("X-Forwarded-For"), "trusted peer: kept, peer appended")

	r, err := tr.Do(ingresstest.Request{Host: "fwd.example.com", Header: forged, LocalAddr: "127.0.0.3"})
	require.NoError(t, err)
	got = echoed(t, r)
	assert.Equal(t, "127.0.0.3", got.Header.Get("X-Forwarded-For"), "untrusted peer: forged header dropped")
	assert.Equal(t, "127.0.0.3", got.Header.Get("X-Real-Ip"))
}

// proxied sends one HTTP request on a new TCP connection from local, preceded by a hand-written
// PROXY protocol v1 header claiming the client src.
func proxied(t *testing.T, addr, local, src, host string) (*http.Response, []byte, error) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(5*time.Second)))
	_, dport, _ := net.SplitHostPort(addr)
	fmt.Fprintf(c, "PROXY TCP4 %s 127.0.0.1 40000 %s\r\n", src, dport)
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", host)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

// TestRealProxyProtocol: a PROXY v1 header from a trusted sender sets the client address; from an
// untrusted sender the claimed address is never used.
func TestRealProxyProtocol(t *testing.T) {
	tr := ingresstest.Start(t, ingresstest.Config{Static: func(o *ingress.StaticOptions) {
		o.ProxyProtocolTrustedIPs = []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}
	}})
	e := ingresstest.StartEcho(t)
	d := oneRoute("pp.example.com", lb(e.URL), map[string]ingress.Middleware{
		"allow": {IPAllowList: &ingress.IPAllowList{SourceRange: []string{"203.0.113.0/24", "127.0.0.3/32"}}},
	}, "allow")
	tr.WriteDynamic(t, "pp.yaml", d)
	tr.WaitRouter(t, "r", served)

	var resp *http.Response
	var body []byte
	testutil.Eventually(t, served, func() error {
		var err error
		resp, body, err = proxied(t, tr.Web, "127.0.0.2", "203.0.113.9", "pp.example.com")
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		return err
	})
	got, err := (&ingresstest.Response{Body: body}).Echo()
	require.NoError(t, err)
	assert.Equal(t, "203.0.113.9", got.Header.Get("X-Real-Ip"), "client address from the PROXY header")
	assert.Equal(t, "203.0.113.9", got.Header.Get("X-Forwarded-For"))

	// Observed on v3.6.12: the header from an untrusted sender is read and ignored; the request is
	// served with the TCP peer as client address.
	resp, body, err = proxied(t, tr.Web, "127.0.0.3", "203.0.113.9", "pp.example.com")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "body %s", bytes.TrimSpace(body))
	got, err = (&ingresstest.Response{Body: body}).Echo()
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.3", got.Header.Get("X-Real-Ip"))
	assert.NotContains(t, string(body), "203.0.113.9", "the claimed address must not be used")
}

// TestRealHotReload: a changed route is served without a restart.
func TestRealHotReload(t *testing.T) {
	tr := ingresstest.Start(t, ingresstest.Config{})
	a, b := ingresstest.StartEcho(t), ingresstest.StartEcho(t)
	tr.WriteDynamic(t, "hot.yaml", oneRoute("hot.example.com", lb(a.URL), nil))
	req := ingresstest.Request{Host: "hot.example.com"}
	assert.Equal(t, a.Addr, echoed(t, tr.WaitStatus(t, req, http.StatusOK, served)).Local)

	tr.WriteDynamic(t, "hot.yaml", oneRoute("hot.example.com", lb(b.URL), nil))
	testutil.Eventually(t, served, func() error {
		r, err := tr.Do(req)
		if err != nil {
			return err
		}
		if e, err := r.Echo(); err != nil || e.Local != b.Addr {
			return fmt.Errorf("still served by %s (%v)", e.Local, err)
		}
		return nil
	})
	tr.RemoveFile(t, "hot.yaml")
	tr.WaitStatus(t, req, http.StatusNotFound, served)
}

// TestRealHTTPSRedirect: with RedirectToHTTPS, web answers a permanent redirect to websecure,
// which serves the route over TLS.
func TestRealHTTPSRedirect(t *testing.T) {
	tr := ingresstest.Start(t, ingresstest.Config{Static: func(o *ingress.StaticOptions) { o.RedirectToHTTPS = true }})
	e := ingresstest.StartEcho(t)
	d := oneRoute("secure.example.com", lb(e.URL), map[string]ingress.Middleware{"hsts": {Headers: ingress.HSTS()}}, "hsts")
	r0 := d.HTTP.Routers["r"]
	r0.TLS = &ingress.RouterTLS{Options: "modern"}
	d.HTTP.Routers["r"] = r0
	d.TLS.Options = map[string]ingress.TLSOptions{"modern": ingress.ModernTLS()}
	require.NoError(t, d.Validate())
	tr.WriteDynamic(t, "secure.yaml", d)

	r := tr.WaitStatus(t, ingresstest.Request{Host: "secure.example.com", Path: "/x?y=1", Secure: true}, http.StatusOK, served)
	assert.Equal(t, "/x", echoed(t, r).Path)
	assert.Equal(t, "max-age=63072000; includeSubDomains; preload", r.Header.Get("Strict-Transport-Security"))

	r, err := tr.Do(ingresstest.Request{Host: "secure.example.com", Path: "/x?y=1"})
	require.NoError(t, err)
	assert.Equal(t, http.StatusMovedPermanently, r.Status)
	_, port, _ := net.SplitHostPort(tr.WebSecure)
	assert.Equal(t, "https://secure.example.com:"+port+"/x?y=1", r.Header.Get("Location"))
}

// TestRealTemplateEscape: Traefik runs file-provider files through Go templates. A literal "{{"
// rendered by FileYAML reaches the client intact; the same file written without the escape is
// rejected by Traefik (its previous configuration stays).
func TestRealTemplateEscape(t *testing.T) {
	tr := ingresstest.Start(t, ingresstest.Config{})
	e := ingresstest.StartEcho(t)
	d := oneRoute("tmpl.example.com", lb(e.URL), map[string]ingress.Middleware{"h": {Headers: &ingress.Headers{
		CustomResponseHeaders: map[string]string{"X-Template": "{{ .Literal }} and {{{"},
	}}}, "h")
	y, err := d.FileYAML()
	require.NoError(t, err)
	assert.NotContains(t, strings.ReplaceAll(string(y), `{{"{{"}}`, ""), "{{")
	tr.WriteFile(t, "tmpl.yaml", y)
	r := tr.WaitStatus(t, ingresstest.Request{Host: "tmpl.example.com"}, http.StatusOK, served)
	assert.Equal(t, "{{ .Literal }} and {{{", r.Header.Get("X-Template"))

	back, err := ingress.ParseFileYAML(y)
	require.NoError(t, err)
	assert.Equal(t, d, back)

	raw := strings.ReplaceAll(string(y), `{{"{{"}}`, "{{")
	raw = strings.ReplaceAll(raw, "tmpl.example.com", "raw.example.com")
	tr.WriteFile(t, "tmpl.yaml", []byte(raw))
	testutil.Eventually(t, served, func() error {
		if !strings.Contains(tr.Log(), "tmpl.yaml") {
			return errors.New("no log line about tmpl.yaml yet")
		}
		return nil
	})
	assert.Equal(t, http.StatusOK, tr.Get(t, "tmpl.example.com", "/").Status, "old configuration kept")
	assert.Equal(t, http.StatusNotFound, tr.Get(t, "raw.example.com", "/").Status)
}

// TestRealCloudflareOrigin: with the Cloudflare-only origin settings and the firewall at
// 127.0.0.2, a request through the firewall reaches the service with the client address Cloudflare
// appended, a request from anywhere else gets 403, and a middleware acting on the client
// (ipAllowList with the origin's client strategy) sees the Cloudflare-appended address, not the
// client's forged one.
func TestRealCloudflareOrigin(t *testing.T) {
	o, err := ingress.CloudflareOrigin(ingress.OriginOptions{Firewalls: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}})
	require.NoError(t, err)
	tr := ingresstest.Start(t, ingresstest.Config{Static: o.ApplyStatic})
	e := ingresstest.StartEcho(t)
	strategy := o.ClientIP
	d := &ingress.Dynamic{HTTP: ingress.HTTP{
		Routers: map[string]ingress.Router{
			"site":  {Rule: ingress.Host("site.example.com").String(), Service: "s"},
			"admin": {Rule: ingress.Host("admin.example.com").String(), Service: "s", Middlewares: []string{"office"}},
		},
		Services: map[string]ingress.Service{"s": lb(e.URL)},
		Middlewares: map[string]ingress.Middleware{
			"office": {IPAllowList: &ingress.IPAllowList{SourceRange: []string{"198.51.100.0/24"}, IPStrategy: &strategy}},
		},
	}}
	o.Apply(d)
	require.NoError(t, d.Validate())
	tr.WriteDynamic(t, "origin.yaml", d)

	// Cloudflare appended the client 198.51.100.7 after the client's own forged entry.
	viaFirewall := ingresstest.Request{Host: "site.example.com", LocalAddr: "127.0.0.2", Header: http.Header{
		"X-Forwarded-For": {"10.9.9.9, 198.51.100.7"}, "X-Real-Ip": {"10.9.9.9"}, "Cf-Connecting-Ip": {"198.51.100.7"},
	}}
	got := echoed(t, tr.WaitStatus(t, viaFirewall, http.StatusOK, served))
	assert.Equal(t, "10.9.9.9, 198.51.100.7, 127.0.0.2", got.Header.Get("X-Forwarded-For"))
	assert.Empty(t, got.Header.Get("X-Real-Ip"), "a forged X-Real-Ip is removed")

	direct := viaFirewall
	direct.LocalAddr = "127.0.0.3"
	r, err := tr.Do(direct)
	require.NoError(t, err)
	assert.Equal(t, http.StatusForbidden, r.Status, "not through a firewall")

	admin := viaFirewall
	admin.Host = "admin.example.com"
	r, err = tr.Do(admin)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, r.Status, "client 198.51.100.7 is in the office range")
	admin.Header = http.Header{"X-Forwarded-For": {"198.51.100.7, 203.0.113.50"}}
	r, err = tr.Do(admin)
	require.NoError(t, err)
	assert.Equal(t, http.StatusForbidden, r.Status, "a forged office address left of the real client does not pass")
}
