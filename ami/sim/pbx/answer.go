package pbx

import (
	"time"
)

// answer connects the caller with the winning leg, in the order of the a1/a2/a3
// captures: the answer, the cancelled legs, the queue leave, AgentConnect and the
// bridges.
func (p *PBX) answer(qc *qcall, w *leg) {
	t, q := qc.caller, qc.q
	w.m.ringing = false
	losers := make([]*leg, 0, len(qc.legs))
	for _, l := range qc.legs {
		if l != w {
			losers = append(losers, l)
		}
	}
	qc.legs = qc.legs[:0]
	qc.win = w
	holdTime := itoa(int(p.now.Sub(qc.joined) / time.Second))
	ringTime := itoa(int(p.now.Sub(w.started) / time.Second))
	w.m.inCall = true
	// Queue() sets these right after the caller leaves the queue (a1 #125-129).
	waitVars := func() {
		p.varSet(t, "QUEUEPOSITION", itoa(qc.pos))
		p.varSet(t, "QUEUEWAIT", holdTime)
		p.varSet(t, "QUEUEWAIT_MS", msStr(p.now.Sub(qc.joined)))
	}
	connect := func() {
		p.twoEv("AgentConnect", clAgent, t, w.ch, f("Queue", q.name), f("Interface", w.m.iface), f("MemberName", w.m.name),
			f("HoldTime", holdTime), f("RingTime", ringTime))
	}
	if w.two == nil {
		a := w.ch
		p.setState(a, stUp)
		p.twoEv("DialEnd", clCall, t, a, f("DialStatus", "ANSWER"))
		p.cancelLosers(t, losers, a)
		for _, l := range losers {
			p.dropLeg(l, 26)
		}
		p.chanEv("MusicOnHoldStop", clCall, t)
		p.leaveQueue(qc)
		waitVars()
		connect()
		b := p.bridgeCreate()
		p.bridgeEnter(b, a, nil)
		p.bridgeEnter(b, t, nil)
		qc.bridge, qc.agentCh, qc.phone = b, a, a
	} else {
		ph, one, two := w.phone, w.ch, w.two
		p.setState(ph, stUp)
		p.dialEndAnswer(two, ph)
		p.dialAnswered(two, ph, ph.device[len("PJSIP/"):])
		p.setState(one, stUp)
		p.twoEv("DialEnd", clCall, t, one, f("DialStatus", "ANSWER"))
		p.cancelLosers(t, losers, ph)
		p.setState(two, stUp)
		inner := p.bridgeCreate()
		p.chanEv("MusicOnHoldStop", clCall, t)
		p.leaveQueue(qc)
		waitVars()
		p.bridgeEnter(inner, ph, nil)
		p.bridgeEnter(inner, two, nil)
		for _, l := range losers {
			p.dropLeg(l, 26)
		}
		if t.connNum != ph.cidNum {
			p.connectedLine(t, ph.cidNum, ph.cidName) // a3: no other leg to cancel
		}
		connect()
		b := p.bridgeCreate()
		p.bridgeEnter(b, one, nil)
		p.bridgeEnter(b, t, nil)
		qc.bridge, qc.inner, qc.agentCh, qc.phone = b, inner, one, ph
		if !w.noOpt {
			// The Local pair optimises itself away half a second later (§3.a.3).
			p.after(520*time.Millisecond, func() {
				if !qc.ended && !one.dead && !ph.dead {
					p.optimize(one, two, ph, qc.bridge, inner, nil)
					qc.agentCh, qc.inner = ph, nil
				}
			})
		}
	}
	qc.answeredAt = p.now
	agentGone := func(int) { p.endTalk(qc, "agent") }
	qc.phone.onHangup = agentGone
	if w.two != nil {
		w.ch.onHangup, w.two.onHangup = agentGone, agentGone
	}
	p.planTalk(qc)
}

// cancelLosers writes app_queue's doubled DialEnd CANCEL for each losing leg. The
// caller's connected line switches to the winner between the two of the first
// loser (a1, a2, d1, e1).
func (p *PBX) cancelLosers(t *channel, losers []*leg, winner *channel) {
	for i, l := range losers {
		p.twoEv("DialEnd", clCall, t, l.ch, f("DialStatus", "CANCEL"))
		if i == 0 && t.connNum != winner.cidNum {
			p.connectedLine(t, winner.cidNum, winner.cidName)
		}
		p.twoEv("DialEnd", clCall, t, l.ch, f("DialStatus", "CANCEL"))
	}
	if len(losers) == 0 && winner.localDev == "" && t.connNum != winner.cidNum {
		p.connectedLine(t, winner.cidNum, winner.cidName)
	}
}

// optimize swaps the phone into the outer bridge in place of ;1 and hangs the Local
// pair up, as LocalOptimizationBegin/End in a3 and e1. Success is reported as "No"
// because Asterisk 20 does so for a successful swap (§4.3).
//
// then, when set, runs after LocalOptimizationEnd while ;2 is still in its bridge.
func (p *PBX) optimize(one, two, ph *channel, outer, inner *bridge, then func()) {
	m := ev("LocalOptimizationBegin", clCall, 50)
	m = appendSnap(m, "LocalOne", one)
	m = appendSnap(m, "LocalTwo", two)
	m = appendSnap(m, "Source", ph)
	p.emit(append(m, f("DestUniqueId", two.uid), f("Id", "0")))
	p.bridgeLeave(inner, ph)
	p.bridgeLeave(outer, one)
	p.bridgeEnter(outer, ph, one)
	m = ev("LocalOptimizationEnd", clCall, 34)
	m = appendSnap(m, "LocalOne", one)
	m = appendSnap(m, "LocalTwo", two)
	p.emit(append(m, f("Success", "No"), f("Id", "0")))
	if then != nil {
		then()
	}
	p.bridgeLeave(inner, two)
	p.dialDone(two, "ANSWER")
	p.hangupRequest(two, 16, true)
	p.hangupRequest(one, 16, false)
	p.hangup(two, 16)
	p.bridgeDestroy(inner)
	p.hangup(one, 16)
}

// planTalk schedules what happens after the answer: holds, a transfer or the end of
// the conversation.
func (p *PBX) planTalk(qc *qcall) {
	s := qc.spec
	talk := s.Talk
	if talk <= 0 {
		talk = 30 * time.Second
	}
	// Transfers are modelled from a phone that sits in the caller's bridge: a PJSIP
	// member, or a Local member after optimisation. Behind a Local /n pair the
	// transferee would be the ;2 half, which is not modelled.
	direct := qc.win.two == nil || !qc.win.noOpt
	if s.StopRecording > 0 {
		p.after(s.StopRecording, func() {
			if !qc.ended {
				p.stopMixMonitor(qc.caller)
			}
		})
	}
	// A phone behind a Local /n pair can hold too: without the /m option the Local
	// halves pass the HOLD indication on, so MOH still starts on the caller's channel
	// (core_unreal.c ast_unreal_indicate).
	for _, h := range s.Hold {
		p.after(h.After, func() {
			if qc.ended || qc.phone.dead {
				return
			}
			p.hold(qc.phone, qc.caller)
			p.after(h.For, func() {
				if !qc.ended && !qc.phone.dead {
					p.unhold(qc.phone, qc.caller)
				}
			})
		})
	}
	if s.Transfer != nil && s.Transfer.Abort {
		p.after(s.Transfer.After, func() {
			if qc.ended || qc.agentCh.dead {
				return
			}
			a, t := qc.agentCh, qc.caller
			p.chanEv("Hold", clCall, a)
			p.chanEv("MusicOnHoldStart", clCall, t, f("Class", "default"))
			p.after(2*time.Millisecond, func() {
				if !qc.ended {
					p.chanEv("Unhold", clCall, a)
					p.chanEv("MusicOnHoldStop", clCall, t)
				}
			})
		})
	} else if s.Transfer != nil && direct {
		tr := *s.Transfer
		p.after(tr.After, func() {
			if qc.ended || qc.agentCh.dead || qc.caller.dead {
				return
			}
			switch {
			case tr.Attended && tr.Refer:
				p.referAttendedTransfer(qc, tr)
			case tr.Attended:
				p.attendedTransfer(qc, tr)
			default:
				p.blindTransfer(qc, tr)
			}
		})
		return
	}
	p.after(talk, func() {
		if qc.ended {
			return
		}
		if s.AgentHangsUp {
			p.endTalk(qc, "agent")
		} else {
			p.endTalk(qc, "caller")
		}
	})
}

// stopMixMonitor is StopMixMonitor() or the AMI action: the only way Asterisk
// writes MixMonitorStop (a hangup ends the recording silently, §3.k).
func (p *PBX) stopMixMonitor(c *channel) bool {
	if !c.recording || c.dead {
		return false
	}
	c.recording = false
	p.chanEv("MixMonitorStop", clCall, c)
	return true
}

func (p *PBX) hold(holder, held *channel) {
	p.chanEv("Hold", clCall, holder, f("MusicClass", "default"))
	p.chanEv("MusicOnHoldStart", clCall, held, f("Class", "default"))
	held.held = true
	p.devChanged(held)
}

func (p *PBX) unhold(holder, held *channel) {
	p.chanEv("Unhold", clCall, holder)
	p.chanEv("MusicOnHoldStop", clCall, held)
	held.held = false
	p.devChanged(held)
}

func (p *PBX) agentComplete(qc *qcall, reason string) {
	t, w := qc.caller, qc.win
	talk := p.now.Sub(qc.answeredAt)
	p.twoEv("AgentComplete", clAgent, t, qc.agentCh, f("Queue", qc.q.name), f("Interface", w.m.iface), f("MemberName", w.m.name),
		f("HoldTime", itoa(int(qc.answeredAt.Sub(qc.joined)/time.Second))), f("TalkTime", itoa(int(talk/time.Second))), f("Reason", reason))
	m := w.m
	m.inCall = false
	p.countCall(m, qc.q)
	qc.q.completed++
	qc.q.holdSum += qc.answeredAt.Sub(qc.joined)
	qc.q.talkSum += talk
}

// countCall is app_queue's update_queue: the member's counters, in every queue that
// has the same interface when shared_lastcall is on.
func (p *PBX) countCall(m *member, q *queue) {
	upd := func(x *member) {
		x.calls++
		x.lastCall = p.now
		x.wrapUntil = p.now.Add(q.cfg.Wrapup)
	}
	if !p.cfg.SharedLastCall {
		upd(m)
		return
	}
	for _, oq := range p.qorder {
		for _, x := range oq.members {
			if x.iface == m.iface {
				upd(x)
			}
		}
	}
}

// endTalk ends an answered queue call from one side, in the orders of a1 (Local /n,
// caller), a2 (PJSIP, agent) and a3 (direct, caller).
func (p *PBX) endTalk(qc *qcall, who string) {
	if qc.ended {
		return
	}
	qc.ended = true
	t, a, b := qc.caller, qc.agentCh, qc.bridge
	if qc.inner == nil { // the phone is in the caller's bridge
		if who == "caller" {
			p.hangupRequest(t, 16, false)
			p.agentComplete(qc, "caller")
			p.bridgeLeave(b, t)
			p.queueTimes(qc)
			p.hangupRequest(t, 16, true)
			p.hangup(t, 16)
			p.bridgeLeave(b, a)
			p.bridgeDestroy(b)
			p.hangup(a, 16)
		} else {
			p.hangupRequest(a, 16, false)
			p.agentComplete(qc, "agent")
			p.bridgeLeave(b, a)
			p.bridgeLeave(b, t)
			p.queueTimes(qc)
			p.hangupRequest(t, 16, true)
			p.bridgeDestroy(b)
			p.hangup(a, 16)
			p.hangup(t, 16)
		}
		return
	}
	one, two, ph, inner := a, a.peer, qc.phone, qc.inner
	if who == "caller" {
		p.hangupRequest(t, 16, false)
		p.agentComplete(qc, "caller")
		p.bridgeLeave(b, t)
		p.queueTimes(qc)
		p.hangupRequest(t, 16, true)
		p.bridgeLeave(b, one)
		p.bridgeDestroy(b)
		p.hangupRequest(two, 16, false)
		p.hangup(one, 16)
		p.hangup(t, 16)
		p.bridgeLeave(inner, two)
		p.dialDone(two, "ANSWER")
		p.hangupRequest(two, 16, true)
		p.hangup(two, 16)
		p.bridgeLeave(inner, ph)
		p.bridgeDestroy(inner)
		p.hangup(ph, 16)
		return
	}
	// The operator hangs up behind a Local /n pair: the inner bridge goes first, then
	// ;1 hangs up towards app_queue, which sees a member hangup.
	p.hangupRequest(ph, 16, false)
	p.bridgeLeave(inner, ph)
	p.bridgeLeave(inner, two)
	p.bridgeDestroy(inner)
	p.dialDone(two, "ANSWER")
	p.hangupRequest(two, 16, true)
	p.hangup(ph, 16)
	p.hangupRequest(one, 16, false)
	p.agentComplete(qc, "agent")
	p.bridgeLeave(b, one)
	p.bridgeLeave(b, t)
	p.queueTimes(qc)
	p.hangupRequest(t, 16, true)
	p.bridgeDestroy(b)
	p.hangup(two, 16)
	p.hangup(one, 16)
	p.hangup(t, 16)
}
