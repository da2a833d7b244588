// Package stack is the stack file of examples/deploy: one YAML document describing a whole
// deployment (nodes and their roles, the mesh, the cluster's address ranges, the sites and their
// data, backups, mail and security), decoded strictly and validated in one pass that reports every
// problem with its field path.
//
// Each concern package has its own desired state; the deploy example translates the stack into
// them, so this file format is the example's, not part of the SDK's API.
package stack
