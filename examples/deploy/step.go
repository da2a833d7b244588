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
}

// planner is what every concern package offers for its desired state: a plan of its own type,
// printable as a webinfra.Plan, and an apply of that plan.
type planner[P interface{ Plan() webinfra.Plan }] struct {
	name  string
	plan  func(context.Context) (P, error)
	apply func(context.Context, P) error
	last  P
}

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
