// Command publicapi is a program outside the webinfra module that sets every exported setting
// whose type comes from the module's shared mechanics, plugs in a runner of its own and matches
// the runner's error with errors.As. It compiling at all is the test: a type from an internal
// package could not be named here. Run by the root package's TestPublicAPIFromAnotherModule.
package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"time"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/cloudflare"
	"github.com/webinfra/webinfra/mesh"
	"github.com/webinfra/webinfra/replication"
	"github.com/webinfra/webinfra/security"
)

// sshRunner stands for a runner over SSH: here it answers every command with exit status 3.
type sshRunner struct{ calls *[]string }

func (r sshRunner) Run(_ context.Context, c webinfra.Cmd) (webinfra.CmdResult, error) {
	*r.calls = append(*r.calls, c.String())
	return webinfra.CmdResult{ExitCode: 3, Stderr: []byte("refused")},
		&webinfra.ExitError{Cmd: c.String(), ExitCode: 3, Stderr: "refused"}
}

var _ webinfra.Runner = sshRunner{}
var _ webinfra.Runner = webinfra.LocalRunner{}

func main() {
	retry := webinfra.RetryPolicy{Attempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Second,
		OnRetry: func(int, error, time.Duration) {}}
	if _, err := cloudflare.New(cloudflare.Config{Token: webinfra.NewSecret("token"),
		Budget: webinfra.RateBudget{Requests: 4, Per: time.Second, Burst: 2}, Retry: retry}); err != nil {
		fail("cloudflare.New: %v", err)
	}
	if _, err := replication.New(replication.Config{BaseURL: "http://127.0.0.1:1", APIKey: webinfra.NewSecret("k"), Retry: retry}); err != nil {
		fail("replication.New: %v", err)
	}
	var calls []string
	run := sshRunner{&calls}
	_ = security.ESETConfig{Runner: run}
	_ = security.ClamscanConfig{Runner: run}

	ctx := context.Background()
	tincd := &mesh.Tincd{Dir: func(string) string { return "/etc/tinc/web" }, Runner: run}
	err := tincd.Reload(ctx, "a")
	var exit *webinfra.ExitError
	if !errors.As(err, &exit) || exit.ExitCode != 3 {
		fail("mesh.Tincd.Reload: want an *webinfra.ExitError with status 3, got %v", err)
	}
	pinger := &mesh.Pinger{Runner: run}
	if err := pinger.Probe(ctx, "a", netip.MustParseAddr("10.0.0.2")); err == nil {
		fail("mesh.Pinger.Probe: want an error from the runner")
	}
	if len(calls) < 2 {
		fail("the runner was not used: %v", calls)
	}
	fmt.Printf("ok: %d commands through the user's runner, exit status %d matched with errors.As\n", len(calls), exit.ExitCode)
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}
