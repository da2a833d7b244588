// Package ingress produces, typed and validated, the configuration that brings public traffic to
// services: Traefik's static and dynamic configuration (file provider, IngressRoute CRDs and
// labels), MetalLB address pools inside the mesh, the Cloudflare-only origin, and the forwarding
// rules of the firewall servers.
//
// The content of this package arrives with its own issue; for now it states the scope.
package ingress
