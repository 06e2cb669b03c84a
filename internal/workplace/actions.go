package workplace

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/linkage/linkage/ami/live"
	"github.com/linkage/linkage/auth"
	"github.com/linkage/linkage/auth/viewer"
	"github.com/linkage/linkage/ent"
	"github.com/linkage/linkage/ent/pausereason"
	"github.com/linkage/linkage/ent/queue"
	"github.com/linkage/linkage/graph/model"
)

// anyQueue is the pending key of a confirmation that any queue may bring (an
// operator the live state shows in no queue yet).
const anyQueue = "*"

// isMember says whether a live queue member is op: by the operator id the live
// directory resolved, else by device (the state interface or the interface).
func isMember(m *live.Member, op *ent.Operator) bool {
	if m.OperatorID != 0 {
		return m.OperatorID == op.ID
	}
	return op.Interface != "" && (strings.EqualFold(m.StateInterface, op.Interface) || strings.EqualFold(m.Interface, op.Interface))
}

func memberIn(q *live.QueueStats, op *ent.Operator) *live.Member {
	for i := range q.Members {
		if isMember(&q.Members[i], op) {
			return &q.Members[i]
		}
	}
	return nil
}

// liveOperator is op's live state now, nil before its server was seen.
func (s *Service) liveOperator(op *ent.Operator) *live.OperatorState {
	if s.o.Hub == nil {
		return nil
	}
	chs := s.o.Hub.Snapshot(live.TopicOperator, func(c *live.Change) bool {
		o := c.Operator
		return o != nil && o.Server == op.ServerID &&
			(o.OperatorID == op.ID || o.OperatorID == 0 && op.Interface != "" && strings.EqualFold(o.Interface, op.Interface))
	})
	if len(chs) == 0 {
		return nil
	}
	return chs[0].Operator
}

// queuesNow are the live queues of a server by name.
func (s *Service) queuesNow(serverID int) map[string]*live.QueueStats {
	out := map[string]*live.QueueStats{}
	if s.o.Hub == nil {
		return out
	}
	for _, c := range s.o.Hub.Snapshot(live.TopicQueue, func(c *live.Change) bool { return c.Queue != nil && c.Queue.Server == serverID }) {
		out[c.Queue.Name] = c.Queue
	}
	return out
}

// watch registers for the queue changes of a server before an action is sent, so
// that the confirming event cannot slip between the action and the wait. It returns
// the queues as they were at registration.
func (s *Service) watch(serverID int) (*live.Subscription, map[string]*live.QueueStats, error) {
	if s.o.Hub == nil {
		return nil, nil, errorf(CodeUnavailable, "live state is not available on this server")
	}
	sub, snap := s.o.Hub.Subscribe(live.TopicQueue, func(c *live.Change) bool { return c.Queue != nil && c.Queue.Server == serverID })
	if sub == nil {
		return nil, nil, errorf(CodeUnavailable, "live state is shutting down")
	}
	now := make(map[string]*live.QueueStats, len(snap))
	for _, c := range snap {
		now[c.Queue.Name] = c.Queue
	}
	return sub, now, nil
}

// confirm waits until every pending queue's next state satisfies its check (queues
// changed after the action was sent; a change that does not satisfy it yet keeps
// waiting). It gives up after ConfirmWait or when ctx ends: the action was accepted,
// only its echo was not seen.
func (s *Service) confirm(ctx context.Context, sub *live.Subscription, pending map[string]func(*live.QueueStats) bool) bool {
	timer := time.NewTimer(s.o.ConfirmWait)
	defer timer.Stop()
	for len(pending) > 0 {
		select {
		case <-sub.C():
		case <-timer.C:
			return false
		case <-ctx.Done():
			return false
		case <-s.o.Hub.Done():
			return false
		}
		for _, ch := range sub.Take() {
			q := ch.Queue
			if q == nil {
				continue
			}
			if f, ok := pending[q.Name]; ok && f(q) {
				delete(pending, q.Name)
			} else if f, ok := pending[anyQueue]; ok && f(q) {
				delete(pending, anyQueue)
			}
		}
	}
	return true
}

// queueOn loads a queue and checks it is on the operator's server.
func (s *Service) queueOn(ctx context.Context, queueID, serverID int) (*ent.Queue, error) {
	q, err := s.o.Client.Queue.Get(sys(ctx), queueID)
	if ent.IsNotFound(err) {
		return nil, errorf(CodeBadInput, "unknown queue %d", queueID)
	}
	if err != nil {
		return nil, fmt.Errorf("workplace: queue %d: %w", queueID, err)
	}
	if q.ServerID != serverID {
		return nil, errorf(CodeBadInput, "queue %d is on another server than the operator", queueID)
	}
	return q, nil
}

// queueIDs are the Linkage ids of a server's queues by name. The live state has them
// too, but only after its directory refresh; the table is the truth.
func (s *Service) queueIDs(ctx context.Context, serverID int) (map[string]int, error) {
	qs, err := s.o.Client.Queue.Query().Where(queue.ServerID(serverID)).All(sys(ctx))
	if err != nil {
		return nil, fmt.Errorf("workplace: queues of server %d: %w", serverID, err)
	}
	ids := make(map[string]int, len(qs))
	for _, q := range qs {
		ids[q.Number] = q.ID
	}
	return ids, nil
}

// PauseReasons are the enabled reasons of a server and the global ones, in order.
func (s *Service) PauseReasons(ctx context.Context, serverID int) ([]*ent.PauseReason, error) {
	rs, err := s.o.Client.PauseReason.Query().
		Where(pausereason.Enabled(true), pausereason.Or(pausereason.ServerIDIsNil(), pausereason.ServerID(serverID))).
		Order(ent.Asc(pausereason.FieldPosition), ent.Asc(pausereason.FieldName)).All(sys(ctx))
	if err != nil {
		return nil, fmt.Errorf("workplace: pause reasons of server %d: %w", serverID, err)
	}
	return rs, nil
}

func (s *Service) checkReason(ctx context.Context, serverID int, reason string) error {
	if reason == "" {
		return nil
	}
	rs, err := s.PauseReasons(ctx, serverID)
	if err != nil {
		return err
	}
	if len(rs) == 0 {
		return nil // no reasons configured: free text goes to Asterisk as it is
	}
	names := make([]string, len(rs))
	for i, r := range rs {
		if r.Name == reason {
			return nil
		}
		names[i] = r.Name
	}
	return errorf(CodeBadInput, "unknown pause reason %q: choose one of %s", reason, strings.Join(names, ", "))
}

// Pause pauses or resumes an operator (QueuePause with the reason) in one queue or
// in every queue they are a member of, and waits for Asterisk's QueueMemberPause.
func (s *Service) Pause(ctx context.Context, in model.PauseInput) (res *model.OperatorActionResult, err error) {
	action := "operator.pause"
	if !in.Paused {
		action = "operator.unpause"
	}
	reason := strOr(in.Reason)
	if !in.Paused {
		reason = "" // Asterisk keeps no reason for a member who works
	}
	details := map[string]any{"reason": reason}
	tgt := "operator"
	if in.OperatorID != nil {
		tgt = "operator/" + strconv.Itoa(*in.OperatorID)
	}
	defer func() { s.audit(ctx, action, tgt, err, details) }()

	var queueIDs []int
	if in.QueueID != nil {
		queueIDs = []int{*in.QueueID}
		details["queue"] = *in.QueueID
	}
	serverID := 0
	if in.ServerID != nil {
		serverID = *in.ServerID
	}
	t, err := s.actFor(ctx, in.OperatorID, serverID, queueIDs...)
	if err != nil {
		return nil, err
	}
	op := t.op
	tgt = opTarget(op)
	if err := s.checkReason(ctx, op.ServerID, reason); err != nil {
		return nil, err
	}
	var qname string
	if in.QueueID != nil {
		q, err := s.queueOn(ctx, *in.QueueID, op.ServerID)
		if err != nil {
			return nil, err
		}
		qname = q.Number
	}
	conn, err := s.conn(op.ServerID)
	if err != nil {
		return nil, err
	}
	sub, now, err := s.watch(op.ServerID)
	if err != nil {
		return nil, err
	}
	defer s.o.Hub.Unsubscribe(sub)
	// Which member interfaces to pause: the operator's membership in each queue (a
	// queue may know them as Local/1001@agents and another as PJSIP/1001).
	want := func(q *live.QueueStats) bool {
		m := memberIn(q, op)
		return m != nil && m.Paused == in.Paused && (reason == "" || m.Reason == reason)
	}
	pending := map[string]func(*live.QueueStats) bool{}
	type pauseCall struct{ queue, iface string }
	var calls []pauseCall
	seen := map[string]bool{}
	var ids map[string]int
	if !t.self && qname == "" {
		if ids, err = s.queueIDs(ctx, op.ServerID); err != nil {
			return nil, err
		}
	}
	for name, q := range now {
		if qname != "" && name != qname {
			continue
		}
		m := memberIn(q, op)
		if m == nil {
			continue
		}
		if !t.self && qname == "" {
			// For another operator, every queue the pause touches must be in scope
			// (by the Linkage id of its name; a queue Linkage does not know is in no
			// restricted scope: id 0 is denied).
			if err := auth.Can(ctx, viewer.QueuesMembership, "queue/"+strconv.Itoa(ids[name])); err != nil {
				return nil, err
			}
		}
		pending[name] = want
		if !seen[m.Interface] {
			seen[m.Interface] = true
			calls = append(calls, pauseCall{qname, m.Interface})
		}
	}
	if len(calls) == 0 {
		// The live state knows no membership (yet): let Asterisk decide.
		if op.Interface == "" {
			return nil, errorf(CodeBadInput, "operator %d has no device interface", op.ID)
		}
		calls = append(calls, pauseCall{qname, op.Interface})
		key := qname
		if key == "" {
			key = anyQueue
		}
		pending[key] = want
	}
	for _, c := range calls {
		if err := conn.QueuePause(ctx, c.queue, c.iface, in.Paused, reason); err != nil {
			return nil, refused("the pause", err)
		}
	}
	ok := s.confirm(ctx, sub, pending)
	details["confirmed"] = ok
	return &model.OperatorActionResult{Operator: op, Live: s.liveOperator(op), Confirmed: ok}, nil
}

// Join adds the operator's device to a queue (QueueAdd) and waits for QueueMemberAdded.
func (s *Service) Join(ctx context.Context, in model.MembershipInput) (res *model.OperatorActionResult, err error) {
	return s.membership(ctx, in, true)
}

// Leave removes the operator's device from a queue (QueueRemove) and waits for
// QueueMemberRemoved.
func (s *Service) Leave(ctx context.Context, in model.MembershipInput) (res *model.OperatorActionResult, err error) {
	return s.membership(ctx, in, false)
}

func (s *Service) membership(ctx context.Context, in model.MembershipInput, join bool) (res *model.OperatorActionResult, err error) {
	action := "queue.leave"
	if join {
		action = "queue.join"
	}
	details := map[string]any{"queue": in.QueueID}
	tgt := "operator"
	if in.OperatorID != nil {
		tgt = "operator/" + strconv.Itoa(*in.OperatorID)
	}
	defer func() { s.audit(ctx, action, tgt, err, details) }()

	// The queue's server is the operator's when the viewer acts for themselves.
	q, err := s.o.Client.Queue.Get(sys(ctx), in.QueueID)
	if ent.IsNotFound(err) {
		return nil, errorf(CodeBadInput, "unknown queue %d", in.QueueID)
	}
	if err != nil {
		return nil, fmt.Errorf("workplace: queue %d: %w", in.QueueID, err)
	}
	t, err := s.actFor(ctx, in.OperatorID, q.ServerID, q.ID)
	if err != nil {
		return nil, err
	}
	op := t.op
	tgt = opTarget(op)
	if q.ServerID != op.ServerID {
		return nil, errorf(CodeBadInput, "queue %d is on another server than operator %d", q.ID, op.ID)
	}
	conn, err := s.conn(op.ServerID)
	if err != nil {
		return nil, err
	}
	sub, now, err := s.watch(op.ServerID)
	if err != nil {
		return nil, err
	}
	defer s.o.Hub.Unsubscribe(sub)
	var check func(*live.QueueStats) bool
	if join {
		if op.Interface == "" {
			return nil, errorf(CodeBadInput, "operator %d has no device interface", op.ID)
		}
		penalty, paused := 0, false
		if in.Penalty != nil {
			penalty = *in.Penalty
		}
		if in.Paused != nil {
			paused = *in.Paused
		}
		details["penalty"], details["paused"] = penalty, paused
		if err := conn.QueueAdd(ctx, q.Number, op.Interface, op.Name, "", penalty, paused); err != nil {
			return nil, refused("joining the queue", err)
		}
		check = func(lq *live.QueueStats) bool { m := memberIn(lq, op); return m != nil && m.Paused == paused }
	} else {
		// Leave with the interface the queue knows the operator by.
		iface := op.Interface
		if lq := now[q.Number]; lq != nil {
			if m := memberIn(lq, op); m != nil {
				iface = m.Interface
			}
		}
		if iface == "" {
			return nil, errorf(CodeBadInput, "operator %d has no device interface", op.ID)
		}
		if err := conn.QueueRemove(ctx, q.Number, iface); err != nil {
			return nil, refused("leaving the queue", err)
		}
		check = func(lq *live.QueueStats) bool { return memberIn(lq, op) == nil }
	}
	ok := s.confirm(ctx, sub, map[string]func(*live.QueueStats) bool{q.Number: check})
	details["confirmed"] = ok
	return &model.OperatorActionResult{Operator: op, Live: s.liveOperator(op), Confirmed: ok}, nil
}
