package workplace

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/lib/pq"

	"github.com/linkage/linkage/ami"
	"github.com/linkage/linkage/ami/assemble"
	"github.com/linkage/linkage/auth"
	"github.com/linkage/linkage/auth/viewer"
	"github.com/linkage/linkage/ent"
	"github.com/linkage/linkage/ent/call"
	"github.com/linkage/linkage/ent/missedcall"
	"github.com/linkage/linkage/ent/predicate"
	"github.com/linkage/linkage/ent/queue"
	"github.com/linkage/linkage/graph/model"
	"github.com/linkage/linkage/internal/callstore"
)

// MyWorkplaces are the viewer's workplaces: one per server where they work as an
// operator (none for a user linked to no operator).
func (s *Service) MyWorkplaces(ctx context.Context) ([]*model.Workplace, error) {
	ops, err := s.ownOperators(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*model.Workplace, 0, len(ops))
	for _, op := range ops {
		w, err := s.workplace(ctx, op)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, nil
}

func (s *Service) workplace(ctx context.Context, op *ent.Operator) (*model.Workplace, error) {
	srv, err := s.o.Client.Server.Get(sys(ctx), op.ServerID)
	if err != nil {
		return nil, fmt.Errorf("workplace: server %d: %w", op.ServerID, err)
	}
	// The queues the viewer may see (the data-layer scope applies).
	qs, err := s.o.Client.Queue.Query().Where(queue.ServerID(op.ServerID)).Order(ent.Asc(queue.FieldNumber)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("workplace: queues of server %d: %w", op.ServerID, err)
	}
	now := s.queuesNow(op.ServerID)
	w := &model.Workplace{Operator: op, Server: srv, Live: s.liveOperator(op), Queues: make([]*model.WorkplaceQueue, 0, len(qs))}
	for _, q := range qs {
		wq := &model.WorkplaceQueue{Queue: q}
		if lq := now[q.Number]; lq != nil {
			if m := memberIn(lq, op); m != nil {
				wq.Member, wq.Paused = true, m.Paused
				if m.Reason != "" {
					r := m.Reason
					wq.Reason = &r
				}
				st := m.Status
				wq.Status = &st
			}
		}
		w.Queues = append(w.Queues, wq)
	}
	if w.PauseReasons, err = s.PauseReasons(ctx, op.ServerID); err != nil {
		return nil, err
	}
	n, err := s.o.Client.MissedCall.Query().Where(missedcall.ServerID(op.ServerID), missedcall.StateEQ(missedcall.StateUnhandled)).Count(ctx)
	if err != nil {
		return nil, fmt.Errorf("workplace: missed calls of server %d: %w", op.ServerID, err)
	}
	w.UnhandledMissedCalls = n
	return w, nil
}

// maxList bounds list sizes asked for by clients.
const maxList = 1000

func bound(p *int, def int) int {
	n := def
	if p != nil {
		n = *p
	}
	return max(1, min(n, maxList))
}

// UnhandledMissedCalls lists the unhandled missed calls of the viewer's queues (or of
// queueIDs among them), oldest first.
func (s *Service) UnhandledMissedCalls(ctx context.Context, queueIDs []int, first *int) ([]*ent.MissedCall, error) {
	q := s.o.Client.MissedCall.Query().Where(missedcall.StateEQ(missedcall.StateUnhandled))
	if len(queueIDs) > 0 {
		q.Where(missedcall.QueueIDIn(queueIDs...))
	}
	out, err := q.Order(ent.Asc(missedcall.FieldMissedAt), ent.Asc(missedcall.FieldID)).Limit(bound(first, 100)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("workplace: unhandled missed calls: %w", err)
	}
	return out, nil
}

// MissedCallCountsNow counts the unhandled missed calls per queue of the viewer's
// scope (or of queueIDs among them).
func (s *Service) MissedCallCountsNow(ctx context.Context, queueIDs []int) (*model.MissedCallCounts, error) {
	if err := auth.Can(ctx, viewer.QueuesRead, "*"); err != nil {
		return nil, err
	}
	cond, args := auth.ScopeFromContext(ctx).SQLQueueFilter("queue_id", 1)
	q := `SELECT queue_id, count(*), min(missed_at) FROM missed_calls WHERE state = 'unhandled' AND queue_id IS NOT NULL AND ` + cond
	if len(queueIDs) > 0 {
		ids := make([]int64, len(queueIDs))
		for i, id := range queueIDs {
			ids[i] = int64(id)
		}
		args = append(args, pq.Array(ids))
		q += ` AND queue_id = ANY($` + strconv.Itoa(len(args)) + `)`
	}
	rows, err := s.o.DB.QueryContext(ctx, q+` GROUP BY queue_id ORDER BY queue_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("workplace: missed call counts: %w", err)
	}
	defer rows.Close()
	out := &model.MissedCallCounts{Queues: []*model.MissedCallCount{}}
	var ids []int
	for rows.Next() {
		var c model.MissedCallCount
		var oldest time.Time
		if err := rows.Scan(&c.QueueID, &c.Unhandled, &oldest); err != nil {
			return nil, fmt.Errorf("workplace: missed call counts: %w", err)
		}
		c.Oldest = &oldest
		out.Total += c.Unhandled
		out.Queues = append(out.Queues, &c)
		ids = append(ids, c.QueueID)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("workplace: missed call counts: %w", err)
	}
	if len(ids) > 0 {
		qs, err := s.o.Client.Queue.Query().Where(queue.IDIn(ids...)).All(ctx)
		if err != nil {
			return nil, fmt.Errorf("workplace: missed call counts: queues: %w", err)
		}
		byID := map[int]*ent.Queue{}
		for _, q := range qs {
			byID[q.ID] = q
		}
		for _, c := range out.Queues {
			c.Queue = byID[c.QueueID]
		}
	}
	return out, nil
}

// Attempts counts the unhandled missed calls from the same number on the same
// server that the viewer may see, this one included.
func (s *Service) Attempts(ctx context.Context, mc *ent.MissedCall) (int, error) {
	n, err := s.o.Client.MissedCall.Query().Where(missedcall.ServerID(mc.ServerID), missedcall.CallerNumber(mc.CallerNumber),
		missedcall.StateEQ(missedcall.StateUnhandled)).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("workplace: attempts of missed call %d: %w", mc.ID, err)
	}
	if mc.State == missedcall.StateHandled {
		n++ // "this one included" even once handled
	}
	return n, nil
}

// PreviousCalls are the customer's calls before this missed one, newest first.
func (s *Service) PreviousCalls(ctx context.Context, mc *ent.MissedCall, last *int) ([]*ent.Call, error) {
	return s.history(ctx, mc.ServerID, mc.CallerNumber, bound(last, 5), call.IDNEQ(mc.CallID))
}

// CallerHistory is the last calls from or to a number on a server, newest first: what
// a CRM screen-pop shows. Operators have no calls.read, so self.status also allows
// it; either way only calls visible in the viewer's queue scope come back.
func (s *Service) CallerHistory(ctx context.Context, serverID int, number string, last *int) ([]*ent.Call, error) {
	return s.history(ctx, serverID, number, bound(last, 10))
}

func (s *Service) history(ctx context.Context, serverID int, number string, n int, extra ...predicate.Call) ([]*ent.Call, error) {
	if err := auth.Can(ctx, viewer.CallsRead, "*"); err != nil {
		if err2 := auth.Can(ctx, viewer.SelfStatus, "*"); err2 != nil {
			return nil, err
		}
	}
	if number == "" {
		return []*ent.Call{}, nil
	}
	q := s.o.Client.Call.Query().Where(call.ServerID(serverID), call.Or(call.CallerNumber(number), call.CalleeNumber(number))).Where(extra...)
	// Read as the system (operators may not read calls through the rules), with the
	// rules' own call predicate for the viewer's scope.
	if p := viewer.ScopePredicate(viewer.KindCall, auth.ScopeFromContext(ctx)); p != nil {
		q.Where(predicate.Call(p))
	}
	out, err := q.Order(ent.Desc(call.FieldStart), ent.Desc(call.FieldID)).Limit(n).All(sys(ctx))
	if err != nil {
		return nil, fmt.Errorf("workplace: history of %s on server %d: %w", number, serverID, err)
	}
	return out, nil
}

// visibleMissed loads a missed call the viewer may see (the rules apply the scope),
// checking one of perms.
func (s *Service) visibleMissed(ctx context.Context, id int, perms ...string) (*ent.MissedCall, error) {
	var err error
	for _, p := range perms {
		if err = auth.Can(ctx, p, "*"); err == nil {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	mc, err := s.o.Client.MissedCall.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("workplace: missed call %d: %w", id, err)
	}
	return mc, nil
}

// CallBack calls the customer back from the viewer's own device: an Originate to
// the operator's phone that, once they answer, dials the customer. The call carries
// LINKAGE_CALLBACK=<missed call id> (and LINKAGE_CALLBACK_BY=<user id>), which the
// assembler always captures, so the stored callback handles the missed call when it
// was answered (internal/callstore); an answered outbound call to the number does
// too.
func (s *Service) CallBack(ctx context.Context, missedCallID int) (res *model.CallbackPayload, err error) {
	details := map[string]any{}
	defer func() { s.audit(ctx, "missed.callback", "missed_call/"+strconv.Itoa(missedCallID), err, details) }()
	mc, err := s.visibleMissed(ctx, missedCallID, viewer.SelfStatus)
	if err != nil {
		return nil, err
	}
	v, err := viewerOf(ctx)
	if err != nil {
		return nil, err
	}
	op, err := s.ownOperator(ctx, mc.ServerID)
	if err != nil {
		return nil, err
	}
	if op.Interface == "" {
		return nil, errorf(CodeBadInput, "your operator has no device interface to call from")
	}
	details["operator"], details["number"] = op.ID, mc.CallerNumber
	conn, err := s.conn(op.ServerID)
	if err != nil {
		return nil, err
	}
	actionID, err := conn.OriginateID(ctx, ami.OriginateRequest{
		Channel: op.Interface,
		Context: s.o.CallbackContext,
		Exten:   s.o.CallbackPrefix + mc.CallerNumber,
		Timeout: s.o.CallbackRing,
		Variables: []string{
			assemble.VarCallback + "=" + strconv.Itoa(mc.ID),
			assemble.VarCallbackBy + "=" + strconv.Itoa(v.UserID),
		},
	})
	if err != nil {
		return nil, refused("the callback", err)
	}
	details["action_id"] = actionID
	mc, err = s.o.Client.MissedCall.UpdateOneID(mc.ID).AddCallbackAttempts(1).SetLastCallbackAt(s.o.Now()).Save(sys(ctx))
	if err != nil {
		return nil, fmt.Errorf("workplace: missed call %d: callback attempt: %w", missedCallID, err)
	}
	return &model.CallbackPayload{MissedCall: mc, ActionID: actionID}, nil
}

// MarkHandled marks a missed call handled by the viewer, with the comment, and with
// it the other unhandled missed calls from the same number on the same server that
// the viewer may see: the customer was dealt with once.
func (s *Service) MarkHandled(ctx context.Context, id int, comment *string) (res *ent.MissedCall, err error) {
	details := map[string]any{}
	defer func() { s.audit(ctx, "missed.handled", "missed_call/"+strconv.Itoa(id), err, details) }()
	mc, err := s.visibleMissed(ctx, id, viewer.SelfStatus, viewer.QueuesMembership)
	if err != nil {
		return nil, err
	}
	v, err := viewerOf(ctx)
	if err != nil {
		return nil, err
	}
	if mc.State == missedcall.StateHandled {
		return mc, nil
	}
	u := s.o.Client.MissedCall.Update().Where(missedcall.ServerID(mc.ServerID), missedcall.CallerNumber(mc.CallerNumber),
		missedcall.StateEQ(missedcall.StateUnhandled))
	// Written as the system (missed calls are system-written); the scope stays.
	if p := viewer.ScopePredicate(viewer.KindMissedCall, auth.ScopeFromContext(ctx)); p != nil {
		u.Where(predicate.MissedCall(p))
	}
	u.SetState(missedcall.StateHandled).SetHandledHow(missedcall.HandledHowManual).SetHandledAt(s.o.Now()).SetHandledByID(v.UserID)
	if c := strOr(comment); c != "" {
		u.SetComment(c)
		details["comment"] = c
	}
	n, err := u.Save(sys(ctx))
	if err != nil {
		return nil, fmt.Errorf("workplace: mark missed call %d handled: %w", id, err)
	}
	details["handled"] = n
	if n > 0 {
		s.notify(ctx, mc.ServerID)
	}
	mc, err = s.o.Client.MissedCall.Get(sys(ctx), id)
	if err != nil {
		return nil, fmt.Errorf("workplace: missed call %d: %w", id, err)
	}
	return mc, nil
}

// notify announces a missed-call change to every process's subscriptions.
func (s *Service) notify(ctx context.Context, serverID int) {
	if _, err := s.o.DB.ExecContext(ctx, `SELECT pg_notify($1, $2)`, callstore.MissedNotifyChannel, strconv.Itoa(serverID)); err != nil {
		s.o.Logger.WarnContext(ctx, "workplace: notify missed calls", "err", err)
	}
}
