package ingress_test

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/traefik/paerser/parser"
	"golang.org/x/crypto/bcrypt"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/ingress"
)

func TestNewStaticDefaults(t *testing.T) {
	s, err := ingress.NewStatic(ingress.StaticOptions{
		RedirectToHTTPS:         true,
		TrustedIPs:              []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32")},
		ProxyProtocolTrustedIPs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")},
		FileDirectory:           "/etc/traefik/dynamic",
		KubernetesCRD:           true,
		Metrics:                 true,
		AccessLog:               &ingress.AccessLogOptions{JSON: true},
	})
	require.NoError(t, err)
	y := string(s.YAML())
	for _, want := range []string{
		"checkNewVersion: false", "sendAnonymousUsage: false",
		"providersThrottleDuration: 100ms", "directory: /etc/traefik/dynamic", "watch: true", "kubernetesCRD: {}",
		"insecure: true", "dashboard: false", "entryPoint: traefik", "address: :80", "address: :443",
		"address: 127.0.0.1:8080", "to: websecure", "permanent: true", "- 10.0.0.1/32", "- 10.0.0.0/24",
		"format: json", "level: INFO",
	} {
		assert.Contains(t, y, want)
	}
	up, err := ingress.NewStatic(ingress.StaticOptions{ThrottleDuration: ingress.UpstreamThrottle})
	require.NoError(t, err)
	assert.NotContains(t, string(up.YAML()), "providersThrottleDuration")
}

func TestNewStaticInvalid(t *testing.T) {
	_, err := ingress.NewStatic(ingress.StaticOptions{
		WebAddress: "80", WebSecureAddress: ":80", InternalAddress: ":80", FileDirectory: "rel",
		TrustedIPs: []netip.Prefix{{}}, LogLevel: "loud", KubernetesNamespaces: []string{"a"},
	})
	assert.ElementsMatch(t, []string{"webAddress", "internalAddress", "fileDirectory", "trustedIPs[0]", "logLevel", "kubernetesNamespaces"}, fieldPaths(t, err))
}

func TestRuleQuoting(t *testing.T) {
	for _, c := range []struct {
		r    ingress.Rule
		want string
	}{
		{ingress.Host("example.com"), "Host(`example.com`)"},
		{ingress.Header("X-A", "a`b"), "Header(`X-A`, \"a`b\")"},
		{ingress.Path("/a\"b\\c"), "Path(`/a\"b\\c`)"},
		{ingress.PathPrefix("/x\ny"), `PathPrefix("/x\ny")`},
		{ingress.And(ingress.Host("a"), ingress.Or(ingress.Path("/b"), ingress.Not(ingress.Method("POST")))), "Host(`a`) && (Path(`/b`) || !Method(`POST`))"},
		{ingress.Or(ingress.And(ingress.Host("a"), ingress.QueryKey("k")), ingress.ClientIP(netip.MustParsePrefix("10.0.0.0/8"))), "(Host(`a`) && Query(`k`)) || ClientIP(`10.0.0.0/8`)"},
		{ingress.Not(ingress.And(ingress.HostRegexp(`^.+\.example\.com$`), ingress.Query("a", "b"))), "!(HostRegexp(`^.+\\.example\\.com$`) && Query(`a`, `b`))"},
		{ingress.And(), ""},
	} {
		assert.Equal(t, c.want, c.r.String())
		if c.want != "" {
			back, err := ingress.ParseRule(c.want)
			require.NoError(t, err, c.want)
			assert.Equal(t, c.r, back, c.want)
		}
	}
}

func TestParseRuleAccepts(t *testing.T) {
	for _, s := range []string{
		"host(`a`)", "HOST(`a`)", "Hostregexp(`a`)", "Host(\"a\\x41\")", "(Host(`a`))", "!!Host(`a`)",
		"Host(`a`) &&\n Path(`/`)", "Host(`a`)\n", "  Host(`a`)||Path(`/`)  ", "Header(`a`,`b`)",
	} {
		_, err := ingress.ParseRule(s)
		assert.NoError(t, err, s)
	}
}

func TestParseRuleErrors(t *testing.T) {
	for _, c := range []struct {
		in     string
		column int
		msg    string
	}{
		{"", 1, "empty rule"},
		{"Host(`a`) &&", 13, "unexpected end"},
		{"Host(`a`", 9, "want ',' or ')'"},
		{"Host(`a`)\n&& Path(`/`)", 11, "after the rule"},
		{"Hots(`a`)", 1, "unknown matcher"},
		{"Host(`a`, `b`)", 1, "takes 1"},
		{"Path(`x`)", 6, "does not start with '/'"},
		{"PathRegexp(`(`)", 12, "missing closing"},
		{"ClientIP(`nope`)", 10, "neither"},
		{"Host(`é.com`)", 6, "non-ASCII"},
		{"Host(\"a)", 6, "not terminated"},
		{"Host(`a`) Path(`/`)", 11, "after the rule"},
		{"Host(1)", 6, "want a string"},
		{"(Host(`a`)", 11, "missing ')'"},
	} {
		_, err := ingress.ParseRule(c.in)
		var re *ingress.RuleError
		require.ErrorAs(t, err, &re, c.in)
		assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
		assert.Equal(t, c.column, re.Offset+1, "%q: %v", c.in, err)
		assert.Contains(t, re.Msg, c.msg, c.in)
	}
}

func TestValidateReportsAll(t *testing.T) {
	d := &ingress.Dynamic{
		HTTP: ingress.HTTP{
			Routers: map[string]ingress.Router{
				"www":  {Rule: "Host(`a`", Service: "nope", Middlewares: []string{"ghost", "x@docker"}, TLS: &ingress.RouterTLS{Options: "strict"}},
				"api":  {Service: "web@kubernetescrd"},
				"a@b":  {Rule: "Host(`b`)", Service: "web"},
				"good": {Rule: "Host(`c`)", Service: "web"},
			},
			Services: map[string]ingress.Service{
				"web":   {LoadBalancer: &ingress.LoadBalancer{Servers: []ingress.Server{{URL: "http://10.0.0.1:80"}}}},
				"empty": {LoadBalancer: &ingress.LoadBalancer{}},
				"bad":   {LoadBalancer: &ingress.LoadBalancer{Servers: []ingress.Server{{URL: "ftp://x"}, {URL: "http://"}}, HealthCheck: &ingress.HealthCheck{Path: "health"}}},
				"none":  {},
			},
			Middlewares: map[string]ingress.Middleware{
				"allow": {IPAllowList: &ingress.IPAllowList{SourceRange: []string{"10.0.0.0/8", "nope"}, IPStrategy: &ingress.IPStrategy{Depth: -1}}},
				"two":   {Compress: &ingress.Compress{}, Headers: &ingress.Headers{}},
				"zero":  {},
				"auth":  {BasicAuth: &ingress.BasicAuth{Users: []ingress.BasicAuthUser{{Name: "a:b", Hash: "md5"}, {Name: "c"}}}},
				"redir": {RedirectScheme: &ingress.RedirectScheme{Scheme: "ftp"}},
			},
		},
		TLS: ingress.TLS{Options: map[string]ingress.TLSOptions{"old": {MinVersion: "VersionSSL3", CipherSuites: []string{"TLS_FOO"}}}},
	}
	err := d.Validate()
	assert.Equal(t, []string{
		"http.middlewares[allow].ipAllowList.ipStrategy.depth",
		"http.middlewares[allow].ipAllowList.sourceRange[1]",
		"http.middlewares[auth].basicAuth.users[0]",
		"http.middlewares[auth].basicAuth.users[0]",
		"http.middlewares[auth].basicAuth.users[1]",
		"http.middlewares[redir].redirectScheme.scheme",
		"http.middlewares[two]",
		"http.middlewares[zero]",
		"http.routers[a@b]",
		"http.routers[api].rule",
		"http.routers[www].middlewares[0]",
		"http.routers[www].rule",
		"http.routers[www].service",
		"http.routers[www].tls.options",
		"http.services[bad].loadBalancer.healthCheck.path",
		"http.services[bad].loadBalancer.servers[0].url",
		"http.services[bad].loadBalancer.servers[1].url",
		"http.services[empty].loadBalancer.servers",
		"http.services[none].loadBalancer",
		"tls.options[old].cipherSuites[0]",
		"tls.options[old].minVersion",
	}, fieldPaths(t, err))
	t.Log(err)
}

func TestParseFileYAMLStrict(t *testing.T) {
	_, err := ingress.ParseFileYAML([]byte(`
http:
  routers:
    www:
      rule: Host(` + "`a`" + `)
      sevice: web
      priority: high
  services:
    web:
      loadBalancer:
        servers:
        - url: http://x
          weight: 2
  extra: {}
tcp: {}
`))
	assert.Equal(t, []string{"http.extra", "http.routers[www].priority", "http.routers[www].sevice", "http.services[web].loadBalancer.servers[0].weight", "tcp"}, fieldPaths(t, err))

	_, err = ingress.ParseFileYAML([]byte("http:\n  routers: {}\n  routers: {}\n"))
	assert.Len(t, fieldPaths(t, err), 1)
	_, err = ingress.ParseFileYAML([]byte("http: {routers: {a: {rule: '{{ .X }}'}}}"))
	assert.Len(t, fieldPaths(t, err), 1)

	d, err := ingress.ParseFileYAML(nil)
	require.NoError(t, err)
	assert.Equal(t, &ingress.Dynamic{}, d)
}

func authConfig() *ingress.Dynamic {
	return &ingress.Dynamic{HTTP: ingress.HTTP{
		Routers:  map[string]ingress.Router{"admin": {Rule: ingress.Host("admin.example.com").String(), Service: "web", Middlewares: []string{"auth", "hsts"}, EntryPoints: []string{"websecure"}, TLS: &ingress.RouterTLS{Options: "modern"}}},
		Services: map[string]ingress.Service{"web": lb("http://10.0.0.5:8080")},
		Middlewares: map[string]ingress.Middleware{
			"auth": {BasicAuth: &ingress.BasicAuth{Users: []ingress.BasicAuthUser{{Name: "ops", Password: webinfra.NewSecret("s3cret-pass")}}, RemoveHeader: true}},
			"hsts": {Headers: ingress.HSTS()},
		},
	}, TLS: ingress.TLS{Options: map[string]ingress.TLSOptions{"modern": ingress.ModernTLS()}}}
}

func TestBasicAuthOnlyHashes(t *testing.T) {
	d := authConfig()
	require.NoError(t, d.Validate())
	assert.NotContains(t, fmt.Sprintf("%v %+v %#v", d, d, d), "s3cret-pass")
	y, err := d.FileYAML()
	require.NoError(t, err)
	assert.NotContains(t, string(y), "s3cret-pass")
	back, err := ingress.ParseFileYAML(y)
	require.NoError(t, err)
	require.NoError(t, back.Validate())
	u := back.HTTP.Middlewares["auth"].BasicAuth.Users[0]
	assert.Equal(t, "ops", u.Name)
	assert.NoError(t, bcrypt.CompareHashAndPassword([]byte(u.Hash), []byte("s3cret-pass")))

	require.NoError(t, d.HashPasswords())
	y1, _ := d.FileYAML()
	y2, _ := d.FileYAML()
	assert.Equal(t, string(y1), string(y2), "stable after HashPasswords")
}

func TestCRDs(t *testing.T) {
	d := authConfig()
	objs, err := d.CRDs(ingress.CRDOptions{Namespace: "web", Services: map[string]ingress.ServiceRef{"web": {Name: "web", Port: 8080}}})
	require.NoError(t, err)
	var kinds []string
	for _, o := range objs {
		kinds = append(kinds, o.GetKind()+"/"+o.GetName())
		assert.Equal(t, "web", o.GetNamespace())
	}
	assert.Equal(t, []string{"Secret/auth", "Middleware/auth", "Middleware/hsts", "TLSOption/modern", "IngressRoute/admin"}, kinds)
	users, _, _ := unstructuredString(objs[0].Object, "data", "users")
	lines, err := base64.StdEncoding.DecodeString(users)
	require.NoError(t, err)
	name, hash, _ := strings.Cut(strings.TrimSpace(string(lines)), ":")
	assert.Equal(t, "ops", name)
	assert.NoError(t, bcrypt.CompareHashAndPassword([]byte(hash), []byte("s3cret-pass")))
	assert.Equal(t, map[string]any{"secret": "auth", "removeHeader": true}, objs[1].Object["spec"].(map[string]any)["basicAuth"])
	assert.Equal(t, "VersionTLS13", objs[3].Object["spec"].(map[string]any)["minVersion"])
	route := objs[4].Object["spec"].(map[string]any)
	assert.Equal(t, []any{"websecure"}, route["entryPoints"])
	assert.Equal(t, map[string]any{"options": map[string]any{"name": "modern", "namespace": "web"}}, route["tls"])
	r0 := route["routes"].([]any)[0].(map[string]any)
	assert.Equal(t, "Host(`admin.example.com`)", r0["match"])
	assert.Equal(t, []any{map[string]any{"name": "web", "port": int64(8080)}}, r0["services"])

	_, err = d.CRDs(ingress.CRDOptions{})
	assert.Equal(t, []string{"namespace", "services[web]"}, fieldPaths(t, err))
}

func unstructuredString(obj map[string]any, fields ...string) (string, bool, error) {
	var cur any = obj
	for _, f := range fields {
		m, ok := cur.(map[string]any)
		if !ok {
			return "", false, nil
		}
		cur = m[f]
	}
	s, ok := cur.(string)
	return s, ok, nil
}

// The label-decoding mirror of Traefik's own dynamic configuration types (pkg/config/dynamic),
// with their field names and label tags, for the subset the SDK renders.
type (
	tfConfig struct{ HTTP *tfHTTP }
	tfHTTP   struct {
		Routers     map[string]*tfRouter
		Services    map[string]*tfService
		Middlewares map[string]*tfMiddleware
	}
	tfRouter struct {
		EntryPoints []string
		Middlewares []string
		Service     string
		Rule        string
		Priority    int
		TLS         *struct{ Options, CertResolver string } `label:"allowEmpty"`
	}
	tfService struct{ LoadBalancer *tfLB }
	tfLB      struct {
		Servers        []struct{ URL string } `label-slice-as-struct:"server"`
		PassHostHeader *bool
		HealthCheck    *struct {
			Path     string
			Interval string
		}
	}
	tfMiddleware struct {
		IPAllowList *struct {
			SourceRange []string
			IPStrategy  *struct {
				Depth       int
				ExcludedIPs []string
			}
		}
		Headers *struct {
			CustomRequestHeaders map[string]string
			STSSeconds           int64
			STSIncludeSubdomains bool
			STSPreload           bool
			ForceSTSHeader       bool
			FrameDeny            bool
			ContentTypeNosniff   bool
			ReferrerPolicy       string
		}
		BasicAuth *struct {
			Users        []string
			RemoveHeader bool
		}
		Compress *struct{} `label:"allowEmpty"`
	}
)

func TestLabelsReadBackWithPaerser(t *testing.T) {
	d := authConfig()
	d.HTTP.Services["web"].LoadBalancer.HealthCheck = &ingress.HealthCheck{Path: "/healthz", Interval: ingress.Duration(10e9)}
	d.HTTP.Middlewares["gz"] = ingress.Middleware{Compress: &ingress.Compress{}}
	d.HTTP.Middlewares["cf"] = ingress.Middleware{IPAllowList: &ingress.IPAllowList{SourceRange: []string{"10.0.0.1/32", "10.0.0.2/32"}, IPStrategy: &ingress.IPStrategy{Depth: 1}}}
	labels, err := d.Labels()
	require.NoError(t, err)
	assert.Equal(t, "Host(`admin.example.com`)", labels["traefik.http.routers.admin.rule"])
	assert.Equal(t, "http://10.0.0.5:8080", labels["traefik.http.services.web.loadBalancer.server.url"])
	assert.Equal(t, "true", labels["traefik.http.middlewares.gz.compress"])
	for k, v := range labels {
		assert.NotContains(t, v, "s3cret-pass", k)
	}

	var got tfConfig
	require.NoError(t, parser.Decode(labels, &got, "traefik", "traefik.http"))
	r := got.HTTP.Routers["admin"]
	assert.Equal(t, []string{"auth", "hsts"}, r.Middlewares)
	assert.Equal(t, "modern", r.TLS.Options)
	assert.Equal(t, "http://10.0.0.5:8080", got.HTTP.Services["web"].LoadBalancer.Servers[0].URL)
	assert.Equal(t, "10s", got.HTTP.Services["web"].LoadBalancer.HealthCheck.Interval)
	assert.Equal(t, []string{"10.0.0.1/32", "10.0.0.2/32"}, got.HTTP.Middlewares["cf"].IPAllowList.SourceRange)
	assert.Equal(t, 1, got.HTTP.Middlewares["cf"].IPAllowList.IPStrategy.Depth)
	assert.Equal(t, int64(63072000), got.HTTP.Middlewares["hsts"].Headers.STSSeconds)
	assert.NotNil(t, got.HTTP.Middlewares["gz"].Compress)
	users := got.HTTP.Middlewares["auth"].BasicAuth.Users
	require.Len(t, users, 1)
	_, hash, _ := strings.Cut(users[0], ":")
	assert.NoError(t, bcrypt.CompareHashAndPassword([]byte(hash), []byte("s3cret-pass")))

	two := oneRoute("a", lb("http://a", "http://b"), nil)
	_, err = two.Labels()
	assert.Error(t, err)
}

func TestCloudflareOriginApply(t *testing.T) {
	_, err := ingress.CloudflareOrigin(ingress.OriginOptions{})
	assert.Equal(t, []string{"firewalls"}, fieldPaths(t, err))

	o, err := ingress.CloudflareOrigin(ingress.OriginOptions{Firewalls: []netip.Prefix{netip.MustParsePrefix("10.8.0.1/32"), netip.MustParsePrefix("10.8.0.2/32")}})
	require.NoError(t, err)
	d := oneRoute("a.example.com", lb("http://10.0.0.1"), map[string]ingress.Middleware{"gz": {Compress: &ingress.Compress{}}}, "gz")
	internal := d.HTTP.Routers["r"]
	internal.EntryPoints = []string{"traefik"}
	d.HTTP.Routers["internal"] = internal
	o.Apply(d)
	o.Apply(d)
	require.NoError(t, d.Validate())
	assert.Equal(t, []string{ingress.OriginAllowMiddleware, ingress.OriginHeadersMiddleware, "gz"}, d.HTTP.Routers["r"].Middlewares)
	assert.Equal(t, []string{"gz"}, d.HTTP.Routers["internal"].Middlewares)
	assert.Equal(t, []string{"10.8.0.1/32", "10.8.0.2/32"}, d.HTTP.Middlewares[ingress.OriginAllowMiddleware].IPAllowList.SourceRange)
	assert.Nil(t, d.HTTP.Middlewares[ingress.OriginAllowMiddleware].IPAllowList.IPStrategy, "checks the TCP peer")
	var so ingress.StaticOptions
	o.ApplyStatic(&so)
	assert.Equal(t, o.TrustedIPs, so.TrustedIPs)
	assert.Equal(t, 1, o.ClientIP.Depth)
}

// Names the apiserver would refuse, or two Traefik names that become one Kubernetes name, are
// validation errors before anything is rendered (the real apiserver answered 422 for "site:a",
// and "Site_B" would silently replace "site-b").
func TestCRDsRefuseNamesKubernetesCannotHold(t *testing.T) {
	route := func(svc string) ingress.Router {
		return ingress.Router{Rule: ingress.Host("a.example.com").String(), Service: svc}
	}
	d := &ingress.Dynamic{HTTP: ingress.HTTP{
		Routers:  map[string]ingress.Router{"site:a": route("s"), "-site": route("s"), "Site_B": route("s"), "site-b": route("s")},
		Services: map[string]ingress.Service{"s": {LoadBalancer: &ingress.LoadBalancer{Servers: []ingress.Server{{URL: "http://s"}}}}},
	}}
	_, err := d.CRDs(ingress.CRDOptions{Namespace: "web", Services: map[string]ingress.ServiceRef{"s": {Name: "s", Port: 80}}})
	require.ErrorIs(t, err, webinfra.ErrInvalidArgument)
	msg := err.Error()
	assert.Contains(t, msg, `http.routers[site:a]: invalid value "site:a": maps to Kubernetes name "site:a", which is not valid`)
	assert.Contains(t, msg, `http.routers[-site]: invalid value "-site": maps to Kubernetes name "-site", which is not valid`)
	assert.Contains(t, msg, `http.routers[site-b]: invalid value "site-b": maps to Kubernetes name "site-b", as http.routers[Site_B] does`)
}
