package smoke_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/webinfra/webinfra/internal/testbin"
)

// TestKubeAPIServer starts a real control plane (kube-apiserver + etcd) through envtest and
// checks it serves: version, and a namespace created and read back.
func TestKubeAPIServer(t *testing.T) {
	env := &envtest.Environment{BinaryAssetsDirectory: testbin.KubebuilderAssets(t)}
	cfg, err := env.Start()
	require.NoError(t, err, "envtest control plane")
	t.Cleanup(func() { assert.NoError(t, env.Stop()) })

	cs, err := kubernetes.NewForConfig(cfg)
	require.NoError(t, err)
	v, err := cs.Discovery().ServerVersion()
	require.NoError(t, err)
	assert.Equal(t, "v1.37.2", v.GitVersion, "the pinned kube-apiserver answers")

	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "webinfra-smoke"}}
	_, err = cs.CoreV1().Namespaces().Create(t.Context(), ns, metav1.CreateOptions{})
	require.NoError(t, err)
	got, err := cs.CoreV1().Namespaces().Get(t.Context(), "webinfra-smoke", metav1.GetOptions{})
	require.NoError(t, err)
	assert.NotEmpty(t, got.UID, "stored by etcd")
}
