// Package backup moves snapshots of service files off-site with the rclone library, to any
// rclone remote it links in (local, Google Cloud Storage, Google Drive, S3), and brings them
// back with their ownership, permissions, times, symlinks and extended attributes, which
// remotes such as Google Cloud Storage do not keep.
//
// # Design
//
// A snapshot stores each file's content once, as a content-addressed object named by its
// SHA-256 under data/<host>/<set>/, and records everything else in a manifest,
// snapshots/<host>/<set>/<UTC time>.json.gz, written last. Content addressing was chosen over
// server-side copies from the previous snapshot because it needs no per-file request for an
// unchanged file at all (one listing of the set's objects per snapshot says what exists; a
// server-side copy costs one request per file and is missing on some backends), it
// deduplicates identical files, and it makes an interrupted snapshot harmless: it leaves only
// objects without a manifest, which the next snapshot reuses (it resumes) and [Client.Prune]
// collects. A manifest that was cut short fails its gzip checksum: "latest" reports it as
// [ErrCorrupt] instead of quietly restoring an older snapshot, unless [Ref.FallBack] asks. A change check against the previous manifest (size, mtime, ctime and inode, as
// restic does) keeps unchanged files from being read, so a no-change snapshot costs a walk of
// the tree, two listings and one manifest upload.
//
// # Encryption
//
// Sets are encrypted at rest unless [Config.Encryption] (or [Policy.Encryption]) says "none":
// every object, names included, goes through rclone's crypt backend over the remote, keyed by
// [Config.Key]. Using rclone's own format rather than one of ours means a user with stock
// rclone and the key can still list and read a snapshot ([CryptConnectionString]); the price,
// measured by BenchmarkSnapshot's encrypted/plain ratios, is the cipher's CPU time, and quick
// verifies compare sizes only, since the remote's MD5s are of the ciphertext.
//
// # Untrusted manifests
//
// A manifest is read as hostile input: paths that could leave the restore target, names no
// file system holds, sizes that overflow and decompression past a fixed ratio are refused,
// downloads stop one byte past the recorded size, and restore leaves out setuid/setgid bits and
// security.*/trusted.* attributes (file capabilities) unless [RestoreOptions] asks for them.
//
// The parts:
//
//   - [Policy] is the desired state a stack file holds ([Set]s with paths, excludes and
//     [Hook]s, a remote, a [Schedule], a [Retention]), with [Policy.Validate].
//   - [Client] ([New] with a [Config]) makes snapshots ([Client.Snapshot]), lists them
//     ([Client.List], [Client.Manifest]), checks them ([Client.Verify], quick or full),
//     restores all or part of one ([Client.Restore], atomic per file, dry run), and applies
//     retention ([Client.PlanPrune] then [Client.Prune]). [Progress] reports go to
//     [Config.Progress]; every call stops when its context is cancelled.
//   - Runs on one set exclude each other through lock objects ([Client.AcquireLock]) that
//     expire unless refreshed.
//   - [ApplyRetention] is restic's forget policy as a pure function; [EncodeManifest] and
//     [DecodeManifest] the manifest format; [ConnectionString] turns a remote of an
//     rclone.conf into a connection string without touching rclone's global configuration.
//
// # Errors
//
// Invalid input gives a *webinfra.ValidationError (matching webinfra.ErrInvalidArgument)
// naming the field path. An absent snapshot is [ErrSnapshotNotFound] (webinfra.ErrNotFound);
// damaged data found while restoring, or a manifest that does not decode, is [ErrCorrupt];
// a file that keeps changing while read, or vanishes, is left out of the snapshot and counted
// in its [SnapshotResult] (never an error); a run whose lock was lost (paused past its TTL)
// commits nothing and fails with [ErrLockLost]; a set locked by another run is a
// [*LockedError] (webinfra.ErrFailedPrecondition). Verify reports damage in its
// [VerifyReport] instead of failing. rclone's errors stay in the chain; context errors are
// never hidden.
//
// # Testing
//
// Package backuptest has LocalRemote and StartGCS/NewGCS (an in-process fake Google Cloud
// Storage from fake-gcs-server on loopback, whose connection string Remote returns),
// WriteSampleTree, WriteDataset, ReadTree and RequireSameTree for tree comparisons, and
// RunConformance, the suite run here against the local remote and the fake GCS, each in the
// clear and encrypted (a harness's Key).
package backup
