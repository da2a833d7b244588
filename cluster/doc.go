// Package cluster drives the Kubernetes cluster that schedules the cloud's services across the
// mesh. It builds on k8s.io/client-go:
//
//   - [New]: typed, dynamic and discovery-backed clients from a *rest.Config, a kubeconfig path,
//     the usual loading rules (KUBECONFIG, ~/.kube/config) or the in-cluster service account.
//   - [Client.PlanApply] and [Client.Apply]: server-side apply (field manager "webinfra") of
//     typed objects ([FromTyped]), unstructured ones and multi-document YAML ([DecodeYAML]).
//     Plans come from server-side dry-runs and list the changed fields; CRDs are applied first
//     and waited for until Established; objects dropped from the desired set are pruned through
//     an [Inventory] record, and only if they still carry its [LabelInventory] label.
//   - [Client.WaitReady]: Deployments, StatefulSets, DaemonSets and CRDs, with progress.
//   - [Client.Nodes], [Client.PlanNodes], [Client.ApplyNodes]: the node inventory (roles,
//     region, zone, addresses, readiness, cordon state, taints) and idempotent labels and
//     annotations; keys this package set and no longer wants are removed, no others.
//   - [Client.Cordon], [Client.Drain], [Client.Uncordon]: eviction through the Eviction API,
//     honouring PodDisruptionBudgets, leaving DaemonSet and mirror pods, refusing emptyDir pods
//     unless told; a drain a budget blocks ends at its timeout with a [*DrainError] naming the
//     pod, the budget and for how long.
//   - [Client.TryAcquireLease], [Client.AcquireLease], [Client.RunLeader]: a
//     coordination.k8s.io Lease as a lock across processes, and leader election.
//
// # Errors
//
// Invalid input is a [*webinfra.ValidationError] or matches [webinfra.ErrInvalidArgument]; an
// absent node matches [webinfra.ErrNotFound]; a held lease is a [*LeaseHeldError] and a blocked
// drain a [*DrainError], both matching [webinfra.ErrFailedPrecondition]. API errors stay in the
// chain for k8s.io/apimachinery/pkg/api/errors.
//
// # Testing
//
// Package clustertest starts a real kube-apiserver and etcd (from .testbin, with envtest) once
// per test package through TestMain, offers a client over client-go's fake clientset for node
// and lease calls, and a conformance suite that runs against both.
package cluster
