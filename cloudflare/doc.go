// Package cloudflare keeps the Cloudflare side of the cloud as declared: DNS records of the zones,
// zone settings, cache purges, Cloudflare's published IP ranges and origin certificates.
// Cloudflare is the front door: every public hostname resolves to it, and it proxies, caches and
// shields the origin.
//
// It builds on github.com/cloudflare/cloudflare-go/v6, plans changes with reads only, applies them
// through the batch endpoint within the API's request limit, and changes only records it owns.
// The content of this package arrives with its own issue; for now it states the scope.
package cloudflare
