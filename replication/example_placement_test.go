package replication_test

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/webinfra/webinfra/replication"
)

// Three replicas of each folder go to three regions when the fleet has them; the first node of
// each list is the folder's preferred writer.
func ExamplePlace() {
	nodes := []replication.Candidate{
		{Name: "ams-1", Region: "eu", Roles: []string{"storage"}},
		{Name: "ams-2", Region: "eu", Roles: []string{"storage"}, Capacity: 2},
		{Name: "nyc-1", Region: "us", Roles: []string{"storage"}},
		{Name: "sgp-1", Region: "ap", Roles: []string{"storage"}},
		{Name: "edge-1", Region: "eu", Roles: []string{"web"}},
	}
	folders := []replication.FolderSpec{
		{ID: "shop", Replicas: 3, Eligible: replication.Selector{Roles: []string{"storage"}}},
		{ID: "blog", Replicas: 2, Eligible: replication.Selector{Regions: []string{"eu"}}},
	}
	placement, err := replication.Place(folders, nodes)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, id := range slices.Sorted(maps.Keys(placement)) {
		fmt.Println(id, placement[id], "primary:", placement.Primary(id))
	}

	// Asking for more replicas than eligible nodes is an error naming the folder.
	_, err = replication.Place([]replication.FolderSpec{{ID: "db", Replicas: 4, Eligible: replication.Selector{Regions: []string{"eu"}}}}, nodes)
	fmt.Println(err)
	// Output:
	// blog [ams-1 ams-2] primary: ams-1
	// shop [ams-2 sgp-1 nyc-1] primary: ams-2
	// folders[0].replicas: invalid value "4": folder "db" needs 4 replicas but only 3 nodes are eligible (regions [eu])
}

// A node's Syncthing identity can be made before Syncthing first runs, so its device ID is
// known in advance; Syncthing adopts the written key instead of generating one.
func ExampleNewIdentity() {
	id, err := replication.NewIdentity()
	if err != nil {
		fmt.Println(err)
		return
	}
	home, err := os.MkdirTemp("", "syncthing-home")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(home)
	if err := id.WriteHome(home); err != nil {
		fmt.Println(err)
		return
	}
	loaded, err := replication.LoadIdentity(home)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(strings.Split(id.DeviceID(), "-")), "groups")
	fmt.Println(loaded.DeviceID() == id.DeviceID())
	fmt.Println(strings.HasPrefix(fmt.Sprint(id), "syncthing identity "))
	// Output:
	// 8 groups
	// true
	// true
}
