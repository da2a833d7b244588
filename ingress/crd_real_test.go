package ingress_test

import (
	"encoding/base64"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/ingress"
)

const (
	crdNamespace = "webinfra-crd"
	crdPassword  = "correct horse battery staple"
)

// crdDynamic is a realistic configuration of two sites behind the Cloudflare-only origin: site
// A on two host names with HSTS and compression, site B with a rate-limited shop and a
// basic-auth admin area, all on TLS 1.3. Names with '_' and capitals exercise the mapping to
// Kubernetes names.
func crdDynamic(t *testing.T) *ingress.Dynamic {
	t.Helper()
	origin, err := ingress.CloudflareOrigin(ingress.OriginOptions{
		Firewalls:  []netip.Prefix{netip.MustParsePrefix("10.200.7.0/28"), netip.MustParsePrefix("10.200.9.4/32")},
		Cloudflare: []netip.Prefix{netip.MustParsePrefix("173.245.48.0/20"), netip.MustParsePrefix("2400:cb00::/32")},
	})
	require.NoError(t, err)
	tls := &ingress.RouterTLS{Options: "modern", CertResolver: "letsencrypt"}
	d := &ingress.Dynamic{
		HTTP: ingress.HTTP{
			Routers: map[string]ingress.Router{
				"site_a": {
					EntryPoints: []string{ingress.EntryPointWebSecure},
					Rule:        ingress.Or(ingress.Host("example.com"), ingress.Host("www.example.com")).String(),
					Service:     "site-a",
					Middlewares: []string{"hsts", "compress"},
					TLS:         tls,
				},
				"Site_B": {
					EntryPoints: []string{ingress.EntryPointWebSecure},
					Rule: ingress.Or(ingress.Host("shop.example.org"),
						ingress.And(ingress.Host("example.org"), ingress.PathPrefix("/shop"))).String(),
					Service:     "site-b",
					Middlewares: []string{"hsts", "shop_rate", "compress"},
					Priority:    10,
					TLS:         tls,
				},
				"site_b-admin": {
					EntryPoints: []string{ingress.EntryPointWebSecure},
					Rule:        ingress.And(ingress.Host("shop.example.org"), ingress.PathPrefix("/admin")).String(),
					Service:     "site-b",
					Middlewares: []string{"admin_auth", "hsts"},
					Priority:    100,
					TLS:         &ingress.RouterTLS{Options: "modern"},
				},
			},
			Services: map[string]ingress.Service{
				"site-a": {LoadBalancer: &ingress.LoadBalancer{Servers: []ingress.Server{{URL: "http://10.0.1.10:8080"}}}},
				"site-b": {LoadBalancer: &ingress.LoadBalancer{Servers: []ingress.Server{{URL: "http://10.0.2.10:3000"}}}},
			},
			Middlewares: map[string]ingress.Middleware{
				"hsts": {Headers: ingress.HSTS()},
				"shop_rate": {RateLimit: &ingress.RateLimit{
					Average: 100, Period: ingress.Duration(time.Minute), Burst: 50,
					SourceCriterion: &ingress.SourceCriterion{IPStrategy: &origin.ClientIP},
				}},
				"admin_auth": {BasicAuth: &ingress.BasicAuth{
					Users:        []ingress.BasicAuthUser{{Name: "ops", Password: webinfra.NewSecret(crdPassword)}},
					Realm:        "shop admin",
					RemoveHeader: true,
					HeaderField:  "X-Webinfra-User",
				}},
				"compress": {Compress: &ingress.Compress{ExcludedContentTypes: []string{"text/event-stream"}, MinResponseBodyBytes: 512}},
			},
		},
		TLS: ingress.TLS{Options: map[string]ingress.TLSOptions{"modern": ingress.ModernTLS()}},
	}
	origin.Apply(d)
	require.NoError(t, d.Validate())
	return d
}

// crdJSON turns a value of the Dynamic into the JSON shape the apiserver returns (int64
// numbers), as the fields we set.
func crdJSON(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, utiljson.Unmarshal(b, &m))
	return m
}

// crdName mirrors the documented mapping of Traefik names to Kubernetes names.
func crdName(n string) string {
	return strings.NewReplacer("_", "-", ".", "-").Replace(strings.ToLower(n))
}

// TestCRDRealApply renders a realistic Dynamic as Traefik custom resources, server-side applies
// them to a real kube-apiserver holding Traefik v3.6's own CRDs, and reads back every field set
// in the Dynamic.
func TestCRDRealApply(t *testing.T) {
	c := k8sConnect(t)
	_, err := c.apply(t, &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": crdNamespace}}})
	require.NoError(t, err)

	d := crdDynamic(t)
	objs, err := d.CRDs(ingress.CRDOptions{Namespace: crdNamespace, Services: map[string]ingress.ServiceRef{
		"site-a": {Name: "site-a", Port: 8080},
		"site-b": {Name: "site-b", Port: 3000},
	}})
	require.NoError(t, err)

	got := map[string]*unstructured.Unstructured{} // kind/name -> object read back
	var kinds []string
	for _, obj := range objs {
		key := obj.GetKind() + "/" + obj.GetName()
		kinds = append(kinds, key)
		t.Run("apply "+key, func(t *testing.T) {
			back, err := c.apply(t, obj)
			if err != nil {
				var status apierrors.APIStatus
				if assert.ErrorAs(t, err, &status) {
					t.Logf("apiserver: %d %s", status.Status().Code, status.Status().Reason)
				}
				t.Fatalf("BUG in ingress/render_crd.go: the apiserver (Traefik's CRD schema) rejects %s rendered by Dynamic.CRDs: %v", key, err)
			}
			got[key] = back
			assert.Empty(t, k8sMissing(obj.Object, back.Object, ""), "rendered fields pruned or changed by the apiserver")
		})
	}
	require.Equal(t, []string{
		"Secret/admin-auth",
		"Middleware/admin-auth", "Middleware/cloudflare-only", "Middleware/cloudflare-origin-headers",
		"Middleware/compress", "Middleware/hsts", "Middleware/shop-rate",
		"TLSOption/modern",
		// Sorted by Traefik name: "Site_B" < "site_a" < "site_b-admin".
		"IngressRoute/site-b", "IngressRoute/site-a", "IngressRoute/site-b-admin",
	}, kinds)
	if t.Failed() {
		return
	}

	// Every field set in the Dynamic, read back from the apiserver (not from the rendering).
	t.Run("middlewares read back", func(t *testing.T) {
		for name, m := range d.HTTP.Middlewares {
			want := crdJSON(t, m)
			if m.BasicAuth != nil {
				ba := want["basicAuth"].(map[string]any)
				delete(ba, "users") // they live in the Secret, checked below
				ba["secret"] = crdName(name)
			}
			back := got["Middleware/"+crdName(name)]
			require.NotNil(t, back, name)
			assert.Empty(t, k8sMissing(want, back.Object["spec"], ".spec"), "middleware %s", name)
		}
		spec := got["Middleware/hsts"].Object["spec"]
		assert.Equal(t, map[string]any{"headers": map[string]any{
			"stsSeconds": int64(63072000), "stsIncludeSubdomains": true, "stsPreload": true, "forceSTSHeader": true,
			"frameDeny": true, "contentTypeNosniff": true, "referrerPolicy": "strict-origin-when-cross-origin",
		}}, spec)
		assert.Equal(t, map[string]any{"ipAllowList": map[string]any{"sourceRange": []any{"10.200.7.0/28", "10.200.9.4/32"}}},
			got["Middleware/cloudflare-only"].Object["spec"])
		assert.Equal(t, map[string]any{"headers": map[string]any{"customRequestHeaders": map[string]any{"X-Real-Ip": ""}}},
			got["Middleware/cloudflare-origin-headers"].Object["spec"])
		assert.Equal(t, map[string]any{"rateLimit": map[string]any{"average": int64(100), "period": "1m0s", "burst": int64(50),
			"sourceCriterion": map[string]any{"ipStrategy": map[string]any{"depth": int64(1)}}}},
			got["Middleware/shop-rate"].Object["spec"])
	})

	t.Run("basic-auth Secret holds a bcrypt hash of the password only", func(t *testing.T) {
		sec := got["Secret/admin-auth"]
		assert.Equal(t, "Opaque", sec.Object["type"])
		users, _, _ := unstructured.NestedString(sec.Object, "data", "users")
		raw, err := base64.StdEncoding.DecodeString(users)
		require.NoError(t, err)
		assert.NotContains(t, string(raw), crdPassword)
		name, hash, ok := strings.Cut(strings.TrimSuffix(string(raw), "\n"), ":")
		require.True(t, ok, "htpasswd line: %q", raw)
		assert.Equal(t, "ops", name)
		assert.NoError(t, bcrypt.CompareHashAndPassword([]byte(hash), []byte(crdPassword)))
	})

	t.Run("TLSOption read back", func(t *testing.T) {
		want := crdJSON(t, d.TLS.Options["modern"])
		assert.Equal(t, map[string]any{"minVersion": "VersionTLS13", "curvePreferences": []any{"X25519", "CurveP256", "CurveP384"}}, want)
		assert.Empty(t, k8sMissing(want, got["TLSOption/modern"].Object["spec"], ".spec"))
	})

	t.Run("IngressRoutes read back", func(t *testing.T) {
		ports := map[string]int64{"site-a": 8080, "site-b": 3000}
		for name, r := range d.HTTP.Routers {
			var mws []any
			for _, m := range r.Middlewares {
				mws = append(mws, map[string]any{"name": crdName(m), "namespace": crdNamespace})
				assert.Contains(t, got, "Middleware/"+crdName(m), "router %s uses middleware %s: not rendered", name, m)
			}
			route := map[string]any{
				"kind": "Rule", "match": r.Rule, "middlewares": mws,
				"services": []any{map[string]any{"name": r.Service, "port": ports[r.Service]}},
			}
			if r.Priority != 0 {
				route["priority"] = int64(r.Priority)
			}
			tls := map[string]any{"options": map[string]any{"name": crdName(r.TLS.Options), "namespace": crdNamespace}}
			if r.TLS.CertResolver != "" {
				tls["certResolver"] = r.TLS.CertResolver
			}
			assert.Contains(t, got, "TLSOption/"+crdName(r.TLS.Options), "router %s uses TLS option %s: not rendered", name, r.TLS.Options)
			want := map[string]any{"entryPoints": []any{ingress.EntryPointWebSecure}, "routes": []any{route}, "tls": tls}
			back := got["IngressRoute/"+crdName(name)]
			require.NotNil(t, back, name)
			assert.Empty(t, k8sMissing(want, back.Object["spec"], ".spec"), "router %s", name)
			assert.Equal(t, map[string]string{"app.kubernetes.io/managed-by": "webinfra"}, back.GetLabels())
		}
		// The origin chain comes first on every public router.
		spec := got["IngressRoute/site-b-admin"].Object["spec"].(map[string]any)
		r0 := spec["routes"].([]any)[0].(map[string]any)
		assert.Equal(t, "Host(`shop.example.org`) && PathPrefix(`/admin`)", r0["match"])
		var names []string
		for _, m := range r0["middlewares"].([]any) {
			names = append(names, m.(map[string]any)["name"].(string))
		}
		assert.Equal(t, []string{"cloudflare-only", "cloudflare-origin-headers", "admin-auth", "hsts"}, names)
	})

	t.Run("unknown IngressRoute field is rejected", func(t *testing.T) {
		bad := objs[len(objs)-1].DeepCopy()
		bad.SetName("bad")
		routes := bad.Object["spec"].(map[string]any)["routes"].([]any)
		routes[0].(map[string]any)["notAField"] = "yes"
		_, err := c.apply(t, bad)
		require.Error(t, err)
		var status apierrors.APIStatus
		require.ErrorAs(t, err, &status)
		t.Logf("server-side apply: %d %s: %v", status.Status().Code, status.Status().Reason, err)
		assert.Contains(t, err.Error(), ".spec.routes[0].notAField: field not declared in schema")
		// Observed with kube-apiserver v1.37.2: server-side apply reports it as 500, not 400.
		assert.EqualValues(t, 500, status.Status().Code)

		_, err = c.resource(t, bad).Create(t.Context(), bad, metav1.CreateOptions{FieldValidation: "Strict"})
		require.Error(t, err)
		require.ErrorAs(t, err, &status)
		t.Logf("strict create: %d %s: %v", status.Status().Code, status.Status().Reason, err)
		assert.True(t, apierrors.IsBadRequest(err), "strict create: %v", err)
		assert.Contains(t, err.Error(), `unknown field "spec.routes[0].notAField"`)

		_, err = c.resource(t, bad).Get(t.Context(), "bad", metav1.GetOptions{})
		assert.True(t, apierrors.IsNotFound(err), "nothing was created: %v", err)
	})

	t.Run("a pruned IngressRoute field is caught by the read-back", func(t *testing.T) {
		// Created ignoring unknown fields, the apiserver prunes the field silently under
		// Traefik's schema; the comparison used above must then report it.
		bad := objs[len(objs)-1].DeepCopy()
		bad.SetName("pruned")
		routes := bad.Object["spec"].(map[string]any)["routes"].([]any)
		routes[0].(map[string]any)["notAField"] = "yes"
		r := c.resource(t, bad)
		_, err := r.Create(t.Context(), bad, metav1.CreateOptions{FieldValidation: "Ignore"})
		require.NoError(t, err)
		back, err := r.Get(t.Context(), "pruned", metav1.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, []string{".spec.routes[0].notAField: missing (pruned?)"}, k8sMissing(bad.Object, back.Object, ""))
	})

	t.Run("second apply changes nothing", func(t *testing.T) {
		for _, obj := range objs {
			before, err := c.resource(t, obj).Get(t.Context(), obj.GetName(), metav1.GetOptions{})
			require.NoError(t, err)
			after, err := c.apply(t, obj)
			require.NoError(t, err)
			assert.Equal(t, before.GetResourceVersion(), after.GetResourceVersion(), "%s %s", obj.GetKind(), obj.GetName())
		}
	})
}
