package assemble

import (
	"strconv"
	"strings"
	"time"

	"github.com/linkage/linkage/ami"
)

// Assembler turns one server's AMI events, in arrival order, into calls. It is not safe
// for concurrent use: DESIGN.md gives each server one goroutine that owns its assembler.
type Assembler struct {
	dir     *directory
	chans   map[string]*channel   // live channels by uniqueid
	names   map[string]*channel   // live channels by current name (masquerades, Local pairs)
	calls   map[string]*callState // in-flight calls by every linkedid they carry
	bridges map[string]*bridge
	gone    goneSet           // recently hung-up uniqueids: late events are ignored
	opState map[string]uint64 // last OperatorStatus per queue+interface, to drop repeats
	out     []Output
	clock   time.Time // the latest event time seen
	recent  dedupRing
	// sawHangupRequest says the stream carries HangupRequest events at all (filtered
	// captures do not): only then does a missing one prove something.
	sawHangupRequest bool
	// provisional counts calls with an unconfirmed abandon (see setProvisional).
	provisional int
	gap         *gapState
	// strs interns endpoint, context and queue strings: a few hundred distinct values
	// repeated on every call, and otherwise each one pins the whole header line it was
	// cut from.
	strs map[string]string
	// dests are the open dials of a channel, for Asterisk 11 only: its Dial End does not
	// name the destination. Kept here, not in every channel.
	dests map[*channel][]*channel
}

// New returns an assembler for one server.
func New(cfg Config) *Assembler {
	return &Assembler{
		dir:     newDirectory(cfg),
		chans:   make(map[string]*channel),
		names:   make(map[string]*channel),
		calls:   make(map[string]*callState),
		bridges: make(map[string]*bridge),
		opState: make(map[string]uint64),
		gone:    newGoneSet(4096),
		strs:    make(map[string]string),
		dests:   make(map[*channel][]*channel),
	}
}

// InFlight returns the number of calls being assembled.
func (a *Assembler) InFlight() int {
	n := 0
	for id, c := range a.calls {
		if c.id() == id {
			n++
		}
	}
	return n
}

// OldestInFlightSeq returns the smallest ami.Event.Seq of the events that the calls
// still in flight were built from; ok is false when no event fed so far is needed
// (replay would start after the last one). Replaying the journal from that sequence
// into a fresh Assembler (with the same Config) rebuilds every call that is in flight
// now exactly as this one would finish it.
//
// Each call keeps the Seq of the event that created it; when channels move between
// calls (a SIP attended transfer, a pickup: linkedid change) or calls merge (Asterisk
// 11 grouping), the receiving call takes the older of the two, because what the channel
// brings was learned from the other call's events. After a gap, calls known before it
// keep their sequences (the LinkageGap and the resync list follow them); a call listed
// by the resync needs at least the LinkageGap's sequence (list items only count after
// it), and so does a LinkageGap whose list is still being read, even with no call in
// flight. Events that belong to no call (member and device events) do not hold it
// back: operators learned from them (LearnOperators) before that point are not
// replayed, so configure the operators, or replayed calls may name them less well.
//
// Replaying from that point also re-reads the tails of calls that had already finished
// before it: those come out again as fragments (a call made only of its last events)
// under the same linkedid. A collector must therefore not let a replayed record
// overwrite one it already wrote, or must only write replayed calls that were in
// flight (not yet written) at the crash.
//
// The cost is one pass over the calls in flight (tens to hundreds); Feed only keeps
// one number per call.
func (a *Assembler) OldestInFlightSeq() (seq uint64, ok bool) {
	for id, c := range a.calls {
		if c.id() != id {
			continue
		}
		if !ok || c.firstSeq < seq {
			seq, ok = c.firstSeq, true
		}
	}
	// A LinkageGap whose resync list has not been closed yet is needed too: the list
	// items only count after it.
	if g := a.gap; g != nil && g.resyncing && (!ok || g.seq < seq) {
		seq, ok = g.seq, true
	}
	return seq, ok
}

// Feed processes one event and returns what it produced: finished calls and live
// notifications. The returned slice is reused by the next call to Feed, Flush or Close.
func (a *Assembler) Feed(e *ami.Event) []Output {
	a.out = a.out[:0]
	h := handlerOf(e.Name)
	if h == hNone {
		return nil
	}
	// Cheap filters first: most VarSet and Newexten events are of no interest, and
	// hashing them for the duplicate check would cost more than handling them.
	switch h {
	case hVarSet:
		if !a.wantVar(e.Fields.Get("Variable")) {
			return nil
		}
	case hNewexten:
		if e.Fields.Get("Application") != "Queue" && a.provisional == 0 {
			return nil
		}
	}
	if a.recent.seen(e) {
		return nil
	}
	t, stamped := a.timeOf(e)
	ev := evCtx{e: e, t: t, approx: !stamped}
	switch h {
	case hNewchannel:
		if ch := a.snapshot(&ev, pNone); ch != nil {
			a.chanVars(ch, &ev)
		}
	case hNewstate:
		a.onNewstate(&ev)
	case hNewCallerid:
		// Only fill in what was unknown at creation: later changes are the dialplan
		// rewriting the caller ID for the far end (Set(CALLERID(num)=<our DID>)), not
		// who the caller is.
		if ch := a.snapshot(&ev, pNone); ch != nil && !ch.call.answered {
			if cleanCID(ch.cidNum) == "" {
				ch.cidNum = e.Get("CallerIDNum")
			}
			if cleanCID(ch.cidName) == "" {
				ch.cidName = e.Get("CallerIDName")
			}
		}
	case hNewexten:
		a.onNewexten(&ev)
	case hVarSet:
		a.onVarSet(&ev)
	case hDialBegin:
		a.onDialBegin(&ev)
	case hDialEnd:
		a.onDialEnd(&ev)
	case hDial11:
		a.onDial11(&ev)
	case hHangupRequest:
		a.onHangupRequest(&ev)
	case hHangup:
		a.onHangup(&ev)
	case hBridgeEnter:
		a.onBridgeEnter(&ev)
	case hBridgeLeave:
		a.onBridgeLeave(&ev)
	case hBridgeDestroy:
		delete(a.bridges, e.Get("BridgeUniqueid"))
	case hBridge11:
		a.onBridge11(&ev)
	case hLocalBridge:
		a.onLocalBridge(&ev)
	case hMasquerade:
		a.onMasquerade(&ev)
	case hRename:
		a.onRename(&ev)
	case hHold:
		a.onHold(&ev, true)
	case hUnhold:
		a.onHold(&ev, false)
	case hQueueCallerJoin:
		a.onQueueJoin(&ev)
	case hQueueCallerLeave:
		a.onQueueLeave(&ev)
	case hQueueCallerAbandon:
		a.onQueueAbandon(&ev)
	case hAgentCalled:
		a.onAgentCalled(&ev)
	case hAgentConnect:
		a.onAgentConnect(&ev)
	case hAgentComplete:
		a.onAgentComplete(&ev)
	case hAgentRingNoAnswer:
		a.onAgentEnd(&ev, "noanswer")
	case hAgentDump:
		a.onAgentEnd(&ev, "dump")
	case hBlindTransfer:
		a.onBlindTransfer(&ev)
	case hAttendedTransfer:
		a.onAttendedTransfer(&ev)
	case hTransfer11:
		a.onTransfer11(&ev)
	case hMember:
		a.onMember(&ev)
	case hUserEvent:
		a.onUserEvent(&ev)
	case hGap:
		a.onGap(&ev)
	case hResyncItem:
		a.onResyncItem(&ev)
	case hResyncDone:
		a.onResyncDone(&ev)
	}
	return a.out
}

// evCtx carries one event with its time through the handlers.
type evCtx struct {
	e      *ami.Event
	t      time.Time
	approx bool
}

func (ev *evCtx) get(k string) string { return ev.e.Fields.Get(k) }

// timeOf decides an event's time. Asterisk's Timestamp is best; the receive time comes
// next; a capture without either only has the creation epochs inside uniqueids, so the
// clock then advances to the newest epoch seen (durations Asterisk reports refine it).
func (a *Assembler) timeOf(e *ami.Event) (time.Time, bool) {
	if e.Stamped && !e.Time.IsZero() {
		if e.Time.After(a.clock) {
			a.clock = e.Time
		}
		return e.Time, true
	}
	if !e.Received.IsZero() {
		if e.Received.After(a.clock) {
			a.clock = e.Received
		}
		return e.Received, false
	}
	for _, k := range [...]string{"Uniqueid", "DestUniqueid"} {
		if u := e.Fields.Get(k); u != "" {
			if t, ok := uniqueidEpoch(u); ok && t.After(a.clock) {
				a.clock = t
			}
		}
	}
	return a.clock, false
}

// advance moves the clock for approximate times derived from Asterisk's own durations.
func (a *Assembler) advance(ev *evCtx, t time.Time) {
	if !ev.approx {
		return
	}
	if t.After(a.clock) {
		a.clock = t
	}
	ev.t = a.clock
}

func (a *Assembler) emit(o Output) { a.out = append(a.out, o) }

func (a *Assembler) note(n Notification) {
	a.emit(Output{Note: &n})
}

// ---- channels and calls

// snapshot returns the channel described by the snapshot with prefix p, creating it
// (and its call) when unknown, and following a linkedid change (reference §2.4: there is
// no event for it, only a new Linkedid value).
func (a *Assembler) snapshot(ev *evCtx, p prefix) *channel {
	k := &keys[p]
	uid := ev.get(k.uniqueid)
	if uid == "" {
		return nil
	}
	if ch := a.chans[uid]; ch != nil {
		a.touch(ch.call, ev)
		if lid := ev.get(k.linkedid); lid != "" && lid != ch.call.id() {
			if a.calls[lid] != ch.call {
				a.relink(ch, lid, ev)
			}
		}
		return ch
	}
	if a.gone.has(uid) {
		return nil
	}
	return a.newChannel(ev, uid, ev.get(k.channel), ev.get(k.linkedid), ev.get(k.context), ev.get(k.exten), ev.get(k.cidNum), ev.get(k.cidName))
}

func (a *Assembler) touch(c *callState, ev *evCtx) {
	if ev.t.After(c.lastTime) {
		c.lastTime = ev.t
	}
	if ev.approx {
		c.rec.ApproximateTimes = true
		if ev.e.Received.IsZero() {
			c.noClock = true
		}
	}
}

func (a *Assembler) newChannel(ev *evCtx, uid, name, lid, context, exten, cidNum, cidName string) *channel {
	noLinkedid := lid == ""
	if noLinkedid {
		// Asterisk 11 has no linkedid: a channel starts its own group and is merged
		// into its creator's by Dial, LocalBridge or Bridge events.
		lid = uid
	}
	dev := a.intern(deviceOf(name))
	context = a.intern(context)
	ch := &channel{
		uid: uid, name: name, device: dev,
		kind:    a.dir.channelKind(dev, context),
		context: context, exten: a.intern(exten),
		cidNum: cidNum, cidName: cidName,
	}
	if strings.HasSuffix(name, ";1") {
		ch.local = 1
	} else if strings.HasSuffix(name, ";2") {
		ch.local = 2
	}
	if ch.local != 0 {
		sib := name[:len(name)-1] + string("21"[ch.local-1])
		if s := a.names[sib]; s != nil {
			ch.peer, s.peer = s, ch
		}
	}
	a.chans[uid] = ch
	// Names are needed only to pair Local halves and, in Asterisk 11 streams (no
	// Linkedid), for Masquerade and the name-only Agent* fields; other channels skip
	// the map to keep in-flight state small.
	if name != "" && (ch.local != 0 || noLinkedid) {
		a.names[name] = ch
	}
	c := a.calls[lid]
	if c == nil {
		c = a.newCall(lid, ev)
		// Asterisk 11 gives every channel its own group until a Dial or Bridge joins it
		// to its creator: only a real channel with a dialled extension starts a call.
		if !noLinkedid || ch.kind != KindLocal && exten != "" {
			a.note(Notification{Kind: CallStarted, Time: c.rec.Start, Linkedid: lid, Caller: a.partyOf(ch)})
		}
	}
	a.attach(ch, c, ev)
	return ch
}

func (a *Assembler) newCall(lid string, ev *evCtx) *callState {
	c := &callState{}
	c.rec.Server = a.dir.cfg.Server
	c.rec.Linkedid = lid
	c.rec.Linkedids = []string{lid}
	c.rec.Start = ev.t
	c.firstSeq = ev.e.Seq
	if ev.approx {
		c.rec.ApproximateTimes = true
		// Without a Timestamp the linkedid's creation second is the best start: always
		// for a capture, and for a receive time when the call is clearly older (first
		// seen in a resync list).
		if t, ok := uniqueidEpoch(lid); ok && (ev.e.Received.IsZero() || t.Add(time.Second).Before(ev.t)) {
			c.rec.Start = t
		}
	}
	c.lastTime = ev.t
	a.calls[lid] = c
	return c
}

func (a *Assembler) attach(ch *channel, c *callState, ev *evCtx) {
	ch.call = c
	c.live++
	c.chans = append(c.chans, ch)
	a.touch(c, ev)
	if c.origin == nil && ch.kind != KindLocal {
		c.origin = ch
	}
}

// relink moves ch into the call that owns linkedid lid (creating it if it was never
// seen). The call ch leaves keeps its identity: after a SIP attended transfer it is the
// consultation call, linked to the customer call by Parent.
func (a *Assembler) relink(ch *channel, lid string, ev *evCtx) {
	from := ch.call
	to := a.calls[lid]
	if to == nil {
		to = a.newCall(lid, ev)
	}
	if olderUniqueid(to.id(), from.id()) {
		to.addLinkedid(from.id())
		if from.rec.Parent == "" {
			from.rec.Parent = to.id()
		}
	} else {
		from.addLinkedid(to.id())
		if to.rec.Parent == "" {
			to.rec.Parent = from.id()
		}
	}
	a.move(ch, to, ev)
}

// move takes ch out of its call into to. The leg it had (an answered target) continues
// in the new call from now on.
func (a *Assembler) move(ch *channel, to *callState, ev *evCtx) {
	from := ch.call
	if from == to {
		return
	}
	var leg *Leg
	if ch.leg > 0 {
		l := &from.rec.Legs[ch.leg-1]
		if l.End.IsZero() {
			l.End = ev.t
		}
		leg = &Leg{Party: l.Party, Answered: ev.t}
	}
	ch.ring, ch.attempt, ch.leg = 0, 0, 0
	// from.origin stays: the record of the call it leaves still describes its caller.
	// What ch brings (its leg, its answer) was learned from from's events: a replay must
	// start early enough to see them.
	to.firstSeq = min(to.firstSeq, from.firstSeq)
	// Leaving a bridge to be moved into another call (the target of a SIP attended
	// transfer leaves the consultation, then takes the customer's linkedid) is not
	// hanging up on the call it leaves.
	if from.leaver == ch {
		from.leaver, from.leaverRole = nil, ""
	}
	from.removeLive(ch)
	a.attach(ch, to, ev)
	if leg != nil {
		to.rec.Legs = append(to.rec.Legs, *leg)
		ch.leg = int32(len(to.rec.Legs))
		a.addOperator(to, leg.Party)
	}
	if from.live == 0 {
		a.finish(from, ev.t)
	}
}

// merge moves every channel of src into dst (Asterisk 11 grouping by Dial/Bridge).
func (a *Assembler) merge(src, dst *callState, ev *evCtx) {
	if src == dst || src == nil || dst == nil {
		return
	}
	if olderUniqueid(src.id(), dst.id()) {
		src, dst = dst, src
	}
	for _, ch := range append([]*channel(nil), src.chans...) {
		ch.call = dst
		dst.live++
		dst.chans = append(dst.chans, ch)
	}
	if dst.origin == nil || src.origin != nil && olderUniqueid(src.origin.uid, dst.origin.uid) {
		if src.origin != nil {
			dst.origin = src.origin
		}
	}
	if src.rec.Start.Before(dst.rec.Start) {
		dst.rec.Start = src.rec.Start
	}
	dst.firstSeq = min(dst.firstSeq, src.firstSeq)
	// src's lists go after dst's; the channels' indexes into them shift by as much.
	nr, na, nl := int32(len(dst.rings)), int32(len(dst.rec.Attempts)), int32(len(dst.rec.Legs))
	dst.rings = append(dst.rings, src.rings...)
	dst.rec.Visits = append(dst.rec.Visits, src.rec.Visits...)
	dst.rec.Attempts = append(dst.rec.Attempts, src.rec.Attempts...)
	dst.rec.Legs = append(dst.rec.Legs, src.rec.Legs...)
	dst.rec.Transfers = append(dst.rec.Transfers, src.rec.Transfers...)
	dst.rec.Recordings = append(dst.rec.Recordings, src.rec.Recordings...)
	for _, p := range src.rec.Operators {
		a.addOperator(dst, p)
	}
	if !dst.answered && src.answered {
		dst.answered, dst.answeredAt, dst.rec.AnsweredBy = true, src.answeredAt, src.rec.AnsweredBy
	}
	for _, ch := range src.chans {
		if ch.ring > 0 {
			ch.ring += nr
		}
		if ch.attempt > 0 {
			ch.attempt += na
		}
		if ch.leg > 0 {
			ch.leg += nl
		}
	}
	for _, id := range append(src.rec.Linkedids, src.aliases...) {
		a.calls[id] = dst
		dst.aliases = append(dst.aliases, id)
	}
	src.chans = nil
	src.live = 0
}

// ---- generic channel events

func (a *Assembler) onNewstate(ev *evCtx) {
	ch := a.snapshot(ev, pNone)
	if ch == nil {
		return
	}
	st := ev.get("ChannelStateDesc")
	if st != "Up" {
		return
	}
	ch.up = true
	// A dialled real channel going Up is its answer. Asterisk 11's Dial End does not
	// name the destination, and in 12+ it arrives just after, so this is the common
	// signal.
	if ch.dialedBy != nil && ch.kind != KindLocal {
		a.answer(ch, ev)
	}
}

func (a *Assembler) onNewexten(ev *evCtx) {
	app := ev.get("Application")
	if app == "Queue" {
		if ch := a.snapshot(ev, pNone); ch != nil {
			q, _, _ := strings.Cut(ev.get("AppData"), ",")
			ch.queueApp = q
		}
		return
	}
	// The caller's dialplan going on after a QueueCallerAbandon proves it was a timeout,
	// not a hangup (reference §3.c.1), when VarSet is not readable.
	ch := a.chans[ev.get("Uniqueid")]
	if ch == nil || ch.call.provisional == 0 || ch != ch.call.origin || ch.hangupReq {
		return
	}
	if ctx := ev.get("Context"); strings.Contains(ctx, "handler") || ev.get("Exten") == "h" {
		return
	}
	c := ch.call
	if v := &c.rec.Visits[c.provisional-1]; v.Result == ReasonAbandoned {
		v.Result = ReasonTimeout
	}
	a.clearProvisional(c)
}

func (a *Assembler) wantVar(name string) bool {
	switch name {
	case "MIXMONITOR_FILENAME", "QUEUESTATUS":
		return true
	}
	return a.customVar(name)
}

// Variables Linkage sets itself on the calls it originates (the operator
// workplace's callbacks). They are captured into Call.Custom whatever the server's
// configured Variables, so a stored callback can always be linked to the missed call
// it answers.
const (
	VarCallback   = "LINKAGE_CALLBACK"    // the MissedCall id a callback is for
	VarCallbackBy = "LINKAGE_CALLBACK_BY" // the User id who asked for the callback
)

// customVar says whether a channel variable goes into Call.Custom: the configured
// ones and Linkage's own.
func (a *Assembler) customVar(name string) bool {
	name = strings.TrimLeft(name, "_")
	return name == VarCallback || name == VarCallbackBy || a.dir.vars[name]
}

func (a *Assembler) onVarSet(ev *evCtx) {
	name := ev.get("Variable")
	ch := a.snapshot(ev, pNone)
	if ch == nil {
		return
	}
	c := ch.call
	val := ev.get("Value")
	switch name {
	case "MIXMONITOR_FILENAME":
		if val == "" {
			return
		}
		for _, r := range c.rec.Recordings {
			if r == val {
				return
			}
		}
		c.rec.Recordings = append(c.rec.Recordings, val)
	case "QUEUESTATUS":
		a.queueStatus(ch, val, ev)
	default:
		if c.rec.Custom == nil {
			c.rec.Custom = map[string]string{}
		}
		c.rec.Custom[strings.TrimLeft(name, "_")] = val
	}
}

func (a *Assembler) onHangupRequest(ev *evCtx) {
	ch := a.snapshot(ev, pNone)
	if ch == nil {
		return
	}
	ch.hangupReq = true
	a.sawHangupRequest = true
	c := ch.call
	if ch == c.origin {
		c.originReq = true
	}
	if ch.kind == KindLocal || ch.transferer {
		return
	}
	if ch == c.origin || ch.bridge != nil && len(ch.bridge.members) >= 2 {
		c.lastReq = ch
		c.lastReqRole = a.role(c, ch)
	}
}

func (a *Assembler) onHangup(ev *evCtx) {
	ch := a.snapshot(ev, pNone)
	if ch == nil {
		return
	}
	a.chanVars(ch, ev)
	a.hangup(ch, ev)
}

// chanVars copies configured variables from "ChanVariable: NAME=value" lines
// (manager.conf channelvars, reference §1.6). Read on Newchannel and Hangup only: the
// lines repeat on every snapshot event, and the last value is the one that counts.
func (a *Assembler) chanVars(ch *channel, ev *evCtx) {
	for _, f := range ev.e.Fields {
		if f.Key != "ChanVariable" {
			continue
		}
		name, val, ok := strings.Cut(f.Value, "=")
		if !ok || !a.customVar(name) {
			continue
		}
		c := ch.call
		if c.rec.Custom == nil {
			c.rec.Custom = map[string]string{}
		}
		c.rec.Custom[strings.TrimLeft(name, "_")] = val
	}
}

func (a *Assembler) hangup(ch *channel, ev *evCtx) {
	c := ch.call
	if ch.onHold {
		a.endHold(ch, ev.t)
	}
	if ch.bridge != nil {
		a.leaveBridge(ch, ev)
	}
	if c.unlink[0] == ch || c.unlink[1] == ch {
		if c.unlinkRole == "" && ch.kind != KindLocal && !ch.transferer {
			c.unlinkRole = a.role(c, ch)
		}
	}
	if ch.leg > 0 {
		if l := &c.rec.Legs[ch.leg-1]; l.End.IsZero() {
			l.End = ev.t
		}
	}
	if ch.peer != nil && ch.peer.peer == ch {
		ch.peer.peer = nil
	}
	delete(a.chans, ch.uid)
	delete(a.dests, ch)
	if a.names[ch.name] == ch {
		delete(a.names, ch.name)
	}
	a.gone.add(ch.uid)
	c.removeLive(ch)
	if c.live <= 0 {
		a.finish(c, ev.t)
	}
}

// ---- dialling

func (a *Assembler) onDialBegin(ev *evCtx) {
	src := a.snapshot(ev, pNone)
	dst := a.snapshot(ev, pDest)
	if dst == nil {
		return
	}
	a.dialed(src, dst, ev.get("DialString"), ev)
}

func (a *Assembler) dialed(src, dst *channel, dialString string, ev *evCtx) {
	if src != nil && src.call != dst.call {
		a.merge(dst.call, src.call, ev)
	}
	dst.dialedBy = src
	dst.dialString = dialString
	if src != nil {
		src.lastDest = dst
	}
	if dst.kind == KindLocal || dst.ring != 0 {
		return
	}
	c := dst.call
	p := a.partyOf(dst)
	c.rings = append(c.rings, ring{party: p, op: dst.kind == KindOperator, start: ev.t})
	dst.ring = int32(len(c.rings))
	// app_queue's AgentCalled (always just before the DialBegin) already announced this
	// member, directly or through its Local pair.
	if dst.attempt > 0 || src != nil && src.local == 2 && src.peer != nil && src.peer.attempt > 0 {
		return
	}
	var caller Party
	if c.origin != nil {
		caller = a.partyOf(c.origin)
	}
	a.note(Notification{Kind: Ringing, Time: ev.t, Linkedid: c.id(), Caller: caller, Party: p})
}

func (a *Assembler) onDialEnd(ev *evCtx) {
	src := a.snapshot(ev, pNone)
	dst := a.snapshot(ev, pDest)
	if dst == nil {
		return
	}
	status := ev.get("DialStatus")
	if ev.get("Forward") != "" {
		status = "FORWARD"
	}
	a.dialEnded(src, dst, status, ev)
}

func (a *Assembler) dialEnded(src, dst *channel, status string, ev *evCtx) {
	c := dst.call
	if dst.ring > 0 {
		r := &c.rings[dst.ring-1]
		// The first real outcome wins: app_queue sends NOANSWER then CANCEL for the
		// same leg (reference §3.b.1).
		if r.status == "" || r.status == "CANCEL" && status != "CANCEL" {
			r.status = status
		}
	}
	if dst.attempt > 0 {
		at := &c.rec.Attempts[dst.attempt-1]
		if at.Result == "" {
			switch status {
			case "BUSY", "CONGESTION", "CHANUNAVAIL":
				at.Result = ReasonBusy
				at.RingEnd = ev.t
			}
		}
	}
	if src == nil || src == c.origin || src.kind == KindLocal && a.realOf(src) == c.origin {
		c.originDial = status
	}
	if status == "ANSWER" && dst.kind != KindLocal {
		a.answer(dst, ev)
	}
}

// onDial11 handles Asterisk 11's "Dial" with SubEvent Begin/End.
func (a *Assembler) onDial11(ev *evCtx) {
	src := a.chans[ev.get("UniqueID")]
	if src != nil {
		a.touch(src.call, ev)
	}
	switch ev.get("SubEvent") {
	case "Begin":
		dst := a.chans[ev.get("DestUniqueID")]
		if dst == nil {
			return
		}
		a.dialed(src, dst, ev.get("Dialstring"), ev)
		if src != nil {
			// Only Asterisk 11 needs the list: its Dial End names no destination.
			a.dests[src] = append(a.dests[src], dst)
		}
	case "End":
		if src == nil {
			return
		}
		status := ev.get("DialStatus")
		for _, d := range a.dests[src] {
			if d.call == nil {
				continue
			}
			st := status
			if status == "ANSWER" && !d.up {
				st = "CANCEL"
			}
			a.dialEnded(src, d, st, ev)
		}
		if len(a.dests[src]) == 0 {
			src.call.originDial = status
		}
	}
}

// answer records that a real party picked up.
func (a *Assembler) answer(ch *channel, ev *evCtx) {
	c := ch.call
	if ch.answered {
		return
	}
	ch.answered = true
	// The originator's own phone answering a click-to-dial (Originate) is not the call
	// being answered: the far end is.
	if ch == c.origin || c.origin != nil && ch.device == c.origin.device {
		return
	}
	p := a.partyOf(ch)
	if ch.ring > 0 {
		c.rings[ch.ring-1].status = "ANSWER"
	}
	if !c.answered {
		c.answered = true
		c.answeredAt = ev.t
		c.rec.AnsweredBy = &p
		var caller Party
		if c.origin != nil {
			caller = a.partyOf(c.origin)
		}
		a.note(Notification{Kind: Answered, Time: ev.t, Linkedid: c.id(), Caller: caller, Party: p})
	}
	if c.pendingBlind > 0 {
		tr := &c.rec.Transfers[c.pendingBlind-1]
		tr.Answered = true
		if tr.To.Device == "" {
			tr.To.Device = p.Device
		}
		if tr.To.Name == "" {
			tr.To.Name = p.Name
		}
		for i := range c.rec.Legs {
			if t := c.rec.Legs[i].TransferredTo; t != nil && t.Number == tr.To.Number && t.Device == "" {
				*t = tr.To
			}
		}
		c.pendingBlind = 0
	}
	if ch.leg == 0 {
		l := Leg{Party: p, Answered: ev.t}
		if ch.ring > 0 {
			l.RingStart = c.rings[ch.ring-1].start
		}
		c.rec.Legs = append(c.rec.Legs, l)
		ch.leg = int32(len(c.rec.Legs))
	}
	if ch.kind == KindOperator {
		a.addOperator(c, p)
	}
}

func (a *Assembler) addOperator(c *callState, p Party) {
	if !a.isOperator(p) {
		return
	}
	for _, o := range c.rec.Operators {
		if o == p || o.Device != "" && o.Device == p.Device {
			return
		}
	}
	c.rec.Operators = append(c.rec.Operators, p)
}

func (a *Assembler) isOperator(p Party) bool {
	return p.Device != "" && a.dir.byDevice[p.Device] != nil || p.Number != "" && a.dir.byExten[p.Number] != nil
}

// realOf sees through Local pairs: ;1 -> ;2 -> what ;2 dialled.
func (a *Assembler) realOf(ch *channel) *channel {
	for i := 0; ch != nil && ch.kind == KindLocal && i < 8; i++ {
		switch {
		case ch.local == 1 && ch.peer != nil:
			ch = ch.peer
		case ch.lastDest != nil:
			ch = ch.lastDest
		default:
			return ch
		}
	}
	return ch
}

// partyOf describes the party on a channel.
func (a *Assembler) partyOf(ch *channel) Party {
	if ch == nil {
		return Party{}
	}
	if op := a.dir.byDevice[ch.device]; op != nil {
		return Party{Number: op.Exten, Name: op.Name, Device: op.Device}
	}
	switch ch.kind {
	case KindTrunk:
		if ch.dialString != "" || ch.dialedBy != nil {
			// Outgoing trunk leg: the number is what was dialled.
			return Party{Number: numberOfDialString(ch.dialString), Device: ch.device}
		}
		return Party{Number: cleanCID(ch.cidNum), Name: cleanCID(ch.cidName), Device: ch.device}
	case KindLocal:
		return Party{Number: localExten(ch.device)}
	}
	num := cleanCID(ch.cidNum)
	if num == "" || num == resourceOf(ch.device) && ch.exten != "" && ch.exten != "s" && ch.dialedBy != nil {
		num = resourceOf(ch.device)
	}
	return Party{Number: num, Name: cleanCID(ch.cidName), Device: ch.device}
}

func cleanCID(s string) string {
	switch s {
	case "<unknown>", "unknown":
		return ""
	}
	return s
}

// role says what a channel is to its call, for "who hung up".
func (a *Assembler) role(c *callState, ch *channel) string {
	if ch == c.origin {
		return ByCaller
	}
	if ch.kind == KindOperator && a.callType(c) == Inbound {
		return ByOperator
	}
	return ByCallee
}

// ---- bridges

func (a *Assembler) onBridgeEnter(ev *evCtx) {
	ch := a.snapshot(ev, pNone)
	if ch == nil {
		return
	}
	id := ev.get("BridgeUniqueid")
	if ch.bridge != nil {
		a.leaveBridge(ch, ev)
	}
	b := a.bridges[id]
	if b == nil {
		b = &bridge{id: id}
		a.bridges[id] = b
	}
	b.members = append(b.members, ch)
	ch.bridge = b
	// A channel that leaves and enters again (Local optimisation swaps it in, a transfer
	// moves it) did not hang up.
	if ch.call.leaver == ch {
		ch.call.leaver, ch.call.leaverRole = nil, ""
	}
}

func (a *Assembler) onBridgeLeave(ev *evCtx) {
	ch := a.snapshot(ev, pNone)
	if ch == nil || ch.bridge == nil {
		return
	}
	a.leaveBridge(ch, ev)
}

func (a *Assembler) leaveBridge(ch *channel, ev *evCtx) {
	b := ch.bridge
	ch.bridge = nil
	n := len(b.members)
	for i, m := range b.members {
		if m == ch {
			b.members = append(b.members[:i], b.members[i+1:]...)
			break
		}
	}
	if len(b.members) == 0 && a.bridges[b.id] == b {
		// BridgeDestroy normally follows; after a gap it may never come.
		delete(a.bridges, b.id)
	}
	c := ch.call
	if n < 2 || !c.answered {
		return
	}
	c.talkEnd = ev.t
	if n == 2 && ch.kind != KindLocal && !ch.transferer {
		c.leaver, c.leaverRole = ch, a.role(c, ch)
	}
}

// onBridge11 handles Asterisk 11's Bridge (Bridgestate Link/Unlink).
func (a *Assembler) onBridge11(ev *evCtx) {
	c1, c2 := a.chans[ev.get("Uniqueid1")], a.chans[ev.get("Uniqueid2")]
	if c1 == nil || c2 == nil {
		return
	}
	a.touch(c1.call, ev)
	switch ev.get("Bridgestate") {
	case "Link":
		if c1.call != c2.call {
			a.merge(c2.call, c1.call, ev)
		}
		c1.bpeer, c2.bpeer = c2, c1
	case "Unlink":
		if c1.bpeer == c2 {
			c1.bpeer, c2.bpeer = nil, nil
		}
		c := c1.call
		if c.answered {
			c.talkEnd = ev.t
		}
		if c1.kind != KindLocal && c2.kind != KindLocal {
			c.unlink = [2]*channel{c1, c2}
			c.unlinkRole = ""
		}
	}
}

func (a *Assembler) onLocalBridge(ev *evCtx) {
	one := a.snapshot(ev, pLocalOne)
	two := a.snapshot(ev, pLocalTwo)
	if one == nil || two == nil {
		// Asterisk 11: Channel1/Channel2 + Uniqueid1/Uniqueid2.
		one, two = a.chans[ev.get("Uniqueid1")], a.chans[ev.get("Uniqueid2")]
	}
	if one == nil || two == nil {
		return
	}
	one.peer, two.peer = two, one
	one.local, two.local = 1, 2
	if one.call != two.call {
		a.merge(two.call, one.call, ev)
	}
}

// onMasquerade handles Asterisk 11 (and pickup in 12+) masquerades: the Original channel
// takes over the Clone's identity. When the two are in different calls (an attended
// transfer), the Original and what it is bridged with join the Clone's call.
func (a *Assembler) onMasquerade(ev *evCtx) {
	orig, clone := a.names[ev.get("Original")], a.names[ev.get("Clone")]
	if orig == nil || clone == nil || orig.call == clone.call {
		return
	}
	from := orig.call
	peer := orig.bpeer
	if peer == nil && orig.bridge != nil {
		for _, m := range orig.bridge.members {
			if m != orig {
				peer = m
			}
		}
	}
	to := clone.call
	if peer != nil && peer.call == from {
		a.move(peer, to, ev)
	}
	a.move(orig, to, ev)
}

func (a *Assembler) onRename(ev *evCtx) {
	ch := a.chans[ev.get("Uniqueid")]
	if ch == nil {
		return
	}
	a.touch(ch.call, ev)
	nn := ev.get("Newname")
	if a.names[ch.name] == ch {
		delete(a.names, ch.name)
	}
	// The channel that held this name until a moment ago (renamed to <MASQ>) is the
	// clone whose identity ch takes over: its answer, leg and caller role move to ch.
	clone := a.names[nn+"<MASQ>"]
	ch.name = nn
	a.names[nn] = ch
	if strings.Contains(nn, "<") {
		return
	}
	ch.device = deviceOf(nn)
	ch.kind = a.dir.channelKind(ch.device, ch.context)
	if ch.kind != KindLocal {
		if ch.peer != nil && ch.peer.peer == ch {
			ch.peer.peer = nil
		}
		ch.peer, ch.local = nil, 0
	}
	if clone == nil || clone.call != ch.call {
		return
	}
	c := ch.call
	if c.origin == clone {
		c.origin = ch
	}
	ch.answered, ch.up = clone.answered, clone.up
	ch.leg, clone.leg = clone.leg, 0
	ch.ring, clone.ring = clone.ring, 0
	ch.dialString, ch.dialedBy = clone.dialString, clone.dialedBy
	ch.cidNum, ch.cidName = clone.cidNum, clone.cidName
	ch.exten, ch.context = clone.exten, clone.context
	if ch.transferer || clone.transferer {
		ch.transferer = true
	}
}

// ---- hold

func (a *Assembler) onHold(ev *evCtx, on bool) {
	ch := a.snapshot(ev, pNone)
	if ch == nil {
		return
	}
	if on {
		if !ch.onHold {
			ch.onHold, ch.holdAt = true, ev.t.UnixNano()
		}
		return
	}
	// Every bridge transfer sends an Unhold for the transferer even if it was never held
	// (reference §3.f): an Unhold without a Hold is ignored.
	if ch.onHold {
		a.endHold(ch, ev.t)
	}
}

func (a *Assembler) endHold(ch *channel, t time.Time) {
	ch.onHold = false
	d := time.Duration(t.UnixNano() - ch.holdAt)
	if d < 0 {
		d = 0
	}
	c := ch.call
	c.hold += d
	if ch.leg > 0 {
		c.rec.Legs[ch.leg-1].HoldSeconds += secs(d)
	}
}

// secs truncates like Asterisk does for its own durations (whole elapsed seconds).
func secs(d time.Duration) int { return int(d / time.Second) }

// ---- helpers

// intern returns the assembler's copy of s. The table is bounded: past 1<<16 entries
// (a flood of distinct values, not the steady state) it starts over.
func (a *Assembler) intern(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := a.strs[s]; ok {
		return v
	}
	if len(a.strs) >= 1<<16 {
		clear(a.strs)
	}
	v := strings.Clone(s)
	a.strs[v] = v
	return v
}

func atoi(s string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(s))
	return n
}
