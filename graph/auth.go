package graph

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/linkage/linkage/auth"
	"github.com/linkage/linkage/ent"
	"github.com/linkage/linkage/graph/model"
)

// Conversions between package auth and the GraphQL models, so the access-control
// resolvers stay one call each.

func (r *Resolver) viewerModel(ctx context.Context, v *auth.Viewer) (*model.Viewer, error) {
	if v == nil {
		return nil, nil
	}
	u, err := r.Client.User.Get(auth.WithViewer(ctx, v), v.UserID)
	if err != nil {
		return nil, err
	}
	m := &model.Viewer{
		User:  u,
		Roles: roleModels(v.Roles),
		Scope: &model.ViewerScope{All: v.Scope.All, QueueIDs: nonNil(v.Scope.QueueIDs), ListenQueueIDs: nonNil(v.Scope.ListenQueueIDs),
			GroupIDs: nonNil(v.Scope.GroupIDs), OperatorIDs: nonNil(v.Scope.OperatorIDs)},
		Permissions: []string{},
	}
	for _, a := range auth.Actions() {
		if v.Allowed(a) {
			m.Permissions = append(m.Permissions, a)
		}
	}
	if v.TokenID != 0 {
		m.TokenID = &v.TokenID
	}
	return m, nil
}

func nonNil(ids []int) []int {
	if ids == nil {
		return []int{}
	}
	return ids
}

func roleModels(rs []string) []model.Role {
	out := make([]model.Role, 0, len(rs))
	for _, r := range rs {
		out = append(out, model.Role(strings.ToUpper(r)))
	}
	return out
}

func roleNames(rs []model.Role) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, strings.ToLower(string(r)))
	}
	return out
}

func grantOf(g model.GrantInput) auth.Grant {
	out := auth.Grant{AllQueues: g.AllQueues, ListenAll: g.ListenAll, AllGroups: g.AllGroups, GroupIDs: g.GroupIDs,
		AllGroupOperators: g.AllGroupOperators, OperatorIDs: g.OperatorIDs}
	for _, q := range g.Queues {
		out.Queues = append(out.Queues, auth.QueueGrant{QueueID: q.QueueID, Listen: q.Listen})
	}
	return out
}

func newUser(in model.CreateUserInput) auth.NewUser {
	u := auth.NewUser{Login: in.Login, DisplayName: deref(in.DisplayName), Password: deref(in.Password), Roles: roleNames(in.Roles)}
	if in.Language != nil {
		u.Language = string(*in.Language)
	}
	if in.Grant != nil {
		u.Grant = grantOf(*in.Grant)
	}
	return u
}

func userPatch(in model.UpdateUserInput) auth.UserPatch {
	p := auth.UserPatch{DisplayName: in.DisplayName, Enabled: in.Enabled}
	if in.Language != nil {
		l := string(*in.Language)
		p.Language = &l
	}
	return p
}

func (r *Resolver) userAccess(ctx context.Context, id int) (*model.UserAccess, error) {
	acc, err := r.Auth.AccessOf(ctx, id)
	if err != nil {
		return nil, err
	}
	u, err := r.Client.User.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	g := acc.Grant
	m := &model.UserAccess{User: u, Roles: roleModels(acc.Roles), Grant: &model.Grant{
		AllQueues: g.AllQueues, ListenAll: g.ListenAll, AllGroups: g.AllGroups, GroupIDs: nonNil(g.GroupIDs),
		AllGroupOperators: g.AllGroupOperators, OperatorIDs: nonNil(g.OperatorIDs), Queues: []*model.QueueGrant{},
	}}
	for _, q := range g.Queues {
		// The queue itself is read as the viewer sees it: nil when out of their scope.
		qe, _ := r.Client.Queue.Get(ctx, q.QueueID)
		m.Grant.Queues = append(m.Grant.Queues, &model.QueueGrant{QueueID: q.QueueID, Listen: q.Listen, Queue: qe})
	}
	return m, nil
}

func auditDetails(a *ent.AuditLog) (*string, error) {
	if len(a.Details) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(a.Details)
	if err != nil {
		return nil, err
	}
	s := string(b)
	return &s, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
