// Package cloudflare keeps the Cloudflare side of the cloud as declared. Cloudflare is the front
// door: every public hostname resolves to it, and it proxies, caches and shields the origin.
//
// Built on github.com/cloudflare/cloudflare-go/v6, it offers:
//
//   - DNS records of a zone ([DNS], [Client.PlanDNS], [Client.ApplyDNS]): A, AAAA, CNAME, TXT,
//     MX, SRV, CAA and NS, validated before any call. Plan only reads (one zone lookup and the
//     record listing, 5,000 records a page); Apply sends the changes through the batch endpoint,
//     Config.BatchSize at a time, creating and updating before deleting, keeping a CNAME swap in
//     one transaction, and isolating rejected changes by bisection.
//   - Ownership on the record itself: a marker "webinfra:<owner>" in the comment (every plan) or
//     as a tag (paid plans), never extra TXT records. Records without this owner's marker are
//     never changed or deleted; taking one over is explicit ([DNS].Adopt).
//   - Zone settings ([Settings], [Client.PlanSettings], [Client.ApplySettings]): ssl,
//     always_use_https, automatic_https_rewrites, min_tls_version, HSTS, and any other by name.
//   - Cache purge ([Client.Purge]): everything, or URLs, hosts, tags and prefixes chunked to the
//     per-call limit.
//   - Origin CA certificates ([Client.IssueOriginCert]): key and CSR made locally, the key a
//     [webinfra.Secret].
//   - Cloudflare's IP ranges as []netip.Prefix ([Client.IPRanges]).
//   - One rate limiter per client shared by every request (DefaultBudget, below Cloudflare's
//     1,200 requests per 5 minutes), a pause for everyone on 429, and bounded retries that
//     honour Retry-After. cloudflare-go's own retries are off, so one logical call never turns
//     into a burst of traffic.
//
// Make-before-break has one gap Cloudflare's rules impose: replacing A/AAAA records by a CNAME
// at the same name (or the reverse) cannot keep both, so the swap is sent as one batch, which
// Cloudflare applies atomically.
//
// # Errors
//
// Responses with an error status are [*APIError], matching webinfra's categories with
// errors.Is (404 [webinfra.ErrNotFound], 429 [webinfra.ErrRateLimited], 5xx
// [webinfra.ErrUnavailable], rejected content [webinfra.ErrInvalidArgument]). An absent zone
// matches [ErrNotFound]. Invalid desired state is a [*webinfra.ValidationError]; records in the
// way that this owner does not own give [webinfra.ErrFailedPrecondition]; changes Cloudflare
// refused are listed in an [*ApplyError].
//
// # Testing
//
// Package cloudflaretest serves an in-memory Cloudflare over HTTP on loopback; point
// Config.BaseURL at [cloudflaretest.Server.URL] and set Config.Token to
// [cloudflaretest.Server.Token], since the fake refuses other tokens as Cloudflare does.
package cloudflare
