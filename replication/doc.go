// Package replication keeps the data of each service on the servers that may host it: placement
// of data folders on a bounded set of nodes (sharding instead of replicating everything
// everywhere), Syncthing devices and folders through its REST API, a single writer per folder to
// avoid conflicts, and an audit of ownership and permission metadata.
//
// Syncthing is the engine today, behind an interface that leaves room for another. The content of
// this package arrives with its own issue; for now it states the scope.
package replication
