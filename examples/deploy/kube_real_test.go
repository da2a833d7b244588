package main

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/webinfra/webinfra/examples/deploy/stack"
	"github.com/webinfra/webinfra/internal/testbin"
)

// With KUBECONFIG naming a real cluster (kube-apiserver and etcd, with MetalLB's and Traefik's
// CRDs, the stack's nodes joined, and MetalLB's and the sites' namespaces present), the deploy
// server-side applies the ingress's objects there, and a second run finds nothing to do.
func TestRealClusterGetsTheIngressObjects(t *testing.T) {
	assets := testbin.KubebuilderAssets(t)
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		// The CRDs MetalLB's and Traefik's installs bring.
		CRDInstallOptions: envtest.CRDInstallOptions{ErrorIfPathMissing: true, Paths: testbin.UpstreamCRDs(t)},
	}
	cfg, err := env.Start()
	t.Cleanup(func() { assert.NoError(t, env.Stop(), "stop control plane") })
	require.NoError(t, err, "start control plane")

	typed, err := kubernetes.NewForConfig(cfg)
	require.NoError(t, err)
	st, err := stack.Parse(demoStack)
	require.NoError(t, err)
	for _, n := range st.Nodes {
		_, err := typed.CoreV1().Nodes().Create(t.Context(), &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.Name}}, metav1.CreateOptions{})
		require.NoError(t, err)
	}
	for _, ns := range []string{"metallb-system", "web", "shop"} {
		_, err := typed.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		require.NoError(t, err)
	}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(kubeconfig, env.KubeConfig, 0o600))
	simulated(t)
	t.Setenv("KUBECONFIG", kubeconfig)
	state := t.TempDir()

	code, out, errOut := runDeploy(t, "--state", state)
	require.Equal(t, 0, code, errOut)
	assert.Regexp(t, `\n  cluster +real +Kubernetes API +KUBECONFIG=`+regexp.QuoteMeta(kubeconfig)+"\n", out)
	// The namespace, MetalLB's 2 objects, Traefik's 6 and each site's 5 (3 middlewares, the
	// TLS option, the route), cluster-wide; then the 7 nodes' labels.
	assert.Contains(t, out, "\n# cluster: 19 to create, 7 to update\n\n## cluster all nodes: 19 to create\n")
	for _, obj := range []string{
		"Namespace ingress",
		"IPAddressPool.metallb.io metallb-system/webinfra",
		"DaemonSet.apps ingress/traefik",
		"Service ingress/traefik",
		"IngressRoute.traefik.io web/www",
		"IngressRoute.traefik.io shop/shop",
	} {
		assert.Contains(t, out, "+ k8s_object "+obj+"\n")
	}
	assert.Contains(t, out, "~ k8s_node node-ams-1")
	assert.Contains(t, errOut, "plan after apply: No changes.")
	// The manifests are still written for kubectl.
	assert.FileExists(t, filepath.Join(state, "ingress", "kubernetes", "site-www.yaml"))

	dyn, err := dynamic.NewForConfig(cfg)
	require.NoError(t, err)
	for _, o := range []struct {
		gvr       schema.GroupVersionResource
		namespace string
		name      string
	}{
		{schema.GroupVersionResource{Group: "metallb.io", Version: "v1beta1", Resource: "ipaddresspools"}, "metallb-system", "webinfra"},
		{schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "daemonsets"}, "ingress", "traefik"},
		{schema.GroupVersionResource{Group: "traefik.io", Version: "v1alpha1", Resource: "ingressroutes"}, "web", "www"},
		{schema.GroupVersionResource{Group: "traefik.io", Version: "v1alpha1", Resource: "ingressroutes"}, "shop", "shop"},
	} {
		live, err := dyn.Resource(o.gvr).Namespace(o.namespace).Get(t.Context(), o.name, metav1.GetOptions{})
		require.NoError(t, err, "%s %s/%s", o.gvr.Resource, o.namespace, o.name)
		assert.Equal(t, "webinfra-demo", live.GetLabels()["webinfra.io/inventory"])
	}

	// The cluster is as planned: a second run plans no object and no node (the simulated
	// Cloudflare and Syncthing start empty again).
	code, out, errOut = runDeploy(t, "--state", state, "--dry-run")
	require.Equal(t, 0, code, errOut)
	assert.NotContains(t, out, "k8s_object")
	assert.NotContains(t, out, "k8s_node")
	assert.NotContains(t, out, "# cluster:")
}
