package graph

import (
	"context"

	"github.com/linkage/linkage/ami/live"
)

// Live is what the live-monitoring resolvers use: the hub every subscription
// registers with, and the viewer's scope (access control wires it; nil lets every
// viewer see everything).
type Live struct {
	Hub   *live.Hub
	Scope live.ScopeFunc
}

func (r *Resolver) live(ctx context.Context) (*live.Hub, live.Scope, error) {
	if r.Live == nil || r.Live.Hub == nil {
		return nil, live.Scope{}, &UserError{Code: "UNAVAILABLE", Message: "live monitoring is not enabled on this server"}
	}
	return r.Live.Hub, live.ScopeOf(ctx, r.Live.Scope), nil
}
