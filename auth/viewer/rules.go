package viewer

import (
	"context"
	"fmt"
	"reflect"

	"entgo.io/ent"
	"entgo.io/ent/dialect/sql"
)

// Kind names an entity the rules know. The table names are ent's, fixed by ent/schema.
type Kind string

// The kinds with rules. Every ent schema installs Filter(kind) and Guard(kind).
const (
	KindServer               Kind = "Server"
	KindQueue                Kind = "Queue"
	KindOperator             Kind = "Operator"
	KindOperatorGroup        Kind = "OperatorGroup"
	KindTrunk                Kind = "Trunk"
	KindCall                 Kind = "Call"
	KindCallLeg              Kind = "CallLeg"
	KindQueueVisit           Kind = "QueueVisit"
	KindQueueAttempt         Kind = "QueueAttempt"
	KindOperatorStatusChange Kind = "OperatorStatusChange"
	KindUser                 Kind = "User"
	KindAPIToken             Kind = "APIToken"
	KindAuditLog             Kind = "AuditLog"
	KindPauseReason          Kind = "PauseReason"
	KindMissedCall           Kind = "MissedCall"
	// Sessions and casbin rules are only ever touched by the auth package itself.
	KindSession    Kind = "Session"
	KindCasbinRule Kind = "CasbinRule"
)

// readAction is the permission a viewer needs to read any row of a kind; the scope
// then narrows which rows. An empty action means system only.
var readAction = map[Kind]string{
	KindServer:               ServersRead,
	KindTrunk:                ServersRead,
	KindQueue:                QueuesRead,
	KindOperator:             OperatorsRead,
	KindOperatorGroup:        OperatorsRead,
	KindCall:                 CallsRead,
	KindCallLeg:              CallsRead,
	KindQueueVisit:           CallsRead,
	KindQueueAttempt:         CallsRead,
	KindOperatorStatusChange: StatusesRead,
	KindUser:                 UsersRead,
	KindAPIToken:             TokensManage,
	KindAuditLog:             AuditRead,
	// Pause reasons are configuration every operator's screen lists.
	KindPauseReason: QueuesRead,
	// Missed calls are the to-do list of the queues in scope; they are written only
	// by the workplace service (system context after its own permission checks).
	KindMissedCall: QueuesRead,
}

// writeAction is the permission a viewer needs to create, change or delete rows of a
// kind through ent. Kinds without one are written by the system only (calls come from
// the collector; sessions, rules and the audit log from package auth).
var writeAction = map[Kind]string{
	KindServer:        ConfigWrite,
	KindTrunk:         ConfigWrite,
	KindQueue:         ConfigWrite,
	KindOperator:      ConfigWrite,
	KindOperatorGroup: ConfigWrite,
	KindPauseReason:   ConfigWrite,
	KindUser:          UsersManage,
	KindAPIToken:      TokensManage,
}

type wherer interface {
	WhereP(...func(*sql.Selector))
}

// whererOf returns what adds storage-level predicates to q. Mutations have WhereP;
// generated queries only have a typed Where(...predicate.T), and this package cannot
// name those types (ent/schema imports it), so the predicate is converted to
// predicate.T — a func(*sql.Selector) underneath — by reflection.
func whererOf(q any) (wherer, bool) {
	if w, ok := q.(wherer); ok {
		return w, true
	}
	m := reflect.ValueOf(q).MethodByName("Where")
	if !m.IsValid() || !m.Type().IsVariadic() || m.Type().NumIn() != 1 {
		return nil, false
	}
	elem := m.Type().In(0).Elem()
	var f func(*sql.Selector)
	if !reflect.TypeOf(f).ConvertibleTo(elem) {
		return nil, false
	}
	return reflectWherer{m, elem}, true
}

type reflectWherer struct {
	where reflect.Value
	elem  reflect.Type
}

func (r reflectWherer) WhereP(ps ...func(*sql.Selector)) {
	for _, p := range ps {
		r.where.Call([]reflect.Value{reflect.ValueOf(p).Convert(r.elem)})
	}
}

// Filter returns the traverse interceptor that restricts every query of kind — a
// list, a node lookup, an edge traversal, a count — to the viewer in its context.
// Without a viewer (and without SystemContext) the query fails.
func Filter(kind Kind) ent.Interceptor {
	return ent.TraverseFunc(func(ctx context.Context, q ent.Query) error {
		if IsSystem(ctx) {
			return nil
		}
		v, ok := FromContext(ctx)
		if !ok {
			return ErrUnauthenticated
		}
		w, ok := whererOf(q)
		if !ok {
			return fmt.Errorf("viewer: %T cannot be filtered", q)
		}
		if kind == KindUser && !v.Allowed(UsersRead) {
			// Everyone may read their own user.
			w.WhereP(sql.FieldEQ("id", v.UserID))
			return nil
		}
		act, known := readAction[kind]
		if !known || !v.Allowed(act) {
			w.WhereP(func(s *sql.Selector) { s.Where(sql.False()) })
			return nil
		}
		if v.Scope.All {
			return nil
		}
		if p := scopePredicate(kind, v.Scope); p != nil {
			w.WhereP(p)
		}
		return nil
	})
}

// Guard returns the hook that lets a mutation of kind through only for the system or
// a viewer with the kind's write permission; a scoped viewer's updates and deletes
// are narrowed to the rows they may see.
func Guard(kind Kind) ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			if IsSystem(ctx) {
				return next.Mutate(ctx, m)
			}
			v, ok := FromContext(ctx)
			if !ok {
				return nil, ErrUnauthenticated
			}
			act := writeAction[kind]
			if act == "" || !v.Allowed(act) {
				if act == "" {
					act = "write"
				}
				return nil, &PermissionError{Subject: v.Actor(), Action: act, Object: string(kind)}
			}
			if !v.Scope.All && !m.Op().Is(ent.OpCreate) {
				if w, ok := whererOf(m); ok {
					if p := scopePredicate(kind, v.Scope); p != nil {
						w.WhereP(p)
					}
				}
			}
			return next.Mutate(ctx, m)
		})
	}
}

func ints(ids []int) []any {
	a := make([]any, len(ids))
	for i, id := range ids {
		a[i] = id
	}
	return a
}

// in is col IN (ids), or FALSE for no ids.
func in(col string, ids []int) *sql.Predicate {
	if len(ids) == 0 {
		return sql.False()
	}
	return sql.In(col, ints(ids)...)
}

// scopePredicate is the row filter of a restricted scope. Calls are visible through
// their queues: a call that visited an allowed queue is visible (its visits, legs and
// attempts in other queues are not); a call that visited no queue at all is visible
// when an allowed operator placed or answered it.
func scopePredicate(kind Kind, sc Scope) func(*sql.Selector) {
	Q, O := sc.QueueIDs, sc.OperatorIDs
	queueServers := func() *sql.Selector {
		t := sql.Table("queues")
		return sql.Select(t.C("server_id")).From(t).Where(in(t.C("id"), Q))
	}
	operatorServers := func() *sql.Selector {
		t := sql.Table("operators")
		return sql.Select(t.C("server_id")).From(t).Where(in(t.C("id"), O))
	}
	switch kind {
	case KindQueue:
		return func(s *sql.Selector) { s.Where(in(s.C("id"), Q)) }
	case KindOperator:
		return func(s *sql.Selector) { s.Where(in(s.C("id"), O)) }
	case KindOperatorGroup:
		return func(s *sql.Selector) { s.Where(in(s.C("id"), sc.GroupIDs)) }
	case KindServer:
		return func(s *sql.Selector) {
			s.Where(sql.Or(sql.In(s.C("id"), queueServers()), sql.In(s.C("id"), operatorServers())))
		}
	case KindTrunk:
		return func(s *sql.Selector) {
			s.Where(sql.Or(sql.In(s.C("server_id"), queueServers()), sql.In(s.C("server_id"), operatorServers())))
		}
	case KindCall:
		return func(s *sql.Selector) {
			v := sql.Table("queue_visits")
			inQueues := sql.Select(v.C("call_id")).From(v).Where(in(v.C("queue_id"), Q))
			anyVisit := sql.Select(v.C("call_id")).From(v).Where(sql.ColumnsEQ(v.C("call_id"), s.C("id")))
			s.Where(sql.Or(
				sql.In(s.C("id"), inQueues),
				sql.And(sql.NotExists(anyVisit), sql.Or(in(s.C("caller_operator_id"), O), in(s.C("answered_by_id"), O))),
			))
		}
	case KindQueueVisit, KindMissedCall:
		return func(s *sql.Selector) { s.Where(in(s.C("queue_id"), Q)) }
	case KindPauseReason:
		return func(s *sql.Selector) {
			s.Where(sql.Or(sql.IsNull(s.C("server_id")),
				sql.In(s.C("server_id"), queueServers()), sql.In(s.C("server_id"), operatorServers())))
		}
	case KindCallLeg, KindQueueAttempt:
		return func(s *sql.Selector) {
			s.Where(sql.Or(in(s.C("queue_id"), Q), sql.And(sql.IsNull(s.C("queue_id")), in(s.C("operator_id"), O))))
		}
	case KindOperatorStatusChange:
		return func(s *sql.Selector) {
			t := sql.Table("queues")
			numbers := sql.Select(t.C("number")).From(t).Where(in(t.C("id"), Q))
			s.Where(sql.And(in(s.C("operator_id"), O),
				sql.Or(sql.IsNull(s.C("queue")), sql.EQ(s.C("queue"), ""), sql.In(s.C("queue"), numbers))))
		}
	}
	// Users, tokens and the audit log are all-or-nothing by permission.
	return nil
}

// ScopePredicate is the row filter the rules apply to kind for a scope (nil when
// the scope is unrestricted), for code that reads as the system — after its own
// permission check — but must still show only what the scope covers (the operator
// workplace's caller history, for viewers without calls.read).
func ScopePredicate(kind Kind, sc Scope) func(*sql.Selector) {
	if sc.All {
		return nil
	}
	return scopePredicate(kind, sc)
}
