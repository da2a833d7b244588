package replication

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
)

// placeFleet returns count nodes named n-000..., spread round-robin over regions, with the
// capacities cycling through caps (nil means all 0, that is 1).
func placeFleet(count, regions int, caps []float64) []Candidate {
	nodes := make([]Candidate, count)
	for i := range nodes {
		nodes[i] = Candidate{Name: fmt.Sprintf("n-%03d", i), Region: fmt.Sprintf("r%d", i%regions), Roles: []string{"storage"}}
		if caps != nil {
			nodes[i].Capacity = caps[i%len(caps)]
		}
	}
	return nodes
}

// placeFleetNoRegion returns count nodes without a region.
func placeFleetNoRegion(count int) []Candidate {
	nodes := placeFleet(count, 1, nil)
	for i := range nodes {
		nodes[i].Region = ""
	}
	return nodes
}

// placeFolders returns count folders of r replicas each, eligible anywhere.
func placeFolders(count, r int) []FolderSpec {
	folders := make([]FolderSpec, count)
	for i := range folders {
		folders[i] = FolderSpec{ID: fmt.Sprintf("site-%05d", i), Replicas: r}
	}
	return folders
}

func placeMust(t *testing.T, folders []FolderSpec, nodes []Candidate) Placement {
	t.Helper()
	p, err := Place(folders, nodes)
	require.NoError(t, err)
	return p
}

func TestPlaceValidation(t *testing.T) {
	nodes := []Candidate{
		{Name: "a", Region: "eu", Roles: []string{"storage"}},
		{Name: "b", Region: "us", Roles: []string{"storage"}},
		{Name: "c", Region: "us"},
	}
	cases := []struct {
		name    string
		folders []FolderSpec
		nodes   []Candidate
		want    []string
	}{
		{
			name:    "too many replicas names folder and count",
			folders: []FolderSpec{{ID: "web", Replicas: 2}, {ID: "db", Replicas: 3, Eligible: Selector{Roles: []string{"storage"}}}},
			nodes:   nodes,
			want:    []string{`folders[1].replicas: invalid value "3": folder "db" needs 3 replicas but only 2 nodes are eligible (roles [storage])`},
		},
		{
			name:    "no eligible node",
			folders: []FolderSpec{{ID: "web", Replicas: 1, Eligible: Selector{Regions: []string{"ap"}, Labels: map[string]string{"disk": "ssd"}}}},
			nodes:   nodes,
			want:    []string{`folders[0].replicas: invalid value "1": folder "web" needs 1 replicas but only 0 nodes are eligible (regions [ap], labels {disk=ssd})`},
		},
		{
			name:    "replicas below one",
			folders: []FolderSpec{{ID: "web", Replicas: 0}, {ID: "db", Replicas: -1}},
			nodes:   nodes,
			want: []string{
				`folders[0].replicas: invalid value "0": folder "web" needs at least 1 replica`,
				`folders[1].replicas: invalid value "-1": folder "db" needs at least 1 replica`,
			},
		},
		{
			name:    "duplicate and empty IDs",
			folders: []FolderSpec{{ID: "web", Replicas: 1}, {ID: "", Replicas: 1}, {ID: "web", Replicas: 1}},
			nodes:   nodes,
			want: []string{
				`folders[1].id: required`,
				`folders[2].id: invalid value "web": duplicate of folders[0].id`,
			},
		},
		{
			name:    "duplicate and empty names, bad capacities",
			folders: nil,
			nodes: []Candidate{
				{Name: "a"}, {Name: "a", Capacity: -1}, {Capacity: math.NaN()}, {Name: "d", Capacity: math.Inf(1)},
			},
			want: []string{
				`nodes[1].capacity: invalid value "-1": want a finite number >= 0 (0 means 1)`,
				`nodes[1].name: invalid value "a": duplicate of nodes[0].name`,
				`nodes[2].capacity: invalid value "NaN": want a finite number >= 0 (0 means 1)`,
				`nodes[2].name: required`,
				`nodes[3].capacity: invalid value "+Inf": want a finite number >= 0 (0 means 1)`,
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Place(tc.folders, tc.nodes)
			require.Error(t, err)
			assert.Nil(t, p)
			assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
			var verr *webinfra.ValidationError
			require.True(t, errors.As(err, &verr))
			var got []string
			for _, e := range verr.Errors {
				got = append(got, e.Error())
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestPlaceEmptyInputs(t *testing.T) {
	p := placeMust(t, nil, nil)
	assert.Empty(t, p)
	p = placeMust(t, nil, placeFleet(3, 1, nil))
	assert.Empty(t, p)
}

func TestPlaceSelector(t *testing.T) {
	nodes := []Candidate{
		{Name: "a", Region: "eu", Roles: []string{"storage", "web"}, Labels: map[string]string{"disk": "ssd"}},
		{Name: "b", Region: "eu", Roles: []string{"storage"}, Labels: map[string]string{"disk": "hdd"}},
		{Name: "c", Region: "us", Roles: []string{"web", "storage"}, Labels: map[string]string{"disk": "ssd"}},
		{Name: "d", Region: "us", Roles: []string{"web"}},
	}
	sel := Selector{Roles: []string{"storage", "web"}, Labels: map[string]string{"disk": "ssd"}}
	var got []string
	for _, n := range nodes {
		if sel.Matches(n) {
			got = append(got, n.Name)
		}
	}
	assert.Equal(t, []string{"a", "c"}, got)
	assert.True(t, Selector{}.Matches(Candidate{}), "the zero selector matches any node")
	assert.False(t, Selector{Regions: []string{"eu"}}.Matches(nodes[2]))
	assert.False(t, Selector{Labels: map[string]string{"disk": ""}}.Matches(nodes[3]), "an absent label does not match an empty value")
	assert.Equal(t, "any node", Selector{}.String())

	folders := make([]FolderSpec, 200)
	for i := range folders {
		folders[i] = FolderSpec{ID: fmt.Sprint("f", i), Replicas: 2, Eligible: sel}
	}
	p := placeMust(t, folders, nodes)
	for id, placed := range p {
		assert.ElementsMatch(t, []string{"a", "c"}, placed, id)
	}
}

// TestPlaceInvariants checks, on a varied fleet, that every folder gets R distinct eligible
// nodes, spread over min(R, eligible regions) regions, listed by descending score, and that
// the region rule picks exactly what its definition says.
func TestPlaceInvariants(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var nodes []Candidate
	for i := range 40 {
		n := Candidate{Name: fmt.Sprintf("node-%d", i), Region: fmt.Sprintf("r%d", r.IntN(5)), Capacity: float64(r.IntN(4))}
		if r.IntN(3) > 0 {
			n.Roles = []string{"storage"}
		}
		if r.IntN(2) == 0 {
			n.Labels = map[string]string{"disk": "ssd"}
		}
		nodes = append(nodes, n)
	}
	selectors := []Selector{{}, {Roles: []string{"storage"}}, {Regions: []string{"r0", "r1"}}, {Labels: map[string]string{"disk": "ssd"}, Roles: []string{"storage"}}}
	var folders []FolderSpec
	for i := range 2000 {
		folders = append(folders, FolderSpec{ID: fmt.Sprintf("f-%d", i), Replicas: 1 + r.IntN(4), Eligible: selectors[r.IntN(len(selectors))]})
	}
	p := placeMust(t, folders, nodes)
	byName := map[string]Candidate{}
	for _, n := range nodes {
		byName[n.Name] = n
	}
	for _, f := range folders {
		placed := p[f.ID]
		require.Len(t, placed, f.Replicas, f.ID)
		assert.Len(t, placeSet(placed), f.Replicas, "distinct nodes for %s", f.ID)
		// The reference: rank every eligible node by score, take region bests, then fill.
		var ranked []string
		regions := map[string]bool{}
		for _, n := range nodes {
			if f.Eligible.Matches(n) {
				ranked = append(ranked, n.Name)
				regions[n.Region] = true
			}
		}
		score := func(name string) float64 {
			c := byName[name].Capacity
			if c == 0 {
				c = 1
			}
			return placeScore(placeHash(placeHashPrefix(f.ID), name), c)
		}
		slices.SortFunc(ranked, func(a, b string) int { return -cmpFloat(score(a), score(b)) })
		var want []string
		seen := map[string]bool{}
		for _, name := range ranked {
			if len(want) < f.Replicas && !seen[byName[name].Region] {
				seen[byName[name].Region] = true
				want = append(want, name)
			}
		}
		for _, name := range ranked {
			if len(want) < f.Replicas && !slices.Contains(want, name) {
				want = append(want, name)
			}
		}
		slices.SortFunc(want, func(a, b string) int { return -cmpFloat(score(a), score(b)) })
		assert.Equal(t, want, placed, f.ID)
		got := map[string]bool{}
		for _, name := range placed {
			assert.True(t, f.Eligible.Matches(byName[name]), "%s on ineligible %s", f.ID, name)
			got[byName[name].Region] = true
		}
		assert.Len(t, got, min(f.Replicas, len(regions)), "regions of %s", f.ID)
		assert.Equal(t, ranked[0], p.Primary(f.ID), "the primary of %s is its best node", f.ID)
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func placeSet(names []string) map[string]bool {
	s := map[string]bool{}
	for _, n := range names {
		s[n] = true
	}
	return s
}

func TestPlaceIndependentOfInputOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	nodes := placeFleet(25, 4, []float64{0, 1, 2, 0.5})
	folders := placeFolders(3000, 3)
	want := placeMust(t, folders, nodes)
	for range 3 {
		n, f := slices.Clone(nodes), slices.Clone(folders)
		r.Shuffle(len(n), func(i, j int) { n[i], n[j] = n[j], n[i] })
		r.Shuffle(len(f), func(i, j int) { f[i], f[j] = f[j], f[i] })
		assert.Equal(t, want, placeMust(t, f, n))
	}
	// Capacity 0 means 1.
	ones := slices.Clone(nodes)
	for i := range ones {
		if ones[i].Capacity == 0 {
			ones[i].Capacity = 1
		}
	}
	assert.Equal(t, want, placeMust(t, folders, ones))
}

// TestPlaceWeightedByCapacity: with one replica, the logarithmic method picks each node with
// probability proportional to its capacity.
func TestPlaceWeightedByCapacity(t *testing.T) {
	nodes := []Candidate{{Name: "small", Capacity: 1}, {Name: "medium", Capacity: 2}, {Name: "large", Capacity: 5}}
	const folders = 40000
	load := placeMust(t, placeFolders(folders, 1), nodes).Load()
	for _, n := range nodes {
		want := folders * n.Capacity / 8
		assert.InEpsilon(t, want, float64(load[n.Name]), 0.03, "%s holds %d, want about %.0f", n.Name, load[n.Name], want)
	}
}

// placeChange checks the per-folder stability guarantee between before and after, where after
// differs by one node (joined, or left when joined is false), and returns the replicas moved.
// The guarantee: a folder the node is not part of keeps exactly the same list; a folder it is
// part of changes by exactly one replica (the node's), and the other nodes keep their relative
// order.
func placeChange(t *testing.T, before, after Placement, node string, joined bool) int {
	t.Helper()
	require.Equal(t, len(before), len(after))
	old, cur := before, after
	if !joined {
		old, cur = after, before // a leave is a join seen backwards
	}
	moved := 0
	for id, with := range cur {
		without := old[id]
		if !slices.Contains(with, node) {
			require.Equal(t, without, with, "folder %s changed though %s is not on it", id, node)
			continue
		}
		moved++
		kept := slices.DeleteFunc(slices.Clone(with), func(n string) bool { return n == node })
		require.Len(t, without, len(with), id)
		dropped := slices.DeleteFunc(slices.Clone(without), func(n string) bool { return slices.Contains(kept, n) })
		require.Len(t, dropped, 1, "folder %s: exactly one replica must move (%v -> %v)", id, without, with)
		survivors := slices.DeleteFunc(slices.Clone(without), func(n string) bool { return n == dropped[0] })
		require.Equal(t, survivors, kept, "folder %s: the nodes that stay keep their order", id)
	}
	require.Equal(t, moved, before.Moves(after), "Moves counts one replica per changed folder")
	return moved
}

// TestPlaceStability proves over thousands of folders, on fleets with and without region
// spreading at play, that a join moves only the folders the new node takes, one replica each,
// and a leave moves exactly the leaving node's replicas. It also measures how many folders a
// join takes against the capacity-proportional minimum R·F/(N+1): equal in expectation
// while the region rule does not bind, and up to every folder when the joining node brings a
// region the folders lacked.
func TestPlaceStability(t *testing.T) {
	const F, R = 5000, 3
	cases := []struct {
		name    string
		nodes   []Candidate
		join    Candidate
		ratio   [2]float64 // bounds on join moves / (R·F/(N+1)); 0 means unchecked
		allJoin bool       // the join must take every folder
	}{
		{name: "one region", nodes: placeFleet(20, 1, nil), join: Candidate{Name: "new", Region: "r0"}, ratio: [2]float64{0.9, 1.1}},
		{name: "many regions", nodes: placeFleet(30, 10, nil), join: Candidate{Name: "new", Region: "r3"}, ratio: [2]float64{0.8, 1.2}},
		{name: "three regions join existing", nodes: placeFleet(30, 3, nil), join: Candidate{Name: "new", Region: "r1"}},
		{name: "three regions join new region", nodes: placeFleet(30, 3, nil), join: Candidate{Name: "new", Region: "r9"}},
		{name: "two regions join new region", nodes: placeFleet(30, 2, nil), join: Candidate{Name: "new", Region: "r9"}, allJoin: true},
		{name: "weighted", nodes: placeFleet(30, 5, []float64{1, 2, 4}), join: Candidate{Name: "new", Region: "r2", Capacity: 4}},
		{name: "empty region is a region", nodes: placeFleet(12, 1, nil), join: Candidate{Name: "new"}, allJoin: true},
		{name: "no regions", nodes: placeFleetNoRegion(12), join: Candidate{Name: "new"}, ratio: [2]float64{0.9, 1.1}},
	}
	folders := placeFolders(F, R)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base := placeMust(t, folders, tc.nodes)
			joined := placeMust(t, folders, append(slices.Clone(tc.nodes), tc.join))
			moves := placeChange(t, base, joined, tc.join.Name, true)
			assert.Equal(t, joined.Load()[tc.join.Name], moves, "a join moves exactly the replicas the new node takes")
			minimum := float64(R*F) / float64(len(tc.nodes)+1)
			t.Logf("join: %d moves, %.2f x R·F/(N+1) = %.0f", moves, float64(moves)/minimum, minimum)
			if tc.ratio[1] > 0 {
				assert.GreaterOrEqual(t, float64(moves)/minimum, tc.ratio[0])
				assert.LessOrEqual(t, float64(moves)/minimum, tc.ratio[1])
			}
			if tc.allJoin {
				assert.Equal(t, F, moves, "fewer regions than R: a node in a new region takes every folder")
			}
			// The reverse of the join is a leave of the new node.
			assert.Equal(t, moves, placeChange(t, joined, base, tc.join.Name, false))

			for _, i := range []int{0, len(tc.nodes) / 2, len(tc.nodes) - 1} {
				leaving := tc.nodes[i].Name
				left := placeMust(t, folders, slices.Delete(slices.Clone(tc.nodes), i, i+1))
				moves := placeChange(t, base, left, leaving, false)
				assert.Equal(t, base.Load()[leaving], moves, "a leave moves exactly the leaving node's replicas")
				t.Logf("leave of %s: %d moves = its replicas", leaving, moves)
			}
		})
	}
}

// TestPlaceNodeChange: changing one node's capacity or eligibility changes each folder by at
// most that node's replica.
func TestPlaceNodeChange(t *testing.T) {
	nodes := placeFleet(30, 4, []float64{1, 2})
	folders := placeFolders(4000, 3)
	for i := range folders {
		if i%2 == 0 {
			folders[i].Eligible = Selector{Roles: []string{"storage"}}
		}
	}
	base := placeMust(t, folders, nodes)
	edits := map[string]func(*Candidate){
		"capacity up":   func(c *Candidate) { c.Capacity = 8 },
		"capacity down": func(c *Candidate) { c.Capacity = 0.1 },
		"role dropped":  func(c *Candidate) { c.Roles = nil },
	}
	for name, edit := range edits {
		t.Run(name, func(t *testing.T) {
			changed := slices.Clone(nodes)
			edit(&changed[7])
			touched := placeCheckNodeChange(t, base, placeMust(t, folders, changed), changed[7].Name)
			t.Logf("%s: %d folders changed one replica", name, touched)
			assert.Positive(t, touched)
		})
	}
	// Small random fleets, where the region rule binds most often: fewer regions than R.
	t.Run("random", func(t *testing.T) {
		r := rand.New(rand.NewPCG(5, 6))
		for range 300 {
			nodes := placeFleet(4+r.IntN(6), 1+r.IntN(4), []float64{float64(1 + r.IntN(3)), 1, 0.5})
			folders := placeFolders(100, 1+r.IntN(4))
			base := placeMust(t, folders, nodes)
			i := r.IntN(len(nodes))
			changed := slices.Clone(nodes)
			changed[i].Capacity = r.Float64() * 5
			placeCheckNodeChange(t, base, placeMust(t, folders, changed), changed[i].Name)
		}
	})
}

// placeCheckNodeChange checks that each folder changed by at most one replica, the changed
// node's, and returns how many folders changed.
func placeCheckNodeChange(t *testing.T, before, after Placement, node string) int {
	t.Helper()
	touched := 0
	for id, was := range before {
		now := after[id]
		gone := slices.DeleteFunc(slices.Clone(was), func(n string) bool { return slices.Contains(now, n) })
		came := slices.DeleteFunc(slices.Clone(now), func(n string) bool { return slices.Contains(was, n) })
		require.Equal(t, len(gone), len(came), id)
		require.LessOrEqual(t, len(gone), 1, "folder %s: %v -> %v", id, was, now)
		if len(gone) == 1 {
			touched++
			require.True(t, gone[0] == node || came[0] == node, "folder %s: the move involves %s (%v -> %v)", id, node, was, now)
		}
	}
	return touched
}

func TestPlacementHelpers(t *testing.T) {
	before := Placement{"a": {"x", "y"}, "b": {"y", "z"}}
	after := Placement{"a": {"y", "x"}, "b": {"y", "w"}, "c": {"x"}}
	assert.Equal(t, 2, before.Moves(after), "b gains w, c is new; order does not matter")
	assert.Equal(t, 0, after.Moves(Placement{"a": {"x"}}), "dropped replicas are not moves")
	assert.Equal(t, map[string]int{"x": 1, "y": 2, "z": 1}, before.Load())
	assert.Equal(t, "y", before.Primary("b"))
	assert.Equal(t, "", before.Primary("absent"))
}

// TestPlaceHashSpreads guards the hash: similar folder and node names must not give correlated
// placements, so primaries spread evenly over equal nodes.
func TestPlaceHashSpreads(t *testing.T) {
	nodes := placeFleet(10, 1, nil)
	p := placeMust(t, placeFolders(20000, 1), nodes)
	for _, n := range nodes {
		assert.InEpsilon(t, 2000, p.Load()[n.Name], 0.08, n.Name)
	}
	assert.NotEqual(t, placeHash(placeHashPrefix("ab"), "c"), placeHash(placeHashPrefix("a"), "bc"))
}

// TestPlaceStabilityRandom repeats the join and leave checks on many small random fleets,
// where the region rule binds most often, with joins in existing and new regions.
func TestPlaceStabilityRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 300 {
		nodes := placeFleet(5+r.IntN(8), 1+r.IntN(4), []float64{float64(1 + r.IntN(3)), 1, 0.5})
		folders := placeFolders(200, 1+r.IntN(4))
		base := placeMust(t, folders, nodes)
		join := Candidate{Name: "joiner", Region: fmt.Sprintf("r%d", r.IntN(6)), Capacity: r.Float64() * 3}
		joined := placeMust(t, folders, append(slices.Clone(nodes), join))
		assert.Equal(t, joined.Load()[join.Name], placeChange(t, base, joined, join.Name, true))
		i := r.IntN(len(nodes))
		left := placeMust(t, folders, slices.Delete(slices.Clone(nodes), i, i+1))
		assert.Equal(t, base.Load()[nodes[i].Name], placeChange(t, base, left, nodes[i].Name, false))
	}
}
