package ingress

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8svalidation "k8s.io/apimachinery/pkg/util/validation"

	"github.com/webinfra/webinfra"
)

// CRDAPIVersion is the API version of Traefik's custom resources.
const CRDAPIVersion = "traefik.io/v1alpha1"

// ServiceRef names the Kubernetes Service an IngressRoute sends a Traefik service's traffic to.
type ServiceRef struct {
	// Name of the Kubernetes Service, in the routes' namespace (required, a DNS-1035 label as
	// Kubernetes requires of Service names).
	Name string
	// Port of the Service (1 to 65535, required).
	Port int
}

// CRDOptions says how [Dynamic.CRDs] maps the configuration onto Kubernetes objects.
type CRDOptions struct {
	// Namespace of every object (required, a DNS-1123 label).
	Namespace string
	// Services maps each Traefik service name used by a router to a Kubernetes Service, since
	// IngressRoutes reach Services, not URLs (required for every referenced service).
	Services map[string]ServiceRef
}

// CRDs renders d as Traefik custom resources in namespace o.Namespace, ordered Secrets,
// Middlewares, TLSOptions, IngressRoutes, each sorted by name: one IngressRoute per router (its
// entry points, match rule, priority, middlewares, TLS options), one Middleware per middleware
// (a basic-auth one references a Secret of the same name holding the users as htpasswd lines
// under "users": passwords appear only as bcrypt hashes), one TLSOption per TLS option.
// Load-balancer details (servers, health checks) are not rendered: Kubernetes Services provide
// them. d must be valid ([Dynamic.Validate]); a router whose service has no [ServiceRef], or
// invalid options, give a *[webinfra.ValidationError].
func (d *Dynamic) CRDs(o CRDOptions) ([]*unstructured.Unstructured, error) {
	var errs webinfra.ValidationError
	if o.Namespace == "" {
		errs.Required(webinfra.NewPath("namespace"))
	} else if problems := k8svalidation.IsDNS1123Label(o.Namespace); len(problems) > 0 {
		errs.Invalid(webinfra.NewPath("namespace"), o.Namespace, strings.Join(problems, "; "))
	}
	for _, name := range sortedKeys(d.HTTP.Routers) {
		svc := d.HTTP.Routers[name].Service
		ref, ok := o.Services[svc]
		p := webinfra.NewPath("services").Key(svc)
		switch {
		case !ok:
			errs.Addf(p, nil, "no Kubernetes Service given for the service of router %q", name)
		case ref.Name == "":
			errs.Required(p.Child("name"))
		case len(k8svalidation.IsDNS1035Label(ref.Name)) > 0:
			errs.Invalid(p.Child("name"), ref.Name, strings.Join(k8svalidation.IsDNS1035Label(ref.Name), "; "))
		case ref.Port < 1 || ref.Port > 65535:
			errs.Invalid(p.Child("port"), ref.Port, "want 1 to 65535")
		}
	}
	checkCRDNames(&errs, webinfra.NewPath("http", "routers"), sortedKeys(d.HTTP.Routers))
	checkCRDNames(&errs, webinfra.NewPath("http", "middlewares"), sortedKeys(d.HTTP.Middlewares))
	checkCRDNames(&errs, webinfra.NewPath("tls", "options"), sortedKeys(d.TLS.Options))
	if err := errs.Err(); err != nil {
		return nil, err
	}
	var secrets, middlewares, options, routes []*unstructured.Unstructured
	for _, name := range sortedKeys(d.HTTP.Middlewares) {
		m := d.HTTP.Middlewares[name]
		bare := m
		if m.BasicAuth != nil { // users go to the Secret, hashed once
			ba := *m.BasicAuth
			ba.Users = nil
			bare.BasicAuth = &ba
		}
		spec, err := toMap(bare)
		if err != nil {
			return nil, err
		}
		if m.BasicAuth != nil {
			var lines []string
			for _, u := range m.BasicAuth.Users {
				l, err := u.htpasswd()
				if err != nil {
					return nil, err
				}
				lines = append(lines, l)
			}
			sec := object("v1", "Secret", o.Namespace, crdName(name))
			sec.Object["type"] = "Opaque"
			sec.Object["data"] = map[string]any{"users": base64.StdEncoding.EncodeToString([]byte(strings.Join(lines, "\n") + "\n"))}
			secrets = append(secrets, sec)
			ba, _ := spec["basicAuth"].(map[string]any)
			if ba == nil {
				ba = map[string]any{}
				spec["basicAuth"] = ba
			}
			ba["secret"] = crdName(name)
		}
		obj := object(CRDAPIVersion, "Middleware", o.Namespace, crdName(name))
		obj.Object["spec"] = spec
		middlewares = append(middlewares, obj)
	}
	for _, name := range sortedKeys(d.TLS.Options) {
		spec, err := toMap(d.TLS.Options[name])
		if err != nil {
			return nil, err
		}
		obj := object(CRDAPIVersion, "TLSOption", o.Namespace, crdName(name))
		obj.Object["spec"] = spec
		options = append(options, obj)
	}
	for _, name := range sortedKeys(d.HTTP.Routers) {
		r := d.HTTP.Routers[name]
		ref := o.Services[r.Service]
		route := map[string]any{
			"kind":     "Rule",
			"match":    r.Rule,
			"services": []any{map[string]any{"name": ref.Name, "port": int64(ref.Port)}},
		}
		if r.Priority != 0 {
			route["priority"] = int64(r.Priority)
		}
		if len(r.Middlewares) > 0 {
			var ms []any
			for _, m := range r.Middlewares {
				ms = append(ms, middlewareRef(m, o.Namespace))
			}
			route["middlewares"] = ms
		}
		spec := map[string]any{"routes": []any{route}}
		if len(r.EntryPoints) > 0 {
			spec["entryPoints"] = stringsAny(r.EntryPoints)
		}
		if r.TLS != nil {
			t := map[string]any{}
			if r.TLS.Options != "" && r.TLS.Options != "default" {
				t["options"] = map[string]any{"name": crdName(r.TLS.Options), "namespace": o.Namespace}
			}
			if r.TLS.CertResolver != "" {
				t["certResolver"] = r.TLS.CertResolver
			}
			spec["tls"] = t
		}
		obj := object(CRDAPIVersion, "IngressRoute", o.Namespace, crdName(name))
		obj.Object["spec"] = spec
		routes = append(routes, obj)
	}
	out := append(secrets, middlewares...)
	out = append(out, options...)
	return append(out, routes...), nil
}

// middlewareRef maps a router's middleware reference to an IngressRoute one. Names of this
// configuration live in the namespace; "name@kubernetescrd"-style references keep their
// provider suffix off and Traefik's "namespace-name" convention is not guessed.
func middlewareRef(m, ns string) map[string]any {
	name, _, _ := strings.Cut(m, "@")
	return map[string]any{"name": crdName(name), "namespace": ns}
}

// checkCRDNames reports Traefik names whose Kubernetes name (crdName) the apiserver would refuse
// (not a DNS-1123 subdomain, such as "site:a" or "-site") or that two names share ("Site_B" and
// "site-b" both become "site-b": the second object would silently replace the first).
func checkCRDNames(errs *webinfra.ValidationError, p webinfra.Path, names []string) {
	seen := map[string]string{}
	for _, name := range names {
		k := crdName(name)
		if problems := k8svalidation.IsDNS1123Subdomain(k); len(problems) > 0 {
			errs.Addf(p.Key(name), name, "maps to Kubernetes name %q, which is not valid: %s", k, strings.Join(problems, "; "))
			continue
		}
		if first, dup := seen[k]; dup {
			errs.Addf(p.Key(name), name, "maps to Kubernetes name %q, as %s does", k, p.Key(first))
			continue
		}
		seen[k] = name
	}
}

// crdName turns a Traefik object name into a Kubernetes object name (lower case, '_' and '.' as
// '-'); checkCRDNames refuses the names that stay invalid or collide.
func crdName(n string) string {
	return strings.NewReplacer("_", "-", ".", "-").Replace(strings.ToLower(n))
}

func object(apiVersion, kind, ns, name string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": apiVersion,
		"kind":       kind,
		"metadata":   map[string]any{"name": name, "namespace": ns, "labels": map[string]any{"app.kubernetes.io/managed-by": "webinfra"}},
	}}
}

func stringsAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// toMap turns a value into the JSON-shaped map unstructured objects hold (numbers as int64).
func toMap(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("ingress: render: %w", err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(append(append([]byte(`{"apiVersion":"v1","kind":"X","spec":`), b...), '}')); err != nil {
		return nil, fmt.Errorf("ingress: render: %w", err)
	}
	m, _, _ := unstructured.NestedMap(u.Object, "spec")
	return m, nil
}
