package report

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"entgo.io/contrib/entgql"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/linkage/linkage/ent"
	"github.com/linkage/linkage/ent/call"
	"github.com/linkage/linkage/ent/callleg"
	"github.com/linkage/linkage/ent/predicate"
	"github.com/linkage/linkage/ent/queueattempt"
	"github.com/linkage/linkage/ent/queuevisit"
)

// CallsInput filters and sorts the call list. Every filter is optional.
type CallsInput struct {
	Period   PeriodInput   `json:"period"`
	TimeZone *string       `json:"timeZone"`
	Filter   *ReportFilter `json:"filter"`
	// Search matches part of the caller, callee, dialed or answering number, or a linkedid.
	Search      *string         `json:"search"`
	Statuses    []call.Status   `json:"statuses"`
	HangupBy    []call.HangupBy `json:"hangupBy"`
	Transferred *bool           `json:"transferred"`
	WaitMin     *int            `json:"waitMin"`
	WaitMax     *int            `json:"waitMax"`
	TalkMin     *int            `json:"talkMin"`
	TalkMax     *int            `json:"talkMax"`
	OrderBy     *ent.CallOrder  `json:"orderBy"`
}

// MaxPage bounds one page of the call list.
const MaxPage = 1000

// CallList is a page of the call list (a Relay connection, forward only).
type CallList struct {
	Edges    []*CallListEdge `json:"edges"`
	PageInfo ent.PageInfo    `json:"pageInfo"`
	count    func(ctx context.Context) (int, error)
}

// TotalCount counts every call that matches, on demand (it is the expensive part).
func (l *CallList) TotalCount(ctx context.Context) (int, error) { return l.count(ctx) }

// CallListEdge is one call of the list.
type CallListEdge struct {
	Node   *ent.Call  `json:"node"`
	Cursor ent.Cursor `json:"cursor"`
}

// CompactCalls is a page of the call list as tuples: the column names once, then one
// array per call in that order (times as Unix seconds). It is the form for large lists.
type CompactCalls struct {
	Columns  []string     `json:"columns"`
	Rows     [][]any      `json:"rows"`
	PageInfo ent.PageInfo `json:"pageInfo"`
}

// order is the list's sort column and direction.
type order struct {
	col  string
	desc bool
}

func callOrder(o *ent.CallOrder) order {
	out := order{col: "start", desc: true}
	if o == nil {
		return out
	}
	out.desc = o.Direction == entgql.OrderDirectionDesc
	if o.Field != nil {
		switch o.Field.String() {
		case "END":
			out.col = `"end"`
		case "WAIT":
			out.col = "wait_seconds"
		case "TALK":
			out.col = "talk_seconds"
		}
	}
	return out
}

func (o order) sql() string {
	d := "ASC"
	if o.desc {
		d = "DESC"
	}
	return fmt.Sprintf("calls.%s %s, calls.id %s", o.col, d, d)
}

// callCond builds the list's WHERE over the unaliased table "calls" (which is also how
// ent names it), scope included.
func (r *Reports) callCond(ctx context.Context, scope Scope, in CallsInput) (cond, span, error) {
	var c cond
	f := in.Filter.orEmpty()
	sp, err := r.period(ctx, in.Period, in.TimeZone, f.QueueIDs)
	if err != nil {
		return c, sp, err
	}
	c.and("calls.start >= ? AND calls.start < ?", sp.from, sp.to)
	const visited = "EXISTS (SELECT 1 FROM queue_visits v WHERE v.call_id = calls.id AND v.queue_id = %s)"
	scopeCond(&c, scope, visited, "calls.answered_by_id", "calls.caller_operator_id")
	if len(f.QueueIDs) > 0 {
		c.and(anyOf(visited), intsArg(f.QueueIDs))
	}
	if len(f.OperatorIDs) > 0 {
		c.and("calls.answered_by_id = ANY(?) OR calls.caller_operator_id = ANY(?)", intsArg(f.OperatorIDs), intsArg(f.OperatorIDs))
	}
	if len(f.GroupIDs) > 0 {
		c.and("calls.answered_by_id IN ("+groupMembers+") OR calls.caller_operator_id IN ("+groupMembers+")",
			intsArg(f.GroupIDs), intsArg(f.GroupIDs))
	}
	if len(f.ServerIDs) > 0 {
		c.and("calls.server_id = ANY(?)", intsArg(f.ServerIDs))
	}
	if len(f.TrunkIDs) > 0 {
		c.and("calls.trunk_id = ANY(?)", intsArg(f.TrunkIDs))
	}
	if len(f.Types) > 0 {
		c.and("calls.type = ANY(?)", stringsArg(enumStrings(f.Types)))
	}
	if len(in.Statuses) > 0 {
		c.and("calls.status = ANY(?)", stringsArg(enumStrings(in.Statuses)))
	}
	if len(in.HangupBy) > 0 {
		c.and("calls.hangup_by = ANY(?)", stringsArg(enumStrings(in.HangupBy)))
	}
	if in.Transferred != nil {
		c.and("calls.transferred = ?", *in.Transferred)
	}
	for _, rng := range []struct {
		v   *int
		pre string
	}{{in.WaitMin, "calls.wait_seconds >= ?"}, {in.WaitMax, "calls.wait_seconds <= ?"},
		{in.TalkMin, "calls.talk_seconds >= ?"}, {in.TalkMax, "calls.talk_seconds <= ?"}} {
		if rng.v != nil {
			c.and(rng.pre, *rng.v)
		}
	}
	if in.Search != nil && strings.TrimSpace(*in.Search) != "" {
		s := strings.TrimSpace(*in.Search)
		like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(s) + "%"
		c.and("calls.caller_number LIKE ? OR calls.callee_number LIKE ? OR calls.dialed LIKE ? OR calls.answered_by_number LIKE ? OR calls.linkedid = ?",
			like, like, like, like, s)
	}
	return c, sp, nil
}

func enumStrings[T ~string](v []T) []string {
	out := make([]string, len(v))
	for i, x := range v {
		out[i] = string(x)
	}
	return out
}

// keyset adds "after this cursor" for the order.
func keyset(c *cond, o order, after *ent.Cursor) {
	if after == nil {
		return
	}
	op := ">"
	if o.desc {
		op = "<"
	}
	if after.Value == nil {
		c.and("calls.id "+op+" ?", after.ID)
		return
	}
	c.and(fmt.Sprintf("(calls.%s, calls.id) %s (?, ?)", o.col, op), after.Value, after.ID)
}

func pageSize(first *int) (int, error) {
	n := 50
	if first != nil {
		n = *first
	}
	if n < 0 || n > MaxPage {
		return 0, inputErrorf("first must be between 0 and %d", MaxPage)
	}
	return n, nil
}

func cursorOf(c *ent.Call, o order) ent.Cursor {
	var v any
	switch o.col {
	case "start":
		v = c.Start
	case `"end"`:
		v = c.End
	case "wait_seconds":
		v = c.WaitSeconds
	case "talk_seconds":
		v = c.TalkSeconds
	}
	return ent.Cursor{ID: c.ID, Value: v}
}

// Calls returns a page of the call list, newest first unless ordered otherwise.
func (r *Reports) Calls(ctx context.Context, scope Scope, in CallsInput, first *int, after *ent.Cursor) (*CallList, error) {
	n, err := pageSize(first)
	if err != nil {
		return nil, err
	}
	c, _, err := r.callCond(ctx, scope, in)
	if err != nil {
		return nil, err
	}
	base := c
	o := callOrder(in.OrderBy)
	keyset(&c, o, after)
	list := &CallList{Edges: []*CallListEdge{}, count: func(ctx context.Context) (int, error) {
		return r.client.Call.Query().Where(predicate.Call(func(s *entsql.Selector) { s.Where(base.predicate()) })).Count(ctx)
	}}
	if n == 0 {
		return list, nil
	}
	calls, err := r.client.Call.Query().
		Where(predicate.Call(func(s *entsql.Selector) { s.Where(c.predicate()) })).
		Order(func(s *entsql.Selector) { s.OrderExpr(entsql.Expr(o.sql())) }).
		Limit(n + 1).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("report: calls: %w", err)
	}
	if len(calls) > n {
		calls = calls[:n]
		list.PageInfo.HasNextPage = true
	}
	list.PageInfo.HasPreviousPage = after != nil
	for _, cl := range calls {
		list.Edges = append(list.Edges, &CallListEdge{Node: cl, Cursor: cursorOf(cl, o)})
	}
	if k := len(list.Edges); k > 0 {
		list.PageInfo.StartCursor = &list.Edges[0].Cursor
		list.PageInfo.EndCursor = &list.Edges[k-1].Cursor
	}
	return list, nil
}

// CallsCompact is Calls as tuples (see CompactCalls).
func (r *Reports) CallsCompact(ctx context.Context, scope Scope, in CallsInput, first *int, after *ent.Cursor) (*CompactCalls, error) {
	n, err := pageSize(first)
	if err != nil {
		return nil, err
	}
	out := &CompactCalls{Columns: callColumnKeys(), Rows: [][]any{}}
	// The scan buffer is reused for the next row, so keep the cursor's values, not v.
	var last *ent.Cursor
	_, err = r.eachCall(ctx, scope, in, after, n+1, func(v []any) error {
		if len(out.Rows) == n {
			out.PageInfo.HasNextPage = true
			return nil
		}
		row := make([]any, len(callColumns)) // v ends with the sort key, not a column
		for i, x := range v[:len(callColumns)] {
			if t, ok := x.(time.Time); ok {
				x = t.Unix()
			}
			row[i] = x
		}
		out.Rows = append(out.Rows, row)
		last = &ent.Cursor{ID: int(v[0].(int64)), Value: v[len(v)-1]}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.PageInfo.HasPreviousPage = after != nil
	out.PageInfo.EndCursor = last
	return out, nil
}

// eachCall streams the matching calls in list order (limit 0: all of them) as values
// in callColumns order plus the sort key last, from one query's cursor.
func (r *Reports) eachCall(ctx context.Context, scope Scope, in CallsInput, after *ent.Cursor, limit int, fn func([]any) error) (span, error) {
	c, sp, err := r.callCond(ctx, scope, in)
	if err != nil {
		return sp, err
	}
	o := callOrder(in.OrderBy)
	keyset(&c, o, after)
	where, args := c.render(0)
	exprs := make([]string, 0, len(callColumns)+1)
	for _, col := range callColumns {
		exprs = append(exprs, col.expr)
	}
	exprs = append(exprs, "calls."+o.col)
	q := fmt.Sprintf("SELECT %s FROM calls%s WHERE %s ORDER BY %s", strings.Join(exprs, ", "), callJoins, where, o.sql())
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	rows, err := r.query(ctx, q, args...)
	if err != nil {
		return sp, fmt.Errorf("report: calls: %w", err)
	}
	defer rows.Close()
	vals := make([]any, len(exprs))
	ptrs := make([]any, len(exprs))
	for i := range ptrs {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return sp, fmt.Errorf("report: calls: %w", err)
		}
		for i, v := range vals {
			b, ok := v.([]byte)
			switch {
			case i < len(callColumns) && callColumns[i].list:
				var l []string
				if ok {
					if err := json.Unmarshal(b, &l); err != nil {
						return sp, fmt.Errorf("report: calls: %s: %w", callColumns[i].key, err)
					}
				}
				vals[i] = l
			case ok:
				vals[i] = string(b)
			}
		}
		if err := fn(vals); err != nil {
			return sp, err
		}
	}
	if err := rows.Err(); err != nil {
		return sp, fmt.Errorf("report: calls: %w", err)
	}
	return sp, nil
}

// CallJourney is one call with everything that happened to it.
type CallJourney struct {
	Call      *ent.Call           `json:"call"`
	Legs      []*ent.CallLeg      `json:"legs"`
	Visits    []*ent.QueueVisit   `json:"visits"`
	Attempts  []*ent.QueueAttempt `json:"attempts"`
	Transfers []*CallTransfer     `json:"transfers"`
}

// CallTransfer is one transfer, as the assembler saw it.
type CallTransfer struct {
	Type     string `json:"type"`
	By       string `json:"by"`
	To       string `json:"to"`
	Answered bool   `json:"answered"`
}

// Call returns one call's journey, or nil when it does not exist or is out of scope.
func (r *Reports) Call(ctx context.Context, scope Scope, id int) (*CallJourney, error) {
	var c cond
	c.and("calls.id = ?", id)
	scopeCond(&c, scope, "EXISTS (SELECT 1 FROM queue_visits v WHERE v.call_id = calls.id AND v.queue_id = %s)",
		"calls.answered_by_id", "calls.caller_operator_id")
	cl, err := r.client.Call.Query().
		Where(predicate.Call(func(s *entsql.Selector) { s.Where(c.predicate()) })).
		WithLegs(func(q *ent.CallLegQuery) { q.Order(ent.Asc(callleg.FieldRingAt), ent.Asc(callleg.FieldID)) }).
		WithVisits(func(q *ent.QueueVisitQuery) { q.Order(ent.Asc(queuevisit.FieldJoinedAt), ent.Asc(queuevisit.FieldID)) }).
		WithAttempts(func(q *ent.QueueAttemptQuery) {
			q.Order(ent.Asc(queueattempt.FieldRingStart), ent.Asc(queueattempt.FieldID))
		}).
		Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("report: call %d: %w", id, err)
	}
	j := &CallJourney{Call: cl, Legs: cl.Edges.Legs, Visits: cl.Edges.Visits, Attempts: cl.Edges.Attempts, Transfers: []*CallTransfer{}}
	for _, t := range cl.Transfers {
		j.Transfers = append(j.Transfers, &CallTransfer{Type: t.Type, By: t.By, To: t.To, Answered: t.Answered})
	}
	return j, nil
}
