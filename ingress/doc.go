// Package ingress produces, typed and validated, the configuration that brings public traffic
// to the services: Traefik's static and dynamic configuration, MetalLB address pools, the
// Traefik workload for Kubernetes, the Cloudflare-only origin and the forwarding rules of the
// firewall servers.
//
// The path of a request: Cloudflare's edge connects to a firewall server's public address; the
// firewall's nftables rules ([FirewallRuleset]) admit only Cloudflare's ranges and DNAT the
// connection to Traefik's MetalLB address over the mesh, masquerading it; Traefik, a DaemonSet
// behind a LoadBalancer Service ([WorkloadObjects]) with a fixed pool address
// ([PoolSpec.Allocate]), admits only the firewalls as peers, trusts forwarded headers from them
// alone and takes the client address from the X-Forwarded-For entry Cloudflare appended
// ([CloudflareOrigin]).
//
//   - Static configuration: [NewStatic] and [Static.YAML]; entry points web (optional HTTPS
//     redirect), websecure and an internal one for ping, API and metrics; forwarded headers and
//     PROXY protocol trusted from given prefixes; file and kubernetesCRD providers with a 100 ms
//     throttle (Traefik's own 2 s delays every change, see BenchmarkRouteChange).
//   - Dynamic configuration: [Dynamic] with routers, services, middlewares and TLS options in
//     Traefik's own field names; rules built with [Host], [PathPrefix], [And], [Or], ... and
//     parsed with [ParseRule]. It renders as a file-provider file ([Dynamic.FileYAML], with
//     `{{` escaped for the file provider's template pass), as traefik.io/v1alpha1 custom
//     resources ([Dynamic.CRDs]) or as container labels ([Dynamic.Labels], through
//     github.com/traefik/paerser).
//   - Validation of what Traefik only logs: [Dynamic.Validate] (missing services and
//     middlewares, bad rules, services without servers), [Merge] (duplicate routers across
//     files: Traefik keeps the first) and [ParseFileYAML] (unknown fields: Traefik rejects the
//     whole file and keeps the old configuration).
//   - MetalLB: [Pools] (IPAddressPool with an L2 or BGP advertisement, validated against each
//     other and the mesh, pod and service ranges) and stable fixed addresses.
//
// # Errors
//
// Invalid input gives a *webinfra.ValidationError (matching webinfra.ErrInvalidArgument) that
// lists every problem with its field path, such as `http.routers[www].service`; [ParseRule]
// gives a [*RuleError] with the offset. A pool without enough free addresses gives an error
// matching webinfra.ErrFailedPrecondition.
//
// # Testing
//
// Package ingresstest runs the real traefik binary (from .testbin) on loopback with generated
// configuration, and an echo backend. The package's own real tests also drive nft in network
// namespaces and a real kube-apiserver with MetalLB's and Traefik's own CRD schemas.
package ingress
