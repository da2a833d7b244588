// Package webinfra is the shared vocabulary of the webinfra SDK, which scaffolds and runs a small,
// globally distributed web-hosting cloud: a Tinc mesh VPN between servers, Kubernetes with MetalLB
// and Traefik for services and ingress, Cloudflare in front, Syncthing and rclone for data
// replication and off-site backups, Google Workspace for mail, and scanning and OS updates.
//
// Each concern lives in its own package (cloudflare, mesh, cluster, ingress, replication, backup,
// mail, security), and none imports another. This package holds only what they all speak:
//
//   - [Plan] and [Change]: what a Plan call would do, printable as a Terraform-like diff
//     ([Plan.String]) or as JSON, with sensitive values redacted;
//   - [Secret]: a string that never prints, logs or encodes;
//   - [ValidationError] and [Path]: every problem of a desired state in one error, each naming its
//     field path;
//   - error categories ([ErrNotFound], [ErrRateLimited], ...) that every package's errors match
//     with [errors.Is].
//
// # Errors
//
// Packages wrap the category sentinels of this package, so a caller acts on the category whatever
// the backend: errors.Is(err, webinfra.ErrNotFound). A [*ValidationError] matches
// [ErrInvalidArgument].
package webinfra
