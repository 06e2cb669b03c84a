package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/linkage/linkage/auth/viewer"
	"github.com/linkage/linkage/ent"
	"github.com/linkage/linkage/ent/casbinrule"
)

// Roles from the field. The GraphQL enum Role spells them in upper case.
const (
	RoleSupervisor        = "supervisor"
	RoleOperator          = "operator"
	RoleListenRecordings  = "listen_recordings"
	RoleMonitoring        = "monitoring"
	RoleViewStatistics    = "view_statistics"
	RoleBusinessProcesses = "business_processes"
	RoleUserManagement    = "user_management"
	RoleAdmin             = "admin"
)

// Roles lists every role.
var Roles = []string{RoleSupervisor, RoleOperator, RoleListenRecordings, RoleMonitoring,
	RoleViewStatistics, RoleBusinessProcesses, RoleUserManagement, RoleAdmin}

// QueueGrant is one queue of a user's scope.
type QueueGrant struct {
	QueueID int
	Listen  bool // may hear the queue's recordings (with the Listen to recordings role)
}

// Grant is a user's scope as assigned: the queues they may see (each with its
// listen flag), the operator groups ("all groups" or chosen ones), whether every
// operator of those groups is included, and extra operators outside the groups.
type Grant struct {
	AllQueues         bool
	ListenAll         bool
	Queues            []QueueGrant
	AllGroups         bool
	GroupIDs          []int
	AllGroupOperators bool
	OperatorIDs       []int
}

const (
	actQueue          = "scope.queue"
	actListen         = "scope.listen"
	actGroup          = "scope.group"
	actGroupOperators = "scope.group_operators"
	actOperator       = "scope.operator"
)

func (s *Service) grantOf(sub string) Grant {
	var g Grant
	listen := map[int]bool{}
	for _, r := range s.en.rules(sub) {
		act, obj := r[0], r[1]
		_, idText, _ := strings.Cut(obj, "/")
		id, _ := strconv.Atoi(idText)
		switch {
		case act == actQueue && idText == "*":
			g.AllQueues = true
		case act == actQueue:
			g.Queues = append(g.Queues, QueueGrant{QueueID: id})
		case act == actListen && idText == "*":
			g.ListenAll = true
		case act == actListen:
			listen[id] = true
		case act == actGroup && idText == "*":
			g.AllGroups = true
		case act == actGroup:
			g.GroupIDs = append(g.GroupIDs, id)
		case act == actGroupOperators:
			g.AllGroupOperators = true
		case act == actOperator:
			g.OperatorIDs = append(g.OperatorIDs, id)
		}
	}
	for i := range g.Queues {
		g.Queues[i].Listen = listen[g.Queues[i].QueueID]
	}
	return g
}

func (g Grant) rules(sub string) [][]string {
	var out [][]string
	add := func(act, obj string) { out = append(out, []string{sub, act, obj}) }
	if g.AllQueues {
		add(actQueue, "queue/*")
	}
	if g.ListenAll {
		add(actListen, "queue/*")
	}
	for _, q := range g.Queues {
		add(actQueue, idOf("queue", q.QueueID))
		if q.Listen {
			add(actListen, idOf("queue", q.QueueID))
		}
	}
	if g.AllGroups {
		add(actGroup, "group/*")
	}
	for _, id := range g.GroupIDs {
		add(actGroup, idOf("group", id))
	}
	if g.AllGroupOperators {
		add(actGroupOperators, "*")
	}
	for _, id := range g.OperatorIDs {
		add(actOperator, idOf("operator", id))
	}
	return out
}

// Access is a user's roles and grant.
type Access struct {
	Roles []string
	Grant Grant
}

// AccessOf returns the roles and grant of user id.
func (s *Service) AccessOf(ctx context.Context, userID int) (Access, error) {
	if err := Can(ctx, viewer.UsersRead, "*"); err != nil {
		if v, ok := viewer.FromContext(ctx); !ok || v.UserID != userID {
			return Access{}, err
		}
	}
	sub := subject(userID)
	return Access{Roles: s.en.Roles(sub), Grant: s.grantOf(sub)}, nil
}

// ErrInvalid is wrapped by errors in what the caller asked for.
var ErrInvalid = errors.New("invalid request")

// setRules replaces subject's rules of ptype (all of them for "g", the scope ones
// for "p") in one transaction that also notifies the other processes, then reloads
// this process's policy.
func (s *Service) setRules(ctx context.Context, ptype, sub string, rules [][]string) error {
	sctx := viewer.SystemContext(ctx)
	tx, err := s.client.Tx(sctx)
	if err != nil {
		return err
	}
	del := tx.CasbinRule.Delete().Where(casbinrule.Ptype(ptype), casbinrule.V0(sub))
	if ptype == "p" {
		del.Where(casbinrule.V1HasPrefix("scope."))
	}
	if _, err := del.Exec(sctx); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	for _, r := range rules {
		if err := createRule(sctx, tx.Client(), ptype, r); err != nil {
			return errors.Join(err, tx.Rollback())
		}
	}
	// Delivered at commit, to every process LISTENing (this one included).
	if _, err := tx.ExecContext(sctx, "SELECT pg_notify($1, $2)", notifyChannel, sub); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	return s.en.Reload()
}

// SetRoles replaces the roles of user id. Only an admin may grant or take away the
// Admin role.
func (s *Service) SetRoles(ctx context.Context, userID int, roles []string) error {
	if err := s.denied(ctx, "user.roles", idOf("user", userID), s.canManageUser(ctx, userID)); err != nil {
		return err
	}
	sub := subject(userID)
	var rules [][]string
	for _, r := range roles {
		if !slices.Contains(Roles, r) {
			return fmt.Errorf("%w: unknown role %q", ErrInvalid, r)
		}
		rules = append(rules, []string{sub, "role:" + r})
	}
	old := s.en.Roles(sub)
	if slices.Contains(roles, RoleAdmin) != slices.Contains(old, RoleAdmin) && !ScopeFromContext(ctx).All {
		return s.denied(ctx, "user.roles", idOf("user", userID), &PermissionError{Subject: actor(ctx), Action: viewer.UsersManage, Object: "role/admin"})
	}
	if _, err := s.user(ctx, userID); err != nil {
		return err
	}
	err := s.setRules(ctx, "g", sub, rules)
	s.audit(ctx, "user.roles", idOf("user", userID), err == nil, map[string]any{"roles": roles, "before": old})
	return err
}

// SetGrant replaces the scope of user id.
func (s *Service) SetGrant(ctx context.Context, userID int, g Grant) error {
	if err := s.denied(ctx, "user.scope", idOf("user", userID), s.canManageUser(ctx, userID)); err != nil {
		return err
	}
	if _, err := s.user(ctx, userID); err != nil {
		return err
	}
	err := s.setRules(ctx, "p", subject(userID), g.rules(subject(userID)))
	s.audit(ctx, "user.scope", idOf("user", userID), err == nil, map[string]any{
		"allQueues": g.AllQueues, "listenAll": g.ListenAll, "queues": g.Queues, "allGroups": g.AllGroups,
		"groups": g.GroupIDs, "allGroupOperators": g.AllGroupOperators, "operators": g.OperatorIDs,
	})
	return err
}

// user loads user id as the viewer sees it (so a scoped admin cannot reach others).
func (s *Service) user(ctx context.Context, id int) (*ent.User, error) {
	return s.client.User.Get(ctx, id)
}

func actor(ctx context.Context) string {
	if v, ok := viewer.FromContext(ctx); ok {
		return v.Actor()
	}
	if viewer.IsSystem(ctx) {
		return "system"
	}
	return "anonymous"
}
