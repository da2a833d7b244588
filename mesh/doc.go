// Package mesh manages the Tinc mesh VPN that joins the servers: the network model and address
// allocation, RSA (tinc 1.0) and Ed25519 (tinc 1.1) keys, the tinc.conf, hosts/* and script
// files of every node, the topology of connections, rollout of the files to the nodes with the
// daemon actions they need, and a reachability check.
//
// Servers talk directly when they can and through other servers when they cannot, so any server
// can fail and traffic routes around it. The desired state is a [Network] of [Node]s; it is
// plain data with [Network.Validate]. A [Manager] plans a [Rollout] against each node's
// [Target] and applies it. The package provides [Dir] (a directory per node on this machine)
// and in-memory targets for tests; anything that implements [Target] (a directory on a server
// reached over SSH, say) can be one:
//
//	mgr, _ := mesh.New(mesh.Config{Targets: mesh.Dir{Root: "/srv/tinc"}, Daemon: &mesh.Tincd{...}})
//	rollout, err := mgr.Plan(ctx, network, nil) // reads only; generates missing keys
//	fmt.Print(rollout.Plan())                   // file changes and daemon actions, no key material
//	err = mgr.Apply(ctx, rollout)               // writes atomically, then reloads/restarts/starts
//
// Plan keeps what exists: node addresses (read back from each node's host file) and keys. It
// decides per node whether tincd must start, reload (SIGHUP: ConnectTo lines and other nodes'
// host files) or restart (its own key, Subnet, port, cipher or tinc-up, which tinc 1.0 reads
// only at start), and stops nodes that left the network. Adding, removing and rotating are edits
// of the desired state: [Network.WithNode], [Network.WithoutNode] and [PlanOptions.Rotate].
//
// The defaults are tuned for failover: [DefaultFailover] routes around a broken direct link in
// about 2 s where tinc 1.0's own settings took 28 to 94 s here, and [Network.Connections] dials
// every pair once in small networks and through regional hubs in large ones, so that no single
// node's failure splits the mesh ([Network.Resilience] checks that).
//
// tinc 1.1 is not in Debian, so its Ed25519 formats are tested against key files written by
// tinc 1.1 (testdata/tinc11), not against a running daemon; everything else is tested against
// tincd 1.0 in network namespaces.
//
// # Errors
//
// Invalid input gives an error matching webinfra.ErrInvalidArgument: a *webinfra.ValidationError
// listing every problem with its field path from [Network.Validate], or a parse error naming the
// line from the file parsers. A full subnet gives webinfra.ErrFailedPrecondition,
// [Network.WithNode] of an existing name webinfra.ErrAlreadyExists and [Network.WithoutNode] of
// an unknown one webinfra.ErrNotFound. Daemon failures wrap the runner's [*webinfra.ExitError], which
// errors.As finds. Context errors are never hidden.
//
// # Testing
//
// Package meshtest has in-memory [Targets] with injectable write failures, a recording
// [Daemon], and Start, which runs a real mesh of tincd daemons in network namespaces (root
// needed), with link cuts, kills and a reachability matrix.
package mesh
