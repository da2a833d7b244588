package main

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/examples/deploy/stack"
	"github.com/webinfra/webinfra/mesh"
	"github.com/webinfra/webinfra/replication"
	"github.com/webinfra/webinfra/replication/replicationtest"
)

// syncthingPort is where Syncthing listens on every worker, on its mesh address.
const syncthingPort = 22000

// placeData places every site's data folders on the workers: each on as many workers as the
// site asks for, spread across regions, weighted by capacity.
func placeData(st *stack.Stack) (replication.Placement, error) {
	var nodes []replication.Candidate
	for _, n := range st.Nodes {
		var roles []string
		for _, r := range n.Roles {
			roles = append(roles, string(r))
		}
		nodes = append(nodes, replication.Candidate{Name: n.Name, Region: n.Region, Roles: roles, Capacity: float64(n.Capacity)})
	}
	var folders []replication.FolderSpec
	for _, site := range st.Sites {
		for _, d := range site.Data {
			folders = append(folders, replication.FolderSpec{
				ID: d.Name, Replicas: d.Replicas,
				Eligible: replication.Selector{Roles: []string{string(stack.RoleWorker)}},
			})
		}
	}
	return replication.Place(folders, nodes)
}

// syncthingIdentities loads each worker's Syncthing identity (certificate and key, hence its
// device ID) from STATE/syncthing/NODE, completes a half-written one, or makes one where there
// is none yet (see [keptIdentity]), so the device IDs are known before any Syncthing starts and
// stay the same across runs. It writes nothing: what is missing is written when the first
// worker's step applies, for every worker at once, before any Syncthing is configured with a
// peer's device ID.
func syncthingIdentities(st *stack.Stack, state string) (map[string]*keptIdentity, error) {
	out := map[string]*keptIdentity{}
	for _, n := range st.Nodes {
		if !n.Has(stack.RoleWorker) {
			continue
		}
		k, err := loadIdentity(n.Name, syncthingHome(state, n.Name))
		if err != nil {
			return nil, err
		}
		out[n.Name] = k
	}
	return out, nil
}

func syncthingHome(state, node string) string { return filepath.Join(state, "syncthing", node) }

// syncthingPlan is a worker's Syncthing plan, and the change of its identity when it is not
// kept whole yet.
type syncthingPlan struct {
	*replication.NodePlan
	identity *webinfra.Change
}

// Plan shows an identity to keep as a syncthing_identity change before the configuration's.
func (p *syncthingPlan) Plan() webinfra.Plan {
	var out webinfra.Plan
	if p.identity != nil {
		out.Add(*p.identity)
	}
	out.Append(p.NodePlan.Plan())
	return out
}

// syncthingStates is each worker's desired Syncthing configuration: the folders placed on it,
// shared with the folder's other holders at their mesh addresses; the primary of each folder
// is its single writer, the other holders are receive-only.
func syncthingStates(st *stack.Stack, network *mesh.Network, ids map[string]*keptIdentity, placement replication.Placement) (map[string]replication.NodeState, error) {
	paths := map[string]string{}
	for _, site := range st.Sites {
		for _, d := range site.Data {
			paths[d.Name] = d.Path
		}
	}
	states := map[string]replication.NodeState{}
	for node, id := range ids {
		s := replication.NodeState{DeviceID: id.id.DeviceID()}
		peers := map[string]bool{}
		for _, folder := range slices.Sorted(maps.Keys(placement)) {
			holders := placement[folder]
			if !slices.Contains(holders, node) {
				continue
			}
			// The demo's active host is the folder's primary; a running cloud asks a
			// replication.ActiveHost (a cluster Lease, or where the service's pod runs).
			types, err := replication.FolderTypes(placement, folder, placement.Primary(folder))
			if err != nil {
				return nil, err
			}
			f := replication.FolderState{ID: folder, Path: paths[folder], Type: types[node]}
			for _, h := range holders {
				if h != node {
					f.Devices = append(f.Devices, ids[h].id.DeviceID())
					peers[h] = true
				}
			}
			s.Folders = append(s.Folders, f)
		}
		for _, peer := range slices.Sorted(maps.Keys(peers)) {
			addr := netip.AddrPortFrom(network.Node(peer).Address, syncthingPort)
			s.Devices = append(s.Devices, replication.DeviceState{ID: ids[peer].id.DeviceID(), Name: peer, Addresses: []string{"tcp://" + addr.String()}})
		}
		states[node] = s
	}
	return states, nil
}

// syncthingSteps returns one step per worker, planning and applying its Syncthing
// configuration against a simulated instance with the worker's own device ID.
func syncthingSteps(st *stack.Stack, sd *stateDir, meshStep *planner[*mesh.Rollout]) ([]step, func(), error) {
	state := sd.root
	placed, err := placeData(st)
	if err != nil {
		return nil, nil, fmt.Errorf("placement: %w", err)
	}
	ids, err := syncthingIdentities(st, state)
	if err != nil {
		return nil, nil, err
	}
	nodes := slices.Sorted(maps.Keys(ids))
	// keepAll writes every identity not kept whole yet, in node order.
	keepAll := func() error {
		for _, n := range nodes {
			if k := ids[n]; k.keep != nil {
				if err := k.keep(sd); err != nil {
					return err
				}
				k.keep, k.change = nil, nil
			}
		}
		return nil
	}
	var steps []step
	var servers []*replicationtest.Server
	closeAll := func() {
		for _, s := range servers {
			s.Close()
		}
	}
	svc := syncthingService(nodes)
	for _, node := range nodes {
		cfg, real := syncthingEnv(node)
		if !real {
			srv := replicationtest.NewServerWithID(ids[node].id.DeviceID())
			servers = append(servers, srv)
			cfg = replication.Config{BaseURL: srv.URL(), APIKey: srv.APIKey()}
		}
		c, err := replication.New(cfg)
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("syncthing %s: %w", node, err)
		}
		steps = append(steps, &planner[*syncthingPlan]{
			name: "syncthing " + node,
			where: placement{
				concern: "replication",
				service: svc,
				node:    func(webinfra.Change) string { return node },
			},
			// Runs after the mesh step's plan, whose network has every node's address.
			plan: func(ctx context.Context) (*syncthingPlan, error) {
				states, err := syncthingStates(st, meshStep.last.Network, ids, placed)
				if err != nil {
					return nil, err
				}
				np, err := replication.PlanNode(ctx, c, states[node])
				if err != nil {
					return nil, err
				}
				return &syncthingPlan{NodePlan: np, identity: ids[node].change}, nil
			},
			apply: func(ctx context.Context, p *syncthingPlan) error {
				// Every worker's identity before this worker's Syncthing learns its peers'
				// device IDs: a device ID given out is always one that is kept.
				if err := keepAll(); err != nil {
					return err
				}
				return replication.ApplyNode(ctx, c, p.NodePlan)
			},
		})
	}
	return steps, closeAll, nil
}

// syncthingEnv returns the REST API of NODE's real Syncthing when SYNCTHING_URL_NODE and
// SYNCTHING_API_KEY_NODE are set (NODE in upper case, '-' and '.' as '_': node-ams-1 is
// SYNCTHING_URL_NODE_AMS_1). Its device ID must be the one kept under --state/syncthing/NODE.
func syncthingEnv(node string) (replication.Config, bool) {
	suffix := strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(node))
	u, key := os.Getenv("SYNCTHING_URL_"+suffix), os.Getenv("SYNCTHING_API_KEY_"+suffix)
	if u == "" || key == "" {
		return replication.Config{}, false
	}
	return replication.Config{BaseURL: u, APIKey: webinfra.NewSecret(key)}, true
}

// syncthingService says which workers' Syncthing instances are real.
func syncthingService(nodes []string) service {
	var real []string
	for _, n := range nodes {
		if _, ok := syncthingEnv(n); ok {
			real = append(real, n)
		}
	}
	switch len(real) {
	case len(nodes):
		return service{name: "Syncthing REST API", detail: "SYNCTHING_URL_NODE and SYNCTHING_API_KEY_NODE of every worker"}
	case 0:
		return service{name: "Syncthing REST API", simulated: true, detail: "one simulated instance per worker, with its device ID; set SYNCTHING_URL_NODE and SYNCTHING_API_KEY_NODE for the real ones"}
	}
	return service{name: "Syncthing REST API", simulated: true, detail: fmt.Sprintf("real on %s (SYNCTHING_URL_NODE, SYNCTHING_API_KEY_NODE), simulated on the other %d workers", strings.Join(real, ", "), len(nodes)-len(real))}
}
