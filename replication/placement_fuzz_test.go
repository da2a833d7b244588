package replication

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
)

// placeDecode turns fuzz bytes into a fleet and folders: a node count, three bytes per node
// (region, capacity, roles), a folder count, then two bytes per folder (replicas, selector).
func placeDecode(data []byte) ([]FolderSpec, []Candidate) {
	next := func() byte {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return b
	}
	var nodes []Candidate
	for i := range int(next() % 16) {
		region, capacity, roles := next(), next(), next()
		n := Candidate{Name: fmt.Sprintf("n%d", i%13), Region: fmt.Sprintf("r%d", region%4)}
		switch capacity {
		case 255:
			n.Capacity = math.NaN()
		case 254:
			n.Capacity = -1
		default:
			n.Capacity = float64(capacity%8) / 2
		}
		if roles&1 != 0 {
			n.Roles = append(n.Roles, "storage")
		}
		if roles&2 != 0 {
			n.Labels = map[string]string{"disk": "ssd"}
		}
		nodes = append(nodes, n)
	}
	selectors := []Selector{{}, {Roles: []string{"storage"}}, {Regions: []string{"r0", "r2"}}, {Labels: map[string]string{"disk": "ssd"}}}
	var folders []FolderSpec
	for i := range int(next() % 32) {
		replicas, sel := next(), next()
		folders = append(folders, FolderSpec{ID: fmt.Sprintf("f%d", i%29), Replicas: int(replicas%6) - 1, Eligible: selectors[sel%4]})
	}
	return folders, nodes
}

// FuzzPlace: Place never panics; it either rejects with a validation error or returns, for
// every folder, Replicas distinct eligible nodes over as many regions as possible, the same
// whatever the input order.
func FuzzPlace(f *testing.F) {
	seeds := [][]byte{
		{},                                   // nothing to place
		{3, 0, 0, 1, 1, 2, 1, 2, 4, 1, 2, 0}, // three nodes, one folder of one replica
		{6, 0, 0, 1, 1, 0, 1, 2, 0, 1, 3, 0, 1, 0, 2, 3, 1, 6, 1, 4, 0, 4, 1, 4, 2, 4, 3}, // selectors
		{2, 0, 255, 0, 1, 254, 0, 1, 1, 0},                                                // NaN and negative capacities
		{14, 0, 0, 0},                                                                     // duplicate node names
		{2, 0, 0, 0, 1, 0, 0, 1, 5, 0},                                                    // more replicas than nodes
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		folders, nodes := placeDecode(data)
		p, err := Place(folders, nodes)
		if err != nil {
			require.ErrorIs(t, err, webinfra.ErrInvalidArgument)
			require.Nil(t, p)
			return
		}
		byName := map[string]Candidate{}
		for _, n := range nodes {
			byName[n.Name] = n
		}
		require.Len(t, p, len(folders))
		for _, f := range folders {
			placed := p[f.ID]
			require.Len(t, placed, f.Replicas)
			require.Len(t, placeSet(placed), f.Replicas)
			eligibleRegions, regions := map[string]bool{}, map[string]bool{}
			for _, n := range nodes {
				if f.Eligible.Matches(n) {
					eligibleRegions[n.Region] = true
				}
			}
			for _, name := range placed {
				require.True(t, f.Eligible.Matches(byName[name]))
				regions[byName[name].Region] = true
			}
			require.Len(t, regions, min(f.Replicas, len(eligibleRegions)))
		}
		slices.Reverse(nodes)
		slices.Reverse(folders)
		again, err := Place(folders, nodes)
		require.NoError(t, err)
		assert.Equal(t, p, again)
	})
}
