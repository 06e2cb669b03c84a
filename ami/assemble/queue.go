package assemble

import (
	"strconv"
	"strings"
	"time"
)

func (a *Assembler) onQueueJoin(ev *evCtx) {
	ch := a.snapshot(ev, pNone)
	if ch == nil {
		return
	}
	c := ch.call
	c.rec.Visits = append(c.rec.Visits, QueueVisit{
		Queue:    a.intern(ev.get("Queue")),
		Join:     ev.t,
		Position: atoi(ev.get("Position")),
	})
	a.settleProvisional(c)
}

// settleProvisional: the caller doing anything after a QueueCallerAbandon (joining a
// queue, dialling) proves the abandon was a timeout.
func (a *Assembler) settleProvisional(c *callState) {
	if c.provisional == 0 {
		return
	}
	if v := &c.rec.Visits[c.provisional-1]; v.Result == ReasonAbandoned && !c.originReq {
		v.Result = ReasonTimeout
	}
	a.clearProvisional(c)
}

func (a *Assembler) onQueueLeave(ev *evCtx) {
	ch := a.snapshot(ev, pNone)
	if ch == nil {
		return
	}
	v := ch.call.visit(ev.get("Queue"), true)
	if v == nil {
		return
	}
	v.Leave = ev.t
	if v.Result == "" && v.WaitSeconds == 0 {
		v.WaitSeconds = secs(v.Leave.Sub(v.Join))
	}
}

// onQueueAbandon: app_queue sends QueueCallerAbandon for a caller hangup, a queue
// timeout, leavewhenempty, the n option and QueueWithdrawCaller alike (reference
// §3.c.1). A HangupRequest on the caller before it proves a real abandon; otherwise it is
// provisional until QUEUESTATUS or the caller's later activity says otherwise.
func (a *Assembler) onQueueAbandon(ev *evCtx) {
	ch := a.snapshot(ev, pNone)
	if ch == nil {
		return
	}
	c := ch.call
	q := ev.get("Queue")
	v := c.visit(q, true)
	if v == nil {
		// QueueCallerJoin was filtered out of the stream (cacofonisk fixtures): the
		// abandon itself says the caller was in the queue for HoldTime seconds.
		hold := atoi(ev.get("HoldTime"))
		c.rec.Visits = append(c.rec.Visits, QueueVisit{Queue: q, Join: ev.t.Add(-time.Duration(hold) * time.Second), Position: atoi(ev.get("OriginalPosition"))})
		v = &c.rec.Visits[len(c.rec.Visits)-1]
	}
	v.WaitSeconds = atoi(ev.get("HoldTime"))
	if ev.approx {
		v.Leave = ev.t
	}
	v.Result = ReasonAbandoned
	if !c.originReq || ch != c.origin {
		for i := range c.rec.Visits {
			if &c.rec.Visits[i] == v {
				a.setProvisional(c, i+1)
			}
		}
	}
	a.closeAttempts(c, q, ev.t)
}

// setProvisional marks visit i (1-based) as an abandon still to be confirmed; the
// assembler-wide count lets Feed skip Newexten events while nothing is pending.
func (a *Assembler) setProvisional(c *callState, i int) {
	if c.provisional == 0 {
		a.provisional++
	}
	c.provisional = i
}

func (a *Assembler) clearProvisional(c *callState) {
	if c.provisional != 0 {
		a.provisional--
	}
	c.provisional = 0
}

// queueStatus applies VarSet QUEUESTATUS, set by Queue() when it returns without an
// answer. JOINEMPTY and FULL come with no queue event at all (reference §3.c.3).
func (a *Assembler) queueStatus(ch *channel, val string, ev *evCtx) {
	c := ch.call
	var res string
	switch val {
	case "TIMEOUT":
		res = ReasonTimeout
	case "LEAVEEMPTY", "LEAVEUNAVAIL":
		res = ReasonEmpty
	case "WITHDRAW":
		res = ReasonWithdrawn
	case "JOINEMPTY", "JOINUNAVAIL", "FULL":
		r := ReasonEmpty
		if val == "FULL" {
			r = ReasonFull
		}
		c.rec.Visits = append(c.rec.Visits, QueueVisit{Queue: ch.queueApp, Join: ev.t, Leave: ev.t, Result: r})
		return
	default:
		return
	}
	if c.provisional > 0 {
		c.rec.Visits[c.provisional-1].Result = res
		a.clearProvisional(c)
		return
	}
	if v := c.visit(ch.queueApp, false); v != nil && v.Result != ReasonAnswered {
		v.Result = res
	}
}

func (a *Assembler) closeAttempts(c *callState, queue string, t time.Time) {
	for i := range c.rec.Attempts {
		at := &c.rec.Attempts[i]
		if at.Result == "" && (queue == "" || at.Queue == queue) {
			at.Result = ReasonCancelled
			at.RingEnd = t
			at.RingSeconds = secs(t.Sub(at.RingStart))
		}
	}
}

// agentEvent resolves the caller and member channels of an Agent* event in both the
// 12+ shape (snapshots) and the 11 shape (Uniqueid + member channel name).
func (a *Assembler) agentEvent(ev *evCtx) (caller, member *channel, iface, name string) {
	caller = a.snapshot(ev, pNone)
	if caller == nil {
		return
	}
	member = a.snapshot(ev, pDest)
	iface = ev.get("Interface")
	name = ev.get("MemberName")
	if member == nil {
		// Asterisk 11: AgentCalled has DestinationChannel + AgentCalled/AgentName,
		// AgentConnect has BridgedChannel (uniqueid) + Member, AgentComplete Channel.
		if u := ev.get("BridgedChannel"); u != "" {
			member = a.chans[u]
		}
		if member == nil {
			n := ev.get("DestinationChannel")
			if n == "" {
				n = ev.get("Channel")
			}
			member = a.names[n]
		}
		if iface == "" {
			iface = ev.get("AgentCalled")
			if iface == "" {
				iface = ev.get("Member")
			}
		}
		if name == "" {
			name = ev.get("AgentName")
		}
	}
	if member != nil && member.call != caller.call {
		a.merge(member.call, caller.call, ev)
	}
	return
}

func (a *Assembler) operatorParty(iface, name string, member *channel) Party {
	if op := a.dir.byDevice[iface]; op != nil {
		p := Party{Number: op.Exten, Name: op.Name, Device: op.Device}
		if p.Name == "" && !strings.Contains(name, "/") {
			p.Name = name
		}
		return p
	}
	if member != nil {
		member = a.realOf(member)
	}
	if member != nil && member.kind != KindLocal {
		p := a.partyOf(member)
		// Asterisk 11 member names are often the interface itself: not a name.
		if p.Name == "" && !strings.Contains(name, "/") {
			p.Name = name
		}
		return p
	}
	num := iface
	if len(iface) > 6 && iface[:6] == "Local/" {
		num = localExten(iface)
	} else {
		num = resourceOf(iface)
	}
	if strings.Contains(name, "/") {
		name = ""
	}
	return Party{Number: num, Name: name}
}

func (a *Assembler) findAttempt(c *callState, member *channel, queue, iface string, open bool) *QueueAttempt {
	if member != nil && member.attempt > 0 && int(member.attempt) <= len(c.rec.Attempts) {
		return &c.rec.Attempts[member.attempt-1]
	}
	for i := len(c.rec.Attempts) - 1; i >= 0; i-- {
		at := &c.rec.Attempts[i]
		if at.Queue == queue && at.Interface == iface && (!open || at.Result == "") {
			return at
		}
	}
	return nil
}

func (a *Assembler) onAgentCalled(ev *evCtx) {
	caller, member, iface, name := a.agentEvent(ev)
	if caller == nil {
		return
	}
	a.dir.learn(iface, "", name)
	c := caller.call
	q := ev.get("Queue")
	p := a.operatorParty(iface, name, member)
	c.rec.Attempts = append(c.rec.Attempts, QueueAttempt{Queue: a.intern(q), Operator: p, Interface: a.intern(iface), RingStart: ev.t})
	if member != nil {
		member.attempt = int32(len(c.rec.Attempts))
	}
	if c.visit(q, false) == nil {
		// No QueueCallerJoin in the stream (filtered captures): the attempt proves the
		// visit.
		c.rec.Visits = append(c.rec.Visits, QueueVisit{Queue: q, Join: ev.t})
	}
	a.note(Notification{Kind: Ringing, Time: ev.t, Linkedid: c.id(), Caller: a.partyOf(c.origin), Party: p, Queue: q})
}

func (a *Assembler) onAgentEnd(ev *evCtx, result string) {
	caller, member, iface, _ := a.agentEvent(ev)
	if caller == nil {
		return
	}
	at := a.findAttempt(caller.call, member, ev.get("Queue"), iface, true)
	if at == nil {
		return
	}
	if at.Result == "" || at.Result == ReasonCancelled {
		at.Result = result
	}
	at.RingEnd = ev.t
	if rt := ev.get("RingTime"); rt != "" && result == "noanswer" {
		// AgentRingNoAnswer's RingTime is milliseconds (reference §3.b.1).
		ms, _ := strconv.Atoi(rt)
		at.RingSeconds = (ms + 500) / 1000
	} else {
		at.RingSeconds = secs(ev.t.Sub(at.RingStart))
	}
}

func (a *Assembler) onAgentConnect(ev *evCtx) {
	caller, member, iface, name := a.agentEvent(ev)
	if caller == nil {
		return
	}
	c := caller.call
	q := ev.get("Queue")
	hold := atoi(ev.get("HoldTime"))
	v := c.visit(q, false)
	if v == nil {
		c.rec.Visits = append(c.rec.Visits, QueueVisit{Queue: q, Join: ev.t.Add(-time.Duration(hold) * time.Second)})
		v = &c.rec.Visits[len(c.rec.Visits)-1]
	}
	if ev.approx {
		base := v.Join
		if base.IsZero() || base.Before(c.rec.Start) {
			base = c.rec.Start
		}
		a.advance(ev, base.Add(time.Duration(hold)*time.Second))
		if v.Leave.IsZero() {
			v.Leave = ev.t
		}
	}
	v.Result = ReasonAnswered
	v.WaitSeconds = hold
	at := a.findAttempt(c, member, q, iface, false)
	p := a.operatorParty(iface, name, member)
	if at != nil {
		// AgentCalled may have named only the Local member; by now the phone is known.
		if at.Operator.Device == "" {
			at.Operator = p
		}
		at.Result = ReasonAnswered
		at.RingEnd = ev.t
		at.RingSeconds = atoi(ev.get("RingTime")) // seconds here, unlike AgentRingNoAnswer
	}
	a.closeAttempts(c, q, ev.t)
	// The leg may already exist from the phone's answer (DialEnd ANSWER / Newstate Up
	// seen through the Local pair); AgentConnect adds the queue and the wait.
	var leg *Leg
	for i := range c.rec.Legs {
		l := &c.rec.Legs[i]
		if l.Queue == "" && (l.Party.Device != "" && l.Party.Device == p.Device || l.Party.Number == p.Number) {
			leg = l
			break
		}
	}
	if leg == nil {
		c.rec.Legs = append(c.rec.Legs, Leg{Party: p, Answered: ev.t})
		leg = &c.rec.Legs[len(c.rec.Legs)-1]
		if member != nil && member.leg == 0 {
			member.leg = int32(len(c.rec.Legs))
		}
	}
	leg.Queue = q
	leg.WaitSeconds = hold
	if at != nil {
		leg.RingStart = at.RingStart
	}
	if !c.answered {
		c.answered = true
		c.answeredAt = ev.t
		c.rec.AnsweredBy = &p
		a.note(Notification{Kind: Answered, Time: ev.t, Linkedid: c.id(), Caller: a.partyOf(c.origin), Party: p, Queue: q})
	}
	if member != nil {
		member.answered = true
	}
	a.addOperator(c, p)
}

func (a *Assembler) onAgentComplete(ev *evCtx) {
	caller, member, iface, name := a.agentEvent(ev)
	if caller == nil {
		return
	}
	c := caller.call
	p := a.operatorParty(iface, name, member)
	talk := atoi(ev.get("TalkTime"))
	for i := range c.rec.Legs {
		l := &c.rec.Legs[i]
		if l.Queue == ev.get("Queue") && (l.Party.Device == p.Device && p.Device != "" || l.Party.Number == p.Number) {
			l.TalkSeconds = talk
			if ev.approx {
				a.advance(ev, l.Answered.Add(time.Duration(talk)*time.Second))
				l.End = ev.t
			}
			break
		}
	}
	c.agentReason = ev.get("Reason")
}

// onMember handles queue member events: they teach the directory who the operators are
// and drive the live operator status.
func (a *Assembler) onMember(ev *evCtx) {
	iface := ev.get("Interface")
	if iface == "" {
		iface = ev.get("Location") // QueueMember list items
	}
	si := ev.get("StateInterface")
	name := ev.get("MemberName")
	if name == "" {
		name = ev.get("Name")
	}
	a.dir.learn(iface, si, name)
	q := ev.get("Queue")
	status := atoi(ev.get("Status"))
	paused := ev.get("Paused") == "1"
	reason := ev.get("PausedReason")
	var packed uint64 = uint64(status) << 1
	if paused {
		packed |= 1
	}
	// The key is built in each expression so that the lookup of a repeat (the usual
	// case: polling lists every member again) does not allocate it.
	if ev.e.Name == "QueueMemberRemoved" {
		delete(a.opState, q+"\x00"+iface)
		packed = 1 << 40
	} else if old, ok := a.opState[q+"\x00"+iface]; ok && old == packed && ev.e.Name != "QueueMemberPause" {
		return
	} else {
		a.opState[q+"\x00"+iface] = packed
	}
	a.note(Notification{Kind: OperatorStatus, Time: ev.t, Queue: q, Interface: iface,
		Party: a.operatorParty(iface, name, nil), Status: status, Paused: paused, Reason: reason})
}
