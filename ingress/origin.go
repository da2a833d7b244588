package ingress

import (
	"net/netip"
	"slices"

	"github.com/webinfra/webinfra"
)

// Names of the middlewares [CloudflareOrigin] produces.
const (
	// OriginAllowMiddleware admits only requests whose TCP peer is a firewall server.
	OriginAllowMiddleware = "cloudflare-only"
	// OriginHeadersMiddleware removes the X-Real-Ip header a client may have sent through
	// Cloudflare, so that backends never read a forged one.
	OriginHeadersMiddleware = "cloudflare-origin-headers"
)

// OriginOptions describes the path public requests take to Traefik, for [CloudflareOrigin].
type OriginOptions struct {
	// Firewalls are the firewall servers' mesh addresses (or ranges): the TCP peers Traefik sees,
	// since the firewalls DNAT and masquerade public traffic to it. At least one is required.
	Firewalls []netip.Prefix
	// Cloudflare are Cloudflare's IP ranges. They are not checked by Traefik (the masquerade hides
	// Cloudflare's address from it; the firewalls admit only these ranges), and only carried into
	// [Origin.Cloudflare] for the firewall rules. Optional.
	Cloudflare []netip.Prefix
}

// Origin is the configuration by which only requests that came through Cloudflare and then a
// firewall server reach the services. Apply it with [Origin.ApplyStatic] and [Origin.Apply].
type Origin struct {
	// Middlewares are the middlewares to add to http.middlewares.
	Middlewares map[string]Middleware
	// Chain lists the middleware names every public router must start with, in order.
	Chain []string
	// TrustedIPs are the peers whose X-Forwarded-* headers Traefik keeps: the firewalls.
	TrustedIPs []netip.Prefix
	// ClientIP is the strategy that yields the real client address from X-Forwarded-For: the
	// entry Cloudflare appended, the last one when Traefik's middlewares run. Use it in
	// [IPAllowList.IPStrategy] or [SourceCriterion.IPStrategy] to act on clients.
	ClientIP IPStrategy
	// Cloudflare are the Cloudflare ranges of the options, for the firewall servers' rules.
	Cloudflare []netip.Prefix
}

// CloudflareOrigin builds the Traefik settings that make Cloudflare the only way in. The request
// path it assumes:
//
//	client C --HTTPS--> Cloudflare edge E --HTTP(S) to the firewall's public address-->
//	firewall F: DNAT to Traefik's mesh address + masquerade --> Traefik (TCP peer = F's mesh address)
//	--> service
//
// Cloudflare appends C to X-Forwarded-For (after whatever the client sent, which is therefore
// forgeable) and F, forwarding at layer 4, adds nothing. So:
//
//   - [OriginAllowMiddleware] is an ipAllowList on the TCP peer (no ipStrategy), admitting only
//     the firewalls' mesh addresses: a request reaching Traefik any other way (from inside the
//     mesh, or through a misrouted port) gets 403, whatever its headers say;
//   - forwarded headers are trusted only from the firewalls ([Origin.TrustedIPs] becomes
//     [StaticOptions.TrustedIPs]), so X-Forwarded-For sent by anyone else is replaced;
//   - the client address is X-Forwarded-For at depth 1 ([Origin.ClientIP]): the entry Cloudflare
//     appended; entries further left are the client's own claims;
//   - [OriginHeadersMiddleware] removes X-Real-Ip, which Traefik keeps from trusted peers and a
//     client could otherwise forge through Cloudflare.
//
// Options are validated first (at least one firewall, valid prefixes); errors are a
// *[webinfra.ValidationError].
func CloudflareOrigin(o OriginOptions) (*Origin, error) {
	var errs webinfra.ValidationError
	if len(o.Firewalls) == 0 {
		errs.Add(webinfra.NewPath("firewalls"), nil, "at least one firewall address is required")
	}
	checkPrefixes(&errs, webinfra.NewPath("firewalls"), o.Firewalls)
	checkPrefixes(&errs, webinfra.NewPath("cloudflare"), o.Cloudflare)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	fw := masked(o.Firewalls)
	return &Origin{
		Middlewares: map[string]Middleware{
			OriginAllowMiddleware: {IPAllowList: &IPAllowList{SourceRange: prefixStrings(fw)}},
			OriginHeadersMiddleware: {Headers: &Headers{CustomRequestHeaders: map[string]string{
				"X-Real-Ip": "",
			}}},
		},
		Chain:      []string{OriginAllowMiddleware, OriginHeadersMiddleware},
		TrustedIPs: fw,
		ClientIP:   IPStrategy{Depth: 1},
		Cloudflare: masked(o.Cloudflare),
	}, nil
}

func masked(ps []netip.Prefix) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.Masked())
	}
	return out
}

// ApplyStatic sets the static options' trusted forwarded-header peers to the firewalls,
// replacing what was there.
func (o *Origin) ApplyStatic(s *StaticOptions) {
	s.TrustedIPs = slices.Clone(o.TrustedIPs)
}

// Apply adds the origin's middlewares to d and puts [Origin.Chain] in front of the middlewares of
// every router that listens on web or websecure (or on all entry points). It is idempotent:
// chains already in place are not repeated.
func (o *Origin) Apply(d *Dynamic) {
	if d.HTTP.Middlewares == nil {
		d.HTTP.Middlewares = map[string]Middleware{}
	}
	for name, m := range o.Middlewares {
		d.HTTP.Middlewares[name] = m
	}
	for name, r := range d.HTTP.Routers {
		if len(r.EntryPoints) > 0 && !slices.Contains(r.EntryPoints, EntryPointWeb) && !slices.Contains(r.EntryPoints, EntryPointWebSecure) {
			continue
		}
		rest := slices.DeleteFunc(slices.Clone(r.Middlewares), func(m string) bool { return slices.Contains(o.Chain, m) })
		r.Middlewares = append(slices.Clone(o.Chain), rest...)
		d.HTTP.Routers[name] = r
	}
}
