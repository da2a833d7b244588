package ingress

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/webinfra/webinfra"
)

// Dynamic is Traefik's dynamic configuration: the HTTP routers, services and middlewares and the
// TLS options, typed with Traefik's own field names (its JSON/YAML keys), so that it renders as
// a file-provider file ([Dynamic.FileYAML]), as Kubernetes custom resources ([Dynamic.CRDs]) or as
// container labels ([Dynamic.Labels]).
//
// Only the parts of Traefik's schema that the SDK uses are modelled; [ParseFileYAML] rejects any
// other key. Validate it with [Dynamic.Validate] (or merge several files with [Merge]) before
// deploying: Traefik itself only logs most of these problems and serves the rest.
//
// A Dynamic is a plain value: not safe for concurrent mutation, safe for concurrent reads.
type Dynamic struct {
	// HTTP holds routers, services and middlewares.
	HTTP HTTP `json:"http,omitzero"`
	// TLS holds named TLS options, referenced by [RouterTLS.Options].
	TLS TLS `json:"tls,omitzero"`
}

// HTTP is the `http` section of a dynamic configuration. Map keys are the names Traefik knows the
// objects by; within a file provider they are qualified as NAME@file.
type HTTP struct {
	// Routers maps router names to routers.
	Routers map[string]Router `json:"routers,omitempty"`
	// Services maps service names to services.
	Services map[string]Service `json:"services,omitempty"`
	// Middlewares maps middleware names to middlewares.
	Middlewares map[string]Middleware `json:"middlewares,omitempty"`
}

// IsZero reports whether h holds no router, service or middleware (it then renders as nothing).
func (h HTTP) IsZero() bool {
	return len(h.Routers) == 0 && len(h.Services) == 0 && len(h.Middlewares) == 0
}

// Router matches requests with Rule on its entry points, passes them through Middlewares in
// order and hands them to Service.
type Router struct {
	// EntryPoints lists the entry points the router listens on; empty means all of them.
	EntryPoints []string `json:"entryPoints,omitempty"`
	// Middlewares names middlewares applied in order; a name holding '@' refers to another
	// provider and is not checked by Validate.
	Middlewares []string `json:"middlewares,omitempty"`
	// Service names the service requests go to (required).
	Service string `json:"service,omitempty"`
	// Rule is the matching rule in Traefik v3 syntax (required); build it with [Host],
	// [PathPrefix], [And] and friends, which quote values correctly.
	Rule string `json:"rule,omitempty"`
	// Priority orders routers whose rules overlap; 0 means Traefik's default, the rule's length.
	Priority int `json:"priority,omitempty"`
	// TLS, when set (even empty), makes the router serve only TLS requests.
	TLS *RouterTLS `json:"tls,omitempty"`
}

// RouterTLS is a router's TLS section.
type RouterTLS struct {
	// Options names a TLS option in [TLS.Options]; "" or "default" means Traefik's default.
	Options string `json:"options,omitempty"`
	// CertResolver names a certificate resolver of the static configuration; "" means none.
	CertResolver string `json:"certResolver,omitempty"`
}

// Service is where a router sends requests. Only the load-balancer kind is modelled.
type Service struct {
	// LoadBalancer spreads requests over servers (required).
	LoadBalancer *LoadBalancer `json:"loadBalancer,omitempty"`
}

// LoadBalancer spreads requests round-robin over its servers.
type LoadBalancer struct {
	// Servers lists the backends; at least one is required (Traefik answers 503 otherwise).
	Servers []Server `json:"servers,omitempty"`
	// HealthCheck, when set, takes failing servers out of rotation.
	HealthCheck *HealthCheck `json:"healthCheck,omitempty"`
	// Sticky, when set, pins a client to a server with a cookie.
	Sticky *Sticky `json:"sticky,omitempty"`
	// PassHostHeader forwards the client's Host header; nil means Traefik's default, true.
	PassHostHeader *bool `json:"passHostHeader,omitempty"`
}

// Server is one backend of a load balancer.
type Server struct {
	// URL is the backend's base URL: scheme http, https or h2c, and a host (required).
	URL string `json:"url,omitempty" label:"url"`
}

// HealthCheck probes every server of a load balancer.
type HealthCheck struct {
	// Path is the probed path; it must start with '/' (required).
	Path string `json:"path,omitempty"`
	// Interval between probes; 0 means Traefik's default, 30s.
	Interval Duration `json:"interval,omitempty"`
	// Timeout of one probe; 0 means Traefik's default, 5s.
	Timeout Duration `json:"timeout,omitempty"`
	// Hostname sets the probe's Host header; "" means the server's.
	Hostname string `json:"hostname,omitempty"`
	// Port overrides the server's port; 0 means the server's.
	Port int `json:"port,omitempty"`
	// Scheme overrides the server's scheme; "" means the server's.
	Scheme string `json:"scheme,omitempty"`
}

// Sticky holds the sticky-session settings of a load balancer.
type Sticky struct {
	// Cookie is the cookie that pins a client to a server (required).
	Cookie *Cookie `json:"cookie,omitempty"`
}

// Cookie describes a sticky-session cookie.
type Cookie struct {
	// Name of the cookie; "" lets Traefik derive one.
	Name string `json:"name,omitempty"`
	// Secure sets the cookie's Secure attribute.
	Secure bool `json:"secure,omitempty"`
	// HTTPOnly sets the cookie's HttpOnly attribute.
	HTTPOnly bool `json:"httpOnly,omitempty"`
	// SameSite is "", "none", "lax" or "strict".
	SameSite string `json:"sameSite,omitempty"`
	// MaxAge in seconds; 0 means a session cookie.
	MaxAge int `json:"maxAge,omitempty"`
}

// Middleware is one named request/response transformation. Exactly one of its fields must be
// set.
type Middleware struct {
	// IPAllowList refuses (403) clients whose address is not in a range.
	IPAllowList *IPAllowList `json:"ipAllowList,omitempty"`
	// Headers adds or removes request and response headers (HSTS and other security headers).
	Headers *Headers `json:"headers,omitempty"`
	// RedirectScheme redirects to another scheme (http to https).
	RedirectScheme *RedirectScheme `json:"redirectScheme,omitempty"`
	// RateLimit limits the request rate per source.
	RateLimit *RateLimit `json:"rateLimit,omitempty"`
	// BasicAuth asks for a user name and password.
	BasicAuth *BasicAuth `json:"basicAuth,omitempty"`
	// Compress compresses responses.
	Compress *Compress `json:"compress,omitempty"`
}

// IPAllowList admits only client addresses within SourceRange.
type IPAllowList struct {
	// SourceRange lists admitted addresses and CIDR ranges (at least one).
	SourceRange []string `json:"sourceRange,omitempty"`
	// IPStrategy says which address is checked; nil means the TCP peer (after PROXY protocol).
	IPStrategy *IPStrategy `json:"ipStrategy,omitempty"`
	// RejectStatusCode replaces the 403 answer; 0 means 403.
	RejectStatusCode int `json:"rejectStatusCode,omitempty"`
}

// IPStrategy selects the client address from X-Forwarded-For.
type IPStrategy struct {
	// Depth picks the Depth-th address from the right of X-Forwarded-For (1 is the last one
	// appended); 0 means the TCP peer, unless ExcludedIPs is set.
	Depth int `json:"depth,omitempty"`
	// ExcludedIPs picks the rightmost X-Forwarded-For address not in these ranges; ignored
	// when Depth is set.
	ExcludedIPs []string `json:"excludedIPs,omitempty"`
}

// Headers sets request and response headers. Use [HSTS] for the security-header preset.
type Headers struct {
	// CustomRequestHeaders are set on requests; an empty value removes the header.
	CustomRequestHeaders map[string]string `json:"customRequestHeaders,omitempty"`
	// CustomResponseHeaders are set on responses; an empty value removes the header.
	CustomResponseHeaders map[string]string `json:"customResponseHeaders,omitempty"`
	// STSSeconds is the max-age of Strict-Transport-Security; 0 sends no such header.
	STSSeconds int64 `json:"stsSeconds,omitempty"`
	// STSIncludeSubdomains adds includeSubDomains to Strict-Transport-Security.
	STSIncludeSubdomains bool `json:"stsIncludeSubdomains,omitempty"`
	// STSPreload adds preload to Strict-Transport-Security.
	STSPreload bool `json:"stsPreload,omitempty"`
	// ForceSTSHeader sends Strict-Transport-Security on plain HTTP answers too.
	ForceSTSHeader bool `json:"forceSTSHeader,omitempty"`
	// FrameDeny sends X-Frame-Options: DENY.
	FrameDeny bool `json:"frameDeny,omitempty"`
	// ContentTypeNosniff sends X-Content-Type-Options: nosniff.
	ContentTypeNosniff bool `json:"contentTypeNosniff,omitempty"`
	// ReferrerPolicy is the Referrer-Policy value; "" sends none.
	ReferrerPolicy string `json:"referrerPolicy,omitempty"`
	// ContentSecurityPolicy is the Content-Security-Policy value; "" sends none.
	ContentSecurityPolicy string `json:"contentSecurityPolicy,omitempty"`
}

// HSTS returns the SDK's security-header preset: two years of Strict-Transport-Security with
// subdomains and preload (sent on every answer), X-Frame-Options DENY, nosniff and a
// strict-origin-when-cross-origin referrer policy. Each call returns a new value.
func HSTS() *Headers {
	return &Headers{
		STSSeconds:           63072000,
		STSIncludeSubdomains: true,
		STSPreload:           true,
		ForceSTSHeader:       true,
		FrameDeny:            true,
		ContentTypeNosniff:   true,
		ReferrerPolicy:       "strict-origin-when-cross-origin",
	}
}

// RedirectScheme redirects requests to Scheme.
type RedirectScheme struct {
	// Scheme is the target scheme, "http" or "https" (required).
	Scheme string `json:"scheme,omitempty"`
	// Port is the target port; "" keeps the default port of the scheme.
	Port string `json:"port,omitempty"`
	// Permanent answers 301/308 instead of 302/307.
	Permanent bool `json:"permanent,omitempty"`
}

// RateLimit admits Average requests per Period on average, with bursts up to Burst, per source.
type RateLimit struct {
	// Average is the admitted rate per Period; 0 means no limit.
	Average int64 `json:"average,omitempty"`
	// Period is the rate's unit of time; 0 means one second.
	Period Duration `json:"period,omitempty"`
	// Burst is the number of requests admitted at once; 0 means Traefik's default, 1.
	Burst int64 `json:"burst,omitempty"`
	// SourceCriterion says what a source is; nil means the TCP peer address.
	SourceCriterion *SourceCriterion `json:"sourceCriterion,omitempty"`
}

// SourceCriterion groups requests into sources for [RateLimit].
type SourceCriterion struct {
	// IPStrategy picks the client address, as for [IPAllowList].
	IPStrategy *IPStrategy `json:"ipStrategy,omitempty"`
	// RequestHeaderName groups by the value of this header.
	RequestHeaderName string `json:"requestHeaderName,omitempty"`
	// RequestHost groups by the requested host.
	RequestHost bool `json:"requestHost,omitempty"`
}

// BasicAuth asks for HTTP basic authentication against Users.
type BasicAuth struct {
	// Users are the admitted users (at least one).
	Users []BasicAuthUser `json:"users,omitempty"`
	// Realm is the realm announced to clients; "" means "traefik".
	Realm string `json:"realm,omitempty"`
	// RemoveHeader removes the Authorization header before forwarding.
	RemoveHeader bool `json:"removeHeader,omitempty"`
	// HeaderField, when set, forwards the authenticated user name in this header.
	HeaderField string `json:"headerField,omitempty"`
}

// BasicAuthUser is a user of [BasicAuth]. It renders as an htpasswd line `name:hash`, where hash
// is Hash when set and otherwise a fresh bcrypt hash of Password (so two renderings differ; call
// [Dynamic.HashPasswords] once for stable output). The password itself never renders.
type BasicAuthUser struct {
	// Name is the user name: not empty, no ':'.
	Name string
	// Password is the clear-text password, hashed when rendered. Set it or Hash, not both.
	Password webinfra.Secret
	// Hash is a bcrypt hash ($2a$, $2b$ or $2y$). Parsing a rendered file fills it.
	Hash string
}

// MarshalJSON renders the htpasswd line, hashing Password with bcrypt when Hash is empty.
func (u BasicAuthUser) MarshalJSON() ([]byte, error) {
	line, err := u.htpasswd()
	if err != nil {
		return nil, err
	}
	return json.Marshal(line)
}

// UnmarshalJSON reads an htpasswd line `name:hash` into Name and Hash.
func (u *BasicAuthUser) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("ingress: basic auth user: want a string name:hash: %w", err)
	}
	name, hash, ok := strings.Cut(s, ":")
	if !ok {
		return fmt.Errorf("ingress: basic auth user %q: want name:hash: %w", name, webinfra.ErrInvalidArgument)
	}
	*u = BasicAuthUser{Name: name, Hash: hash}
	return nil
}

func (u BasicAuthUser) htpasswd() (string, error) {
	if u.Hash != "" || u.Password.IsZero() { // no password: nothing to hash ([Dynamic.Validate] refuses it)
		return u.Name + ":" + u.Hash, nil
	}
	h, err := bcrypt.GenerateFromPassword([]byte(u.Password.Reveal()), bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("ingress: hash password of basic auth user %q: %w", u.Name, err)
	}
	return u.Name + ":" + string(h), nil
}

// Compress compresses responses (gzip, brotli, zstd as the client accepts).
type Compress struct {
	// ExcludedContentTypes are never compressed.
	ExcludedContentTypes []string `json:"excludedContentTypes,omitempty"`
	// MinResponseBodyBytes is the smallest body compressed; 0 means Traefik's default, 1024.
	MinResponseBodyBytes int `json:"minResponseBodyBytes,omitempty"`
}

// TLS is the `tls` section of a dynamic configuration.
type TLS struct {
	// Options maps option names to TLS options; "default" replaces Traefik's default.
	Options map[string]TLSOptions `json:"options,omitempty"`
}

// IsZero reports whether t holds no TLS option (it then renders as nothing).
func (t TLS) IsZero() bool { return len(t.Options) == 0 }

// TLSOptions are the TLS handshake settings a router selects with [RouterTLS.Options]. Use
// [ModernTLS] for the SDK's preset.
type TLSOptions struct {
	// MinVersion is VersionTLS10 to VersionTLS13; "" means Traefik's default, VersionTLS12.
	MinVersion string `json:"minVersion,omitempty"`
	// MaxVersion is VersionTLS10 to VersionTLS13; "" means the newest.
	MaxVersion string `json:"maxVersion,omitempty"`
	// CipherSuites lists TLS 1.2 cipher suites by their Go names (TLS_ECDHE_...); empty means
	// Go's defaults. TLS 1.3 suites are not configurable.
	CipherSuites []string `json:"cipherSuites,omitempty"`
	// CurvePreferences lists CurveP256, CurveP384, CurveP521, X25519 (and X25519MLKEM768);
	// empty means Go's defaults.
	CurvePreferences []string `json:"curvePreferences,omitempty"`
	// SniStrict refuses handshakes without a known server name.
	SniStrict bool `json:"sniStrict,omitempty"`
	// ALPNProtocols overrides the advertised protocols; empty means h2 and http/1.1.
	ALPNProtocols []string `json:"alpnProtocols,omitempty"`
}

// ModernTLS returns the SDK's TLS preset, Mozilla's "modern" profile: TLS 1.3 only, X25519
// then P-256 and P-384. Every browser of the last years speaks it. SniStrict is left off:
// with it Traefik refuses ("unrecognized name") every host it holds no certificate for, even
// when the default certificate would serve; set it once every host has one.
func ModernTLS() TLSOptions {
	return TLSOptions{
		MinVersion:       "VersionTLS13",
		CurvePreferences: []string{"X25519", "CurveP256", "CurveP384"},
	}
}

// HashPasswords replaces every basic-auth Password with its bcrypt Hash, in place, so that
// later renderings are identical. It is idempotent: users that already have a Hash are left
// alone.
func (d *Dynamic) HashPasswords() error {
	for name, m := range d.HTTP.Middlewares {
		if m.BasicAuth == nil {
			continue
		}
		ba := *m.BasicAuth
		ba.Users = append([]BasicAuthUser(nil), ba.Users...)
		for i, u := range ba.Users {
			if u.Hash != "" {
				continue
			}
			line, err := u.htpasswd()
			if err != nil {
				return err
			}
			_, h, _ := strings.Cut(line, ":")
			ba.Users[i] = BasicAuthUser{Name: u.Name, Hash: h}
		}
		m.BasicAuth = &ba
		d.HTTP.Middlewares[name] = m
	}
	return nil
}

// Duration is a time.Duration that renders the way Traefik reads durations: a Go duration
// string such as "10s". It reads such strings, and bare numbers as seconds, as Traefik does.
type Duration time.Duration

// MarshalJSON renders the duration as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a Go duration string or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var secs float64
		if err2 := json.Unmarshal(b, &secs); err2 != nil {
			return fmt.Errorf("ingress: duration: want a string such as \"10s\" or a number of seconds: %w", errors.Join(webinfra.ErrInvalidArgument, err))
		}
		if math.IsNaN(secs) || math.Abs(secs) > math.MaxInt64/float64(time.Second) {
			return fmt.Errorf("ingress: duration %s: out of range: %w", b, webinfra.ErrInvalidArgument)
		}
		*d = Duration(secs * float64(time.Second))
		return nil
	}
	if secs, err := strconv.ParseInt(s, 10, 64); err == nil {
		if secs > math.MaxInt64/int64(time.Second) || secs < math.MinInt64/int64(time.Second) {
			return fmt.Errorf("ingress: duration %q: out of range: %w", s, webinfra.ErrInvalidArgument)
		}
		*d = Duration(time.Duration(secs) * time.Second)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("ingress: duration %q: %w", s, errors.Join(webinfra.ErrInvalidArgument, err))
	}
	*d = Duration(v)
	return nil
}
