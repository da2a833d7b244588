package ingress_test

import (
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra/ingress"
)

// hostileNames are values that must not reach a rendered file as they are: separators of the
// formats around (';', '}', '{', ',', ':', '/'), quotes, line breaks and other control
// characters, white space, non-ASCII, path elements and overlong values.
var hostileNames = []string{
	"", " ", "a b", "a\tb", "a\nb", "a\rb", "a\r\nb", "a\x00b", "a\x7fb", "a\x1bb", "a\u2028b", "a\u0085b",
	"a;b", "a}b", "a{b", "a,b", `a"b`, "a'b", "a`b", `a\b`, "a:b", "a/b", "a#b", "a$b", "a*b", "é",
	".", "..", "a\n}\ntable inet x {", "x\"; flush ruleset; \"", strings.Repeat("x", 16), strings.Repeat("y", 254),
}

// hostileHosts are host names Host(...) and a health check's Host header must refuse.
var hostileHosts = []string{
	"a b", "a\nb", "a\rb", "a\x00b", "a;b", "a}b", "a/b", "a:b", "a..b", ".a", "-a.example.com", "a-.example.com",
	"exa_mple.com", "*.example.com", "é.example.com", "fe80::1%eth0", strings.Repeat("l", 64) + ".example.com",
	strings.Repeat("abcdefgh.", 28) + "com",
}

func hostileDynamic() *ingress.Dynamic {
	return &ingress.Dynamic{HTTP: ingress.HTTP{
		Routers: map[string]ingress.Router{"www": {
			EntryPoints: []string{ingress.EntryPointWebSecure}, Rule: ingress.Host("www.example.com").String(),
			Service: "app", Middlewares: []string{"hsts"},
		}},
		Services: map[string]ingress.Service{"app": {LoadBalancer: &ingress.LoadBalancer{
			Servers: []ingress.Server{{URL: "http://10.0.0.1:8080"}}, HealthCheck: &ingress.HealthCheck{Path: "/health"},
		}}},
		Middlewares: map[string]ingress.Middleware{"hsts": {Headers: &ingress.Headers{STSSeconds: 60}}},
	}}
}

// dynamicFields are the values of a Dynamic that reach the rendered file, labels or CRDs, each
// with how to set it and the path its problem is reported at.
var dynamicFields = []struct {
	name string
	set  func(d *ingress.Dynamic, v string) string // returns the path of the problem
}{
	{"router name", func(d *ingress.Dynamic, v string) string {
		d.HTTP.Routers[v] = d.HTTP.Routers["www"]
		delete(d.HTTP.Routers, "www")
		return "http.routers[" + v + "]"
	}},
	{"service name", func(d *ingress.Dynamic, v string) string {
		d.HTTP.Services[v] = d.HTTP.Services["app"]
		delete(d.HTTP.Services, "app")
		r := d.HTTP.Routers["www"]
		r.Service = v
		d.HTTP.Routers["www"] = r
		return "http.services[" + v + "]"
	}},
	{"middleware name", func(d *ingress.Dynamic, v string) string {
		d.HTTP.Middlewares[v] = d.HTTP.Middlewares["hsts"]
		delete(d.HTTP.Middlewares, "hsts")
		r := d.HTTP.Routers["www"]
		r.Middlewares = []string{v}
		d.HTTP.Routers["www"] = r
		return "http.middlewares[" + v + "]"
	}},
	{"entry point", func(d *ingress.Dynamic, v string) string {
		r := d.HTTP.Routers["www"]
		r.EntryPoints = []string{v}
		d.HTTP.Routers["www"] = r
		return "http.routers[www].entryPoints[0]"
	}},
	{"service reference", func(d *ingress.Dynamic, v string) string {
		r := d.HTTP.Routers["www"]
		r.Service = v + "@file"
		d.HTTP.Routers["www"] = r
		return "http.routers[www].service"
	}},
	{"middleware reference", func(d *ingress.Dynamic, v string) string {
		r := d.HTTP.Routers["www"]
		r.Middlewares = []string{v + "@file"}
		d.HTTP.Routers["www"] = r
		return "http.routers[www].middlewares[0]"
	}},
	{"TLS options reference", func(d *ingress.Dynamic, v string) string {
		r := d.HTTP.Routers["www"]
		r.TLS = &ingress.RouterTLS{Options: v + "@file"}
		d.HTTP.Routers["www"] = r
		return "http.routers[www].tls.options"
	}},
}

// Every hostile name is refused at the path of its field.
func TestDynamicValidateHostileNames(t *testing.T) {
	for _, f := range dynamicFields {
		for _, v := range hostileNames {
			if v == strings.Repeat("x", 16) || v == strings.Repeat("y", 254) {
				continue // long plain names are fine for Traefik
			}
			t.Run(f.name+"="+strings.ToValidUTF8(v, "?"), func(t *testing.T) {
				d := hostileDynamic()
				path := f.set(d, v)
				assert.Contains(t, fieldPaths(t, d.Validate()), path)
			})
		}
	}
}

// Host values of a rule and a health check's hostname must be host names or IP addresses.
func TestDynamicValidateHostileHosts(t *testing.T) {
	for _, h := range hostileHosts {
		t.Run(strings.ToValidUTF8(h, "?"), func(t *testing.T) {
			d := hostileDynamic()
			r := d.HTTP.Routers["www"]
			r.Rule = ingress.Host(h).String()
			d.HTTP.Routers["www"] = r
			assert.Contains(t, fieldPaths(t, d.Validate()), "http.routers[www].rule")

			d = hostileDynamic()
			d.HTTP.Services["app"].LoadBalancer.HealthCheck.Hostname = h
			assert.Contains(t, fieldPaths(t, d.Validate()), "http.services[app].loadBalancer.healthCheck.hostname")
		})
	}
	for _, h := range []string{"example.com", "WWW.Example.COM", "example.com.", "a", "10.0.0.1", "[2001:db8::1]", "2001:db8::1", "xn--bcher-kva.example"} {
		d := hostileDynamic()
		r := d.HTTP.Routers["www"]
		r.Rule = ingress.Host(h).String()
		d.HTTP.Routers["www"] = r
		d.HTTP.Services["app"].LoadBalancer.HealthCheck.Hostname = h
		assert.NoError(t, d.Validate(), h)
	}
}

// Property: whatever value a field got, a configuration Validate accepts renders to a file that
// reads back as the same configuration (nothing injected) and to labels under traefik.http.
func TestDynamicAcceptedRendersUninjected(t *testing.T) {
	accepted := 0
	for _, f := range dynamicFields {
		for _, v := range append(slices.Clone(hostileNames), "web", "site_a", "site-b", "Z9") {
			d := hostileDynamic()
			f.set(d, v)
			if d.Validate() != nil {
				continue
			}
			accepted++
			y, err := d.FileYAML()
			require.NoError(t, err)
			back, err := ingress.ParseFileYAML(y)
			require.NoError(t, err, "%s=%q:\n%s", f.name, v, y)
			assert.Equal(t, d, back, "%s=%q", f.name, v)
			labels, err := d.Labels()
			require.NoError(t, err)
			for k, val := range labels {
				assert.True(t, strings.HasPrefix(k, "traefik.http."), "%s=%q: label %q", f.name, v, k)
				assert.False(t, strings.ContainsFunc(k+val, unicode.IsControl), "%s=%q: label %q=%q", f.name, v, k, val)
			}
		}
	}
	assert.Positive(t, accepted)
}

// Interface names of the firewall are refused at their paths, and so is every other field that
// names a Kubernetes object or an interface.
func TestValidateHostileInterfacesAndKubernetesNames(t *testing.T) {
	cases := []struct {
		path     string
		validate func(v string) error
	}{
		{"meshInterface", func(v string) error {
			s := firewallSpecForTest()
			s.MeshInterface = v
			return s.Validate()
		}},
		{"publicInterfaces[0]", func(v string) error {
			s := firewallSpecForTest()
			s.PublicInterfaces = []string{v}
			return s.Validate()
		}},
		{"pools[0].l2.interfaces[0]", func(v string) error {
			p := poolValid()
			p.Pools[0].L2.Interfaces = []string{v}
			return p.Validate()
		}},
		{"kubernetesNamespaces[0]", func(v string) error {
			_, err := ingress.NewStatic(ingress.StaticOptions{KubernetesCRD: true, KubernetesNamespaces: []string{v}})
			return err
		}},
		{"namespace", func(v string) error {
			s := workloadSpec()
			s.Namespace = v
			if v == "" {
				s.Namespace = " "
			}
			return s.Validate()
		}},
		{"namespace", func(v string) error {
			_, err := hostileDynamic().CRDs(ingress.CRDOptions{Namespace: v, Services: map[string]ingress.ServiceRef{"app": {Name: "app", Port: 80}}})
			return err
		}},
		{"services[app].name", func(v string) error {
			_, err := hostileDynamic().CRDs(ingress.CRDOptions{Namespace: "web", Services: map[string]ingress.ServiceRef{"app": {Name: v, Port: 80}}})
			return err
		}},
	}
	for _, c := range cases {
		for _, v := range hostileNames {
			if v == strings.Repeat("x", 16) && !strings.Contains(c.path, "nterface") {
				continue // too long only for an interface
			}
			if v == "" && strings.HasPrefix(c.path, "services") {
				continue // that is "required", tested elsewhere
			}
			t.Run(c.path+"="+strings.ToValidUTF8(v, "?"), func(t *testing.T) {
				assert.Contains(t, fieldPaths(t, c.validate(v)), c.path)
			})
		}
	}
}

// Property: a firewall spec Validate accepts, whatever its interface names, renders a ruleset
// with the lines, braces and statements of the plain one: no value ended a string, a set or a
// statement early.
func TestFirewallAcceptedRendersUninjected(t *testing.T) {
	base, err := ingress.FirewallRuleset(withPublic(firewallSpecForTest(), "eth0"))
	require.NoError(t, err)
	shape := func(s string) [4]int {
		return [4]int{strings.Count(s, "\n"), strings.Count(s, "{"), strings.Count(s, "}"), strings.Count(s, ";")}
	}
	accepted := 0
	for _, v := range append(slices.Clone(hostileNames), "eth1", "tun-mesh0", "eth0.100", "wg_0") {
		for _, s := range []ingress.FirewallSpec{withPublic(firewallSpecForTest(), v), withMesh(withPublic(firewallSpecForTest(), "eth0"), v)} {
			if s.Validate() != nil {
				continue
			}
			accepted++
			out, err := ingress.FirewallRuleset(s)
			require.NoError(t, err)
			assert.Equal(t, shape(base), shape(out), "%q:\n%s", v, out)
			assert.False(t, strings.ContainsFunc(out, func(r rune) bool { return r != '\n' && r != '\t' && unicode.IsControl(r) }), "%q", v)
		}
	}
	assert.Positive(t, accepted)
}

func withPublic(s ingress.FirewallSpec, name string) ingress.FirewallSpec {
	s.PublicInterfaces = []string{name}
	return s
}

func withMesh(s ingress.FirewallSpec, name string) ingress.FirewallSpec {
	s.MeshInterface = name
	return s
}
