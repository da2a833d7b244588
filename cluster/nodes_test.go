package cluster_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/cluster"
	"github.com/webinfra/webinfra/cluster/clustertest"
)

func testNodeMetadata(t *testing.T, c *cluster.Client, node string) {
	ctx := t.Context()
	desired := []cluster.NodeMetadata{{
		Name:        node,
		Labels:      map[string]string{cluster.LabelRegion: "eu-west", cluster.RoleLabel("worker"): ""},
		Annotations: map[string]string{"webinfra.io/mesh-address": "10.88.1.21"},
	}}
	p, err := c.PlanNodes(ctx, desired)
	require.NoError(t, err)
	assert.Equal(t, webinfra.Summary{Update: 1}, p.Plan().Summary())
	require.NoError(t, c.ApplyNodes(ctx, p))
	p, err = c.PlanNodes(ctx, desired)
	require.NoError(t, err)
	assert.True(t, p.Plan().Empty(), "%s", p.Plan())

	// Dropping a key removes it; the foreign label stays.
	delete(desired[0].Annotations, "webinfra.io/mesh-address")
	desired[0].Labels[cluster.LabelRegion] = "us-east"
	p, err = c.PlanNodes(ctx, desired)
	require.NoError(t, err)
	assert.Contains(t, p.Plan().String(), `label:topology.kubernetes.io/region = "eu-west" -> "us-east"`)
	require.NoError(t, c.ApplyNodes(ctx, p))
	n, err := c.Typed().CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "us-east", n.Labels[cluster.LabelRegion])
	assert.NotContains(t, n.Annotations, "webinfra.io/mesh-address")
	assert.Equal(t, "yes", n.Labels["foreign"], "labels it does not manage stay")

	nodes, err := c.Nodes(ctx)
	require.NoError(t, err)
	var info cluster.NodeInfo
	for _, x := range nodes {
		if x.Name == node {
			info = x
		}
	}
	assert.Equal(t, []string{"worker"}, info.Roles)
	assert.Equal(t, "us-east", info.Region)

	_, err = c.PlanNodes(ctx, []cluster.NodeMetadata{{Name: "absent-node"}})
	assert.ErrorIs(t, err, webinfra.ErrNotFound)
	_, err = c.PlanNodes(ctx, []cluster.NodeMetadata{{Name: node, Labels: map[string]string{"bad key!": "x"}}})
	assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
}

func seedNode(name string) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"foreign": "yes"}},
		Status: corev1.NodeStatus{
			Addresses:  []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.88.1.21"}},
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
		},
	}
}

func TestNodeMetadataReal(t *testing.T) {
	c := newClient(t)
	node := unique("n")
	_, err := c.Typed().CoreV1().Nodes().Create(t.Context(), seedNode(node), metav1.CreateOptions{})
	require.NoError(t, err)
	testNodeMetadata(t, c, node)
}

func TestNodeMetadataFake(t *testing.T) {
	c := clustertest.NewFakeClient(seedNode("fake-node"))
	testNodeMetadata(t, c, "fake-node")
}

type fakeHarness struct{}

func (fakeHarness) New(*testing.T) *cluster.Client { return clustertest.NewFakeClient() }

type realHarness struct{}

func (realHarness) New(t *testing.T) *cluster.Client { return newClient(t) }

func TestConformanceFake(t *testing.T) { clustertest.RunConformance(t, fakeHarness{}) }

func TestConformanceReal(t *testing.T) { clustertest.RunConformance(t, realHarness{}) }
