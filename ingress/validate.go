package ingress

import (
	"crypto/tls"
	"errors"
	"maps"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/webinfra/webinfra"
)

// Validate checks the configuration before it is deployed and reports every problem in one
// *[webinfra.ValidationError] (matching [webinfra.ErrInvalidArgument]), with field paths such as
// `http.routers[www].service`. It finds what real Traefik only logs while it keeps serving:
// routers whose service or middleware is missing (Traefik disables the router), rules that do
// not parse or whose matchers are invalid (disabled), services without servers (503), unknown TLS
// options, and malformed middlewares. Names of routers, services, middlewares, TLS options and
// entry points are letters, digits, '_' and '-' (references may add "@provider"), and Host
// values of rules are host names or IP addresses, so that no value changes the structure of
// the rendered file, labels or custom resources. References holding '@' (another provider's
// objects) are not resolved. Validate is pure and does no I/O.
func (d *Dynamic) Validate() error {
	var errs webinfra.ValidationError
	d.validate(&errs)
	return errs.Err()
}

func (d *Dynamic) validate(errs *webinfra.ValidationError) {
	hp := webinfra.NewPath("http")
	for _, name := range sortedKeys(d.HTTP.Routers) {
		d.validateRouter(errs, hp.Child("routers").Key(name), name, d.HTTP.Routers[name])
	}
	for _, name := range sortedKeys(d.HTTP.Services) {
		validateService(errs, hp.Child("services").Key(name), name, d.HTTP.Services[name])
	}
	for _, name := range sortedKeys(d.HTTP.Middlewares) {
		validateMiddleware(errs, hp.Child("middlewares").Key(name), name, d.HTTP.Middlewares[name])
	}
	tp := webinfra.NewPath("tls", "options")
	for _, name := range sortedKeys(d.TLS.Options) {
		validateTLSOptions(errs, tp.Key(name), name, d.TLS.Options[name])
	}
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// traefikName is what Validate accepts as the name of a router, service, middleware, TLS
// option or entry point: it is rendered as a YAML key, a label path element (where a '.' would
// start another element: traefik.http.routers.NAME.rule) and, mapped, a Kubernetes name, so it
// holds no '.', white space, control character, quote, brace or other separator.
var traefikName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// traefikRef is a reference to such a name, optionally in another provider ("auth@file").
var traefikRef = regexp.MustCompile(`^[A-Za-z0-9_-]+(@[A-Za-z0-9_-]+)?$`)

const traefikNameMsg = "a name must be non-empty letters, digits, '_' or '-'"

func validateName(errs *webinfra.ValidationError, p webinfra.Path, name string) {
	if !traefikName.MatchString(name) {
		errs.Invalid(p, name, traefikNameMsg)
	}
}

// hasControl reports whether s holds a control character other than tab (a line break among
// them) or a Unicode line or paragraph separator.
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool {
		return r != '\t' && unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
	})
}

func (d *Dynamic) validateRouter(errs *webinfra.ValidationError, p webinfra.Path, name string, r Router) {
	validateName(errs, p, name)
	if r.Rule == "" {
		errs.Required(p.Child("rule"))
	} else if _, err := ParseRule(r.Rule); err != nil {
		var re *RuleError
		if errors.As(err, &re) {
			errs.Addf(p.Child("rule"), r.Rule, "column %d: %s", re.Offset+1, re.Msg)
		} else {
			errs.Invalid(p.Child("rule"), r.Rule, err.Error())
		}
	}
	switch {
	case r.Service == "":
		errs.Required(p.Child("service"))
	case !traefikRef.MatchString(r.Service):
		errs.Invalid(p.Child("service"), r.Service, traefikNameMsg+", optionally with @provider")
	case strings.Contains(r.Service, "@"):
	default:
		if _, ok := d.HTTP.Services[r.Service]; !ok {
			errs.Invalid(p.Child("service"), r.Service, "no such service in http.services (Traefik would disable the router)")
		}
	}
	for i, m := range r.Middlewares {
		switch {
		case m == "":
			errs.Invalid(p.Child("middlewares").Index(i), m, "empty middleware name")
		case !traefikRef.MatchString(m):
			errs.Invalid(p.Child("middlewares").Index(i), m, traefikNameMsg+", optionally with @provider")
		case strings.Contains(m, "@"):
		default:
			if _, ok := d.HTTP.Middlewares[m]; !ok {
				errs.Invalid(p.Child("middlewares").Index(i), m, "no such middleware in http.middlewares (Traefik would disable the router)")
			}
		}
	}
	for i, ep := range r.EntryPoints {
		if !traefikName.MatchString(ep) {
			errs.Invalid(p.Child("entryPoints").Index(i), ep, "not an entry point name: "+traefikNameMsg)
		}
	}
	if r.Priority < 0 {
		errs.Invalid(p.Child("priority"), r.Priority, "must not be negative")
	}
	if r.TLS != nil && r.TLS.Options != "" && !traefikRef.MatchString(r.TLS.Options) {
		errs.Invalid(p.Child("tls").Child("options"), r.TLS.Options, traefikNameMsg+", optionally with @provider")
	} else if r.TLS != nil && r.TLS.Options != "" && r.TLS.Options != "default" && !strings.Contains(r.TLS.Options, "@") {
		if _, ok := d.TLS.Options[r.TLS.Options]; !ok {
			errs.Invalid(p.Child("tls").Child("options"), r.TLS.Options, "no such TLS option in tls.options")
		}
	}
}

func validateService(errs *webinfra.ValidationError, p webinfra.Path, name string, s Service) {
	validateName(errs, p, name)
	lb := s.LoadBalancer
	if lb == nil {
		errs.Required(p.Child("loadBalancer"))
		return
	}
	lp := p.Child("loadBalancer")
	if len(lb.Servers) == 0 {
		errs.Add(lp.Child("servers"), nil, "at least one server is required (Traefik rejects the whole file when the load balancer is otherwise empty, and answers 503 when not)")
	}
	for i, srv := range lb.Servers {
		sp := lp.Child("servers").Index(i).Child("url")
		u, err := url.Parse(srv.URL)
		switch {
		case srv.URL == "":
			errs.Required(sp)
		case err != nil:
			errs.Invalid(sp, srv.URL, "not a URL")
		case u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "h2c":
			errs.Invalid(sp, srv.URL, "scheme must be http, https or h2c")
		case u.Host == "":
			errs.Invalid(sp, srv.URL, "no host")
		}
	}
	if hc := lb.HealthCheck; hc != nil {
		hp := lp.Child("healthCheck")
		if !strings.HasPrefix(hc.Path, "/") {
			errs.Invalid(hp.Child("path"), hc.Path, "must start with '/'")
		}
		if hc.Interval < 0 {
			errs.Invalid(hp.Child("interval"), hc.Interval, "must not be negative")
		}
		if hc.Timeout < 0 {
			errs.Invalid(hp.Child("timeout"), hc.Timeout, "must not be negative")
		}
		if hc.Port < 0 || hc.Port > 65535 {
			errs.Invalid(hp.Child("port"), hc.Port, "want 1 to 65535, or 0 for the server's")
		}
		if hc.Hostname != "" {
			if msg := checkHost(hc.Hostname); msg != "" {
				errs.Invalid(hp.Child("hostname"), hc.Hostname, msg)
			}
		}
		if hc.Scheme != "" && hc.Scheme != "http" && hc.Scheme != "https" && hc.Scheme != "h2c" {
			errs.NotSupported(hp.Child("scheme"), hc.Scheme, []string{"http", "https", "h2c"})
		}
	}
	if st := lb.Sticky; st != nil {
		if st.Cookie == nil {
			errs.Required(lp.Child("sticky").Child("cookie"))
		} else {
			cp := lp.Child("sticky").Child("cookie")
			if !slices.Contains([]string{"", "none", "lax", "strict"}, st.Cookie.SameSite) {
				errs.NotSupported(cp.Child("sameSite"), st.Cookie.SameSite, []string{"none", "lax", "strict"})
			}
			if st.Cookie.MaxAge < 0 {
				errs.Invalid(cp.Child("maxAge"), st.Cookie.MaxAge, "must not be negative")
			}
			if strings.ContainsAny(st.Cookie.Name, " \t\n;,=\"") || hasControl(st.Cookie.Name) {
				errs.Invalid(cp.Child("name"), st.Cookie.Name, "not a cookie name")
			}
		}
	}
}

// validAddrOrPrefix reports whether s is an IP address or a CIDR range, as Traefik's IP checker
// accepts.
func validAddrOrPrefix(s string) bool {
	if _, err := netip.ParsePrefix(s); err == nil {
		return true
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}

func validateIPStrategy(errs *webinfra.ValidationError, p webinfra.Path, s *IPStrategy) {
	if s == nil {
		return
	}
	if s.Depth < 0 {
		errs.Invalid(p.Child("depth"), s.Depth, "must not be negative")
	}
	for i, e := range s.ExcludedIPs {
		if !validAddrOrPrefix(e) {
			errs.Invalid(p.Child("excludedIPs").Index(i), e, "not an IP address or CIDR range")
		}
	}
}

func validateMiddleware(errs *webinfra.ValidationError, p webinfra.Path, name string, m Middleware) {
	validateName(errs, p, name)
	n := 0
	if a := m.IPAllowList; a != nil {
		n++
		ap := p.Child("ipAllowList")
		if len(a.SourceRange) == 0 {
			errs.Add(ap.Child("sourceRange"), nil, "at least one address or range is required")
		}
		for i, r := range a.SourceRange {
			if !validAddrOrPrefix(r) {
				errs.Invalid(ap.Child("sourceRange").Index(i), r, "not an IP address or CIDR range")
			}
		}
		validateIPStrategy(errs, ap.Child("ipStrategy"), a.IPStrategy)
		if a.RejectStatusCode != 0 && (a.RejectStatusCode < 100 || a.RejectStatusCode > 599) {
			errs.Invalid(ap.Child("rejectStatusCode"), a.RejectStatusCode, "not an HTTP status code")
		}
	}
	if h := m.Headers; h != nil {
		n++
		hp := p.Child("headers")
		if h.STSSeconds < 0 {
			errs.Invalid(hp.Child("stsSeconds"), h.STSSeconds, "must not be negative")
		}
		for _, f := range []struct {
			name string
			m    map[string]string
		}{{"customRequestHeaders", h.CustomRequestHeaders}, {"customResponseHeaders", h.CustomResponseHeaders}} {
			for _, k := range sortedKeys(f.m) {
				if k == "" || strings.ContainsAny(k, " \t\r\n:") || hasControl(k) {
					errs.Invalid(hp.Child(f.name).Key(k), k, "not a header name")
				}
				if hasControl(f.m[k]) {
					errs.Invalid(hp.Child(f.name).Key(k), f.m[k], "header value holds a line break or another control character")
				}
			}
		}
	}
	if r := m.RedirectScheme; r != nil {
		n++
		if r.Scheme != "http" && r.Scheme != "https" {
			errs.NotSupported(p.Child("redirectScheme").Child("scheme"), r.Scheme, []string{"http", "https"})
		}
	}
	if r := m.RateLimit; r != nil {
		n++
		rp := p.Child("rateLimit")
		if r.Average < 0 {
			errs.Invalid(rp.Child("average"), r.Average, "must not be negative")
		}
		if r.Burst < 0 {
			errs.Invalid(rp.Child("burst"), r.Burst, "must not be negative")
		}
		if r.Period < 0 {
			errs.Invalid(rp.Child("period"), r.Period, "must not be negative")
		}
		if r.SourceCriterion != nil {
			validateIPStrategy(errs, rp.Child("sourceCriterion").Child("ipStrategy"), r.SourceCriterion.IPStrategy)
		}
	}
	if b := m.BasicAuth; b != nil {
		n++
		bp := p.Child("basicAuth")
		if len(b.Users) == 0 {
			errs.Add(bp.Child("users"), nil, "at least one user is required")
		}
		seen := map[string]int{}
		for i, u := range b.Users {
			up := bp.Child("users").Index(i)
			if u.Name == "" || strings.ContainsAny(u.Name, ":") || hasControl(u.Name) {
				errs.Invalid(up, u.Name, "a user name must be non-empty, without ':', line breaks or other control characters")
			}
			if j, ok := seen[u.Name]; ok {
				errs.Duplicate(up, u.Name, bp.Child("users").Index(j))
			}
			seen[u.Name] = i
			switch {
			case u.Hash == "" && u.Password.IsZero():
				errs.Add(up, nil, "set a password or a bcrypt hash")
			case u.Hash != "" && !u.Password.IsZero():
				errs.Add(up, nil, "set a password or a bcrypt hash, not both")
			case u.Hash != "" && !isBcrypt(u.Hash):
				errs.Add(up, nil, "hash is not a bcrypt hash ($2a$, $2b$ or $2y$)")
			}
		}
	}
	if m.Compress != nil {
		n++
		if m.Compress.MinResponseBodyBytes < 0 {
			errs.Invalid(p.Child("compress").Child("minResponseBodyBytes"), m.Compress.MinResponseBodyBytes, "must not be negative")
		}
	}
	switch n {
	case 0:
		errs.Add(p, nil, "no middleware kind set (ipAllowList, headers, redirectScheme, rateLimit, basicAuth or compress)")
	case 1:
	default:
		errs.Add(p, nil, "more than one middleware kind set; use one middleware per kind")
	}
}

func isBcrypt(h string) bool {
	return len(h) == 60 && (strings.HasPrefix(h, "$2a$") || strings.HasPrefix(h, "$2b$") || strings.HasPrefix(h, "$2y$"))
}

var tlsVersions = []string{"VersionTLS10", "VersionTLS11", "VersionTLS12", "VersionTLS13"}

var tlsCurves = []string{"CurveP256", "CurveP384", "CurveP521", "X25519", "X25519MLKEM768"}

func validateTLSOptions(errs *webinfra.ValidationError, p webinfra.Path, name string, o TLSOptions) {
	validateName(errs, p, name)
	for _, f := range []struct{ name, v string }{{"minVersion", o.MinVersion}, {"maxVersion", o.MaxVersion}} {
		if f.v != "" && !slices.Contains(tlsVersions, f.v) {
			errs.NotSupported(p.Child(f.name), f.v, tlsVersions)
		}
	}
	if o.MinVersion != "" && o.MaxVersion != "" && o.MinVersion > o.MaxVersion {
		errs.Invalid(p.Child("maxVersion"), o.MaxVersion, "older than minVersion "+o.MinVersion)
	}
	known := map[string]bool{}
	for _, s := range tls.CipherSuites() {
		known[s.Name] = true
	}
	for _, s := range tls.InsecureCipherSuites() {
		known[s.Name] = true
	}
	for i, s := range o.CipherSuites {
		if !known[s] {
			errs.Invalid(p.Child("cipherSuites").Index(i), s, "not a cipher suite name known to Go's crypto/tls")
		}
	}
	for i, c := range o.CurvePreferences {
		if !slices.Contains(tlsCurves, c) {
			errs.NotSupported(p.Child("curvePreferences").Index(i), c, tlsCurves)
		}
	}
}

// File is one dynamic configuration file of a file-provider directory, for [Merge].
type File struct {
	// Name is the file name, used in error paths (`files[a.yaml]...`) and for ordering.
	Name string
	// Config is the file's content.
	Config *Dynamic
}

// Merge combines the files of one file-provider directory the way Traefik does (they share one
// namespace, so a router may use a service of another file) and validates the result. Names
// defined in more than one file are errors (Traefik keeps the definition of the file it reads
// first, in name order, and only logs "HTTP router already configured, skipping"), reported at the later file in name order as `files[b.yaml].http.routers[www]: also defined in
// a.yaml`. All problems come in one *[webinfra.ValidationError], which also
// matches [webinfra.ErrInvalidArgument]. The merged configuration is returned even when there are
// problems (the first definition of a duplicated name wins), so that it can be inspected.
func Merge(files ...File) (*Dynamic, error) {
	var errs webinfra.ValidationError
	files = slices.Clone(files)
	slices.SortStableFunc(files, func(a, b File) int { return strings.Compare(a.Name, b.Name) })
	out := &Dynamic{}
	routers := map[string]string{}
	services := map[string]string{}
	middlewares := map[string]string{}
	options := map[string]string{}
	seenFile := map[string]bool{}
	for i, f := range files {
		fp := webinfra.NewPath("files").Key(f.Name)
		if seenFile[f.Name] {
			errs.Invalid(webinfra.NewPath("files").Index(i), f.Name, "file name given twice")
		}
		seenFile[f.Name] = true
		if f.Config == nil {
			continue
		}
		c := f.Config
		mergeMap(&out.HTTP.Routers, c.HTTP.Routers, routers, f.Name, fp.Child("http").Child("routers"), &errs)
		mergeMap(&out.HTTP.Services, c.HTTP.Services, services, f.Name, fp.Child("http").Child("services"), &errs)
		mergeMap(&out.HTTP.Middlewares, c.HTTP.Middlewares, middlewares, f.Name, fp.Child("http").Child("middlewares"), &errs)
		mergeMap(&out.TLS.Options, c.TLS.Options, options, f.Name, fp.Child("tls").Child("options"), &errs)
	}
	out.validate(&errs)
	return out, errs.Err()
}

func mergeMap[V any](dst *map[string]V, src map[string]V, owner map[string]string, file string, p webinfra.Path, errs *webinfra.ValidationError) {
	for _, k := range sortedKeys(src) {
		if first, ok := owner[k]; ok {
			errs.Addf(p.Key(k), nil, "also defined in %s (Traefik keeps the first file's and only logs a warning)", first)
			continue
		}
		owner[k] = file
		if *dst == nil {
			*dst = map[string]V{}
		}
		(*dst)[k] = src[k]
	}
}
