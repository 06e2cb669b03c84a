package pbx

import (
	"strconv"
	"strings"
	"time"

	"github.com/linkage/linkage/ami"
)

// Inbound describes one customer call arriving on a DID. Durations are relative to
// the moment named in each field's comment.
type Inbound struct {
	DID        string
	Caller     string // caller number; "" gives <unknown>
	CallerName string
	// Patience: the caller hangs up after waiting this long in the queue (from
	// QueueCallerJoin). 0 means the caller waits until answered or timed out.
	Patience time.Duration
	// Answer lists who picks up which attempt. Members not listed let it ring.
	Answer []Answer
	// Talk is the time from answer to the end of the conversation (default 30 s).
	Talk time.Duration
	// AgentHangsUp ends the talk from the agent's side (AgentComplete Reason=agent).
	AgentHangsUp bool
	// Hold: the agent puts the caller on hold After (from answer) for For.
	Hold []Hold
	// Transfer: the agent transfers the caller instead of ending the call.
	Transfer *Transfer
	// Choice is the digit the caller presses in the IVR; DID.Choices maps it to a
	// queue ("" or an unmapped digit: the DID's own queue).
	Choice string
	// HangupInIVR: the caller hangs up in the IVR, before reaching the queue.
	HangupInIVR bool
	// StopRecording runs StopMixMonitor on the caller this long after the answer
	// (e.g. while card data is read out); 0 = recording runs to the end.
	StopRecording time.Duration

	decide func(m *member, attempt int) ringOutcome // random traffic
}

// ringOutcome is what a member's phone does with one ring.
type ringOutcome struct {
	after  time.Duration
	answer bool
	busy   bool // 486 Busy Here (DND, or the phone's second line is off)
}

// Answer says that Member (a queue member Interface, e.g. "PJSIP/1002" or
// "Local/1001@agents/n") answers its Attempt-th ring (1-based; 0 = any) after After.
// With Busy the phone rejects the ring with 486 after After instead.
type Answer struct {
	Member  string
	After   time.Duration
	Attempt int
	Busy    bool
}

// Hold is one hold period during talk.
type Hold struct{ After, For time.Duration }

// Transfer moves the caller to Target (an extension in from-internal) After the
// answer. A blind transfer is a SIP REFER (BlindTransfer IsExternal=Yes) unless DTMF
// is set; an attended one uses the atxfer DTMF feature (a Local consultation leg,
// §3.e.1) unless Refer is set.
type Transfer struct {
	Attended bool
	// DTMF makes a blind transfer use the blindxfer feature (Hold, MOH, IsExternal=No)
	// instead of SIP REFER.
	DTMF bool
	// Refer makes an attended transfer the desk-phone kind: a separate consultation
	// call (new linkedid) joined by REFER with Replaces (§3.e.2). Without it, an
	// attended transfer is the atxfer DTMF feature (§3.e.1).
	Refer bool
	// Abort makes a DTMF blind transfer give up at once, as in d2x (the feature's
	// prompt was missing): a short Hold/Unhold and no transfer; the call goes on
	// for Inbound.Talk.
	Abort        bool
	After        time.Duration
	Target       string
	TargetAnswer time.Duration // ring time of the target
	Consult      time.Duration // attended: agent talks to the target before completing
	Talk         time.Duration // the caller talks to the target this long, then hangs up
}

type qcall struct {
	q        *queue
	spec     Inbound
	did      DID
	caller   *channel
	joined   time.Time
	pos      int // current position; callers ahead leaving move it up
	origPos  int // position at QueueCallerJoin
	legs     []*leg
	cycle    int
	inQueue  bool
	timeout  time.Time
	attempts map[*member]int

	win        *leg
	agentCh    *channel // member-side channel in the caller's bridge
	phone      *channel // the operator's phone channel
	bridge     *bridge  // the queue bridge
	inner      *bridge  // Local /n: bridge between ;2 and the phone
	answeredAt time.Time
	ended      bool
}

type leg struct {
	m       *member
	ch      *channel // what app_queue dialed: PJSIP channel or Local ;1
	two     *channel // Local ;2
	phone   *channel // phone dialed by ;2 (or ch itself for PJSIP members)
	started time.Time
	noOpt   bool
}

// Inbound schedules a customer call to arrive after delay.
func (p *PBX) Inbound(delay time.Duration, spec Inbound) {
	p.after(delay, func() { p.arrive(spec) })
}

func (p *PBX) didByNumber(n string) (DID, bool) {
	for _, d := range p.cfg.DIDs {
		if d.Number == n {
			return d, true
		}
	}
	return DID{}, false
}

func (p *PBX) arrive(spec Inbound) {
	did, ok := p.didByNumber(spec.DID)
	if !ok {
		return
	}
	qn, branch := did.Queue, false
	if alt, ok := did.Choices[spec.Choice]; ok && spec.Choice != "" {
		qn, branch = alt, true
	}
	q := p.queues[qn]
	if q == nil {
		return
	}
	trunk := did.Trunk
	if trunk == "" && len(p.cfg.Trunks) > 0 {
		trunk = p.cfg.Trunks[0].Endpoint
	}
	t := p.newPJSIP(trunk, nil, true)
	t.cidNum, t.cidName = orUnknown(spec.Caller), orUnknown(spec.CallerName)
	t.context, t.exten, t.dnid = p.endpointContext(trunk), did.Number, did.Number
	qc := &qcall{q: q, spec: spec, did: did, caller: t, attempts: map[*member]int{}}
	if branch {
		qc.did.Record = false // the lab dialplan records on the default branch only
	}
	p.newchannel(t)
	p.varSet(t, "SIPDOMAIN", "127.0.0.1")
	p.newexten(t, 1, "NoOp", "Inbound call from \""+spec.CallerName+"\" <"+spec.Caller+">")
	p.newexten(t, 2, "Answer", "")
	p.setState(t, stUp)
	t.onHangup = func(cause int) { p.callerGone(qc, cause) }
	next := func() { p.toQueue(qc) }
	if did.IVR > 0 {
		p.newexten(t, 3, "Read", "CHOICE,ivr-prompt,1,,1,4")
		if spec.HangupInIVR {
			p.after(did.IVR/2, func() { p.callerGone(qc, 16) })
			return
		}
		p.after(did.IVR, func() {
			if t.dead {
				return
			}
			choice := spec.Choice
			if choice == "" {
				choice = "1"
			}
			p.varSet(t, "READSTATUS", "OK")
			p.varSet(t, "CHOICE", choice)
			next()
		})
		return
	}
	next()
}

func orUnknown(s string) string {
	if s == "" {
		return "<unknown>"
	}
	return s
}

func (p *PBX) toQueue(qc *qcall) {
	t, q := qc.caller, qc.q
	if qc.did.Record {
		t.prio++
		file := t.uid + ".wav"
		p.newexten(t, t.prio, "MixMonitor", file)
		p.varSet(t, "MIXMONITOR_FILENAME", "/var/spool/asterisk/monitor/"+file)
		p.chanEv("MixMonitorStart", clCall, t)
		t.recording = true
	}
	t.prio++
	args := q.name + ",tT"
	if qc.did.QueueTimeout > 0 {
		args += ",,," + strconv.Itoa(int(qc.did.QueueTimeout/time.Second))
		qc.timeout = p.now.Add(qc.did.QueueTimeout)
	}
	t.app, t.appData = "Queue", args
	p.newexten(t, t.prio, "Queue", args)
	for _, v := range []string{"ANSWEREDTIME", "ANSWEREDTIME_MS", "DIALEDTIME", "DIALEDTIME_MS", "QUEUEWAIT", "QUEUEWAIT_MS"} {
		p.varSet(t, v, "")
	}
	if q.cfg.RefuseEmpty && p.queueEmpty(q) {
		p.varSet(t, "QUEUESTATUS", "JOINEMPTY")
		qc.ended = true
		t.prio++
		p.newexten(t, t.prio, "NoOp", "QUEUESTATUS=JOINEMPTY")
		t.prio++
		p.newexten(t, t.prio, "Hangup", "")
		p.hangupRequest(t, 16, true)
		p.hangup(t, 16)
		return
	}
	if len(q.callers) == 0 {
		p.setDeviceRaw("Queue:"+q.name, devRinging)
	}
	q.callers = append(q.callers, qc)
	qc.pos = len(q.callers)
	qc.origPos = qc.pos
	qc.joined, qc.inQueue = p.now, true
	p.chanEv("QueueCallerJoin", clAgent, t, f("Queue", q.name), f("Position", itoa(qc.pos)), f("Count", itoa(len(q.callers))))
	p.chanEv("MusicOnHoldStart", clCall, t, f("Class", musicClass(q)))
	if qc.spec.Patience > 0 {
		p.after(qc.spec.Patience, func() {
			if qc.inQueue && !t.dead {
				p.callerGone(qc, 16)
			}
		})
	}
	if p.queueEmpty(q) && q.cfg.LeaveWhenEmpty {
		p.exitQueue(qc, "LEAVEEMPTY")
		return
	}
	p.ringCycle(qc)
}

func musicClass(q *queue) string {
	if q.cfg.MusicClass == "" {
		return "default"
	}
	return q.cfg.MusicClass
}

// queueEmpty follows leavewhenempty's default meaning: no member that could ever
// take the call (none at all, or all paused / invalid).
func (p *PBX) queueEmpty(q *queue) bool {
	for _, m := range q.members {
		if !m.paused && p.memberStatus(m) != devInvalid {
			return false
		}
	}
	return true
}

// setDeviceRaw sets one of app_queue's custom devices (Queue:<q>, Queue:<q>_pause_<iface>).
// A device seen for the first time always reports its state, as the pause device of a
// new member does in j1.
func (p *PBX) setDeviceRaw(dev string, st int) {
	d := p.devices[dev]
	if d == nil {
		d = &device{state: -1}
		p.devices[dev] = d
	}
	if d.state == st {
		return
	}
	d.state = st
	p.emit(append(ev("DeviceStateChange", clCall, 4), f("Device", dev), f("State", devName[st])))
}

// pick chooses the members to ring for one attempt according to the strategy.
func (p *PBX) pick(q *queue) []*member {
	var avail []*member
	best := int(^uint(0) >> 1)
	for _, m := range q.members {
		if p.available(m) {
			avail = append(avail, m)
			best = min(best, m.penalty)
		}
	}
	if len(avail) == 0 {
		return nil
	}
	switch q.cfg.Strategy {
	case RRMemory:
		n := len(q.members)
		for i := 0; i < n; i++ {
			idx := (q.rrNext + i) % n
			m := q.members[idx]
			if p.available(m) {
				q.rrNext = idx + 1
				return []*member{m}
			}
		}
		return nil
	case LeastRecent:
		var pick *member
		for _, m := range avail {
			if pick == nil || m.lastCall.Before(pick.lastCall) {
				pick = m
			}
		}
		return []*member{pick}
	default: // ringall: every available member at the best penalty level
		// try_calling prepends each call attempt to its outgoing list, so ring_entry
		// dials them in reverse member order (the lab rang PJSIP/1002 before the
		// Local member listed first in queues.conf, in every ringall capture).
		var out []*member
		for i := len(avail) - 1; i >= 0; i-- {
			if m := avail[i]; m.penalty == best {
				out = append(out, m)
			}
		}
		return out
	}
}

func (p *PBX) ringCycle(qc *qcall) {
	if !qc.inQueue || qc.caller.dead {
		return
	}
	q := qc.q
	qc.cycle++
	cyc := qc.cycle
	ringFor := q.cfg.Timeout
	if ringFor <= 0 {
		ringFor = 15 * time.Second
	}
	if !qc.timeout.IsZero() {
		left := qc.timeout.Sub(p.now)
		if left <= 0 {
			p.exitQueue(qc, "TIMEOUT")
			return
		}
		ringFor = min(ringFor, left)
	}
	ms := p.pick(q)
	if len(ms) == 0 {
		if p.queueEmpty(q) && q.cfg.LeaveWhenEmpty {
			p.exitQueue(qc, "LEAVEEMPTY")
			return
		}
		wait := max(q.cfg.Retry, time.Second)
		if !qc.timeout.IsZero() {
			wait = min(wait, qc.timeout.Sub(p.now))
		}
		p.after(wait, func() {
			if qc.cycle == cyc {
				p.ringCycle(qc)
			}
		})
		return
	}
	t := qc.caller
	qc.legs = qc.legs[:0]
	for _, m := range ms {
		qc.attempts[m]++
		m.ringing = true
		l := &leg{m: m, started: p.now}
		if ex, ctx, noOpt := localParts(m.iface); strings.HasPrefix(m.iface, "Local/") {
			l.noOpt = noOpt
			l.ch, l.two = p.newLocal(ex, ctx, t)
			p.newchannel(l.ch)
			p.newchannel(l.two)
			// app_queue presents the DID towards the member; ;2 carries the caller.
			p.newCallerID(l.ch, qc.did.Number, "<unknown>")
			l.two.connNum, l.two.connName = qc.did.Number, "<unknown>"
			p.newCallerID(l.two, t.cidNum, t.cidName)
			p.connectedLine(l.two, qc.did.Number, "<unknown>")
			l.ch.connNum, l.ch.connName = t.cidNum, t.cidName
			l.ch.exten = t.exten // app_queue copies the caller's extension to the member leg
			p.localBridge(l.ch, l.two, ex, ctx, !noOpt)
			p.twoEv("AgentCalled", clAgent, t, l.ch, f("Queue", q.name), f("Interface", m.iface), f("MemberName", m.name))
			p.staleDialBegin(t, l.ch, m.iface)
			p.newexten(l.two, 1, "NoOp", "Queue member leg for "+ex)
			l.two.prio = 2
			l.two.app, l.two.appData = "Dial", "PJSIP/"+ex+",,tT"
			p.varSet(l.ch, "DIALEDPEERNUMBER", strings.TrimPrefix(m.iface, "Local/"))
			p.varSet(l.two, "DIALEDPEERNUMBER", strings.TrimPrefix(m.iface, "Local/"))
			p.newexten(l.two, 2, "Dial", l.two.appData)
			p.dialStart(l.two)
			l.phone = p.newPJSIP(ex, l.two, false)
			p.newchannel(l.phone)
			l.phone.exten = l.two.exten // app_dial copies the caller's extension
			p.varSet(l.phone, "DIALEDPEERNUMBER", ex)
			p.connectedLine(l.phone, t.cidNum, t.cidName)
			p.twoEv("DialBegin", clCall, l.two, l.phone, f("DialString", ex))
			p.connectedLine(l.two, l.phone.cidNum, l.phone.cidName)
		} else {
			ep := strings.TrimPrefix(m.iface, "PJSIP/")
			l.ch = p.newPJSIP(ep, t, false)
			l.phone = l.ch
			p.newchannel(l.ch)
			p.varSet(l.ch, "DIALEDPEERNUMBER", ep)
			l.ch.connNum, l.ch.connName = t.cidNum, t.cidName
			l.ch.exten = t.exten
			p.twoEv("AgentCalled", clAgent, t, l.ch, f("Queue", q.name), f("Interface", m.iface), f("MemberName", m.name))
			p.staleDialBegin(t, l.ch, ep)
			if len(ms) == 1 {
				// With one callee app_queue passes its identity to the caller at once
				// (b2); with several it waits for the answer.
				p.connectedLine(t, l.ch.cidNum, l.ch.cidName)
			}
		}
		l.ch.app, l.ch.appData = "AppQueue", "(Outgoing Line)"
		qc.legs = append(qc.legs, l)
		gone := func(cause int) {
			if qc.inQueue && hasLeg(qc.legs, l) {
				p.legRejected(qc, l, cause)
			}
		}
		l.phone.onHangup = gone
		l.ch.onHangup = gone
		if l.two != nil {
			l.two.onHangup = gone
		}
	}
	// The phones report 180 Ringing a few milliseconds later.
	p.after(3*time.Millisecond, func() {
		if qc.cycle != cyc || !qc.inQueue {
			return
		}
		for _, l := range qc.legs {
			if l.two != nil {
				p.setState(l.phone, stRinging)
				// The phone's identity travels back through the pair to ;1.
				l.ch.cidNum, l.ch.cidName = l.phone.cidNum, l.phone.cidName
				l.ch.connNum, l.ch.connName = t.cidNum, t.cidName
				p.setState(l.ch, stRinging)
				p.newCallerID(l.ch, l.ch.cidNum, l.ch.cidName)
				p.connectedLine(l.ch, t.cidNum, t.cidName)
				p.twoEv("DialState", clCall, l.two, l.phone, f("DialStatus", "RINGING"))
				p.twoEv("DialState", clCall, t, l.ch, f("DialStatus", "RINGING"))
			} else {
				p.setState(l.ch, stRinging)
				p.connectedLine(l.ch, t.cidNum, t.cidName)
				p.twoEv("DialState", clCall, t, l.ch, f("DialStatus", "RINGING"))
			}
		}
	})
	// Outcome of the attempt: busy phones reject at their time; the first member to
	// pick up within the ring time wins; otherwise the ring timeout ends the attempt.
	var win *leg
	var winAt time.Duration
	for _, l := range qc.legs {
		o := p.decide(qc, l.m)
		switch {
		case o.busy && o.after < ringFor:
			p.after(max(o.after, 5*time.Millisecond), func() {
				if qc.cycle == cyc && qc.inQueue && hasLeg(qc.legs, l) {
					p.legRejected(qc, l, 17)
				}
			})
		case o.answer && o.after < ringFor && (win == nil || o.after < winAt):
			win, winAt = l, max(o.after, 5*time.Millisecond)
		}
	}
	if win != nil {
		p.after(winAt, func() {
			if qc.cycle == cyc && qc.inQueue && hasLeg(qc.legs, win) {
				p.answer(qc, win)
			}
		})
	}
	p.after(ringFor, func() {
		if qc.cycle == cyc && qc.inQueue {
			p.noAnswer(qc, ringFor)
		}
	})
}

func hasLeg(ls []*leg, l *leg) bool {
	for _, x := range ls {
		if x == l {
			return true
		}
	}
	return false
}

// staleDialBegin writes app_queue's DialBegin for a member leg. Its Dest snapshot
// still shows the connected line as unknown and the extension the channel was
// created with, although AgentCalled, just before it, already shows the caller and
// the caller's extension: the dial is published with the snapshot taken when the
// channel was requested (every lab capture).
func (p *PBX) staleDialBegin(t, dest *channel, dialString string) {
	num, name, ex := dest.connNum, dest.connName, dest.exten
	dest.connNum, dest.connName, dest.exten = "<unknown>", "<unknown>", dest.initExten
	p.twoEv("DialBegin", clCall, t, dest, f("DialString", dialString))
	dest.connNum, dest.connName, dest.exten = num, name, ex
}

func (p *PBX) decide(qc *qcall, m *member) ringOutcome {
	n := qc.attempts[m]
	if qc.spec.decide != nil {
		return qc.spec.decide(m, n)
	}
	for _, a := range qc.spec.Answer {
		if a.Member == m.iface && (a.Attempt == 0 || a.Attempt == n) {
			return ringOutcome{after: a.After, answer: !a.Busy, busy: a.Busy}
		}
	}
	return ringOutcome{}
}

// legRejected ends one member leg before the ring timeout: the phone answered 486
// (cause 17) or the leg was hung up from outside (AMI Hangup). app_queue reports
// DialEnd BUSY or NOANSWER and AgentRingNoAnswer with the ring time in whole
// seconds × 1000 (§3.b.2 table). The other legs of a ringall attempt ring on; when
// none is left, the attempt is over and the retry wait starts.
// [UNSURE] the event order inside a Local pair for a busy phone is inferred from the
// Dial and Local channel code, not captured.
func (p *PBX) legRejected(qc *qcall, l *leg, cause int) {
	t := qc.caller
	status := "NOANSWER"
	var tc []ami.Field
	if cause == 17 {
		status = "BUSY"
		tc = []ami.Field{f("TechCause", "486")}
	}
	l.m.ringing = false
	ringMs := strconv.FormatInt(int64(p.now.Sub(l.started)/time.Second)*1000, 10)
	rna := func() {
		p.twoEv("AgentRingNoAnswer", clAgent, t, l.ch, f("Queue", qc.q.name), f("Interface", l.m.iface), f("MemberName", l.m.name), f("RingTime", ringMs))
	}
	if l.two != nil {
		p.chanEv("HangupRequest", clCall, l.phone, append([]ami.Field{f("Cause", itoa(cause))}, tc...)...)
		p.twoEv("DialEnd", clCall, l.two, l.phone, f("DialStatus", status))
		p.hangup(l.phone, cause, tc...)
		p.dialDone(l.two, status)
		p.hangupRequest(l.two, 16, true)
		p.hangupRequest(l.ch, cause, false)
		p.hangup(l.two, cause)
		p.twoEv("DialEnd", clCall, t, l.ch, f("DialStatus", status))
		rna()
		p.hangup(l.ch, cause)
	} else {
		p.chanEv("HangupRequest", clCall, l.ch, append([]ami.Field{f("Cause", itoa(cause))}, tc...)...)
		p.twoEv("DialEnd", clCall, t, l.ch, f("DialStatus", status))
		rna()
		p.hangup(l.ch, cause, tc...)
	}
	for i, x := range qc.legs {
		if x == l {
			qc.legs = append(qc.legs[:i], qc.legs[i+1:]...)
			break
		}
	}
	if len(qc.legs) > 0 {
		return
	}
	if !qc.timeout.IsZero() && !p.now.Before(qc.timeout) {
		p.exitQueue(qc, "TIMEOUT")
		return
	}
	qc.cycle++ // the attempt's timers are void
	cyc := qc.cycle
	p.after(max(qc.q.cfg.Retry, 0), func() {
		if qc.cycle == cyc {
			p.ringCycle(qc)
		}
	})
}

func (p *PBX) localBridge(one, two *channel, exten, ctx string, opt bool) {
	m := ev("LocalBridge", clCall, 34)
	m = appendSnap(m, "LocalOne", one)
	m = appendSnap(m, "LocalTwo", two)
	yn := "No"
	if opt {
		yn = "Yes"
	}
	p.emit(append(m, f("Context", ctx), f("Exten", exten), f("LocalOptimization", yn)))
}

// dropLeg tears a member leg down after app_queue hung it up with cause (0 on ring
// timeout or caller abandon, 26 when another member answered).
func (p *PBX) dropLeg(l *leg, cause int) {
	p.dropLegRequest(l, cause)
	p.dropLegFinish(l, cause)
}

// dropLegRequest is the part of a leg's teardown that app_queue's thread does at
// once: the hangup request on the Local pair, whose ;1 goes immediately.
func (p *PBX) dropLegRequest(l *leg, cause int) {
	l.m.ringing = false
	if l.two != nil {
		p.hangupRequest(l.two, cause, false)
		p.hangup(l.ch, cause)
	}
}

// dropLegFinish is the rest, done by the ;2 half's Dial and the PJSIP threads.
func (p *PBX) dropLegFinish(l *leg, cause int) {
	if l.two != nil {
		p.twoEv("DialEnd", clCall, l.two, l.phone, f("DialStatus", "CANCEL"))
		p.dialDone(l.two, "CANCEL")
		p.hangupRequest(l.two, 16, true)
		phoneCause := cause
		if cause == 0 {
			phoneCause = 16 // Dial on ;2 cancels its own leg with Normal Clearing
		}
		p.hangup(l.phone, phoneCause)
		p.hangup(l.two, cause)
		return
	}
	p.hangup(l.ch, cause)
}

func (p *PBX) noAnswer(qc *qcall, rang time.Duration) {
	t := qc.caller
	ms := strconv.FormatInt(int64(rang/time.Second)*1000, 10)
	for _, l := range qc.legs {
		p.twoEv("AgentRingNoAnswer", clAgent, t, l.ch, f("Queue", qc.q.name), f("Interface", l.m.iface), f("MemberName", l.m.name), f("RingTime", ms))
	}
	for _, l := range qc.legs {
		p.twoEv("DialEnd", clCall, t, l.ch, f("DialStatus", "NOANSWER"))
	}
	for _, l := range qc.legs {
		p.twoEv("DialEnd", clCall, t, l.ch, f("DialStatus", "CANCEL"))
	}
	for _, l := range qc.legs {
		p.dropLegRequest(l, 0)
	}
	timedOut := !qc.timeout.IsZero() && !p.now.Before(qc.timeout)
	if timedOut {
		// c1: the queue's own timeout ended the attempt; the caller leaves while the
		// legs are still going down.
		p.exitQueueStart(qc, "TIMEOUT")
	}
	for _, l := range qc.legs {
		p.dropLegFinish(l, 0)
	}
	qc.legs = qc.legs[:0]
	if timedOut {
		p.exitQueueEnd(qc)
		return
	}
	cyc := qc.cycle
	p.after(max(qc.q.cfg.Retry, 0), func() {
		if qc.cycle == cyc {
			p.ringCycle(qc)
		}
	})
}

// leaveQueue removes the caller from the queue list and emits QueueCallerLeave.
func (p *PBX) leaveQueue(qc *qcall) {
	q := qc.q
	for i, c := range q.callers {
		if c == qc {
			q.callers = append(q.callers[:i], q.callers[i+1:]...)
			break
		}
	}
	qc.inQueue = false
	qc.cycle++ // stale timers of this entry stop here
	p.chanEv("QueueCallerLeave", clAgent, qc.caller, f("Queue", q.name), f("Position", itoa(qc.pos)), f("Count", itoa(len(q.callers))))
	for i, c := range q.callers {
		c.pos = i + 1
	}
	if len(q.callers) == 0 {
		p.setDeviceRaw("Queue:"+q.name, devNotInUse)
	}
}

func (p *PBX) abandonEv(qc *qcall) {
	qc.q.abandoned++
	p.varSet(qc.caller, "ABANDONED", "TRUE")
	p.chanEv("QueueCallerAbandon", clAgent, qc.caller, f("Queue", qc.q.name), f("Position", itoa(qc.pos)),
		f("OriginalPosition", itoa(qc.origPos)), f("HoldTime", itoa(int(p.now.Sub(qc.joined)/time.Second))))
}

// exitQueue is a queue exit without an agent while the caller is still there
// (timeout, leavewhenempty): abandon event, leave, QUEUESTATUS, then the lab dialplan
// hangs up.
func (p *PBX) exitQueue(qc *qcall, status string) {
	p.exitQueueStart(qc, status)
	p.exitQueueEnd(qc)
}

func (p *PBX) exitQueueStart(qc *qcall, status string) {
	t := qc.caller
	p.abandonEv(qc)
	p.chanEv("MusicOnHoldStop", clCall, t)
	p.leaveQueue(qc)
	p.varSet(t, "QUEUESTATUS", status)
	t.prio++
	p.newexten(t, t.prio, "NoOp", "QUEUESTATUS="+status)
}

func (p *PBX) exitQueueEnd(qc *qcall) {
	t := qc.caller
	qc.ended = true
	t.prio++
	p.newexten(t, t.prio, "Hangup", "")
	p.hangupRequest(t, 16, true)
	p.hangup(t, 16)
}

// callerGone handles the caller hanging up (BYE from the carrier, or AMI Hangup).
func (p *PBX) callerGone(qc *qcall, cause int) {
	t := qc.caller
	if t.dead || qc.ended {
		return
	}
	if qc.inQueue {
		p.hangupRequest(t, cause, false)
		p.chanEv("MusicOnHoldStop", clCall, t)
		for _, l := range qc.legs {
			p.twoEv("DialEnd", clCall, t, l.ch, f("DialStatus", "CANCEL"))
		}
		for _, l := range qc.legs {
			p.twoEv("DialEnd", clCall, t, l.ch, f("DialStatus", "CANCEL"))
		}
		legs := qc.legs
		qc.legs = nil
		for _, l := range legs {
			p.dropLeg(l, 0)
		}
		p.abandonEv(qc)
		p.leaveQueue(qc)
		qc.ended = true
		p.hangupRequest(t, 16, true)
		p.hangup(t, cause)
		return
	}
	if qc.answeredAt.IsZero() {
		// Still in the IVR.
		qc.ended = true
		p.hangupRequest(t, cause, false)
		p.hangup(t, cause)
		return
	}
	p.endTalk(qc, "caller")
}
