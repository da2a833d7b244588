package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/webinfra/webinfra"
)

// Well-known node labels.
const (
	LabelRegion     = "topology.kubernetes.io/region"
	LabelZone       = "topology.kubernetes.io/zone"
	labelRolePrefix = "node-role.kubernetes.io/"
	// AnnotationManagedKeys lists, on each node, the label and annotation keys this SDK manages
	// there, so that keys dropped from the desired inventory are removed and no others are.
	AnnotationManagedKeys = "webinfra.io/managed-keys"
)

// NodeInfo is what the inventory reports about a node.
type NodeInfo struct {
	Name string
	// Roles come from node-role.kubernetes.io/<role> labels, sorted.
	Roles []string
	// Region and Zone come from the topology.kubernetes.io labels.
	Region, Zone string
	// InternalIP should be the node's mesh address; invalid when the node reports none.
	InternalIP netip.Addr
	// Addresses maps address types (InternalIP, ExternalIP, Hostname) to values.
	Addresses map[string][]string
	Ready     bool
	Cordoned  bool
	Taints    []corev1.Taint
	Labels    map[string]string
}

// Nodes lists the cluster's nodes, sorted by name.
func (c *Client) Nodes(ctx context.Context) ([]NodeInfo, error) {
	list, err := c.typed.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("cluster: list nodes: %w", err)
	}
	out := make([]NodeInfo, 0, len(list.Items))
	for _, n := range list.Items {
		info := NodeInfo{Name: n.Name, Region: n.Labels[LabelRegion], Zone: n.Labels[LabelZone],
			Cordoned: n.Spec.Unschedulable, Taints: n.Spec.Taints, Labels: maps.Clone(n.Labels), Addresses: map[string][]string{}}
		for k := range n.Labels {
			if role, ok := strings.CutPrefix(k, labelRolePrefix); ok && role != "" {
				info.Roles = append(info.Roles, role)
			}
		}
		slices.Sort(info.Roles)
		for _, a := range n.Status.Addresses {
			info.Addresses[string(a.Type)] = append(info.Addresses[string(a.Type)], a.Address)
			if a.Type == corev1.NodeInternalIP && !info.InternalIP.IsValid() {
				info.InternalIP, _ = netip.ParseAddr(a.Address)
			}
		}
		for _, cond := range n.Status.Conditions {
			if cond.Type == corev1.NodeReady {
				info.Ready = cond.Status == corev1.ConditionTrue
			}
		}
		out = append(out, info)
	}
	slices.SortFunc(out, func(a, b NodeInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// NodeMetadata is the desired labels and annotations of one node. Keys not listed are left
// alone, except keys this SDK set before, which are removed.
type NodeMetadata struct {
	Name        string
	Labels      map[string]string
	Annotations map[string]string
}

// RoleLabel returns the label key marking a node with role.
func RoleLabel(role string) string { return labelRolePrefix + role }

// Validate checks node names and label/annotation keys and values as Kubernetes does.
func validateNodes(desired []NodeMetadata) error {
	var errs webinfra.ValidationError
	for i, n := range desired {
		p := webinfra.NewPath("nodes").Index(i)
		if msgs := validation.IsDNS1123Subdomain(n.Name); len(msgs) > 0 {
			errs.Invalid(p.Child("name"), n.Name, msgs[0])
		}
		for _, k := range slices.Sorted(maps.Keys(n.Labels)) {
			if msgs := validation.IsQualifiedName(k); len(msgs) > 0 {
				errs.Invalid(p.Child("labels").Key(k), k, msgs[0])
			}
			if msgs := validation.IsValidLabelValue(n.Labels[k]); len(msgs) > 0 {
				errs.Invalid(p.Child("labels").Key(k), n.Labels[k], msgs[0])
			}
		}
		for _, k := range slices.Sorted(maps.Keys(n.Annotations)) {
			if msgs := validation.IsQualifiedName(k); len(msgs) > 0 || k == AnnotationManagedKeys {
				errs.Invalid(p.Child("annotations").Key(k), k, "not a usable annotation key")
			}
		}
	}
	return errs.Err()
}

// NodePlan is what [Client.PlanNodes] found to change.
type NodePlan struct {
	changes []nodeChange
}

type nodeChange struct {
	name          string
	before, after webinfra.Fields
	patch         []byte
}

// Plan returns one update per node whose metadata changes.
func (p *NodePlan) Plan() webinfra.Plan {
	var plan webinfra.Plan
	for _, ch := range p.changes {
		plan.Add(webinfra.Change{Kind: "k8s_node", ID: ch.name, Action: webinfra.Update, Before: ch.before, After: ch.after})
	}
	return plan
}

// PlanNodes compares the desired metadata with the nodes; it only reads. A desired node that
// does not exist is an error matching [webinfra.ErrNotFound]: nodes join by themselves, this
// only labels them.
func (c *Client) PlanNodes(ctx context.Context, desired []NodeMetadata) (*NodePlan, error) {
	if err := validateNodes(desired); err != nil {
		return nil, err
	}
	p := &NodePlan{}
	for _, d := range desired {
		n, err := c.typed.CoreV1().Nodes().Get(ctx, d.Name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("cluster: node %q: %w", d.Name, translateK8s(err))
		}
		var managed []string
		_ = json.Unmarshal([]byte(n.Annotations[AnnotationManagedKeys]), &managed)
		labelPatch, before, after := metaDiff("label:", n.Labels, d.Labels, managed)
		annPatch, b2, a2 := metaDiff("annotation:", n.Annotations, d.Annotations, managed)
		if len(labelPatch) == 0 && len(annPatch) == 0 {
			continue
		}
		maps.Copy(before, b2)
		maps.Copy(after, a2)
		var keys []string
		for k := range d.Labels {
			keys = append(keys, "label:"+k)
		}
		for k := range d.Annotations {
			keys = append(keys, "annotation:"+k)
		}
		slices.Sort(keys)
		rec, _ := json.Marshal(keys)
		if annPatch == nil {
			annPatch = map[string]any{}
		}
		annPatch[AnnotationManagedKeys] = string(rec)
		// A merge patch with "labels": null would delete every label: send only what changes.
		metaPatch := map[string]any{"annotations": annPatch}
		if labelPatch != nil {
			metaPatch["labels"] = labelPatch
		}
		patch, err := json.Marshal(map[string]any{"metadata": metaPatch})
		if err != nil {
			return nil, err
		}
		p.changes = append(p.changes, nodeChange{name: d.Name, before: before, after: after, patch: patch})
	}
	return p, nil
}

// metaDiff returns the merge-patch entries turning live into desired for one map, removing keys
// recorded as managed but no longer desired, and the plan's before/after fields.
func metaDiff(kind string, live, desired map[string]string, managed []string) (map[string]any, webinfra.Fields, webinfra.Fields) {
	patch := map[string]any{}
	before, after := webinfra.Fields{}, webinfra.Fields{}
	for k, v := range desired {
		if cur, ok := live[k]; !ok || cur != v {
			patch[k] = v
			if ok {
				before[kind+k] = cur
			}
			after[kind+k] = v
		}
	}
	for _, m := range managed {
		k, ok := strings.CutPrefix(m, kind)
		if !ok {
			continue
		}
		if _, still := desired[k]; !still {
			if cur, present := live[k]; present {
				patch[k] = nil
				before[kind+k] = cur
			}
		}
	}
	if len(patch) == 0 {
		return nil, before, after
	}
	return patch, before, after
}

// ApplyNodes patches each changed node (JSON merge patch of labels and annotations). It is
// idempotent; after a failure, PlanNodes and ApplyNodes again converge.
func (c *Client) ApplyNodes(ctx context.Context, p *NodePlan) error {
	for _, ch := range p.changes {
		if _, err := c.typed.CoreV1().Nodes().Patch(ctx, ch.name, types.MergePatchType, ch.patch, metav1.PatchOptions{FieldManager: c.manager}); err != nil {
			return fmt.Errorf("cluster: label node %q: %w", ch.name, translateK8s(err))
		}
		c.log.Info("labelled", "node", ch.name)
	}
	return nil
}
