// Package replication keeps the data of each service on the servers that may host it, with
// Syncthing as the engine, and answers Syncthing's three flaws in this setup:
//
//   - Sharding instead of replicating everything everywhere: [Place] puts each data folder on R
//     of the eligible nodes with weighted rendezvous hashing, spread across regions. A node
//     leaving moves only its own replicas and a node joining only the replicas it takes.
//   - One writer per folder: the folder's active host writes and every other holder is
//     receive-only, so concurrent writes cannot produce conflict copies; a failover moves the
//     writer without losing acknowledged writes.
//   - Metadata: managed folders send and apply ownership, permissions and extended attributes
//     (syncOwnership, sendOwnership, syncXattrs, sendXattrs), and an audit reports replicas
//     whose metadata drifted, conflict copies, pull errors and receive-only changes.
//
// The parts:
//
//   - [NewIdentity] makes a node's Syncthing certificate with Syncthing's own code, so its
//     device ID is known before Syncthing first starts; [Identity.WriteHome] installs it.
//   - [Client] is a typed client of Syncthing's REST API (system, config, database, events,
//     pending devices and folders), with the API key as a webinfra.Secret and retries of
//     idempotent calls.
//   - [NodeState] is one node's desired devices and folders; [PlanNode] reads it back with two
//     calls and [ApplyNode] converges with one call per change, touching only objects marked
//     with [ManagedPrefix].
//
// Syncthing sits behind the [Engine] interface, so that another engine (a cache-tier file
// system) can replace it.
//
// # Errors
//
// Invalid input gives a *webinfra.ValidationError (matching webinfra.ErrInvalidArgument) whose
// entries name the field path. Syncthing's answers are [*APIError]s matching the root
// categories: 404 webinfra.ErrNotFound, 401 and 403 webinfra.ErrPermissionDenied, 400 and 422
// webinfra.ErrInvalidArgument, 429 webinfra.ErrRateLimited, 5xx webinfra.ErrUnavailable.
// Context errors are never hidden.
//
// # Testing
//
// Package replicationtest has a wire-level fake of the REST API (NewServer, Start, faults and
// call records), StartSyncthing and Introduce, which run real syncthing v1.30.0 instances from
// .testbin on loopback, and RunConformance, the suite that holds the fake to what the real
// binary does.
package replication
