package ingress_test

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/webinfra/webinfra/ingress"
)

const workloadStatic = `entryPoints:
  web:
    address: ":80"
  websecure:
    address: ":443/tcp"
ping: {}
`

func workloadSpec() ingress.WorkloadSpec {
	return ingress.WorkloadSpec{
		Namespace:    "ingress",
		StaticConfig: []byte(workloadStatic),
		Address:      netip.MustParseAddr("10.250.0.10"),
		Pool:         "traefik",
		NodeSelector: map[string]string{"webinfra.io/role": "worker"},
	}
}

func TestWorkloadValidate(t *testing.T) {
	require.NoError(t, workloadSpec().Validate())
	tests := []struct {
		name   string
		modify func(s *ingress.WorkloadSpec)
		want   []string
	}{
		{"required", func(s *ingress.WorkloadSpec) { *s = ingress.WorkloadSpec{} }, []string{
			"address: required", "namespace: required", "pool: required", "staticConfig: required",
		}},
		{"ports", func(s *ingress.WorkloadSpec) { s.WebSecurePort = 80; s.InternalPort = 70000 }, []string{
			"internalPort: want 1 to 65535",
			"staticConfig.entryPoints.traefik.address: listens on port 8080 (Traefik's default: the entry point is not declared), but internalPort is 70000",
			"staticConfig.entryPoints.websecure.address: listens on port 443, but webSecurePort is 80",
			"webSecurePort: duplicate of webPort",
		}},
		{"static config disagrees", func(s *ingress.WorkloadSpec) {
			s.StaticConfig = []byte("entryPoints:\n  web:\n    address: \":8000\"\n  traefik:\n    address: \":9000/udp\"\nping:\n  entryPoint: other\n")
		}, []string{
			"staticConfig.entryPoints.traefik.address: not a TCP listen address such as :80",
			"staticConfig.entryPoints.web.address: listens on port 8000, but webPort is 80",
			"staticConfig.entryPoints.websecure: entry point required: the workload exposes it",
			`staticConfig.ping.entryPoint: want "traefik" (or unset): the probes use internalPort`,
		}},
		{"no ping, not yaml", func(s *ingress.WorkloadSpec) { s.StaticConfig = []byte("entryPoints: [") }, []string{
			"staticConfig: not YAML: error converting YAML to JSON: yaml: line 1: did not find expected node content",
		}},
		{"names", func(s *ingress.WorkloadSpec) {
			s.Name = "1traefik"
			s.Pool = "Pool!"
			s.Address = netip.MustParseAddr("::")
		}, []string{
			"address: want a plain unicast IPv4 or IPv6 address",
			"name: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
			"pool: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := workloadSpec()
			tt.modify(&s)
			assert.Equal(t, tt.want, poolFieldErrors(t, s.Validate()))
			_, err := ingress.WorkloadObjects(s)
			assert.Error(t, err)
		})
	}
}

func TestWorkloadObjects(t *testing.T) {
	objs, err := ingress.WorkloadObjects(workloadSpec())
	require.NoError(t, err)
	require.Len(t, objs, 6)
	sa := objs[0].(*corev1.ServiceAccount)
	role := objs[1].(*rbacv1.ClusterRole)
	binding := objs[2].(*rbacv1.ClusterRoleBinding)
	cm := objs[3].(*corev1.ConfigMap)
	ds := objs[4].(*appsv1.DaemonSet)
	svc := objs[5].(*corev1.Service)

	assert.Equal(t, "ingress/traefik", sa.Namespace+"/"+sa.Name)
	assert.Equal(t, "ingress-traefik", role.Name)
	assert.Empty(t, role.Namespace)
	assert.Equal(t, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"services", "secrets", "nodes", "configmaps"}, Verbs: []string{"get", "list", "watch"}}, role.Rules[0])
	assert.Equal(t, []string{"list", "watch"}, role.Rules[1].Verbs)
	assert.Contains(t, role.Rules[2].Resources, "ingressroutes")
	for _, r := range role.Rules {
		assert.NotContains(t, r.Verbs, "create", "read only")
	}
	assert.Equal(t, rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "ingress-traefik"}, binding.RoleRef)
	assert.Equal(t, []rbacv1.Subject{{Kind: "ServiceAccount", Name: "traefik", Namespace: "ingress"}}, binding.Subjects)
	assert.Equal(t, map[string]string{"traefik.yml": workloadStatic}, cm.Data)

	pod := ds.Spec.Template.Spec
	assert.Equal(t, ds.Spec.Selector.MatchLabels, svc.Spec.Selector)
	for k, v := range ds.Spec.Selector.MatchLabels {
		assert.Equal(t, v, ds.Spec.Template.Labels[k])
	}
	assert.Len(t, ds.Spec.Template.Annotations[ingress.WorkloadConfigHashAnnotation], 64)
	assert.Equal(t, "traefik", pod.ServiceAccountName)
	assert.Equal(t, map[string]string{"webinfra.io/role": "worker"}, pod.NodeSelector)
	assert.Equal(t, []corev1.Sysctl{{Name: "net.ipv4.ip_unprivileged_port_start", Value: "80"}}, pod.SecurityContext.Sysctls)
	c := pod.Containers[0]
	assert.Equal(t, "traefik:v3.6.12", c.Image)
	assert.Equal(t, []string{"--configfile=/etc/traefik/traefik.yml"}, c.Args)
	assert.Equal(t, "/ping", c.LivenessProbe.HTTPGet.Path)
	assert.Equal(t, "traefik", c.ReadinessProbe.HTTPGet.Port.String())
	assert.Equal(t, []corev1.ContainerPort{
		{Name: "web", ContainerPort: 80, Protocol: "TCP"}, {Name: "websecure", ContainerPort: 443, Protocol: "TCP"}, {Name: "traefik", ContainerPort: 8080, Protocol: "TCP"},
	}, c.Ports)
	sc := c.SecurityContext
	assert.True(t, *sc.RunAsNonRoot)
	assert.True(t, *sc.ReadOnlyRootFilesystem)
	assert.False(t, *sc.AllowPrivilegeEscalation)
	assert.Equal(t, []corev1.Capability{"ALL"}, sc.Capabilities.Drop)
	assert.Equal(t, []corev1.Capability{"NET_BIND_SERVICE"}, sc.Capabilities.Add)

	assert.Equal(t, corev1.ServiceTypeLoadBalancer, svc.Spec.Type)
	assert.Equal(t, corev1.ServiceExternalTrafficPolicyLocal, svc.Spec.ExternalTrafficPolicy)
	assert.Equal(t, map[string]string{"metallb.io/loadBalancerIPs": "10.250.0.10", "metallb.io/address-pool": "traefik"}, svc.Annotations)
	var ports []int32
	for _, p := range svc.Spec.Ports {
		ports = append(ports, p.Port)
	}
	assert.Equal(t, []int32{80, 443}, ports, "internal port not exposed")

	t.Run("unprivileged ports need no sysctl", func(t *testing.T) {
		s := workloadSpec()
		s.WebPort, s.WebSecurePort = 8000, 8443
		s.StaticConfig = []byte("entryPoints:\n  web:\n    address: \":8000\"\n  websecure:\n    address: \":8443\"\nping: {}\n")
		objs, err := ingress.WorkloadObjects(s)
		require.NoError(t, err)
		assert.Empty(t, objs[4].(*appsv1.DaemonSet).Spec.Template.Spec.SecurityContext.Sysctls)
	})
}

func TestWorkloadUnstructured(t *testing.T) {
	objs, err := ingress.WorkloadObjects(workloadSpec())
	require.NoError(t, err)
	us, err := ingress.WorkloadUnstructured(objs)
	require.NoError(t, err)
	var kinds []string
	for _, u := range us {
		kinds = append(kinds, u.GetAPIVersion()+" "+u.GetKind())
		_, hasStatus := u.Object["status"]
		assert.False(t, hasStatus)
		_, hasTS := u.Object["metadata"].(map[string]any)["creationTimestamp"]
		assert.False(t, hasTS)
	}
	assert.Equal(t, []string{"v1 ServiceAccount", "rbac.authorization.k8s.io/v1 ClusterRole", "rbac.authorization.k8s.io/v1 ClusterRoleBinding",
		"v1 ConfigMap", "apps/v1 DaemonSet", "v1 Service"}, kinds)
	_, err = ingress.WorkloadUnstructured([]runtime.Object{&runtime.Unknown{}})
	assert.Error(t, err)
}
