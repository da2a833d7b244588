package replication

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/webinfra/webinfra"
)

// Candidate is a node that may hold replicas of data folders, as [Place] sees it. Candidates are
// plain values; Place never modifies them.
type Candidate struct {
	// Name identifies the node; required and unique among the candidates. It is also the input
	// of the placement hash, so renaming a node moves its replicas as a leave plus a join would.
	Name string `json:"name"`
	// Region groups nodes that fail together (a site or a provider's region). Replicas of a
	// folder go to as many distinct regions as possible. Nodes with an empty Region form one
	// region of their own.
	Region string `json:"region,omitempty"`
	// Roles are matched by [Selector.Roles]; order and duplicates do not matter.
	Roles []string `json:"roles,omitempty"`
	// Labels are matched by [Selector.Labels].
	Labels map[string]string `json:"labels,omitempty"`
	// Capacity is the node's relative storage weight: a node of capacity 2 is meant to hold
	// about twice the replicas of a node of capacity 1. It has no unit; only ratios matter.
	// 0 means 1; negative, NaN and infinite values are invalid.
	Capacity float64 `json:"capacity,omitempty"`
}

// Selector picks the candidates eligible to hold a folder. A candidate matches when it matches
// every non-empty criterion; the zero Selector matches every candidate.
type Selector struct {
	// Roles, when not empty, requires the candidate to have every one of these roles.
	Roles []string `json:"roles,omitempty"`
	// Regions, when not empty, requires the candidate's region to be one of these.
	Regions []string `json:"regions,omitempty"`
	// Labels, when not empty, requires the candidate to carry every one of these labels with
	// exactly this value.
	Labels map[string]string `json:"labels,omitempty"`
}

// Matches reports whether c satisfies every criterion of s.
func (s Selector) Matches(c Candidate) bool {
	for _, role := range s.Roles {
		if !slices.Contains(c.Roles, role) {
			return false
		}
	}
	if len(s.Regions) > 0 && !slices.Contains(s.Regions, c.Region) {
		return false
	}
	for k, v := range s.Labels {
		if got, ok := c.Labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// String renders the criteria for error messages, in a stable order: `roles [a b], regions
// [eu], labels {disk=ssd}`, or `any node` for the zero Selector.
func (s Selector) String() string {
	var parts []string
	if len(s.Roles) > 0 {
		parts = append(parts, fmt.Sprintf("roles %v", s.Roles))
	}
	if len(s.Regions) > 0 {
		parts = append(parts, fmt.Sprintf("regions %v", s.Regions))
	}
	if len(s.Labels) > 0 {
		var kv []string
		for _, k := range slices.Sorted(maps.Keys(s.Labels)) {
			kv = append(kv, k+"="+s.Labels[k])
		}
		parts = append(parts, "labels {"+strings.Join(kv, " ")+"}")
	}
	if len(parts) == 0 {
		return "any node"
	}
	return strings.Join(parts, ", ")
}

// FolderSpec is a data folder to place: its ID, how many replicas it needs and which nodes may
// hold them.
type FolderSpec struct {
	// ID identifies the folder; required and unique among the folders. It is the input of the
	// placement hash, so the same ID always lands on the same nodes for the same candidates.
	ID string `json:"id"`
	// Replicas is R, the number of nodes holding a copy; at least 1 and at most the number of
	// eligible candidates.
	Replicas int `json:"replicas"`
	// Eligible selects the candidates that may hold the folder; the zero value allows all.
	Eligible Selector `json:"eligible,omitzero"`
}

// Placement maps each folder ID to the names of the nodes holding its replicas, in preference
// order: the first node is the preferred writer (the primary), the next ones are ordered by the
// same rendezvous score, so they are the successors if nodes before them leave.
//
// A Placement returned by [Place] is not shared with anything else; callers may modify it. It
// is not safe for concurrent modification.
type Placement map[string][]string

// Primary returns the preferred writer of folder, or "" when p does not place it.
func (p Placement) Primary(folder string) string {
	if nodes := p[folder]; len(nodes) > 0 {
		return nodes[0]
	}
	return ""
}

// Load returns the number of replicas each node holds. Nodes holding none are absent.
func (p Placement) Load() map[string]int {
	load := map[string]int{}
	for _, nodes := range p {
		for _, n := range nodes {
			load[n]++
		}
	}
	return load
}

// Moves counts the replica placements of next that p lacks: for every folder of next, the nodes
// that hold it in next but not in p. It is the number of folder copies a change from p to next
// must transfer. Replicas dropped without replacement are not counted; a folder only next
// places counts all its replicas. The order of the nodes does not matter.
func (p Placement) Moves(next Placement) int {
	moved := 0
	for folder, nodes := range next {
		before := p[folder]
		for _, n := range nodes {
			if !slices.Contains(before, n) {
				moved++
			}
		}
	}
	return moved
}

// Place places every folder on Replicas of its eligible candidates by weighted rendezvous
// (highest-random-weight) hashing, with the logarithmic method of Schindelhauer and Schomaker:
// each eligible node scores -Capacity/ln(u) for the folder, with u = hash(folder ID, node name)
// mapped into (0, 1). Capacity enters only as a weight: for one replica, a node is picked with
// probability proportional to its capacity.
//
// Regions are spread: walking the eligible nodes by descending score, Place first takes the best
// node of each region not yet covered, until Replicas regions are covered or no uncovered region
// is left, then fills the remaining replicas with the best remaining nodes. The chosen nodes
// are listed by descending score (ties, which need a 64-bit hash collision, go to the smaller
// name), so the first is the primary.
//
// Guarantees, since a node's score for a folder depends only on the folder ID, the node's name
// and its capacity:
//   - Determinism: the result depends only on the set of folders and the set of candidates,
//     not on their order in the slices.
//   - Leave: removing a candidate changes only the folders it held, each by exactly one replica
//     (the leaving node's, replaced by one other node); the other folders keep the same list.
//   - Join: adding a candidate changes only the folders it takes, each by exactly one replica
//     (one node replaced by the newcomer); the other folders keep the same list.
//   - In both cases the nodes that keep a replica keep their relative order, so the primary
//     changes only where the leaving node was primary or the joining node becomes it.
//   - Changing one node's capacity, roles or labels changes, per folder, at most that node's
//     replica: it is dropped for one other node, or gained in place of one, or kept.
//
// Region spreading does not weaken these per-folder guarantees, but it changes how many folders
// a join takes: a node that covers a region the folder lacked takes a replica whatever its
// capacity. When the fleet has fewer regions than Replicas, a node joining in a new region
// takes a replica of every folder it is eligible for, instead of the capacity-proportional
// share R·F/(N+1). For the same reason loads follow capacity only within the freedom that
// region spreading leaves. BenchmarkPlacementMoves measures the cost (R = 3, 30 nodes): a join
// in an existing region moves about 1.0 times the minimum, in a new sixth region 1.3 times, in
// a fourth region of a 3-region fleet 1.7 times, in a third region of a 2-region fleet 10.3
// times (every folder); a leave always moves exactly the minimum.
//
// Place checks its input first: every folder and candidate is validated, and every problem is
// reported in one [*webinfra.ValidationError] (which matches [webinfra.ErrInvalidArgument])
// whose paths index the input slices, such as `folders[2].replicas: invalid value "3": folder
// "web" needs 3 replicas but only 2 nodes are eligible (roles [storage])`. On error the
// Placement is nil. Place does no I/O and is safe for concurrent use.
func Place(folders []FolderSpec, nodes []Candidate) (Placement, error) {
	var errs webinfra.ValidationError
	placeValidateNodes(nodes, &errs)
	placeValidateFolders(folders, nodes, &errs)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	p := newPlacer(nodes)
	out := make(Placement, len(folders))
	for _, f := range folders {
		out[f.ID] = p.place(f)
	}
	return out, nil
}

func placeValidateNodes(nodes []Candidate, errs *webinfra.ValidationError) {
	first := map[string]int{}
	for i, n := range nodes {
		p := webinfra.NewPath("nodes").Index(i)
		switch j, dup := first[n.Name]; {
		case n.Name == "":
			errs.Required(p.Child("name"))
		case dup:
			errs.Duplicate(p.Child("name"), n.Name, webinfra.NewPath("nodes").Index(j).Child("name"))
		default:
			first[n.Name] = i
		}
		if n.Capacity < 0 || math.IsNaN(n.Capacity) || math.IsInf(n.Capacity, 0) {
			errs.Invalid(p.Child("capacity"), n.Capacity, "want a finite number >= 0 (0 means 1)")
		}
	}
}

func placeValidateFolders(folders []FolderSpec, nodes []Candidate, errs *webinfra.ValidationError) {
	first := map[string]int{}
	for i, f := range folders {
		p := webinfra.NewPath("folders").Index(i)
		switch j, dup := first[f.ID]; {
		case f.ID == "":
			errs.Required(p.Child("id"))
		case dup:
			errs.Duplicate(p.Child("id"), f.ID, webinfra.NewPath("folders").Index(j).Child("id"))
		default:
			first[f.ID] = i
		}
		if f.Replicas < 1 {
			errs.Addf(p.Child("replicas"), f.Replicas, "folder %q needs at least 1 replica", f.ID)
			continue
		}
		eligible := 0
		for _, n := range nodes {
			if f.Eligible.Matches(n) {
				eligible++
			}
		}
		if f.Replicas > eligible {
			errs.Addf(p.Child("replicas"), f.Replicas, "folder %q needs %d replicas but only %d nodes are eligible (%s)",
				f.ID, f.Replicas, eligible, f.Eligible)
		}
	}
}

// placer holds the candidates in name order with their regions numbered, and the scratch space
// of one placement at a time.
type placer struct {
	nodes    []Candidate
	capacity []float64
	region   []int // index into the distinct regions
	ranked   []placeRank
	covered  []bool // per region, during one folder
	chosen   []int  // ranks chosen, during one folder
}

type placeRank struct {
	node  int
	score float64
}

func newPlacer(nodes []Candidate) *placer {
	sorted := slices.SortedFunc(slices.Values(nodes), func(a, b Candidate) int { return strings.Compare(a.Name, b.Name) })
	p := &placer{nodes: sorted, capacity: make([]float64, len(sorted)), region: make([]int, len(sorted))}
	regions := map[string]int{}
	for i, n := range sorted {
		p.capacity[i] = cmp.Or(n.Capacity, 1)
		r, ok := regions[n.Region]
		if !ok {
			r = len(regions)
			regions[n.Region] = r
		}
		p.region[i] = r
	}
	p.covered = make([]bool, len(regions))
	return p
}

// place returns the nodes of one validated folder.
func (p *placer) place(f FolderSpec) []string {
	prefix := placeHashPrefix(f.ID)
	p.ranked = p.ranked[:0]
	for i, n := range p.nodes {
		if f.Eligible.Matches(n) {
			p.ranked = append(p.ranked, placeRank{node: i, score: placeScore(placeHash(prefix, n.Name), p.capacity[i])})
		}
	}
	// Names are unique and sorted, so sorting by score then index is a total order.
	slices.SortFunc(p.ranked, func(a, b placeRank) int {
		return cmp.Or(cmp.Compare(b.score, a.score), cmp.Compare(a.node, b.node))
	})
	want := min(f.Replicas, len(p.ranked))
	p.chosen = p.chosen[:0]
	for rank, r := range p.ranked {
		if len(p.chosen) == want {
			break
		}
		if !p.covered[p.region[r.node]] {
			p.covered[p.region[r.node]] = true
			p.chosen = append(p.chosen, rank)
		}
	}
	for _, rank := range p.chosen {
		p.covered[p.region[p.ranked[rank].node]] = false
	}
	for rank := 0; len(p.chosen) < want; rank++ {
		if !slices.Contains(p.chosen, rank) {
			p.chosen = append(p.chosen, rank)
		}
	}
	slices.Sort(p.chosen)
	out := make([]string, len(p.chosen))
	for i, rank := range p.chosen {
		out[i] = p.nodes[p.ranked[rank].node].Name
	}
	return out
}

// placeScore is the logarithmic-method weight of a node of the given capacity whose hash for the
// folder is h: the top 53 bits of h become u in (0, 1), never 0 or 1, and the score -capacity/ln(u)
// is positive and grows with u and with capacity.
func placeScore(h uint64, capacity float64) float64 {
	u := (float64(h>>11) + 0.5) / (1 << 53)
	return -capacity / math.Log(u)
}

const (
	placeFNVOffset = 14695981039346656037
	placeFNVPrime  = 1099511628211
)

// placeHashPrefix is the FNV-1a state after the length of the folder ID (8 bytes) and the ID,
// so that the hashes of one folder for many nodes share the work and no (folder, node) pair
// reads the same bytes as another.
func placeHashPrefix(folder string) uint64 {
	h := uint64(placeFNVOffset)
	for n, i := uint64(len(folder)), 0; i < 8; i, n = i+1, n>>8 {
		h ^= n & 0xff
		h *= placeFNVPrime
	}
	for i := 0; i < len(folder); i++ {
		h ^= uint64(folder[i])
		h *= placeFNVPrime
	}
	return h
}

// placeHash is the rendezvous hash of a node for the folder whose prefix state is given:
// FNV-1a over the node name, then SplitMix64's finaliser, because FNV alone leaves similar names
// with similar high bits.
func placeHash(prefix uint64, node string) uint64 {
	h := prefix
	for i := 0; i < len(node); i++ {
		h ^= uint64(node[i])
		h *= placeFNVPrime
	}
	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9
	h = (h ^ (h >> 27)) * 0x94d049bb133111eb
	return h ^ (h >> 31)
}
