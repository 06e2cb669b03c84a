package graph

import (
	"context"

	"github.com/linkage/linkage/ami/live"
	"github.com/linkage/linkage/auth"
	"github.com/linkage/linkage/auth/viewer"
	"github.com/linkage/linkage/ent/operator"
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
		// An operator (self.status, no monitoring) follows their own status and
		// calls live on the workplace: the live API limited to their own operators.
		sc, ok := r.ownLiveScope(ctx)
		if !ok {
			return nil, live.Scope{}, err
		}
		if r.Live == nil || r.Live.Hub == nil {
			return nil, live.Scope{}, &UserError{Code: "UNAVAILABLE", Message: "live monitoring is not enabled on this server"}
		}
		return r.Live.Hub, sc, nil
	}
	if r.Live == nil || r.Live.Hub == nil {
		return nil, live.Scope{}, &UserError{Code: "UNAVAILABLE", Message: "live monitoring is not enabled on this server"}
	}
	return r.Live.Hub, live.ScopeOf(ctx, r.Live.Scope), nil
}

// ownLiveScope is the live scope of a viewer who may use their own workplace
// (self.status) but not monitor: no queue, and only the operators linked to their
// user — so they see their own status and the calls that ring or reach them.
func (r *Resolver) ownLiveScope(ctx context.Context) (live.Scope, bool) {
	v, ok := auth.ViewerFromContext(ctx)
	if !ok || auth.Can(ctx, viewer.SelfStatus, "*") != nil {
		return live.Scope{}, false
	}
	ids, err := r.Client.Operator.Query().Where(operator.UserID(v.UserID)).IDs(auth.SystemContext(ctx))
	if err != nil || len(ids) == 0 {
		return live.Scope{}, false
	}
	own := make(map[int]bool, len(ids))
	for _, id := range ids {
		own[id] = true
	}
	return live.Scope{Queue: func(int) bool { return false }, Operator: func(id int) bool { return own[id] }}, true
}
