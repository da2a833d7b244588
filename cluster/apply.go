package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"

	"github.com/webinfra/webinfra"
)

// LabelInventory marks every object applied for an [Inventory] with the inventory's name. Prune
// deletes only objects that carry it, so objects this SDK did not create are never touched.
const LabelInventory = "webinfra.io/inventory"

// Inventory names a set of objects applied together. Its record, a ConfigMap named
// "webinfra-inventory-<Name>" in Namespace, lists the objects applied last time, so that objects
// dropped from the desired set are pruned even when their kind is no longer in it (the approach
// of cli-utils' inventory object).
type Inventory struct {
	// Name is a DNS label, unique per set.
	Name string
	// Namespace holds the record; "" means "default".
	Namespace string
}

func (inv Inventory) namespace() string {
	if inv.Namespace == "" {
		return "default"
	}
	return inv.Namespace
}

func (inv Inventory) configMap() string { return "webinfra-inventory-" + inv.Name }

// ObjectPlan is the planned fate of one object.
type ObjectPlan struct {
	// Ref names the object.
	Ref ObjectRef
	// Action is Create, Update or Delete; 0 means the object is already as desired.
	Action webinfra.Action
	// Fields are the paths that change ("spec.replicas"), for updates.
	Fields []string

	obj    *unstructured.Unstructured
	liveRV string // resourceVersion seen by the plan; "" for a create
}

// ApplyPlan is what [Client.PlanApply] found. Print it with [ApplyPlan.Plan].
type ApplyPlan struct {
	inv     Inventory
	objects []ObjectPlan // desired objects, CRDs and namespaces first
	prune   []ObjectPlan // owned objects no longer desired
	desired []ObjectRef
}

// Objects returns every desired object's plan, unchanged ones included, in apply order.
func (p *ApplyPlan) Objects() []ObjectPlan { return slices.Clone(p.objects) }

// Plan returns the changes (creates, updates, prunes) as the shared plan type.
func (p *ApplyPlan) Plan() webinfra.Plan {
	var plan webinfra.Plan
	for _, o := range append(slices.Clone(p.objects), p.prune...) {
		if o.Action == 0 {
			continue
		}
		ch := webinfra.Change{Kind: "k8s_object", ID: o.Ref.String(), Action: o.Action}
		if o.Action == webinfra.Update {
			ch.Before = webinfra.Fields{"changed": "(live)"}
			ch.After = webinfra.Fields{"changed": o.Fields}
		}
		plan.Add(ch)
	}
	return plan
}

// Empty reports whether nothing would change.
func (p *ApplyPlan) Empty() bool { return p.Plan().Empty() }

func isCRD(ref ObjectRef) bool {
	return ref.Group == "apiextensions.k8s.io" && ref.Kind == "CustomResourceDefinition"
}

// rank orders applies: CRDs, then namespaces, then the rest in the order given.
func rank(ref ObjectRef) int {
	switch {
	case isCRD(ref):
		return 0
	case ref.Group == "" && ref.Kind == "Namespace":
		return 1
	}
	return 2
}

// resource returns the dynamic client for obj's kind, or a *meta.NoKindMatchError.
func (c *Client) resource(ref ObjectRef) (dynamic.ResourceInterface, bool, error) {
	if c.mapper == nil || c.dynamic == nil {
		return nil, false, fmt.Errorf("cluster: this client has no dynamic client or REST mapper: %w", webinfra.ErrFailedPrecondition)
	}
	m, err := c.mapper.RESTMapping(ref.gvk().GroupKind(), ref.Version)
	if err != nil {
		return nil, false, err
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		ns := ref.Namespace
		if ns == "" {
			ns = "default"
		}
		return c.dynamic.Resource(m.Resource).Namespace(ns), true, nil
	}
	return c.dynamic.Resource(m.Resource), false, nil
}

// PlanApply compares the desired objects with the cluster through server-side apply dry-runs,
// so defaults, admission and field ownership are the server's own. It only reads (dry-runs
// persist nothing). Objects whose kind a CRD of the same set defines are planned as creates.
// Objects in a namespace the same set creates are planned as creates too. Objects recorded in
// the inventory, no longer desired and still carrying the inventory label
// are planned for deletion.
func (c *Client) PlanApply(ctx context.Context, inv Inventory, objs []*unstructured.Unstructured) (*ApplyPlan, error) {
	if inv.Name == "" {
		return nil, fmt.Errorf("cluster: inventory name is required: %w", webinfra.ErrInvalidArgument)
	}
	p := &ApplyPlan{inv: inv}
	crdKinds := map[string]bool{}
	for _, o := range objs {
		if isCRD(RefOf(o)) {
			g, _, _ := unstructured.NestedString(o.Object, "spec", "group")
			k, _, _ := unstructured.NestedString(o.Object, "spec", "names", "kind")
			crdKinds[g+"/"+k] = true
		}
	}
	newNamespaces := map[string]bool{}
	for _, o := range objs {
		if ref := RefOf(o); ref.Group == "" && ref.Kind == "Namespace" {
			if _, err := c.typed.CoreV1().Namespaces().Get(ctx, ref.Name, metav1.GetOptions{}); apierrors.IsNotFound(err) {
				newNamespaces[ref.Name] = true
			}
		}
	}
	sorted := slices.Clone(objs)
	sort.SliceStable(sorted, func(i, j int) bool { return rank(RefOf(sorted[i])) < rank(RefOf(sorted[j])) })
	seen := map[ObjectRef]bool{}
	for _, o := range sorted {
		o = o.DeepCopy()
		labels := o.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		labels[LabelInventory] = inv.Name
		o.SetLabels(labels)
		ref := RefOf(o)
		if seen[ref] {
			return nil, fmt.Errorf("cluster: %s is listed twice: %w", ref, webinfra.ErrInvalidArgument)
		}
		seen[ref] = true
		op, err := c.planObject(ctx, o, crdKinds, newNamespaces)
		if err != nil {
			return nil, err
		}
		p.objects = append(p.objects, op)
		p.desired = append(p.desired, op.Ref)
	}
	recorded, err := c.readInventory(ctx, inv)
	if err != nil {
		return nil, err
	}
	for _, ref := range recorded {
		if seen[ref] {
			continue
		}
		ri, _, err := c.resource(ref)
		if meta.IsNoMatchError(err) {
			continue // its kind is gone, so is the object
		}
		if err != nil {
			return nil, fmt.Errorf("cluster: prune %s: %w", ref, err)
		}
		live, err := ri.Get(ctx, ref.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("cluster: prune %s: %w", ref, err)
		}
		if live.GetLabels()[LabelInventory] != inv.Name {
			c.log.Warn("not pruning an object without this inventory's label", "object", ref.String())
			continue
		}
		p.prune = append(p.prune, ObjectPlan{Ref: ref, Action: webinfra.Delete})
	}
	// Namespaces and CRDs go last, after what lives in them.
	sort.SliceStable(p.prune, func(i, j int) bool { return rank(p.prune[i].Ref) > rank(p.prune[j].Ref) })
	return p, nil
}

func (c *Client) planObject(ctx context.Context, o *unstructured.Unstructured, crdKinds, newNamespaces map[string]bool) (ObjectPlan, error) {
	ref := RefOf(o)
	op := ObjectPlan{Ref: ref, obj: o}
	ri, namespaced, err := c.resource(ref)
	if meta.IsNoMatchError(err) && crdKinds[ref.Group+"/"+ref.Kind] {
		op.Action = webinfra.Create
		return op, nil
	}
	if err != nil {
		return op, fmt.Errorf("cluster: plan %s: %w", ref, err)
	}
	if namespaced && o.GetNamespace() == "" {
		o.SetNamespace("default")
		op.Ref.Namespace = "default"
	}
	if namespaced && newNamespaces[o.GetNamespace()] {
		// Its namespace comes with the same set: nothing can exist in it yet, and a dry-run
		// would fail for the missing namespace.
		op.Action = webinfra.Create
		return op, nil
	}
	live, err := ri.Get(ctx, ref.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		live = nil
	case err != nil:
		return op, fmt.Errorf("cluster: plan %s: %w", ref, err)
	}
	dry, err := ri.Apply(ctx, ref.Name, o, metav1.ApplyOptions{FieldManager: c.manager, Force: true, DryRun: []string{metav1.DryRunAll}})
	if err != nil {
		return op, fmt.Errorf("cluster: plan %s: dry-run apply: %w", ref, err)
	}
	if live == nil {
		op.Action = webinfra.Create
		return op, nil
	}
	op.liveRV = live.GetResourceVersion()
	op.Fields = diffPaths("", comparable(live.Object), comparable(dry.Object))
	if len(op.Fields) > 0 {
		op.Action = webinfra.Update
	}
	return op, nil
}

// comparable strips what the server sets on every write, so a dry-run and the live object
// compare equal when applying would change nothing.
func comparable(obj map[string]any) map[string]any {
	u := (&unstructured.Unstructured{Object: obj}).DeepCopy()
	for _, f := range [][]string{{"metadata", "managedFields"}, {"metadata", "resourceVersion"}, {"metadata", "generation"}, {"metadata", "creationTimestamp"}, {"metadata", "uid"}, {"status"}} {
		unstructured.RemoveNestedField(u.Object, f...)
	}
	return u.Object
}

// diffPaths lists the dotted paths where a and b differ; lists compare whole.
func diffPaths(prefix string, a, b map[string]any) []string {
	var out []string
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		am, aok := a[k].(map[string]any)
		bm, bok := b[k].(map[string]any)
		if aok && bok {
			out = append(out, diffPaths(p, am, bm)...)
			continue
		}
		if !reflect.DeepEqual(a[k], b[k]) {
			out = append(out, p)
		}
	}
	return out
}

// ApplyResult counts what [Client.Apply] did.
type ApplyResult struct {
	// Applied is the number of objects sent with server-side apply.
	Applied int
	// Changed is how many of them the server actually changed (their resourceVersion moved).
	Changed int
	// Pruned is the number of objects deleted.
	Pruned int
}

// Apply performs the plan with server-side apply (field manager "webinfra", forcing ownership of
// the fields it sets): CRDs first, each waited for until Established, then namespaces, then the
// rest; then it prunes. The inventory record is widened before anything is applied and narrowed
// after the prune, so a failure at any point leaves every applied object recorded, and
// PlanApply then Apply again converges. Objects the plan found already as desired are not sent;
// one changed by someone else since the plan is corrected by the next PlanApply and Apply.
// ApplyResult.Changed counts the objects whose resourceVersion moved.
func (c *Client) Apply(ctx context.Context, p *ApplyPlan) (ApplyResult, error) {
	var res ApplyResult
	recorded, err := c.readInventory(ctx, p.inv)
	if err != nil {
		return res, err
	}
	if err := c.writeInventory(ctx, p.inv, union(recorded, p.desired)); err != nil {
		return res, err
	}
	crdsReady := false
	for _, op := range p.objects {
		if !isCRD(op.Ref) && !crdsReady {
			c.ResetMapper()
			crdsReady = true
		}
		if op.Action == 0 {
			continue // the plan's dry-run showed applying it would change nothing
		}
		ri, _, err := c.resource(op.Ref)
		if err != nil {
			return res, fmt.Errorf("cluster: apply %s: %w", op.Ref, err)
		}
		out, err := ri.Apply(ctx, op.Ref.Name, op.obj, metav1.ApplyOptions{FieldManager: c.manager, Force: true})
		if err != nil {
			return res, fmt.Errorf("cluster: apply %s: %w", op.Ref, err)
		}
		res.Applied++
		if out.GetResourceVersion() != op.liveRV {
			res.Changed++
			c.log.Info("applied", "object", op.Ref.String())
		}
		if isCRD(op.Ref) {
			if err := c.WaitEstablished(ctx, op.Ref.Name, time.Minute); err != nil {
				return res, err
			}
		}
	}
	for _, op := range p.prune {
		ri, _, err := c.resource(op.Ref)
		if err != nil {
			return res, fmt.Errorf("cluster: prune %s: %w", op.Ref, err)
		}
		prop := metav1.DeletePropagationBackground
		err = ri.Delete(ctx, op.Ref.Name, metav1.DeleteOptions{PropagationPolicy: &prop})
		if err != nil && !apierrors.IsNotFound(err) {
			return res, fmt.Errorf("cluster: prune %s: %w", op.Ref, err)
		}
		res.Pruned++
		c.log.Info("pruned", "object", op.Ref.String())
	}
	if err := c.writeInventory(ctx, p.inv, p.desired); err != nil {
		return res, err
	}
	return res, nil
}

// WaitEstablished waits until the named CRD reports Established, for at most timeout.
func (c *Client) WaitEstablished(ctx context.Context, name string, timeout time.Duration) error {
	gvr := crdResource
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		crd, err := c.dynamic.Resource(gvr).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
		for _, cd := range conds {
			m, _ := cd.(map[string]any)
			if m["type"] == "Established" && m["status"] == "True" {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("cluster: CRD %s not established within %v: %w", name, timeout, err)
	}
	return nil
}

func (c *Client) readInventory(ctx context.Context, inv Inventory) ([]ObjectRef, error) {
	cm, err := c.typed.CoreV1().ConfigMaps(inv.namespace()).Get(ctx, inv.configMap(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cluster: read inventory %s: %w", inv.Name, err)
	}
	var refs []ObjectRef
	if err := json.Unmarshal([]byte(cm.Data["objects"]), &refs); err != nil {
		return nil, fmt.Errorf("cluster: inventory %s is corrupt: %w", inv.Name, err)
	}
	return refs, nil
}

func (c *Client) writeInventory(ctx context.Context, inv Inventory, refs []ObjectRef) error {
	data, err := json.Marshal(refs)
	if err != nil {
		return err
	}
	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: inv.configMap(), Namespace: inv.namespace(), Labels: map[string]string{LabelInventory + "-record": inv.Name}},
		Data:       map[string]string{"objects": string(data)},
	}
	objs, err := FromTyped(cm)
	if err != nil {
		return err
	}
	_, err = c.dynamic.Resource(configMapResource).Namespace(inv.namespace()).Apply(ctx, cm.Name, objs[0], metav1.ApplyOptions{FieldManager: c.manager, Force: true})
	if err != nil {
		return fmt.Errorf("cluster: write inventory %s: %w", inv.Name, err)
	}
	return nil
}

func union(a, b []ObjectRef) []ObjectRef {
	out := slices.Clone(a)
	for _, r := range b {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}
