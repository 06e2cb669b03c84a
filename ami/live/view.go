package live

import (
	"context"
	"slices"
	"strconv"
)

// ScopeFunc returns what the viewer in ctx may see: allowQueue and allowOperator
// report whether a Linkage queue or operator id is in scope. A nil function allows
// everything of its kind. Items Linkage has no id for (0) are shown only to viewers
// with no restriction at all.
type ScopeFunc func(ctx context.Context) (allowQueue, allowOperator func(id int) bool)

// Scope is one viewer's resolved ScopeFunc.
type Scope struct {
	Queue, Operator func(id int) bool
}

// ScopeOf resolves f for ctx; a nil f allows everything.
func ScopeOf(ctx context.Context, f ScopeFunc) Scope {
	if f == nil {
		return Scope{}
	}
	q, o := f(ctx)
	return Scope{Queue: q, Operator: o}
}

func (s Scope) all() bool { return s.Queue == nil && s.Operator == nil }

// QueueAllowed reports whether queue id is in scope.
func (s Scope) QueueAllowed(id int) bool {
	return s.all() || id != 0 && (s.Queue == nil || s.Queue(id))
}

// OperatorAllowed reports whether operator id is in scope.
func (s Scope) OperatorAllowed(id int) bool {
	return s.all() || id != 0 && (s.Operator == nil || s.Operator(id))
}

// callAllowed: a call is visible through its queue or its operator.
func (s Scope) callAllowed(queueID, operatorID int) bool {
	if s.all() {
		return true
	}
	return queueID != 0 && (s.Queue == nil || s.Queue(queueID)) || operatorID != 0 && (s.Operator == nil || s.Operator(operatorID))
}

// Allowed reports whether the change is visible in this scope.
func (s Scope) Allowed(c *Change) bool {
	switch {
	case c.Queue != nil:
		return s.QueueAllowed(c.Queue.QueueID)
	case c.Operator != nil:
		return s.OperatorAllowed(c.Operator.OperatorID)
	case c.Call != nil:
		return s.callAllowed(c.Call.QueueID, c.Call.OperatorID)
	case c.Event != nil:
		return s.callAllowed(c.Event.QueueID, c.Event.OperatorID)
	}
	return s.all()
}

// OperatorFilter narrows the operator board.
type OperatorFilter struct {
	OperatorIDs []int
	// QueueNames keeps operators who are members of one of these queues.
	QueueNames []string
}

// CallFilter narrows active calls and call events.
type CallFilter struct {
	QueueIDs    []int
	OperatorIDs []int
	Kinds       []EventKind // call events only
}

func inIDs(ids []int, id int) bool { return len(ids) == 0 || slices.Contains(ids, id) }

// QueueFilter is the hub filter for queueStats(queueIds).
func QueueFilter(sc Scope, queueIDs []int) func(*Change) bool {
	return func(c *Change) bool {
		return c.Queue != nil && inIDs(queueIDs, c.Queue.QueueID) && sc.Allowed(c)
	}
}

// OperatorBoardFilter is the hub filter for operatorBoard(filter).
func OperatorBoardFilter(sc Scope, f *OperatorFilter) func(*Change) bool {
	return func(c *Change) bool {
		if c.Operator == nil || !sc.Allowed(c) {
			return false
		}
		if f == nil {
			return true
		}
		if !inIDs(f.OperatorIDs, c.Operator.OperatorID) {
			return false
		}
		if len(f.QueueNames) > 0 && !slices.ContainsFunc(c.Operator.Queues, func(q string) bool { return slices.Contains(f.QueueNames, q) }) {
			return false
		}
		return true
	}
}

// CallsFilter is the hub filter for activeCalls(filter) and callEvents(filter).
func CallsFilter(sc Scope, f *CallFilter) func(*Change) bool {
	return func(c *Change) bool {
		var qid, oid int
		switch {
		case c.Call != nil:
			qid, oid = c.Call.QueueID, c.Call.OperatorID
		case c.Event != nil:
			qid, oid = c.Event.QueueID, c.Event.OperatorID
			if f != nil && len(f.Kinds) > 0 && !slices.Contains(f.Kinds, c.Event.Kind) {
				return false
			}
		default:
			return false
		}
		if !sc.Allowed(c) {
			return false
		}
		if f == nil {
			return true
		}
		if len(f.QueueIDs) > 0 && len(f.OperatorIDs) > 0 {
			return slices.Contains(f.QueueIDs, qid) || slices.Contains(f.OperatorIDs, oid)
		}
		return inIDs(f.QueueIDs, qid) && inIDs(f.OperatorIDs, oid)
	}
}

// QueuesUpdate is one message of the queueStats subscription.
type QueuesUpdate struct {
	Snapshot bool
	Queues   []*QueueStats
}

// OperatorsUpdate is one message of the operatorBoard subscription.
type OperatorsUpdate struct {
	Snapshot  bool
	Operators []*OperatorState
}

// CallsUpdate is one message of the activeCalls subscription: calls new or changed,
// and calls that ended.
type CallsUpdate struct {
	Snapshot bool
	Calls    []*ActiveCall
	Ended    []*ActiveCall
}

// ToQueues converts hub changes (Watch's conv).
func ToQueues(chs []Change, snapshot bool) []*QueuesUpdate {
	u := &QueuesUpdate{Snapshot: snapshot, Queues: make([]*QueueStats, 0, len(chs))}
	for _, c := range chs {
		if c.Queue != nil {
			u.Queues = append(u.Queues, c.Queue)
		}
	}
	if !snapshot && len(u.Queues) == 0 {
		return nil
	}
	return []*QueuesUpdate{u}
}

// ToOperators converts hub changes (Watch's conv).
func ToOperators(chs []Change, snapshot bool) []*OperatorsUpdate {
	u := &OperatorsUpdate{Snapshot: snapshot, Operators: make([]*OperatorState, 0, len(chs))}
	for _, c := range chs {
		if c.Operator != nil {
			u.Operators = append(u.Operators, c.Operator)
		}
	}
	if !snapshot && len(u.Operators) == 0 {
		return nil
	}
	return []*OperatorsUpdate{u}
}

// ToCalls converts hub changes (Watch's conv).
func ToCalls(chs []Change, snapshot bool) []*CallsUpdate {
	u := &CallsUpdate{Snapshot: snapshot, Calls: []*ActiveCall{}, Ended: []*ActiveCall{}}
	for _, c := range chs {
		switch {
		case c.Removed && c.Call != nil:
			u.Ended = append(u.Ended, c.Call)
		case c.Call != nil:
			u.Calls = append(u.Calls, c.Call)
		}
	}
	if !snapshot && len(u.Calls)+len(u.Ended) == 0 {
		return nil
	}
	return []*CallsUpdate{u}
}

// ToEvents converts hub changes (Watch's conv): one message per call event.
func ToEvents(chs []Change, _ bool) []*CallEvent {
	out := make([]*CallEvent, 0, len(chs))
	for _, c := range chs {
		if c.Event != nil {
			out = append(out, c.Event)
		}
	}
	return out
}

// Items returns the values of a snapshot, for the *Now queries.
func Items[T any](chs []Change, get func(*Change) *T) []*T {
	out := make([]*T, 0, len(chs))
	for i := range chs {
		if v := get(&chs[i]); v != nil {
			out = append(out, v)
		}
	}
	return out
}

// Keyed is one message of a keyed Watch (ToEventsKeyed, KeyBatch): the value and a
// key naming exactly the hub versions it was converted from. Two messages with the
// same key were converted from the same changes by the same conversion, so they
// are equal; graph renders such a message once per (operation, scope) and sends the
// same bytes to every subscriber of that group.
type Keyed[T any] struct {
	Key   string
	Value T
}

// ToEventsKeyed is ToEvents with each event keyed by its version: one event is the
// same message whichever batch it came in.
func ToEventsKeyed(chs []Change, _ bool) []Keyed[*CallEvent] {
	out := make([]Keyed[*CallEvent], 0, len(chs))
	for _, c := range chs {
		if c.Event != nil {
			out = append(out, Keyed[*CallEvent]{Key: "e" + strconv.FormatUint(c.Seq, 36), Value: c.Event})
		}
	}
	return out
}

// KeyBatch wraps a board conversion (ToQueues, ToOperators, ToCalls: at most one
// message per batch) so its message is keyed by the batch: the snapshot flag and
// the versions of the changes in order. The subscriber's filter has already chosen
// the changes, so subscribers with different filters or scopes that see different
// items get different keys.
func KeyBatch[T any](conv func(chs []Change, snapshot bool) []T) func(chs []Change, snapshot bool) []Keyed[T] {
	return func(chs []Change, snapshot bool) []Keyed[T] {
		vs := conv(chs, snapshot)
		if len(vs) == 0 {
			return nil
		}
		b := make([]byte, 0, 2+len(chs)*6)
		if snapshot {
			b = append(b, 's')
		} else {
			b = append(b, 'u')
		}
		for i := range chs {
			b = append(b, '.')
			b = strconv.AppendUint(b, chs[i].Seq, 36)
		}
		key := string(b)
		out := make([]Keyed[T], len(vs))
		for i, v := range vs {
			out[i] = Keyed[T]{Key: key, Value: v}
			if len(vs) > 1 {
				out[i].Key = key + "#" + strconv.Itoa(i)
			}
		}
		return out
	}
}
