package replication

import (
	"context"
	"fmt"
	"net/http"

	"github.com/webinfra/webinfra"
)

// ApplyNode performs plan on the instance c talks to, one REST call per change, in plan
// order: PUT for a create, PATCH of the changed fields only for an update, DELETE for a
// delete. Every call is idempotent (a repeated PUT or PATCH sets the same values; Syncthing
// answers 200 to a DELETE of an absent object), so ApplyNode can be re-run after a failure,
// and PlanNode followed by ApplyNode converges; after a successful ApplyNode, PlanNode returns
// an empty plan.
//
// It stops at the first failure with an error naming the change and wrapping the client's
// error (an update of an object deleted meanwhile matches [webinfra.ErrNotFound]: plan again).
// The plan must come from [PlanNode] against the same instance. An empty or nil plan makes no
// call. Folder updates with [NodeChange.Restart] restart the folder in Syncthing.
func ApplyNode(ctx context.Context, c *Client, plan *NodePlan) error {
	if plan.Empty() {
		return nil
	}
	if c == nil {
		return fmt.Errorf("replication: apply: nil client: %w", webinfra.ErrInvalidArgument)
	}
	for _, ch := range plan.Changes {
		if err := applyChange(ctx, c, ch); err != nil {
			return fmt.Errorf("replication: apply %s %s %q on node %s: %w", ch.Action, ch.Kind, ch.ID, plan.Node, err)
		}
		c.log.Info("applied change", "node", plan.Node, "kind", ch.Kind, "id", ch.ID, "action", ch.Action.String(), "restart", ch.Restart)
	}
	return nil
}

func applyChange(ctx context.Context, c *Client, ch NodeChange) error {
	var path string
	switch ch.Kind {
	case KindDevice:
		path = "/rest/config/devices/" + pathSeg(ch.ID)
	case KindFolder:
		path = "/rest/config/folders/" + pathSeg(ch.ID)
	default:
		return fmt.Errorf("unknown kind %q: %w", ch.Kind, webinfra.ErrInvalidArgument)
	}
	switch ch.Action {
	case webinfra.Create:
		return c.do(ctx, call{method: http.MethodPut, path: path, body: ch.Body, idempotent: true})
	case webinfra.Update:
		return c.do(ctx, call{method: http.MethodPatch, path: path, body: ch.Body, idempotent: true})
	case webinfra.Delete:
		return c.do(ctx, call{method: http.MethodDelete, path: path, idempotent: true})
	}
	return fmt.Errorf("unknown action %s: %w", ch.Action, webinfra.ErrInvalidArgument)
}
