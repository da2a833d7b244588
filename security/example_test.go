package security_test

import (
	"context"
	"fmt"

	"github.com/webinfra/webinfra/security"
	"github.com/webinfra/webinfra/security/securitytest"
)

// ExampleLandscape upgrades one computer's security packages and waits for the activity.
func ExampleLandscape() {
	srv := securitytest.NewLandscapeServer()
	defer srv.Close()
	srv.AddComputer(securitytest.FakeComputer{Hostname: "web-1", Tags: []string{"web"},
		Upgrades: []security.Package{{Name: "openssl", Version: "3.0.13", Security: true}}})

	ls, err := security.NewLandscape(srv.Config())
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	web, _ := ls.ComputersByTag(ctx, "web")
	pending, _ := ls.PendingUpgrades(ctx, web[0].ID, true)
	fmt.Println(web[0].Hostname, "pending:", pending[0].Name)
	a, _ := ls.UpgradePackages(ctx, []int{web[0].ID}, true)
	a, err = ls.WaitActivity(ctx, a.ID)
	fmt.Println(a.Status, err)
	// Output:
	// web-1 pending: openssl
	// succeeded <nil>
}

// ExampleScanPolicy_Validate shows the field paths of a policy's problems.
func ExampleScanPolicy_Validate() {
	err := security.ScanPolicy{Engine: "clamd", Paths: []string{"srv"}, AfterSync: true, OnFinding: security.ActionQuarantine}.Validate()
	fmt.Println(err)
	// Output:
	// paths[0]: invalid value "srv": not an absolute path
	// quarantine_dir: required
}
