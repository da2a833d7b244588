// Package security scans server file systems for malware and keeps the operating systems
// updated through Canonical Landscape, rolling updates through a Kubernetes cluster without
// taking down more nodes than allowed.
//
// Scanning: [Scanner] has three backends: [ESET] (ESET Server Security for Linux's on-demand
// scanner odscan: profiles, exclusions, read-only mode, its exit codes), [Clamd] (clamd's socket
// protocol: INSTREAM over a bounded pool of IDSESSION connections, or SCAN where clamd reads the
// files) and [Clamscan] (one clamscan process). A [Hook] runs scans of a [ScanPolicy]'s paths
// on demand, after a sync ([Hook.AfterSync]) or on a schedule, applies the policy to findings
// (report, [Quarantine] with a metadata record, fail) and passes each [Outcome] to a callback.
//
// Updates: [Landscape] is a client of Landscape's REST API v2 (JWT login with an access key or
// email and password) and of its legacy signed API ([SignLegacy], HmacSHA256, signature version
// 2) for older servers: computers by tag or name, pending upgrades, and activities to upgrade
// packages, reboot and run scripts, polled until done. A [Rollout] updates the nodes of an
// [UpdatePolicy] one by one (or Concurrency at a time): lock, cordon, drain, upgrade, reboot when
// required, wait for Ready, uncordon; within maintenance windows, stopping at the first failure,
// resumable from a [StateStore] kept with the lock.
//
// The package does not import the cluster package: [Locker], [Cordoner], [Drainer] and
// [NodeLister] are small interfaces that *cluster.Client and *cluster.HeldLease satisfy directly
// (Cordon, Uncordon, Renew, Release) or through a one-line adapter ([DrainFunc] around
// Drain(ctx, node, cluster.DrainOptions{...}), [NodeListerFunc] around Nodes). The
// examples/rolling-update program wires them.
//
// # Errors
//
// Scanners return threats and unscannable files as data in the [Report]; errors are
// [ErrScannerFailed] (matches webinfra.ErrUnavailable), [ErrUnexpectedOutput] (a scanner's output
// no longer matches its exit code) and ctx errors. A hook whose policy is "fail" returns a
// [*ThreatsError] (matches [ErrThreatFound] and webinfra.ErrFailedPrecondition). Landscape calls
// return [*APIError], which matches webinfra.ErrNotFound, ErrPermissionDenied, ErrRateLimited,
// ErrUnavailable or ErrInvalidArgument by status; a failed activity is an [*ActivityError].
// A rollout that stops returns a [*RolloutError] naming the node and step and wrapping the cause
// (errors.As finds the cluster package's *cluster.DrainError through it), or [ErrBudgetExceeded]
// or [ErrOutsideWindow]. Policies' Validate return one *webinfra.ValidationError.
//
// # Testing
//
// Package securitytest has a wire-level fake Landscape server (REST v2 and the signed legacy
// API, with faults, call records, reboot hooks and a script library; it refuses unknown script
// IDs, legacy API versions and REST versions as Landscape does, pinned by
// securitytest.RunLandscapeConformance), a fake [Scanner], a stand-in odscan program
// that prints ESET's record lines and exit codes (securitytest.BuildOdscan), and a harness that
// runs a real clamd with a signature database the test writes (securitytest.StartClamd,
// securitytest.SignatureDB). Real ClamAV tests use testbin.Require, so they fail under CI=true
// when clamscan or clamd is missing.
package security
