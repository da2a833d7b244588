package ingress

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	k8svalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"

	"github.com/webinfra/webinfra"
)

// WorkloadImage is the Traefik image used when [WorkloadSpec.Image] is empty.
const WorkloadImage = "traefik:v3.6.12"

// Defaults of [WorkloadSpec].
const (
	// WorkloadName names the objects when [WorkloadSpec.Name] is empty.
	WorkloadName = "traefik"
	// WorkloadConfigKey is the ConfigMap key, and file name under /etc/traefik, of the static
	// configuration.
	WorkloadConfigKey = "traefik.yml"
	// WorkloadConfigHashAnnotation on the DaemonSet's pod template holds the SHA-256 of the static
	// configuration, so that a changed configuration rolls the pods.
	WorkloadConfigHashAnnotation = "webinfra.io/traefik-config-sha256"
	// WorkloadUID is the user and group id Traefik runs as (not root).
	WorkloadUID = 65532
)

// WorkloadSpec describes Traefik running as a DaemonSet with a MetalLB LoadBalancer Service in
// front of it. [WorkloadObjects] turns it into Kubernetes objects.
//
// The Service uses externalTrafficPolicy Local, so that Traefik sees the firewall's mesh address
// as the peer (and can trust X-Forwarded-For from it) instead of a node address. With Local,
// kube-proxy drops service traffic arriving at a node without a ready Traefik pod: NodeSelector
// must therefore select exactly the workers that announce the MetalLB pool as a tinc Subnet
// (see [Pools]).
//
// WorkloadSpec is a plain value, safe for concurrent reads.
type WorkloadSpec struct {
	// Namespace holds the namespaced objects; required, a DNS-1123 label.
	Namespace string `json:"namespace"`
	// Name names the objects ("" means [WorkloadName]); a DNS-1035 label. The cluster-scoped
	// ClusterRole and ClusterRoleBinding are named "<namespace>-<name>".
	Name string `json:"name,omitempty"`
	// Image is the container image; "" means [WorkloadImage].
	Image string `json:"image,omitempty"`
	// StaticConfig is Traefik's static configuration (traefik.yml), stored verbatim in the
	// ConfigMap; required. Its entry points web and websecure must listen on WebPort and
	// WebSecurePort, its entry point traefik (Traefik's default :8080 when not declared) on
	// InternalPort, and ping must be enabled there: the probes use it.
	StaticConfig []byte `json:"staticConfig"`
	// WebPort is the HTTP port of the container and of the Service; 0 means 80.
	WebPort int32 `json:"webPort,omitempty"`
	// WebSecurePort is the HTTPS port of the container and of the Service; 0 means 443.
	WebSecurePort int32 `json:"webSecurePort,omitempty"`
	// InternalPort is the port of Traefik's own entry point "traefik" (ping, API, metrics); it
	// is a container port only, never exposed by the Service. 0 means 8080, Traefik's default.
	InternalPort int32 `json:"internalPort,omitempty"`
	// Address is the fixed MetalLB address of the Service (see [PoolSpec.Allocate]); required.
	Address netip.Addr `json:"address"`
	// Pool is the name of the MetalLB IPAddressPool holding Address; required.
	Pool string `json:"pool"`
	// NodeSelector limits the DaemonSet to nodes with these labels; empty means every node.
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
}

// withDefaults returns s with the zero fields given their documented defaults.
func (s WorkloadSpec) withDefaults() WorkloadSpec {
	s.Name = firewallOr(s.Name, WorkloadName)
	s.Image = firewallOr(s.Image, WorkloadImage)
	if s.WebPort == 0 {
		s.WebPort = 80
	}
	if s.WebSecurePort == 0 {
		s.WebSecurePort = 443
	}
	if s.InternalPort == 0 {
		s.InternalPort = 8080
	}
	return s
}

// Validate checks the spec, defaults applied, and reports every problem in one
// *webinfra.ValidationError (which matches webinfra.ErrInvalidArgument), each at its field
// path, for example `staticConfig.entryPoints.web.address: invalid value ":8000": listens on
// port 8000, but webPort is 80`. It is pure and does no I/O.
func (s WorkloadSpec) Validate() error {
	s = s.withDefaults()
	var errs webinfra.ValidationError
	if s.Namespace == "" {
		errs.Required(webinfra.NewPath("namespace"))
	}
	for _, msg := range k8svalidation.IsDNS1123Label(s.Namespace) {
		if s.Namespace != "" {
			errs.Invalid(webinfra.NewPath("namespace"), s.Namespace, msg)
		}
	}
	for _, msg := range k8svalidation.IsDNS1035Label(s.Name) {
		errs.Invalid(webinfra.NewPath("name"), s.Name, msg)
	}
	if strings.ContainsAny(s.Image, " \t\n") || hasControl(s.Image) {
		errs.Invalid(webinfra.NewPath("image"), s.Image, "not an image reference")
	}
	ports := map[int32]webinfra.Path{}
	for _, f := range []struct {
		name string
		v    int32
	}{{"webPort", s.WebPort}, {"webSecurePort", s.WebSecurePort}, {"internalPort", s.InternalPort}} {
		p := webinfra.NewPath(f.name)
		if f.v < 1 || f.v > 65535 {
			errs.Invalid(p, f.v, "want 1 to 65535")
			continue
		}
		if first, dup := ports[f.v]; dup {
			errs.Duplicate(p, f.v, first)
		}
		ports[f.v] = p
	}
	switch {
	case !s.Address.IsValid():
		errs.Required(webinfra.NewPath("address"))
	case s.Address.Zone() != "" || s.Address.Is4In6() || s.Address.IsUnspecified():
		errs.Invalid(webinfra.NewPath("address"), s.Address, "want a plain unicast IPv4 or IPv6 address")
	}
	if s.Pool == "" {
		errs.Required(webinfra.NewPath("pool"))
	}
	for _, msg := range k8svalidation.IsDNS1123Subdomain(s.Pool) {
		if s.Pool != "" {
			errs.Invalid(webinfra.NewPath("pool"), s.Pool, msg)
		}
	}
	poolValidateSelector(&errs, webinfra.NewPath("nodeSelector"), s.NodeSelector)
	s.validateStatic(&errs)
	return errs.Err()
}

// validateStatic cross-checks the parts of the static configuration the objects depend on.
// The configuration as a whole is Traefik's (and the static-configuration types') business.
func (s WorkloadSpec) validateStatic(errs *webinfra.ValidationError) {
	p := webinfra.NewPath("staticConfig")
	if len(s.StaticConfig) == 0 {
		errs.Required(p)
		return
	}
	var cfg struct {
		EntryPoints map[string]struct {
			Address string `json:"address"`
		} `json:"entryPoints"`
		Ping *struct {
			EntryPoint string `json:"entryPoint"`
		} `json:"ping"`
	}
	if err := yaml.Unmarshal(s.StaticConfig, &cfg); err != nil {
		errs.Add(p, nil, "not YAML: "+err.Error())
		return
	}
	eps := p.Child("entryPoints")
	for _, ep := range []struct {
		name  string
		field string
		want  int32
		def   string
	}{{"web", "webPort", s.WebPort, ""}, {"websecure", "webSecurePort", s.WebSecurePort, ""}, {"traefik", "internalPort", s.InternalPort, ":8080"}} {
		addr, note := ep.def, " (Traefik's default: the entry point is not declared)"
		if e, ok := cfg.EntryPoints[ep.name]; ok {
			addr, note = e.Address, ""
		}
		ap := eps.Child(ep.name).Child("address")
		if addr == "" {
			errs.Add(eps.Child(ep.name), nil, "entry point required: the workload exposes it")
			continue
		}
		port, ok := workloadEntryPointPort(addr)
		switch {
		case !ok:
			errs.Invalid(ap, addr, "not a TCP listen address such as :80")
		case port != ep.want:
			errs.Invalid(ap, addr, fmt.Sprintf("listens on port %d%s, but %s is %d", port, note, ep.field, ep.want))
		}
	}
	switch {
	case cfg.Ping == nil:
		errs.Add(p.Child("ping"), nil, "required: the liveness and readiness probes use /ping")
	case cfg.Ping.EntryPoint != "" && cfg.Ping.EntryPoint != "traefik":
		errs.Invalid(p.Child("ping").Child("entryPoint"), cfg.Ping.EntryPoint, `want "traefik" (or unset): the probes use internalPort`)
	}
}

// workloadEntryPointPort reads the port of a Traefik entry point address (":80", "[::]:443/tcp").
func workloadEntryPointPort(addr string) (int32, bool) {
	addr, proto, hasProto := strings.Cut(addr, "/")
	if hasProto && proto != "tcp" {
		return 0, false
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || n == 0 {
		return 0, false
	}
	return int32(n), true
}

// WorkloadObjects validates the spec and returns Traefik's objects, typed and with apiVersion
// and kind set, in apply order:
//
//  1. a ServiceAccount;
//  2. a ClusterRole with what Traefik's kubernetesCRD provider reads (traefik.io resources;
//     services, endpointslices, secrets, configmaps and nodes; as Traefik's own
//     kubernetes-crd-rbac.yml, without the Ingress and OpenTelemetry rules that provider does
//     not use) and a ClusterRoleBinding to the ServiceAccount;
//  3. a ConfigMap holding the static configuration as [WorkloadConfigKey];
//  4. a DaemonSet: probes on /ping at the internal port, running as [WorkloadUID] with
//     runAsNonRoot, a read-only root file system, no privilege escalation, and all
//     capabilities dropped except NET_BIND_SERVICE; since Kubernetes gives a non-root process
//     no ambient capabilities, the pod also lowers net.ipv4.ip_unprivileged_port_start (a
//     namespaced, "safe" sysctl) to its lowest port when that is below 1024;
//  5. a Service of type LoadBalancer with the fixed address ([MetalLBAnnotationIPs]) from the
//     pool ([MetalLBAnnotationPool]), externalTrafficPolicy Local, ports web and websecure
//     only, and no node ports.
//
// An invalid spec gives the *webinfra.ValidationError of [WorkloadSpec.Validate] and no
// objects. The objects are fresh on every call.
func WorkloadObjects(spec WorkloadSpec) ([]runtime.Object, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	s := spec.withDefaults()
	labels := map[string]string{
		"app.kubernetes.io/name":       "traefik",
		"app.kubernetes.io/instance":   s.Name,
		"app.kubernetes.io/managed-by": PoolManagedBy,
	}
	selector := map[string]string{
		"app.kubernetes.io/name":     "traefik",
		"app.kubernetes.io/instance": s.Name,
	}
	meta := func(name, ns string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: ns, Labels: maps.Clone(labels)}
	}
	clusterName := s.Namespace + "-" + s.Name
	read := []string{"get", "list", "watch"}

	sa := &corev1.ServiceAccount{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta: meta(s.Name, s.Namespace),
	}
	role := &rbacv1.ClusterRole{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
		ObjectMeta: meta(clusterName, ""),
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"services", "secrets", "nodes", "configmaps"}, Verbs: read},
			{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: []string{"list", "watch"}},
			{APIGroups: []string{"traefik.io"}, Resources: []string{
				"middlewares", "middlewaretcps", "ingressroutes", "traefikservices", "ingressroutetcps",
				"ingressrouteudps", "tlsoptions", "tlsstores", "serverstransports", "serverstransporttcps",
			}, Verbs: read},
		},
	}
	binding := &rbacv1.ClusterRoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
		ObjectMeta: meta(clusterName, ""),
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: clusterName},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: s.Name, Namespace: s.Namespace}},
	}
	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: meta(s.Name, s.Namespace),
		Data:       map[string]string{WorkloadConfigKey: string(s.StaticConfig)},
	}
	sum := sha256.Sum256(s.StaticConfig)
	probe := func(period, failures int32) *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler:     corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/ping", Port: intstr.FromString("traefik")}},
			PeriodSeconds:    period,
			TimeoutSeconds:   2,
			FailureThreshold: failures,
		}
	}
	podSec := &corev1.PodSecurityContext{
		RunAsNonRoot:   workloadPtr(true),
		RunAsUser:      workloadPtr(int64(WorkloadUID)),
		RunAsGroup:     workloadPtr(int64(WorkloadUID)),
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	if low := min(s.WebPort, s.WebSecurePort, s.InternalPort); low < 1024 {
		podSec.Sysctls = []corev1.Sysctl{{Name: "net.ipv4.ip_unprivileged_port_start", Value: strconv.Itoa(int(low))}}
	}
	ds := &appsv1.DaemonSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"},
		ObjectMeta: meta(s.Name, s.Namespace),
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: selector},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{
					Labels:      maps.Clone(labels),
					Annotations: map[string]string{WorkloadConfigHashAnnotation: hex.EncodeToString(sum[:])},
				},
				Spec: corev1.PodSpec{
					ServiceAccountName: s.Name,
					NodeSelector:       maps.Clone(s.NodeSelector),
					SecurityContext:    podSec,
					Containers: []corev1.Container{{
						Name:  "traefik",
						Image: s.Image,
						Args:  []string{"--configfile=/etc/traefik/" + WorkloadConfigKey},
						Ports: []corev1.ContainerPort{
							{Name: "web", ContainerPort: s.WebPort, Protocol: corev1.ProtocolTCP},
							{Name: "websecure", ContainerPort: s.WebSecurePort, Protocol: corev1.ProtocolTCP},
							{Name: "traefik", ContainerPort: s.InternalPort, Protocol: corev1.ProtocolTCP},
						},
						LivenessProbe:  probe(10, 3),
						ReadinessProbe: probe(5, 1),
						SecurityContext: &corev1.SecurityContext{
							RunAsNonRoot:             workloadPtr(true),
							ReadOnlyRootFilesystem:   workloadPtr(true),
							AllowPrivilegeEscalation: workloadPtr(false),
							Capabilities: &corev1.Capabilities{
								Drop: []corev1.Capability{"ALL"},
								Add:  []corev1.Capability{"NET_BIND_SERVICE"},
							},
						},
						VolumeMounts: []corev1.VolumeMount{
							{Name: "config", MountPath: "/etc/traefik", ReadOnly: true},
							{Name: "tmp", MountPath: "/tmp"},
						},
					}},
					Volumes: []corev1.Volume{
						{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
							LocalObjectReference: corev1.LocalObjectReference{Name: s.Name},
						}}},
						{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
					},
				},
			},
		},
	}
	svcMeta := meta(s.Name, s.Namespace)
	svcMeta.Annotations = map[string]string{
		MetalLBAnnotationIPs:  s.Address.String(),
		MetalLBAnnotationPool: s.Pool,
	}
	svc := &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: svcMeta,
		Spec: corev1.ServiceSpec{
			Type:                          corev1.ServiceTypeLoadBalancer,
			Selector:                      selector,
			ExternalTrafficPolicy:         corev1.ServiceExternalTrafficPolicyLocal,
			AllocateLoadBalancerNodePorts: workloadPtr(false),
			Ports: []corev1.ServicePort{
				{Name: "web", Port: s.WebPort, TargetPort: intstr.FromString("web"), Protocol: corev1.ProtocolTCP},
				{Name: "websecure", Port: s.WebSecurePort, TargetPort: intstr.FromString("websecure"), Protocol: corev1.ProtocolTCP},
			},
		},
	}
	return []runtime.Object{sa, role, binding, cm, ds, svc}, nil
}

// WorkloadUnstructured converts typed objects of client-go's scheme (such as those of
// [WorkloadObjects]) to unstructured ones with apiVersion and kind set, without status or a
// null creationTimestamp, ready for server-side apply. An object outside the scheme gives an
// error matching webinfra.ErrInvalidArgument. The input objects are not modified.
func WorkloadUnstructured(objs []runtime.Object) ([]*unstructured.Unstructured, error) {
	out := make([]*unstructured.Unstructured, 0, len(objs))
	for _, o := range objs {
		gvks, _, err := scheme.Scheme.ObjectKinds(o)
		if err != nil || len(gvks) == 0 {
			return nil, fmt.Errorf("ingress: %T is not in client-go's scheme: %w", o, webinfra.ErrInvalidArgument)
		}
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
		if err != nil {
			return nil, fmt.Errorf("ingress: convert %T: %w", o, err)
		}
		u := &unstructured.Unstructured{Object: m}
		u.SetGroupVersionKind(gvks[0])
		unstructured.RemoveNestedField(u.Object, "status")
		unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
		unstructured.RemoveNestedField(u.Object, "spec", "template", "metadata", "creationTimestamp")
		out = append(out, u)
	}
	return out, nil
}

// ptr is the address of a copy of v.
func workloadPtr[T any](v T) *T { return &v }
