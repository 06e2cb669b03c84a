package pbx

import "time"

// blindTransfer is the d1 capture (the agent's phone sends REFER) or, with DTMF, the
// d2 capture (features blindxfer: the caller hears MOH while the agent keys the
// number). The caller leaves the queue bridge and dials the target from from-internal.
func (p *PBX) blindTransfer(qc *qcall, tr Transfer) {
	t, a := qc.caller, qc.agentCh
	if tr.DTMF {
		p.chanEv("Hold", clCall, a)
		p.chanEv("MusicOnHoldStart", clCall, t, f("Class", "default"))
		p.after(1403*time.Millisecond, func() { // digit collection
			if qc.ended || t.dead || a.dead {
				return
			}
			p.blindTransferDone(qc, tr)
		})
		return
	}
	p.blindTransferDone(qc, tr)
}

func (p *PBX) blindTransferDone(qc *qcall, tr Transfer) {
	qc.ended = true
	t, a, b := qc.caller, qc.agentCh, qc.bridge
	p.chanEv("Unhold", clCall, a)
	p.varSet(t, "BLINDTRANSFER", a.name)
	p.varSet(a, "BLINDTRANSFER", t.name)
	if tr.DTMF {
		p.chanEv("MusicOnHoldStop", clCall, t)
	}
	m := ev("BlindTransfer", clCall, 50)
	m = append(m, f("Result", "Success"))
	m = appendSnap(m, "Transferer", a)
	m = appendSnap(m, "Transferee", t)
	m = bridgeFields(m, "", b)
	ext := "Yes"
	if tr.DTMF {
		ext = "No"
	}
	p.emit(append(m, f("IsExternal", ext), f("Context", "from-internal"), f("Extension", tr.Target)))
	// AgentComplete comes from app_queue's own thread: before the transferer's
	// BridgeLeave in d1, after it in d2 (§4.4). The caller's new dialplan location
	// shows in AgentComplete in d1 but only from its BridgeLeave on in d2. Either
	// order is real.
	goTarget := func() {
		t.context, t.exten, t.app, t.appData = "from-internal", tr.Target, "Dial", "PJSIP/"+tr.Target+",20,tT"
	}
	if tr.DTMF {
		p.bridgeLeave(b, a)
		p.agentComplete(qc, "transfer")
		goTarget()
	} else {
		goTarget()
		p.agentComplete(qc, "transfer")
		p.bridgeLeave(b, a)
	}
	p.bridgeLeave(b, t)
	p.bridgeDestroy(b)
	p.hangup(a, 16)
	p.newexten(t, 1, "NoOp", "Transfer target")
	p.newexten(t, 2, "Dial", t.appData)
	p.dialAndTalk(t, tr.Target, tr.TargetAnswer, tr.Talk)
}

// dialAndTalk makes caller dial an internal extension from the dialplan; the target
// answers after ring and the caller hangs up after talk.
func (p *PBX) dialAndTalk(caller *channel, target string, ring, talk time.Duration) {
	p.dialStart(caller)
	x := p.newPJSIP(target, caller, false)
	p.newchannel(x)
	p.varSet(x, "DIALEDPEERNUMBER", target)
	p.dialLine(caller, x, target)
	p.after(4*time.Millisecond, func() {
		if x.dead || caller.dead {
			return
		}
		p.setState(x, stRinging)
		p.twoEv("DialState", clCall, caller, x, f("DialStatus", "RINGING"))
	})
	caller.onHangup = func(cause int) {
		p.hangupRequest(caller, cause, false)
		p.twoEv("DialEnd", clCall, caller, x, f("DialStatus", "CANCEL"))
		p.hangup(x, 0)
		p.dialDone(caller, "CANCEL")
		p.hangup(caller, cause)
	}
	x.onHangup = func(cause int) { p.calleeGone(caller, x, cause) }
	p.after(max(ring, 10*time.Millisecond), func() {
		if x.dead || caller.dead {
			return
		}
		p.setState(x, stUp)
		p.dialEndAnswer(caller, x)
		p.dialAnswered(caller, x, target)
		if caller.state != stUp {
			p.setState(caller, stUp)
		}
		caller.onHangup = func(cause int) {
			p.hangupRequest(caller, cause, false)
			p.endBridged(caller, x, x.bridge)
		}
		b := p.bridgeCreate()
		p.bridgeEnter(b, x, nil)
		p.bridgeEnter(b, caller, nil)
		x.onHangup = func(cause int) {
			p.hangupRequest(x, cause, false)
			p.endBridgedCallee(caller, x, b)
		}
		p.after(max(talk, time.Second), func() {
			if caller.dead || x.dead {
				return
			}
			p.hangupRequest(caller, 16, false)
			p.endBridged(caller, x, b)
		})
	})
}

// endBridged ends a two-party call after the caller's HangupRequest (g1/d1 order).
func (p *PBX) endBridged(caller, callee *channel, b *bridge) {
	p.bridgeLeave(b, caller)
	p.dialDone(caller, "ANSWER")
	p.hangupRequest(caller, 16, true)
	p.bridgeLeave(b, callee)
	p.bridgeDestroy(b)
	p.hangup(caller, 16)
	p.hangup(callee, 16)
}

// endBridgedCallee ends a two-party call after the callee's HangupRequest (f1 order).
func (p *PBX) endBridgedCallee(caller, callee *channel, b *bridge) {
	p.bridgeLeave(b, callee)
	p.hangup(callee, 16)
	p.bridgeLeave(b, caller)
	p.bridgeDestroy(b)
	p.dialDone(caller, "ANSWER")
	p.hangupRequest(caller, 16, true)
	p.hangup(caller, 16)
}

// attendedTransfer is the e1 capture: atxfer DTMF, a Local consultation leg to the
// target, the agent hangs up to complete, the bridges merge and the Local pair
// optimises away.
//
// Hangups from outside during the consultation (AMI Hangup) follow bridge_basic.c's
// state machine as far as it matters for the stream: the agent hanging up completes
// the transfer (at once, or as soon as the target answers); the caller hanging up ends
// the queue call (AgentComplete Reason=caller) and later the agent's consultation; a
// consultation leg hanging up aborts the transfer and returns the agent to the caller.
func (p *PBX) attendedTransfer(qc *qcall, tr Transfer) {
	t, a, b1 := qc.caller, qc.agentCh, qc.bridge
	var one, two, x *channel
	var b2, b3 *bridge
	answered, agentGone, done := false, false, false

	t.onHangup = func(cause int) {
		if qc.ended {
			return
		}
		qc.ended = true
		p.hangupRequest(t, cause, false)
		p.agentComplete(qc, "caller")
		p.bridgeLeave(b1, t)
		if a.bridge == b1 { // the consultation leg does not exist yet
			p.bridgeLeave(b1, a)
			p.bridgeDestroy(b1)
			p.hangup(t, cause)
			p.hangup(a, 16)
			return
		}
		p.bridgeDestroy(b1)
		p.hangup(t, cause)
	}
	// endConsult: the caller is gone; the agent hangs up on the consultation.
	endConsult := func() {
		done = true
		p.hangupRequest(a, 16, false)
		p.bridgeLeave(b2, a)
		p.hangup(a, 16)
		p.bridgeLeave(b2, one)
		p.bridgeDestroy(b2)
		p.hangupRequest(two, 16, false)
		p.hangup(one, 16)
		if b3 == nil {
			p.twoEv("DialEnd", clCall, two, x, f("DialStatus", "CANCEL"))
			p.hangup(x, 0)
			p.hangup(two, 16)
			return
		}
		p.bridgeLeave(b3, two)
		p.hangup(two, 16)
		p.bridgeLeave(b3, x)
		p.bridgeDestroy(b3)
		p.hangup(x, 16)
	}
	// kill hangs up what is left of the consultation leg and its bridges.
	kill := func(cause int) {
		for _, c := range []*channel{x, two, one} {
			if c != nil && !c.dead {
				p.hangupRequest(c, cause, false)
				if c.bridge != nil {
					p.bridgeLeave(c.bridge, c)
				}
				p.hangup(c, cause)
			}
		}
		for _, b := range []*bridge{b3, b2} {
			if b != nil && (a.dead || b != a.bridge) {
				p.bridgeDestroy(b)
			}
		}
	}
	// abort: a consultation leg went away; the agent goes back to the caller.
	abort := func(cause int) {
		if done {
			return
		}
		done = true
		kill(cause)
		if qc.ended || a.dead {
			return
		}
		p.bridgeLeave(b2, a)
		p.bridgeDestroy(b2)
		p.bridgeEnter(b1, a, nil)
		p.unhold(a, t)
		a.onHangup = func(int) { p.endTalk(qc, "agent") }
		t.onHangup = func(int) { p.callerGone(qc, 16) }
		p.after(max(tr.Talk, time.Second), func() { p.endTalk(qc, "caller") })
	}
	complete := func() {
		if done {
			return
		}
		if qc.ended {
			endConsult()
			return
		}
		done = true
		// The agent hangs up: the consultation bridge merges into the queue bridge.
		p.hangupRequest(a, 16, false)
		p.bridgeLeave(b2, a)
		m := ev("BridgeMerge", clCall, 16)
		m = bridgeFields(m, "To", b1)
		m = bridgeFields(m, "From", b2)
		p.emit(m)
		p.bridgeLeave(b2, one)
		p.bridgeEnter(b1, one, nil)
		p.chanEv("MusicOnHoldStop", clCall, t)
		t.held = false
		m = ev("AttendedTransfer", clCall, 90)
		m = append(m, f("Result", "Success"))
		m = appendSnap(m, "OrigTransferer", a)
		m = bridgeFields(m, "Orig", b1)
		m = appendSnap(m, "SecondTransferer", a)
		m = bridgeFields(m, "Second", b2)
		m = appendSnap(m, "Transferee", t)
		m = appendSnap(m, "TransferTarget", one)
		p.emit(append(m, f("IsExternal", "No"), f("DestType", "Bridge"), f("DestBridgeUniqueid", b1.id)))
		p.agentComplete(qc, "transfer")
		qc.ended = true
		// The caller and the target now see each other.
		p.connectedLine(one, t.cidNum, t.cidName)
		p.connectedLine(t, x.cidNum, x.cidName)
		p.connectedLine(x, t.cidNum, t.cidName)
		p.bridgeDestroy(b2)
		p.hangup(a, 16)
		ends := func(cause int) { // a target-side leg goes before the optimisation
			kill(cause)
			p.bridgeLeave(b1, t)
			p.bridgeDestroy(b1)
			p.hangupRequest(t, 16, true)
			p.hangup(t, 16)
		}
		one.onHangup, two.onHangup, x.onHangup = ends, ends, ends
		t.onHangup = func(cause int) { // before the optimisation: everything ends
			p.hangupRequest(t, cause, false)
			p.bridgeLeave(b1, t)
			p.hangup(t, cause)
			p.bridgeLeave(b1, one)
			p.bridgeDestroy(b1)
			kill(16)
		}
		p.after(330*time.Millisecond, func() {
			if t.dead || x.dead || one.dead {
				return
			}
			p.optimize(one, two, x, b1, b3, func() { p.newCallerID(two, t.cidNum, t.cidName) })
			x.onHangup = func(cause int) {
				p.hangupRequest(x, cause, false)
				p.endBridgedCallee(t, x, b1)
			}
			t.onHangup = func(cause int) {
				p.hangupRequest(t, cause, false)
				p.endCallerE1(t, x, b1)
			}
			p.after(max(tr.Talk, time.Second), func() {
				if t.dead || x.dead {
					return
				}
				p.hangupRequest(t, 16, false)
				p.endCallerE1(t, x, b1)
			})
		})
	}
	a.onHangup = func(int) {
		switch {
		case one == nil:
			p.endTalk(qc, "agent")
		case answered:
			complete()
		default:
			agentGone = true // completes as soon as the target answers (blonde transfer)
		}
	}

	p.chanEv("Hold", clCall, a)
	p.chanEv("MusicOnHoldStart", clCall, t, f("Class", "default"))
	p.after(1400*time.Millisecond, func() { // digit collection
		if qc.ended || a.dead {
			return
		}
		one, two = p.newLocal(tr.Target, "from-internal", a)
		p.newchannel(one)
		p.newchannel(two)
		p.varSet(one, "TRANSFERERNAME", a.name)
		p.varSet(two, "TRANSFERERNAME", a.name)
		b2 = p.bridgeCreate()
		p.localBridge(one, two, tr.Target, "from-internal", true)
		// ;2 dials as the transferer; ;1 sees the transferer as its connected line.
		p.newCallerID(two, a.cidNum, a.cidName)
		p.connectedLine(one, a.cidNum, a.cidName)
		p.bridgeEnter(b2, one, nil)
		p.bridgeLeave(b1, a)
		p.bridgeEnter(b2, a, nil)
		p.connectedLine(a, "<unknown>", "<unknown>")
		x = p.newPJSIP(tr.Target, two, false)
		p.newchannel(x)
		p.dialLine(two, x, tr.Target)
		p.connectedLine(a, x.cidNum, x.cidName)
		one.onHangup, two.onHangup, x.onHangup = abort, abort, abort
		p.after(3*time.Millisecond, func() {
			if done {
				return
			}
			p.setState(x, stRinging)
			one.cidNum, one.cidName = x.cidNum, x.cidName
			p.setState(one, stRinging)
			p.newCallerID(one, x.cidNum, x.cidName)
			p.twoEv("DialState", clCall, nil, one, f("DialStatus", "RINGING"))
			p.twoEv("DialState", clCall, two, x, f("DialStatus", "RINGING"))
		})
		p.after(max(tr.TargetAnswer, 10*time.Millisecond), func() {
			if done {
				return
			}
			answered = true
			p.setState(x, stUp)
			p.dialEndAnswer(two, x)
			p.setState(one, stUp)
			p.twoEv("DialEnd", clCall, nil, one, f("DialStatus", "ANSWER"))
			p.setState(two, stUp)
			b3 = p.bridgeCreate()
			p.bridgeEnter(b3, x, nil)
			p.bridgeEnter(b3, two, nil)
			if agentGone {
				complete()
				return
			}
			p.after(max(tr.Consult, time.Second), complete)
		})
	})
}

// endCallerE1 is the end of e1: the caller hangs up on the transfer target.
func (p *PBX) endCallerE1(t, x *channel, b *bridge) {
	p.bridgeLeave(b, t)
	p.bridgeLeave(b, x)
	p.hangupRequest(t, 16, true)
	p.bridgeDestroy(b)
	p.hangup(x, 16)
	p.hangup(t, 16)
}
