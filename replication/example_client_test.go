package replication_test

import (
	"context"
	"fmt"

	"github.com/webinfra/webinfra/replication"
	"github.com/webinfra/webinfra/replication/replicationtest"
)

// Example_applyNode configures one node from its desired state, against the fake.
func Example_applyNode() {
	srv := replicationtest.NewServer()
	defer srv.Close()
	c, err := replication.New(srv.Config()) // BaseURL, APIKey; no I/O
	if err != nil {
		fmt.Println(err)
		return
	}
	peer := replicationtest.DeviceIDFromSeed("fw-2")
	desired := replication.NodeState{
		DeviceID: srv.DeviceID(),
		Devices:  []replication.DeviceState{{ID: peer, Name: "fw-2", Addresses: []string{"tcp://10.88.1.22:22000"}}},
		Folders: []replication.FolderState{{ID: "web-data", Path: "/srv/web-data", Devices: []string{peer},
			Type: replication.SendOnly}},
	}
	ctx := context.Background()
	plan, err := replication.PlanNode(ctx, c, desired)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(plan.Plan().Summary())
	if err := replication.ApplyNode(ctx, c, plan); err != nil {
		fmt.Println(err)
		return
	}
	again, _ := replication.PlanNode(ctx, c, desired)
	fmt.Println(again.Plan().Summary())
	f, _ := c.Folder(ctx, "web-data")
	fmt.Println(f.Label, f.Type, f.SyncOwnership, f.SyncXattrs, len(f.Devices))
	fmt.Println(srv.Count("PUT /rest/config/folders/{id}"), "folder PUT")
	// Output:
	// Plan: 2 to create, 0 to update, 0 to delete.
	// No changes.
	// webinfra:web-data sendonly true true 2
	// 1 folder PUT
}
