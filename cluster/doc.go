// Package cluster drives the Kubernetes cluster that schedules the cloud's services across the
// mesh: clients from kubeconfig or in-cluster config, the node inventory, server-side apply with
// an explicit prune inventory, readiness waits, cordon and drain through the Eviction API, and
// leases.
//
// It builds on k8s.io/client-go. The content of this package arrives with its own issue; for now
// it states the scope.
package cluster
