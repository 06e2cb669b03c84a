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

// LiveScopeKey is the ScopeKey of LiveScope: the sorted, de-duplicated queue and
// operator ids the viewer may see, or "all".
func LiveScopeKey(ctx context.Context) (string, bool) {
	s := auth.ScopeFromContext(ctx)
	if s.All {
		return "all", true
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
	b := ids([]byte("q:"), s.QueueIDs)
	b = ids(append(b, " o:"...), s.OperatorIDs)
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
