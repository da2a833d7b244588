// Package mesh manages the Tinc mesh VPN that joins the servers: the network model and address
// allocation, RSA and Ed25519 keys, the tinc.conf and hosts files of each node, the topology of
// connections, rollout of configuration to the nodes, daemon control and health.
//
// Servers talk directly when they can and through other servers when they cannot, so any server
// can fail and traffic routes around it. The content of this package arrives with its own issue;
// for now it states the scope.
package mesh
