package graph

import (
	"context"
	"slices"
	"strconv"

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
		return nil, live.Scope{}, err
	}
	if r.Live == nil || r.Live.Hub == nil {
		return nil, live.Scope{}, &UserError{Code: "UNAVAILABLE", Message: "live monitoring is not enabled on this server"}
	}
	return r.Live.Hub, live.ScopeOf(ctx, r.Live.Scope), nil
}
