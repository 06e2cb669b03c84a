package graph

import (
	"context"
	"slices"
	"strconv"

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
	// ScopeKey names the viewer's scope exactly: two viewers with the same key must
	// see the same items through Scope. Subscriptions of one operation and key
	// share their rendered messages (graph/share.go). Nil with a non-nil Scope turns
	// sharing off; with a nil Scope everyone has the same (unrestricted) scope.
	ScopeKey func(ctx context.Context) (key string, ok bool)
	// Unshared turns subscription sharing off (benchmarks compare both).
	Unshared bool
}

// LiveScopeKey is the ScopeKey of LiveScope: "all" for the system, otherwise the
// sorted, de-duplicated queue and operator ids the viewer may see (or "all" for an
// unrestricted scope) and the permissions the viewer holds. The live types have no
// viewer-dependent fields today; with the permissions in the key, one added later
// (say, caller numbers only for some roles) still cannot be shared across roles.
func LiveScopeKey(ctx context.Context) (string, bool) {
	if viewer.IsSystem(ctx) {
		return "all", true
	}
	v, ok := viewer.FromContext(ctx)
	if !ok {
		return "", false // r.live refuses such a context anyway
	}
	ids := func(b []byte, v []int) []byte {
		v = slices.Compact(slices.Sorted(slices.Values(v)))
		for i, id := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(id), 10)
		}
		return b
	}
	var b []byte
	if auth.Can(ctx, viewer.MonitorRead, "*") != nil {
		// Without monitoring the live scope is the viewer's own operators
		// (ownLiveScope), which the grant's ids do not show: two operators with the
		// same grant must never share a rendering.
		b = strconv.AppendInt(append(b, "self:"...), int64(v.UserID), 10)
		b = append(b, ' ')
	}
	if v.Scope.All {
		b = append(b, "all"...)
	} else {
		b = ids(append(b, "q:"...), v.Scope.QueueIDs)
		b = ids(append(b, " o:"...), v.Scope.OperatorIDs)
	}
	b = append(b, " p:"...)
	var perms []string
	for p, allowed := range v.Permissions {
		if allowed {
			perms = append(perms, p)
		}
	}
	slices.Sort(perms)
	for i, p := range perms {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, p...)
	}
	return string(b), true
}

// shareKey is the viewer's scope key for subscription sharing, and whether the
// viewer's subscriptions may be shared at all.
func (l *Live) shareKey(ctx context.Context) (string, bool) {
	switch {
	case l.Unshared:
		return "", false
	case l.Scope == nil:
		return "all", true
	case l.ScopeKey == nil:
		return "", false
	}
	return l.ScopeKey(ctx)
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
