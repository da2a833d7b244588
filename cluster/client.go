package cluster

import (
	"fmt"
	"log/slog"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/webinfra/webinfra"
)

// DefaultFieldManager is the server-side apply field manager of this SDK.
const DefaultFieldManager = "webinfra"

// Config says how to reach the cluster. Exactly one source is used, in this order: REST, then
// Kubeconfig, then the usual kubeconfig loading rules (KUBECONFIG, ~/.kube/config), then the
// in-cluster service account.
type Config struct {
	// REST, if set, is used as is.
	REST *rest.Config
	// Kubeconfig is a kubeconfig file's path; "" follows KUBECONFIG and ~/.kube/config.
	Kubeconfig string
	// Context selects a kubeconfig context; "" means the current one.
	Context string
	// FieldManager names this client in managedFields; "" means [DefaultFieldManager].
	FieldManager string
	// Logger receives info lines per applied or pruned object; nil discards.
	Logger *slog.Logger
}

// Client holds typed, dynamic and discovery-backed clients of one cluster. It is safe for
// concurrent use.
type Client struct {
	rest    *rest.Config
	typed   kubernetes.Interface
	dynamic dynamic.Interface
	mapper  meta.ResettableRESTMapper
	manager string
	log     *slog.Logger
}

// New builds the clients. It reads the kubeconfig but makes no request: discovery runs on first
// use.
func New(cfg Config) (*Client, error) {
	rc := cfg.REST
	if rc == nil {
		var err error
		rc, err = loadREST(cfg)
		if err != nil {
			return nil, err
		}
	}
	rc = rest.CopyConfig(rc)
	if rc.QPS == 0 {
		rc.QPS, rc.Burst = 50, 100 // client-go's 5/10 would make applying hundreds of objects crawl
	}
	typed, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("cluster: typed client: %w", err)
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("cluster: dynamic client: %w", err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("cluster: discovery client: %w", err)
	}
	cached := memory.NewMemCacheClient(dc)
	if cfg.FieldManager == "" {
		cfg.FieldManager = DefaultFieldManager
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Client{
		rest: rc, typed: typed, dynamic: dyn,
		mapper:  restmapper.NewDeferredDiscoveryRESTMapper(cached),
		manager: cfg.FieldManager, log: cfg.Logger.With("pkg", "cluster"),
	}, nil
}

func loadREST(cfg Config) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if cfg.Kubeconfig != "" {
		rules.ExplicitPath = cfg.Kubeconfig
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: cfg.Context})
	rc, err := cc.ClientConfig()
	if err == nil {
		return rc, nil
	}
	if cfg.Kubeconfig == "" && clientcmd.IsEmptyConfig(err) {
		if in, inErr := rest.InClusterConfig(); inErr == nil {
			return in, nil
		}
	}
	return nil, fmt.Errorf("cluster: no usable kubeconfig (%v) and not running in a cluster: %w", err, webinfra.ErrInvalidArgument)
}

// NewWithClients builds a Client over existing clients, such as client-go's fake clientset in
// tests. dyn and mapper may be nil when only node, drain and lease calls are used; apply calls
// then fail.
func NewWithClients(typed kubernetes.Interface, dyn dynamic.Interface, mapper meta.ResettableRESTMapper, cfg Config) *Client {
	if cfg.FieldManager == "" {
		cfg.FieldManager = DefaultFieldManager
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Client{rest: &rest.Config{}, typed: typed, dynamic: dyn, mapper: mapper, manager: cfg.FieldManager, log: cfg.Logger.With("pkg", "cluster")}
}

// Typed returns the typed clientset.
func (c *Client) Typed() kubernetes.Interface { return c.typed }

// Dynamic returns the dynamic client.
func (c *Client) Dynamic() dynamic.Interface { return c.dynamic }

// Mapper returns the discovery-backed REST mapper; [Client.ResetMapper] forgets what it learnt.
func (c *Client) Mapper() meta.RESTMapper { return c.mapper }

// ResetMapper drops cached discovery, so newly established CRDs become mappable.
func (c *Client) ResetMapper() {
	if c.mapper != nil {
		c.mapper.Reset()
	}
}

// RESTConfig returns a copy of the REST configuration.
func (c *Client) RESTConfig() *rest.Config { return rest.CopyConfig(c.rest) }
