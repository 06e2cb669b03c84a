package pbx

import "time"

// referAttendedTransfer is the desk-phone attended transfer of §3.e.2 (source-based,
// not in the lab): the agent's phone holds the caller, makes a new call to the target
// (a separate call with its own linkedid), then sends REFER with Replaces. The queue
// bridge inhibits swaps out of it, so the target is moved into it, takes the queue
// call's linkedid as it enters, and both transferer channels hang up.
// [UNSURE] the order inside the final burst is inferred from bridge_basic.c and
// res_pjsip_refer.c, not captured.
//
// Hangups from outside during the consultation: the caller or the held agent leg
// going ends the queue call (AgentComplete caller/agent) and the consultation call
// ends when it would have completed; the consultation call going (either side)
// cancels the transfer and the agent takes the caller back.
func (p *PBX) referAttendedTransfer(qc *qcall, tr Transfer) {
	t, a, b1 := qc.caller, qc.agentCh, qc.bridge
	var a2, x *channel
	var b2 *bridge
	consultOver := false

	queueEnds := func(who string, gone *channel, cause int) {
		if qc.ended {
			return
		}
		qc.ended = true
		other := t
		if gone == t {
			other = a
		}
		p.hangupRequest(gone, cause, false)
		p.agentComplete(qc, who)
		p.bridgeLeave(b1, gone)
		p.bridgeLeave(b1, other)
		p.hangupRequest(other, 16, true)
		p.bridgeDestroy(b1)
		p.hangup(gone, cause)
		p.hangup(other, 16)
	}
	t.onHangup = func(cause int) { queueEnds("caller", t, cause) }
	a.onHangup = func(cause int) { queueEnds("agent", a, cause) }
	// endConsult ends the consultation call from the phone's side.
	endConsult := func() {
		if a2 == nil || a2.dead {
			return
		}
		if b2 == nil { // still ringing
			p.hangupRequest(a2, 16, false)
			p.twoEv("DialEnd", clCall, a2, x, f("DialStatus", "CANCEL"))
			p.hangup(x, 0)
			p.dialDone(a2, "CANCEL")
			p.hangup(a2, 16)
			return
		}
		p.hangupRequest(a2, 16, false)
		p.endBridged(a2, x, b2)
	}
	// takeBack: the consultation is gone; the agent returns to the caller.
	takeBack := func() {
		consultOver = true
		if qc.ended || a.dead {
			return
		}
		p.unhold(a, t)
		a.onHangup = func(int) { p.endTalk(qc, "agent") }
		t.onHangup = func(int) { p.callerGone(qc, 16) }
		p.after(max(tr.Talk, time.Second), func() { p.endTalk(qc, "caller") })
	}

	p.hold(a, t)
	ep := a.device[len("PJSIP/"):]
	p.after(1500*time.Millisecond, func() {
		if qc.ended || t.dead || a.dead {
			return
		}
		// The consultation call: a new inbound call from the agent's phone.
		a2 = p.newPJSIP(ep, nil, true)
		a2.cidNum, a2.cidName = a.cidNum, a.cidName
		a2.context, a2.exten, a2.dnid = "from-internal", tr.Target, tr.Target
		p.newchannel(a2)
		p.newexten(a2, 1, "NoOp", "Transfer target")
		a2.app, a2.appData = "Dial", "PJSIP/"+tr.Target+",20,tT"
		p.newexten(a2, 2, "Dial", a2.appData)
		p.dialStart(a2)
		x = p.newPJSIP(tr.Target, a2, false)
		p.newchannel(x)
		p.varSet(x, "DIALEDPEERNUMBER", tr.Target)
		p.dialLine(a2, x, tr.Target)
		a2.onHangup = func(cause int) {
			p.hangupRequest(a2, cause, false)
			p.twoEv("DialEnd", clCall, a2, x, f("DialStatus", "CANCEL"))
			p.hangup(x, 0)
			p.dialDone(a2, "CANCEL")
			p.hangup(a2, cause)
			takeBack()
		}
		x.onHangup = func(cause int) {
			p.calleeGone(a2, x, cause)
			takeBack()
		}
		p.after(3*time.Millisecond, func() {
			if x.dead || a2.dead {
				return
			}
			p.setState(x, stRinging)
			p.twoEv("DialState", clCall, a2, x, f("DialStatus", "RINGING"))
		})
		p.after(max(tr.TargetAnswer, 10*time.Millisecond), func() {
			if x.dead || a2.dead {
				return
			}
			p.setState(x, stUp)
			p.dialEndAnswer(a2, x)
			p.dialAnswered(a2, x, tr.Target)
			p.setState(a2, stUp)
			b2 = p.bridgeCreate()
			p.bridgeEnter(b2, x, nil)
			p.bridgeEnter(b2, a2, nil)
			a2.onHangup = func(cause int) {
				p.hangupRequest(a2, cause, false)
				p.endBridged(a2, x, b2)
				takeBack()
			}
			x.onHangup = func(cause int) {
				p.hangupRequest(x, cause, false)
				p.endBridgedCallee(a2, x, b2)
				takeBack()
			}
		})
		p.after(max(tr.TargetAnswer, 10*time.Millisecond)+max(tr.Consult, time.Second), func() {
			switch {
			case consultOver:
			case qc.ended:
				endConsult()
			case b2 != nil && !x.dead && !a2.dead:
				p.referComplete(qc, tr, a2, x, b2)
			}
		})
	})
}

func (p *PBX) referComplete(qc *qcall, tr Transfer, a2, x *channel, b2 *bridge) {
	t, a, b1 := qc.caller, qc.agentCh, qc.bridge
	p.unhold(a, t)
	p.chanEv("Unhold", clCall, a2)
	p.varSet(t, "ATTENDEDTRANSFER", a.name)
	p.varSet(x, "ATTENDEDTRANSFER", a2.name)
	p.bridgeLeave(b2, x)
	p.bridgeLeave(b1, a)
	// Entering the queue bridge gives the target the older call's linkedid
	// (ast_bridge_channel_update_linkedids); there is no event for the change.
	x.linkedid = t.linkedid
	p.bridgeEnter(b1, x, a)
	m := ev("AttendedTransfer", clCall, 100)
	m = append(m, f("Result", "Success"))
	m = appendSnap(m, "OrigTransferer", a)
	m = bridgeFields(m, "Orig", b1)
	m = appendSnap(m, "SecondTransferer", a2)
	m = bridgeFields(m, "Second", b2)
	m = appendSnap(m, "Transferee", t)
	m = appendSnap(m, "TransferTarget", x)
	p.emit(append(m, f("IsExternal", "Yes"), f("DestType", "Bridge"), f("DestBridgeUniqueid", b1.id)))
	p.agentComplete(qc, "transfer")
	qc.ended = true
	p.hangupRequest(a, 16, true)
	p.hangup(a, 16)
	p.hangupRequest(a2, 16, true)
	p.bridgeLeave(b2, a2)
	p.bridgeDestroy(b2)
	p.dialDone(a2, "ANSWER")
	p.hangup(a2, 16)
	p.connectedLine(t, x.cidNum, x.cidName)
	p.connectedLine(x, t.cidNum, t.cidName)
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
}
