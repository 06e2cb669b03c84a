package graph

import (
	"context"

	"github.com/linkage/linkage/ami/live"
	"github.com/linkage/linkage/auth"
	"github.com/linkage/linkage/auth/viewer"
)

// Live is what the live-monitoring resolvers use: the hub every subscription
// registers with, and the viewer's scope (access control wires it; nil lets every
// viewer see everything).
type Live struct {
	Hub   *live.Hub
	Scope live.ScopeFunc
}

// LiveScope limits live data to the viewer's queues and operators (access control).
func LiveScope(ctx context.Context) (allowQueue, allowOperator func(id int) bool) {
	s := auth.ScopeFromContext(ctx)
	if s.All {
		return nil, nil
	}
	return s.AllowsQueue, s.AllowsOperator
}

func (r *Resolver) live(ctx context.Context) (*live.Hub, live.Scope, error) {
	if err := auth.Can(ctx, viewer.MonitorRead, "*"); err != nil {
		return nil, live.Scope{}, err
	}
	if r.Live == nil || r.Live.Hub == nil {
		return nil, live.Scope{}, &UserError{Code: "UNAVAILABLE", Message: "live monitoring is not enabled on this server"}
	}
	return r.Live.Hub, live.ScopeOf(ctx, r.Live.Scope), nil
}
