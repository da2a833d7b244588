package main

import (
	"context"
	"fmt"

	"github.com/webinfra/webinfra"
)

// step is one concern's part of the deployment.
type step interface {
	// Plan computes the concern's changes, reading only.
	Plan(ctx context.Context) (webinfra.Plan, error)
	// Apply performs the changes of the last Plan.
	Apply(ctx context.Context) error
	// Where says which concern the step belongs to, which service it talks to and on which
	// node each of its changes happens.
	Where() placement
}

// placement places a step's changes in the printed plan.
type placement struct {
	// concern groups the plan: "mesh", "cloudflare", ...
	concern string
	// service is the backend the step plans against.
	service service
	// node returns the node a change happens on, or "" for a change of the whole deployment
	// (a DNS record, a cluster-wide manifest). nil means every change is deployment-wide.
	node func(webinfra.Change) string
}

// service is the backend a concern talks to, and whether it is the real one.
type service struct {
	// name is what the concern talks to: "Cloudflare API", "Kubernetes API", ...
	name string
	// simulated is true for the built-in simulated service.
	simulated bool
	// detail says where the real service would come from, or where files go.
	detail string
}

// localFiles is the service of a concern whose plan writes files under --state, for the user
// to copy to the servers.
const localFiles = "local files"

// planner is what every concern package offers for its desired state: a plan of its own type,
// printable as a webinfra.Plan, and an apply of that plan.
type planner[P interface{ Plan() webinfra.Plan }] struct {
	name  string
	where placement
	plan  func(context.Context) (P, error)
	apply func(context.Context, P) error
	last  P
}

func (s *planner[P]) Where() placement { return s.where }

func (s *planner[P]) Plan(ctx context.Context) (webinfra.Plan, error) {
	p, err := s.plan(ctx)
	if err != nil {
		return webinfra.Plan{}, fmt.Errorf("%s: %w", s.name, err)
	}
	s.last = p
	return p.Plan(), nil
}

func (s *planner[P]) Apply(ctx context.Context) error {
	if err := s.apply(ctx, s.last); err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	return nil
}
