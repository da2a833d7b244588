package ingress_test

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/webinfra/webinfra/ingress"
	"github.com/webinfra/webinfra/internal/testbin"
)

// k8sShared is the one control plane of the package's real Kubernetes tests: started by the
// first test that needs it ([k8sConnect]) and stopped by TestMain once every test has run.
var k8sShared struct {
	once    sync.Once
	env     *envtest.Environment
	cluster *k8sCluster
	err     error
}

// TestMain stops the shared control plane, if a test started it, after all tests have run.
func TestMain(m *testing.M) {
	code := m.Run()
	if k8sShared.env != nil {
		if err := k8sShared.env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop control plane:", err)
			if code == 0 {
				code = 1
			}
		}
	}
	os.Exit(code)
}

// k8sConnect returns a client of kube-apiserver and etcd with MetalLB's and Traefik's CRDs
// installed, starting them on the first call (later calls share them). A missing binary or
// module skips the test locally and fails it under CI=true, for every test that asks.
func k8sConnect(t *testing.T) *k8sCluster {
	t.Helper()
	assets := testbin.KubebuilderAssets(t)
	crds := testbin.UpstreamCRDs(t)
	metallb, traefik := crds[0], crds[1]
	k8sShared.once.Do(func() {
		k8sShared.cluster, k8sShared.err = k8sStart(assets, metallb, traefik)
	})
	require.NoError(t, k8sShared.err, "start control plane")
	return k8sShared.cluster
}

// k8sStart starts the control plane with the CRDs found at crdPaths and records it for TestMain.
func k8sStart(assets string, crdPaths ...string) (*k8sCluster, error) {
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDInstallOptions:     envtest.CRDInstallOptions{Paths: crdPaths, ErrorIfPathMissing: true},
	}
	k8sShared.env = env // stopped by TestMain even when Start fails half-way
	cfg, err := env.Start()
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &k8sCluster{dyn: dyn, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))}, nil
}

type k8sCluster struct {
	dyn    dynamic.Interface
	mapper *restmapper.DeferredDiscoveryRESTMapper
}

func (c *k8sCluster) resource(t *testing.T, obj *unstructured.Unstructured) dynamic.ResourceInterface {
	t.Helper()
	gvk := obj.GroupVersionKind()
	m, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	require.NoError(t, err, "mapping of %s", gvk)
	if obj.GetNamespace() != "" {
		return c.dyn.Resource(m.Resource).Namespace(obj.GetNamespace())
	}
	return c.dyn.Resource(m.Resource)
}

// apply server-side applies obj with field manager webinfra-test and reads it back with a GET.
func (c *k8sCluster) apply(t *testing.T, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	t.Helper()
	r := c.resource(t, obj)
	if _, err := r.Apply(t.Context(), obj.GetName(), obj, metav1.ApplyOptions{FieldManager: "webinfra-test", Force: true}); err != nil {
		return nil, err
	}
	return r.Get(t.Context(), obj.GetName(), metav1.GetOptions{})
}

// k8sMissing lists every field set in want that got differs in or lacks (pruned, defaulted
// over, converted): want must be a subset of got, lists element by element.
func k8sMissing(want, got any, path string) []string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want an object, got %v", path, got)}
		}
		var out []string
		for _, k := range slices.Sorted(func(yield func(string) bool) {
			for k := range w {
				if !yield(k) {
					return
				}
			}
		}) {
			gv, ok := g[k]
			if !ok {
				out = append(out, path+"."+k+": missing (pruned?)")
				continue
			}
			out = append(out, k8sMissing(w[k], gv, path+"."+k)...)
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return []string{fmt.Sprintf("%s: want %v, got %v", path, want, got)}
		}
		var out []string
		for i := range w {
			out = append(out, k8sMissing(w[i], g[i], fmt.Sprintf("%s[%d]", path, i))...)
		}
		return out
	default:
		if !reflect.DeepEqual(want, got) {
			return []string{fmt.Sprintf("%s: want %v (%T), got %v (%T)", path, want, want, got, got)}
		}
		return nil
	}
}

// TestK8sRealApply server-side applies the MetalLB and Traefik workload objects to a real
// kube-apiserver holding MetalLB's and Traefik's own CRDs, and reads every set field back.
func TestK8sRealApply(t *testing.T) {
	c := k8sConnect(t)
	dyn := c.dyn

	for _, ns := range []string{ingress.MetalLBNamespace, "ingress"} {
		obj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}}
		_, err := c.apply(t, obj)
		require.NoError(t, err)
	}

	pools := ingress.Pools{
		Pools: []ingress.PoolSpec{
			{Name: "traefik", Addresses: []string{"10.250.0.8/29", "10.250.1.10 - 10.250.1.20"}, AutoAssign: new(false),
				L2: &ingress.PoolL2{Interfaces: []string{"tinc0"}, NodeSelector: map[string]string{"webinfra.io/role": "worker"}}},
			{Name: "bgp", Addresses: []string{"fd00:250::/120"},
				BGP: &ingress.PoolBGP{Peers: []string{"edge-1"}, Communities: []string{"65535:65282"}, LocalPref: new(uint32(100)),
					AggregationLengthV6: new(int32(124)), NodeSelector: map[string]string{"webinfra.io/role": "edge"}}},
		},
		MeshSubnets: []netip.Prefix{netip.MustParsePrefix("10.200.0.0/16")},
	}
	mlb, err := pools.Objects()
	require.NoError(t, err)
	addrs, err := pools.Pools[0].Allocate([]string{"ingress/traefik"}, nil)
	require.NoError(t, err)
	typed, err := ingress.WorkloadObjects(ingress.WorkloadSpec{
		Namespace:    "ingress",
		StaticConfig: []byte(k8sStaticConfig),
		Address:      addrs["ingress/traefik"],
		Pool:         "traefik",
		NodeSelector: map[string]string{"webinfra.io/role": "worker"},
	})
	require.NoError(t, err)
	wl, err := ingress.WorkloadUnstructured(typed)
	require.NoError(t, err)

	for _, obj := range append(mlb, wl...) {
		t.Run(obj.GetKind()+"/"+obj.GetName(), func(t *testing.T) {
			got, err := c.apply(t, obj)
			require.NoError(t, err)
			assert.Empty(t, k8sMissing(obj.Object, got.Object, ""), "fields set but not read back")
		})
	}

	t.Run("ClusterRole covers every Traefik CRD", func(t *testing.T) {
		crds, err := dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}).
			List(t.Context(), metav1.ListOptions{})
		require.NoError(t, err)
		var plurals []string
		for _, crd := range crds.Items {
			if g, _, _ := unstructured.NestedString(crd.Object, "spec", "group"); g == "traefik.io" {
				p, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "plural")
				plurals = append(plurals, p)
			}
		}
		require.NotEmpty(t, plurals)
		var granted []string
		for _, o := range typed {
			if u, ok := o.(interface{ GetObjectKind() schema.ObjectKind }); ok && u.GetObjectKind().GroupVersionKind().Kind == "ClusterRole" {
				b, _ := json.Marshal(o)
				var role struct {
					Rules []struct{ APIGroups, Resources []string }
				}
				require.NoError(t, json.Unmarshal(b, &role))
				for _, r := range role.Rules {
					if slices.Contains(r.APIGroups, "traefik.io") {
						granted = append(granted, r.Resources...)
					}
				}
			}
		}
		assert.ElementsMatch(t, plurals, granted)
	})

	t.Run("unknown MetalLB field is rejected", func(t *testing.T) {
		bad := mlb[0].DeepCopy()
		bad.SetName("bad")
		require.NoError(t, unstructured.SetNestedField(bad.Object, "yes", "spec", "notAField"))
		_, err := c.apply(t, bad)
		require.Error(t, err)
		var status apierrors.APIStatus
		require.ErrorAs(t, err, &status)
		t.Logf("apiserver: %d %s: %v", status.Status().Code, status.Status().Reason, err)
		assert.Contains(t, err.Error(), ".spec.notAField: field not declared in schema")
		// Observed with kube-apiserver v1.37.2: server-side apply reports it as 500, not 400.
		assert.EqualValues(t, 500, status.Status().Code)
		_, err = c.resource(t, bad).Get(t.Context(), "bad", metav1.GetOptions{})
		assert.True(t, apierrors.IsNotFound(err), "nothing was created: %v", err)
	})

	t.Run("a pruned field is caught by the read-back", func(t *testing.T) {
		// A plain create that ignores unknown fields makes the apiserver prune them silently;
		// the comparison used above must then report the field.
		bad := mlb[0].DeepCopy()
		bad.SetName("pruned")
		require.NoError(t, unstructured.SetNestedField(bad.Object, "yes", "spec", "notAField"))
		r := c.resource(t, bad)
		_, err := r.Create(t.Context(), bad, metav1.CreateOptions{FieldValidation: "Ignore"})
		require.NoError(t, err)
		got, err := r.Get(t.Context(), "pruned", metav1.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, []string{".spec.notAField: missing (pruned?)"}, k8sMissing(bad.Object, got.Object, ""))
	})

	t.Run("second apply changes nothing", func(t *testing.T) {
		for _, obj := range append(mlb, wl...) {
			before, err := c.resource(t, obj).Get(t.Context(), obj.GetName(), metav1.GetOptions{})
			require.NoError(t, err)
			after, err := c.apply(t, obj)
			require.NoError(t, err)
			assert.Equal(t, before.GetResourceVersion(), after.GetResourceVersion(), "%s %s", obj.GetKind(), obj.GetName())
		}
	})
}

const k8sStaticConfig = `entryPoints:
  web:
    address: ":80"
  websecure:
    address: ":443"
  traefik:
    address: ":8080"
ping: {}
providers:
  kubernetesCRD: {}
`
