package ingress

import (
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	k8svalidation "k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"github.com/webinfra/webinfra"
)

// Entry point names of the SDK's static configuration.
const (
	// EntryPointWeb is the plain-HTTP entry point.
	EntryPointWeb = "web"
	// EntryPointWebSecure is the HTTPS entry point.
	EntryPointWebSecure = "websecure"
	// EntryPointInternal is the entry point of ping, the API and metrics. It is named "traefik"
	// because that is the entry point Traefik binds api.insecure to.
	EntryPointInternal = "traefik"
)

// DefaultThrottle is the SDK's providers throttle: how long Traefik waits after a provider
// event before applying a new configuration. Traefik's own default is 2s, which delays every
// route change by as much; 100ms is enough to coalesce a burst of file writes.
const DefaultThrottle = 100 * time.Millisecond

// UpstreamThrottle, as [StaticOptions.ThrottleDuration], leaves the key out of the static
// configuration so that Traefik applies its own default (2s).
const UpstreamThrottle time.Duration = -1

// StaticOptions describes the Traefik static configuration to build with [NewStatic]. The zero
// value is valid: entry points on :80 and :443, the internal entry point on 127.0.0.1:8080, no
// provider, INFO logs.
type StaticOptions struct {
	// WebAddress is the listen address of the web entry point; "" means ":80".
	WebAddress string
	// WebSecureAddress is the listen address of the websecure entry point; "" means ":443".
	WebSecureAddress string
	// InternalAddress is the listen address of the internal entry point serving /ping, /api and
	// /metrics; "" means "127.0.0.1:8080". Keep it off public interfaces: the API is insecure.
	InternalAddress string
	// RedirectToHTTPS makes web answer every request with a permanent redirect to websecure.
	RedirectToHTTPS bool
	// TrustedIPs are the peers whose X-Forwarded-* headers web and websecure keep; requests from
	// other peers have them removed (and X-Forwarded-For replaced). Typically the firewall
	// servers' mesh addresses; see [CloudflareOrigin]. Empty trusts nobody.
	TrustedIPs []netip.Prefix
	// ProxyProtocolTrustedIPs, when not empty, enables the PROXY protocol (v1 and v2) on web and
	// websecure for these senders; connections from others are served with their TCP peer as
	// client address. Empty disables it.
	ProxyProtocolTrustedIPs []netip.Prefix
	// FileDirectory, when set, enables the file provider on this directory (absolute path).
	FileDirectory string
	// NoFileWatch disables watching FileDirectory; by default changes apply without a restart.
	NoFileWatch bool
	// KubernetesCRD enables the kubernetesCRD provider (IngressRoute, Middleware, TLSOption).
	KubernetesCRD bool
	// KubernetesNamespaces limits the kubernetesCRD provider to these namespaces (DNS-1123
	// labels); empty means all.
	KubernetesNamespaces []string
	// ThrottleDuration is providers.providersThrottleDuration; 0 means [DefaultThrottle] and
	// [UpstreamThrottle] (any negative value) leaves Traefik's default of 2s.
	ThrottleDuration time.Duration
	// Metrics enables Prometheus metrics on the internal entry point (/metrics).
	Metrics bool
	// AccessLog, when set, enables the access log.
	AccessLog *AccessLogOptions
	// LogLevel is TRACE, DEBUG, INFO, WARN, ERROR, FATAL or PANIC; "" means INFO.
	LogLevel string
}

// AccessLogOptions configures Traefik's access log.
type AccessLogOptions struct {
	// FilePath is the log file; "" means standard output.
	FilePath string
	// JSON writes JSON lines instead of Common Log Format.
	JSON bool
}

// Static is a Traefik static configuration, with Traefik's own keys. [NewStatic] builds a valid
// one; fields may be adjusted afterwards (at the caller's risk) before [Static.YAML].
type Static struct {
	// Global turns off the version check and usage statistics.
	Global StaticGlobal `json:"global"`
	// EntryPoints maps entry point names ([EntryPointWeb], ...) to entry points.
	EntryPoints map[string]StaticEntryPoint `json:"entryPoints"`
	// Providers holds the providers and their throttle.
	Providers StaticProviders `json:"providers"`
	// API serves /api on the internal entry point.
	API *StaticAPI `json:"api,omitempty"`
	// Ping serves /ping on the internal entry point.
	Ping *StaticPing `json:"ping,omitempty"`
	// Metrics serves /metrics on the internal entry point.
	Metrics *StaticMetrics `json:"metrics,omitempty"`
	// AccessLog enables the access log.
	AccessLog *StaticAccessLog `json:"accessLog,omitempty"`
	// Log sets the log level.
	Log *StaticLog `json:"log,omitempty"`
}

// StaticGlobal is the `global` section: the SDK turns off the version check and anonymous usage
// statistics, which would call out to the internet.
type StaticGlobal struct {
	// CheckNewVersion asks traefik.io for new versions; false.
	CheckNewVersion bool `json:"checkNewVersion"`
	// SendAnonymousUsage sends usage statistics; false.
	SendAnonymousUsage bool `json:"sendAnonymousUsage"`
}

// StaticEntryPoint is one entry point.
type StaticEntryPoint struct {
	// Address is the listen address, host:port.
	Address string `json:"address"`
	// HTTP holds the entry point's HTTP settings; nil means none.
	HTTP *StaticEntryPointHTTP `json:"http,omitempty"`
	// ForwardedHeaders lists the peers whose X-Forwarded-* headers are kept; nil trusts none.
	ForwardedHeaders *StaticTrustedIPs `json:"forwardedHeaders,omitempty"`
	// ProxyProtocol enables the PROXY protocol for the listed senders; nil disables it.
	ProxyProtocol *StaticTrustedIPs `json:"proxyProtocol,omitempty"`
}

// StaticEntryPointHTTP is an entry point's http section.
type StaticEntryPointHTTP struct {
	// Redirections redirects every request; nil means none.
	Redirections *StaticRedirections `json:"redirections,omitempty"`
	// TLS makes every router of the entry point serve TLS; nil means routers decide.
	TLS *StaticEntryPointHTTPTL `json:"tls,omitempty"`
}

// StaticEntryPointHTTPTL makes every router of an entry point serve TLS.
type StaticEntryPointHTTPTL struct {
	// Options names the TLS option; "" means the default one.
	Options string `json:"options,omitempty"`
}

// StaticRedirections redirects every request of an entry point.
type StaticRedirections struct {
	// EntryPoint is the target entry point, scheme and permanence.
	EntryPoint StaticRedirectEntryPoint `json:"entryPoint"`
}

// StaticRedirectEntryPoint redirects to another entry point.
type StaticRedirectEntryPoint struct {
	// To names the target entry point.
	To string `json:"to"`
	// Scheme is the target scheme.
	Scheme string `json:"scheme"`
	// Permanent answers 301/308 instead of 302/307.
	Permanent bool `json:"permanent"`
}

// StaticTrustedIPs lists trusted peers (forwardedHeaders, proxyProtocol).
type StaticTrustedIPs struct {
	// TrustedIPs are CIDR ranges.
	TrustedIPs []string `json:"trustedIPs"`
}

// StaticProviders is the `providers` section.
type StaticProviders struct {
	// ProvidersThrottleDuration is the wait after a provider event before applying a configuration; "" means Traefik's 2s.
	ProvidersThrottleDuration string `json:"providersThrottleDuration,omitempty"`
	// File is the file provider; nil disables it.
	File *StaticFile `json:"file,omitempty"`
	// KubernetesCRD is the kubernetesCRD provider; nil disables it.
	KubernetesCRD *StaticKubernetesCRD `json:"kubernetesCRD,omitempty"`
}

// StaticFile is the file provider.
type StaticFile struct {
	// Directory is the watched directory.
	Directory string `json:"directory"`
	// Watch applies changes without a restart.
	Watch bool `json:"watch"`
}

// StaticKubernetesCRD is the kubernetesCRD provider.
type StaticKubernetesCRD struct {
	// Namespaces limits the provider to these namespaces; empty means all.
	Namespaces []string `json:"namespaces,omitempty"`
}

// StaticAPI is the `api` section.
type StaticAPI struct {
	// Insecure serves the API on the internal ("traefik") entry point.
	Insecure bool `json:"insecure"`
	// Dashboard serves the web dashboard; false.
	Dashboard bool `json:"dashboard"`
}

// StaticPing is the `ping` section.
type StaticPing struct {
	// EntryPoint names the entry point serving /ping.
	EntryPoint string `json:"entryPoint"`
}

// StaticMetrics is the `metrics` section.
type StaticMetrics struct {
	// Prometheus enables Prometheus metrics.
	Prometheus *StaticPrometheus `json:"prometheus,omitempty"`
}

// StaticPrometheus enables Prometheus metrics on an entry point.
type StaticPrometheus struct {
	// EntryPoint names the entry point serving /metrics.
	EntryPoint string `json:"entryPoint"`
}

// StaticAccessLog is the `accessLog` section.
type StaticAccessLog struct {
	// FilePath is the log file; "" means standard output.
	FilePath string `json:"filePath,omitempty"`
	// Format is "json" or "" for Common Log Format.
	Format string `json:"format,omitempty"`
}

// StaticLog is the `log` section.
type StaticLog struct {
	// Level is the log level.
	Level string `json:"level,omitempty"`
	// NoColor turns off terminal colours in the log.
	NoColor bool `json:"noColor,omitempty"`
}

var logLevels = []string{"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "PANIC"}

// NewStatic validates o and builds the static configuration: entry points web, websecure (TLS on
// every router) and the internal one; forwarded headers and PROXY protocol trusted only from the
// given ranges; the providers asked for, with the providers throttle of o.ThrottleDuration; ping,
// the API (insecure, on the internal entry point only, dashboard off), optional Prometheus
// metrics and access log; no version check or usage statistics. Invalid options give a
// *[webinfra.ValidationError] naming each field. NewStatic does no I/O.
func NewStatic(o StaticOptions) (*Static, error) {
	var errs webinfra.ValidationError
	web := defaultString(o.WebAddress, ":80")
	secure := defaultString(o.WebSecureAddress, ":443")
	internal := defaultString(o.InternalAddress, "127.0.0.1:8080")
	addrs := map[string]string{}
	for _, f := range []struct{ field, addr string }{{"webAddress", web}, {"webSecureAddress", secure}, {"internalAddress", internal}} {
		p := webinfra.NewPath(f.field)
		if err := checkListenAddress(f.addr); err != nil {
			errs.Invalid(p, f.addr, err.Error())
			continue
		}
		if other, ok := addrs[f.addr]; ok {
			errs.Addf(p, f.addr, "same address as %s", other)
		}
		addrs[f.addr] = f.field
	}
	checkPrefixes(&errs, webinfra.NewPath("trustedIPs"), o.TrustedIPs)
	checkPrefixes(&errs, webinfra.NewPath("proxyProtocolTrustedIPs"), o.ProxyProtocolTrustedIPs)
	if o.FileDirectory != "" && !filepath.IsAbs(o.FileDirectory) {
		errs.Invalid(webinfra.NewPath("fileDirectory"), o.FileDirectory, "must be an absolute path")
	} else if hasControl(o.FileDirectory) {
		errs.Invalid(webinfra.NewPath("fileDirectory"), o.FileDirectory, "holds a line break or another control character")
	}
	for i, ns := range o.KubernetesNamespaces {
		if problems := k8svalidation.IsDNS1123Label(ns); len(problems) > 0 {
			errs.Invalid(webinfra.NewPath("kubernetesNamespaces").Index(i), ns, "not a namespace name: "+strings.Join(problems, "; "))
		}
	}
	if o.KubernetesNamespaces != nil && !o.KubernetesCRD {
		errs.Add(webinfra.NewPath("kubernetesNamespaces"), nil, "set without kubernetesCRD")
	}
	level := strings.ToUpper(defaultString(o.LogLevel, "INFO"))
	if !slices.Contains(logLevels, level) {
		errs.NotSupported(webinfra.NewPath("logLevel"), o.LogLevel, logLevels)
	}
	if o.AccessLog != nil && o.AccessLog.FilePath != "" && !filepath.IsAbs(o.AccessLog.FilePath) {
		errs.Invalid(webinfra.NewPath("accessLog", "filePath"), o.AccessLog.FilePath, "must be an absolute path")
	} else if o.AccessLog != nil && hasControl(o.AccessLog.FilePath) {
		errs.Invalid(webinfra.NewPath("accessLog", "filePath"), o.AccessLog.FilePath, "holds a line break or another control character")
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}

	edge := func(addr string) StaticEntryPoint {
		ep := StaticEntryPoint{Address: addr}
		if len(o.TrustedIPs) > 0 {
			ep.ForwardedHeaders = &StaticTrustedIPs{TrustedIPs: prefixStrings(o.TrustedIPs)}
		}
		if len(o.ProxyProtocolTrustedIPs) > 0 {
			ep.ProxyProtocol = &StaticTrustedIPs{TrustedIPs: prefixStrings(o.ProxyProtocolTrustedIPs)}
		}
		return ep
	}
	s := &Static{
		EntryPoints: map[string]StaticEntryPoint{
			EntryPointWeb:       edge(web),
			EntryPointWebSecure: edge(secure),
			EntryPointInternal:  {Address: internal},
		},
		API:  &StaticAPI{Insecure: true},
		Ping: &StaticPing{EntryPoint: EntryPointInternal},
		Log:  &StaticLog{Level: level, NoColor: true},
	}
	ws := s.EntryPoints[EntryPointWebSecure]
	ws.HTTP = &StaticEntryPointHTTP{TLS: &StaticEntryPointHTTPTL{}}
	s.EntryPoints[EntryPointWebSecure] = ws
	if o.RedirectToHTTPS {
		w := s.EntryPoints[EntryPointWeb]
		w.HTTP = &StaticEntryPointHTTP{Redirections: &StaticRedirections{EntryPoint: StaticRedirectEntryPoint{
			To: EntryPointWebSecure, Scheme: "https", Permanent: true,
		}}}
		s.EntryPoints[EntryPointWeb] = w
	}
	switch {
	case o.ThrottleDuration == 0:
		s.Providers.ProvidersThrottleDuration = DefaultThrottle.String()
	case o.ThrottleDuration > 0:
		s.Providers.ProvidersThrottleDuration = o.ThrottleDuration.String()
	}
	if o.FileDirectory != "" {
		s.Providers.File = &StaticFile{Directory: o.FileDirectory, Watch: !o.NoFileWatch}
	}
	if o.KubernetesCRD {
		s.Providers.KubernetesCRD = &StaticKubernetesCRD{Namespaces: slices.Clone(o.KubernetesNamespaces)}
	}
	if o.Metrics {
		s.Metrics = &StaticMetrics{Prometheus: &StaticPrometheus{EntryPoint: EntryPointInternal}}
	}
	if o.AccessLog != nil {
		s.AccessLog = &StaticAccessLog{FilePath: o.AccessLog.FilePath}
		if o.AccessLog.JSON {
			s.AccessLog.Format = "json"
		}
	}
	return s, nil
}

// YAML renders the static configuration, keys sorted, for `traefik --configFile`.
func (s *Static) YAML() []byte {
	// Marshalling cannot fail: the types hold only strings, bools, slices and maps of them.
	y, err := yaml.Marshal(s)
	if err != nil {
		return []byte("# ingress: " + strings.ReplaceAll(err.Error(), "\n", " ") + "\n")
	}
	return y
}

func defaultString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func checkListenAddress(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("not a listen address such as :80 or 127.0.0.1:8080")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port must be 1 to 65535")
	}
	if host != "" {
		if _, err := netip.ParseAddr(host); err != nil {
			return fmt.Errorf("host must be an IP address or empty")
		}
	}
	return nil
}

func checkPrefixes(errs *webinfra.ValidationError, p webinfra.Path, ps []netip.Prefix) {
	for i, pr := range ps {
		if !pr.IsValid() {
			errs.Invalid(p.Index(i), pr, "not a CIDR range")
		}
	}
}

// prefixStrings renders prefixes, masked, in the form Traefik reads.
func prefixStrings(ps []netip.Prefix) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.Masked().String())
	}
	return out
}
