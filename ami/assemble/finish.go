package assemble

import (
	"time"
)

// callType: a call is inbound when its first real channel is a trunk, outbound when a
// trunk was reached from an internal party, internal otherwise (reference §3.g: the
// direction is in no field).
func (a *Assembler) callType(c *callState) CallType {
	if c.origin != nil && c.origin.kind == KindTrunk {
		return Inbound
	}
	for _, r := range c.rings {
		if r.party.Device != "" && a.dir.channelKind(r.party.Device, "") == KindTrunk {
			return Outbound
		}
	}
	for _, ch := range c.chans {
		if ch.kind == KindTrunk && ch != c.origin {
			return Outbound
		}
	}
	if c.rec.Type != "" {
		return c.rec.Type
	}
	return Internal
}

// callee is whom the caller wanted: the answering party, else the first party rung,
// else the dialled extension. An unanswered queue call has no callee: it was for the
// queue, and the members it rang are in MissedByOperators.
func (a *Assembler) callee(c *callState) Party {
	if c.rec.AnsweredBy != nil {
		return *c.rec.AnsweredBy
	}
	if len(c.rec.Visits) > 0 {
		return Party{}
	}
	for _, r := range c.rings {
		if c.origin == nil || r.party.Device != c.origin.device {
			return r.party
		}
	}
	if c.origin != nil && c.origin.exten != "" && c.origin.exten != "s" && c.origin.kind != KindTrunk {
		return Party{Number: c.origin.exten}
	}
	return Party{}
}

// finish computes the record of a call whose last channel is gone and emits it.
func (a *Assembler) finish(c *callState, end time.Time) {
	for _, id := range append(c.rec.Linkedids, c.aliases...) {
		if a.calls[id] == c {
			delete(a.calls, id)
		}
	}
	r := &c.rec
	if end.Before(c.lastTime) {
		end = c.lastTime
	}
	if c.noClock && a.clock.After(end) {
		end = a.clock
	}
	r.End = end
	r.Type = a.callType(c)
	for _, ch := range c.chans {
		if ch.onHold {
			a.endHold(ch, end)
		}
	}

	// Caller and dialled number.
	if o := c.origin; o != nil {
		r.Caller = a.partyOf(o)
		switch {
		case r.Type == Outbound:
			for _, rg := range c.rings {
				if a.dir.channelKind(rg.party.Device, "") == KindTrunk {
					r.Dialed = rg.party.Number
					break
				}
			}
		case o.exten != "s":
			r.Dialed = o.exten
		}
		if r.Dialed == "" && o.exten != "s" {
			r.Dialed = o.exten
		}
	}
	r.Callee = a.callee(c)
	if r.Dialed == "" && r.Type != Inbound {
		r.Dialed = r.Callee.Number
	}

	// Answer, status, wait.
	if c.answered {
		t := c.answeredAt
		r.Answered = &t
		r.Status = StatusAnswered
	} else {
		r.Status = StatusMissed
	}
	for i := range r.Visits {
		v := &r.Visits[i]
		if v.Leave.IsZero() {
			v.Leave = end
			if c.answered && !c.answeredAt.Before(v.Join) {
				v.Leave = c.answeredAt
			}
		}
		if v.Result == "" {
			if c.answered && !c.answeredAt.Before(v.Join) && !v.Leave.Add(time.Second).Before(c.answeredAt) {
				// No AgentConnect (trimmed or filtered streams): the answer while the
				// caller was in the queue is the queue's answer.
				v.Result = ReasonAnswered
				if v.Leave.After(c.answeredAt) {
					v.Leave = c.answeredAt
				}
			} else {
				// Left the queue with neither an answer nor an abandon: exit digit,
				// redirect, or the queue events were filtered.
				v.Result = "transferred"
			}
			if v.WaitSeconds == 0 {
				v.WaitSeconds = secs(v.Leave.Sub(v.Join))
			}
		}
	}
	a.closeAttempts(c, "", end)
	if c.provisional > 0 && a.sawHangupRequest && !c.originReq {
		// QueueCallerAbandon with no HangupRequest from the caller in a stream that
		// carries them: the queue gave up, the caller did not (reference §3.c.1).
		if v := &r.Visits[c.provisional-1]; v.Result == ReasonAbandoned {
			v.Result = ReasonTimeout
		}
	}
	a.clearProvisional(c)

	// Queues, missed-in-queues.
	r.Queues, r.MissedInQueues = nil, nil
	for _, v := range r.Visits {
		if v.Queue == "" {
			continue
		}
		r.Queues = appendUnique(r.Queues, v.Queue)
	}
	for _, q := range r.Queues {
		ok := false
		for _, v := range r.Visits {
			if v.Queue == q && v.Result == ReasonAnswered {
				ok = true
			}
		}
		if !ok {
			r.MissedInQueues = append(r.MissedInQueues, q)
		}
	}

	if len(r.Visits) > 0 {
		for _, v := range r.Visits {
			r.WaitSeconds += v.WaitSeconds
			if v.Result == ReasonAnswered {
				break
			}
		}
	} else if c.answered {
		r.WaitSeconds = secs(c.answeredAt.Sub(r.Start))
	} else {
		r.WaitSeconds = secs(end.Sub(r.Start))
	}

	// Talk and hold.
	if c.answered {
		te := c.talkEnd
		if te.IsZero() || te.Before(c.answeredAt) {
			te = end
		}
		r.TalkSeconds = secs(te.Sub(c.answeredAt))
		if c.noClock {
			// Without timestamps the only durations are the ones Asterisk reports.
			r.TalkSeconds = 0
			for _, l := range r.Legs {
				r.TalkSeconds += l.TalkSeconds
			}
		}
	}
	r.HoldSeconds = secs(c.hold)
	if r.HoldSeconds > r.TalkSeconds && !c.noClock {
		r.HoldSeconds = r.TalkSeconds
	}
	r.TalkWithoutHoldSeconds = r.TalkSeconds - r.HoldSeconds
	if r.TalkWithoutHoldSeconds < 0 {
		r.TalkWithoutHoldSeconds = 0
	}
	for i := range r.Legs {
		l := &r.Legs[i]
		if l.End.IsZero() {
			l.End = end
		}
		if l.TalkSeconds == 0 && !c.noClock {
			l.TalkSeconds = secs(l.End.Sub(l.Answered))
		}
		if l.WaitSeconds == 0 && !l.RingStart.IsZero() {
			l.WaitSeconds = secs(l.Answered.Sub(l.RingStart))
		}
		l.TalkWithoutHoldSeconds = l.TalkSeconds - l.HoldSeconds
		if l.TalkWithoutHoldSeconds < 0 {
			l.TalkWithoutHoldSeconds = 0
		}
	}

	// Missed-by-operators: rung, never answered, not cancelled because a colleague
	// answered first.
	answeredBy := map[Party]bool{}
	for _, l := range r.Legs {
		answeredBy[l.Party] = true
	}
	for _, o := range r.Operators {
		answeredBy[o] = true
	}
	missed := func(p Party, cancelled bool) {
		if !a.isOperator(p) || answeredBy[p] || cancelled && c.answered {
			return
		}
		for _, m := range r.MissedByOperators {
			if m == p || m.Device != "" && m.Device == p.Device {
				return
			}
		}
		r.MissedByOperators = append(r.MissedByOperators, p)
	}
	for _, at := range r.Attempts {
		if at.Result != ReasonAnswered {
			missed(at.Operator, at.Result == ReasonCancelled)
		}
	}
	for _, rg := range c.rings {
		if rg.status != "ANSWER" && (c.origin == nil || rg.party.Device != c.origin.device) {
			missed(rg.party, rg.status == "CANCEL" || rg.status == "" || rg.status == "FORWARD")
		}
	}

	r.MissedReason = ""
	if !c.answered {
		r.MissedReason = a.missedReason(c)
	}
	r.HangupBy = a.hangupBy(c)
	if a.gap != nil && c.gapAffected && !r.Incomplete {
		r.Incomplete = true
		r.IncompleteReason = a.gap.reason()
	}
	if c.startedInGap && !r.Incomplete {
		r.Incomplete = true
		r.IncompleteReason = "started during a gap: " + a.gap.reason()
	}

	out := c.rec
	out.Linkedids = append([]string(nil), r.Linkedids...)
	a.emit(Output{Call: &out})
	a.note(Notification{Kind: Ended, Time: end, Linkedid: r.Linkedid, Caller: r.Caller, Party: r.Callee})
}

func appendUnique(xs []string, x string) []string {
	for _, y := range xs {
		if y == x {
			return xs
		}
	}
	return append(xs, x)
}

// missedReason explains an unanswered call. Queue outcomes come first (they are what the
// caller experienced last), then direct dials.
func (a *Assembler) missedReason(c *callState) string {
	if n := len(c.rec.Visits); n > 0 {
		res := c.rec.Visits[n-1].Result
		switch res {
		case ReasonAbandoned, ReasonTimeout, ReasonEmpty, ReasonFull, ReasonWithdrawn:
			return res
		}
		if c.originReq {
			return ReasonAbandoned
		}
		return ReasonFailed
	}
	return MissedReasonForDial(c.originDial, len(c.rings) > 0, c.originReq)
}

// MissedReasonForDial maps how a direct dial ended (DialEnd DialStatus of the caller's
// dial; "" when there was none) to a missed reason. dialled says whether anybody was
// rung at all; callerHungUp whether the caller's channel got a HangupRequest.
func MissedReasonForDial(status string, dialled, callerHungUp bool) string {
	switch status {
	case "CANCEL":
		return ReasonCancelled
	case "BUSY":
		return ReasonBusy
	case "NOANSWER":
		return ReasonNoAnswer
	case "CONGESTION", "CHANUNAVAIL", "DONTCALL", "TORTURE", "INVALIDARGS":
		return ReasonFailed
	}
	if callerHungUp {
		if dialled {
			return ReasonCancelled
		}
		return ReasonAbandoned
	}
	if dialled {
		return ReasonNoAnswer
	}
	return ReasonFailed
}

// hangupBy decides who ended the call. The order of evidence: the last HangupRequest of
// a talking party (the best signal, reference §3.l), AgentComplete's Reason, the first
// to leave the last two-party bridge, the first to hang up after an Asterisk 11 Unlink,
// and for unanswered calls the caller's HangupRequest or how the dial ended.
func (a *Assembler) hangupBy(c *callState) string {
	if c.answered {
		if c.lastReq != nil {
			return c.lastReqRole
		}
		switch c.agentReason {
		case "caller":
			if len(c.rec.Transfers) == 0 {
				return ByCaller
			}
		case "agent":
			if len(c.rec.Transfers) == 0 {
				return ByOperator
			}
		}
		if c.unlinkRole != "" {
			return c.unlinkRole
		}
		if c.leaverRole != "" {
			return c.leaverRole
		}
		switch c.agentReason {
		case "caller":
			return ByCaller
		case "agent":
			return ByOperator
		}
		// Nothing about the conversation's end: what ended the last dial decides (a
		// blind transfer whose target never answered, reference §3.d.1).
		if c.originDial != "" && c.originDial != "ANSWER" {
			return HangupByUnanswered(c.originReq, c.originDial, "")
		}
		return ByUnknown
	}
	return HangupByUnanswered(c.originReq, c.originDial, c.lastVisitResult())
}

func (c *callState) lastVisitResult() string {
	if n := len(c.rec.Visits); n > 0 {
		return c.rec.Visits[n-1].Result
	}
	return ""
}

// HangupByUnanswered decides who ended an unanswered call: the caller if its channel got
// a HangupRequest (or cancelled its dial, or abandoned a queue), the callee if it
// refused (busy), the system for timeouts and empty queues.
func HangupByUnanswered(callerHungUp bool, dialStatus, visitResult string) string {
	switch visitResult {
	case ReasonAbandoned:
		return ByCaller
	case ReasonTimeout, ReasonEmpty, ReasonFull, ReasonWithdrawn:
		if !callerHungUp {
			return BySystem
		}
	}
	if callerHungUp {
		return ByCaller
	}
	switch dialStatus {
	case "CANCEL":
		return ByCaller
	case "BUSY", "CONGESTION", "CHANUNAVAIL":
		return ByCallee
	case "NOANSWER":
		return BySystem
	}
	if visitResult != "" {
		return BySystem
	}
	return ByUnknown
}
