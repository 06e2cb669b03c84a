package live

import (
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/linkage/linkage/ami"
	"github.com/linkage/linkage/ami/assemble"
)

// StatusChange is an operator's status changing: the interval (Prev*, PrevSince..At)
// is over and a new one (Status, Reason) starts at At. The collector persists it as
// OperatorStatusChange rows: close the open row (to = At), insert {Status, Reason,
// from = At}. Operators Linkage does not know (OperatorID 0) are reported too.
type StatusChange struct {
	Server     int
	OperatorID int
	Interface  string
	Status     Status
	Reason     string
	At         time.Time
	PrevStatus Status // "" when the operator was not seen before
	PrevReason string
	PrevSince  time.Time
}

// Options configure a State.
type Options struct {
	// Hub receives every change; nil keeps the state without publishing (tests).
	Hub *Hub
	// Directory resolves queues and operators to Linkage ids; nil knows none.
	Directory Directory
	// Location is the day boundary for operators' counters and for queues without a
	// zone (default UTC).
	Location *time.Location
	// OnStatus receives operator status changes, synchronously inside Apply: it must
	// not block (hand the change to a buffered writer).
	OnStatus func(StatusChange)
	Logger   *slog.Logger
}

// State is the live state of every server. Apply is called by each server's worker
// (one goroutine per server, events in order); reads come from the Hub.
type State struct {
	mu      sync.Mutex
	opts    Options
	servers map[int]*server
	scratch []Change
	seedQ   map[QueueName]DayCounters
	seedOp  map[int]OperatorDay
}

type server struct {
	id     int
	queues map[string]*queueState
	ops    map[string]*opState // key: state interface (device)
	byDev  map[string]*opState // member interface or device -> operator
	calls  map[string]*callState
	ended  map[string]ActiveCall // recently ended calls, for the Stored event
	endedQ []string

	qResync   string // ActionID of the QueueStatus list being read
	qSeen     map[string]bool
	cResync   string
	cSeen     map[string]bool
	dirtyQ    map[*queueState]bool
	dirtyOp   map[*opState]bool
	dirtyCall map[string]bool
	events    []CallEvent
	reset     bool // publish TopicReset first: this State takes the server over
}

type queueState struct {
	name    string
	ref     QueueRef
	loc     *time.Location
	day     string
	waiting []Caller
	members map[string]*memberState // by Interface
	order   []string
	c       Counters
	mSeen   map[string]bool
	eSeen   map[string]bool
	updated time.Time
}

type memberState struct {
	Member
	queue string
	op    *opState
}

type opState struct {
	key     string
	id      int
	name    string
	members map[string]*memberState // by queue name
	dev     int
	status  Status
	reason  string
	since   time.Time
	callLid string
	callDir Status
	ringLid string
	day     string
	in      int
	out     int
	missed  int
	updated time.Time
}

type callState struct {
	ActiveCall
	opKey string
}

// NewState returns an empty state.
func NewState(o Options) *State {
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &State{opts: o, servers: map[int]*server{}}
}

func (s *State) server(id int) *server {
	sv := s.servers[id]
	if sv == nil {
		sv = &server{id: id, queues: map[string]*queueState{}, ops: map[string]*opState{}, byDev: map[string]*opState{},
			calls: map[string]*callState{}, ended: map[string]ActiveCall{},
			dirtyQ: map[*queueState]bool{}, dirtyOp: map[*opState]bool{}, dirtyCall: map[string]bool{}, reset: true}
		s.servers[id] = sv
	}
	return sv
}

// Apply folds one event of server serverID, and what the assembler made of it, into
// the state and publishes the changes. It does no I/O and never blocks on
// subscribers. e may be nil (outputs only).
func (s *State) Apply(serverID int, e *ami.Event, outs []assemble.Output) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sv := s.server(serverID)
	if e != nil {
		s.event(sv, e)
	}
	for _, o := range outs {
		if o.Note != nil {
			s.note(sv, o.Note)
		}
	}
	s.flush(sv)
}

// Tick rolls the day over for queues and operators that had no event since
// midnight (in their zone) and publishes the reset counters. The collector calls it
// every minute or so with the wall clock.
func (s *State) Tick(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sv := range s.servers {
		for _, q := range sv.queues {
			if d := now.In(q.loc).Format(time.DateOnly); q.day != "" && d > q.day {
				q.rollDay(now)
				sv.dirtyQ[q] = true
			}
		}
		for _, op := range sv.ops {
			if d := now.In(s.opts.Location).Format(time.DateOnly); op.day != "" && d > op.day {
				s.rollOpDay(op, now)
				sv.dirtyOp[op] = true
			}
		}
		s.flush(sv)
	}
}

// CallStored publishes the Stored call event for a finished call once the collector
// has written it, with the stored Call's id.
func (s *State) CallStored(serverID int, linkedid string, callID int, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sv := s.server(serverID)
	ev := CallEvent{Kind: EventStored, Server: serverID, Time: at, Linkedid: linkedid, StoredID: callID}
	if c, ok := sv.ended[linkedid]; ok {
		fillEvent(&ev, &c)
	}
	sv.events = append(sv.events, ev)
	s.flush(sv)
}

func (s *State) queue(sv *server, name string) *queueState {
	q := sv.queues[name]
	if q != nil && q.ref.ID == 0 && s.opts.Directory != nil {
		// Discovered after it was first seen: the collector creates queue rows as it
		// meets them, and the directory learns them on its next refresh.
		if ref, ok := s.opts.Directory.Queue(sv.id, name); ok {
			if ref.SLThreshold <= 0 {
				ref.SLThreshold = q.ref.SLThreshold
			}
			q.ref = ref
			if ref.Location != nil {
				q.loc = ref.Location
			}
		}
	}
	if q == nil {
		q = &queueState{name: name, members: map[string]*memberState{}, loc: s.opts.Location}
		if s.opts.Directory != nil {
			if ref, ok := s.opts.Directory.Queue(sv.id, name); ok {
				q.ref = ref
				if ref.Location != nil {
					q.loc = ref.Location
				}
			}
		}
		if q.ref.SLThreshold <= 0 {
			q.ref.SLThreshold = 20 * time.Second
		}
		s.seedQueue(sv.id, q, name)
		sv.queues[name] = q
	}
	return q
}

// Reresolve looks every queue and operator the state holds up in the directory again
// and publishes those whose id, zone or service-level threshold changed. queue and
// operator only fill in what was unknown, so without this an admin's edit of a known
// queue (or a removed row) would show only after a restart. Call it after the
// directory was reloaded.
func (s *State) Reresolve() {
	if s.opts.Directory == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sv := range s.servers {
		for name, q := range sv.queues {
			ref, _ := s.opts.Directory.Queue(sv.id, name)
			if ref.SLThreshold <= 0 {
				ref.SLThreshold = 20 * time.Second
			}
			loc := s.opts.Location
			if ref.Location != nil {
				loc = ref.Location
			}
			if ref != q.ref || loc != q.loc {
				q.ref, q.loc = ref, loc
				sv.dirtyQ[q] = true
			}
		}
		for _, op := range sv.ops {
			id := 0
			keys := []string{op.key}
			for _, m := range op.members {
				keys = append(keys, m.Interface)
			}
			for _, k := range keys {
				if v, ok := s.opts.Directory.OperatorID(sv.id, k); ok && k != "" {
					id = v
					break
				}
			}
			if id != op.id {
				op.id = id
				for _, m := range op.members {
					m.OperatorID = id
					if q := sv.queues[m.queue]; q != nil {
						sv.dirtyQ[q] = true
					}
				}
				sv.dirtyOp[op] = true
			}
		}
		s.flush(sv)
	}
}

// rollDay resets the counters when t is on a new day of the queue's zone.
func (q *queueState) rollDay(t time.Time) {
	if d := t.In(q.loc).Format(time.DateOnly); d != q.day {
		if q.day != "" && d < q.day {
			return // an old event (replay across midnight): keep today's counters
		}
		q.day, q.c = d, Counters{}
	}
}

func (s *State) rollOpDay(op *opState, t time.Time) {
	if d := t.In(s.opts.Location).Format(time.DateOnly); d != op.day {
		if op.day != "" && d < op.day {
			return
		}
		op.day, op.in, op.out, op.missed = d, 0, 0, 0
	}
}

func (s *State) operator(sv *server, stateIface, iface, name string) *opState {
	key := stateIface
	if key == "" {
		key = iface
	}
	op := sv.ops[key]
	if op != nil && op.id == 0 && s.opts.Directory != nil {
		for _, k := range []string{iface, stateIface} {
			if id, ok := s.opts.Directory.OperatorID(sv.id, k); ok && k != "" {
				op.id = id
				break
			}
		}
	}
	if op == nil {
		op = &opState{key: key, members: map[string]*memberState{}, status: ""}
		if s.opts.Directory != nil {
			for _, k := range []string{iface, stateIface} {
				if id, ok := s.opts.Directory.OperatorID(sv.id, k); ok && k != "" {
					op.id = id
					break
				}
			}
		}
		s.seedOperator(op)
		sv.ops[key] = op
	}
	if name != "" {
		op.name = name
	}
	sv.byDev[key] = op
	if iface != "" {
		sv.byDev[iface] = op
	}
	return op
}

// opOfDevice finds the operator of a device ("PJSIP/1001") or member interface; an
// operator in no queue yet is created when the directory knows the device.
func (s *State) opOfDevice(sv *server, dev string) *opState {
	if dev == "" {
		return nil
	}
	if op := sv.byDev[dev]; op != nil {
		return op
	}
	if s.opts.Directory != nil {
		if _, ok := s.opts.Directory.OperatorID(sv.id, dev); ok {
			return s.operator(sv, dev, dev, "")
		}
	}
	return nil
}

func (s *State) event(sv *server, e *ami.Event) {
	t := e.Time
	switch e.Name {
	case "QueueMemberAdded", "QueueMemberStatus", "QueueMemberPause", "QueueMemberPenalty", "QueueMemberRinginuse":
		s.member(sv, e, e.Get("Queue"), e.Get("Interface"), e.Get("MemberName"), t)
	case "QueueMember": // QueueStatus list item
		q := s.queue(sv, e.Get("Queue"))
		s.member(sv, e, q.name, e.Get("Location"), e.Get("Name"), t)
		if q.mSeen != nil {
			q.mSeen[e.Get("Location")] = true
		}
	case "QueueMemberRemoved":
		s.removeMember(sv, e.Get("Queue"), e.Get("Interface"), t)
	case "QueueParams":
		if id := e.Get("ActionID"); id != sv.qResync || sv.qSeen == nil {
			sv.qResync, sv.qSeen = id, map[string]bool{}
		}
		q := s.queue(sv, e.Get("Queue"))
		sv.qSeen[q.name] = true
		q.mSeen, q.eSeen = map[string]bool{}, map[string]bool{}
		sv.dirtyQ[q] = true
	case "QueueEntry":
		q := s.queue(sv, e.Get("Queue"))
		uid := e.Get("Uniqueid")
		wait, _ := strconv.Atoi(e.Get("Wait"))
		c := Caller{Uniqueid: uid, Number: unknownEmpty(e.Get("CallerIDNum")), Name: unknownEmpty(e.Get("CallerIDName")),
			Since: t.Add(-time.Duration(wait) * time.Second), Position: atoi(e.Get("Position"))}
		if i := q.caller(uid); i >= 0 {
			c.Linkedid = q.waiting[i].Linkedid
			c.Since = q.waiting[i].Since
			q.waiting[i] = c
		} else {
			// A caller we did not see join (it happened in a gap or before a
			// restart): count it now, as today's stored calls do not hold it yet.
			q.rollDay(t)
			q.c.Received++
			q.waiting = append(q.waiting, c)
			slices.SortStableFunc(q.waiting, func(a, b Caller) int { return a.Position - b.Position })
		}
		if q.eSeen != nil {
			q.eSeen[uid] = true
		}
		s.touchQ(sv, q, t)
	case "QueueStatusComplete":
		s.endQueueResync(sv, t)
	case "QueueCallerJoin":
		q := s.queue(sv, e.Get("Queue"))
		q.rollDay(t)
		q.c.Received++
		uid, lid := e.Get("Uniqueid"), e.Get("Linkedid")
		if i := q.caller(uid); i >= 0 {
			q.waiting = slices.Delete(q.waiting, i, i+1)
		}
		q.waiting = append(q.waiting, Caller{Uniqueid: uid, Linkedid: lid, Number: unknownEmpty(e.Get("CallerIDNum")),
			Name: unknownEmpty(e.Get("CallerIDName")), Since: t, Position: atoi(e.Get("Position"))})
		s.touchQ(sv, q, t)
		if c := s.call(sv, lid, t); c != nil {
			c.Queue, c.QueueID = q.name, q.ref.ID
			if c.State != CallTalking {
				s.setCallState(c, CallQueued, t)
			}
			if c.DID == "" && uid == lid {
				c.DID = e.Get("Exten")
			}
			sv.dirtyCall[lid] = true
		}
	case "QueueCallerLeave":
		q := s.queue(sv, e.Get("Queue"))
		if i := q.caller(e.Get("Uniqueid")); i >= 0 {
			q.rollDay(t)
			w := int(t.Sub(q.waiting[i].Since) / time.Second)
			q.c.Finished++
			q.c.WaitSum += w
			q.c.MaxWait = max(q.c.MaxWait, w)
			q.waiting = slices.Delete(q.waiting, i, i+1)
			for j := range q.waiting {
				q.waiting[j].Position = j + 1
			}
		}
		s.touchQ(sv, q, t)
	case "QueueCallerAbandon":
		q := s.queue(sv, e.Get("Queue"))
		if i := q.caller(e.Get("Uniqueid")); i >= 0 && q.waiting[i].hungUp {
			q.rollDay(t)
			q.c.Abandoned++
			s.touchQ(sv, q, t)
		}
	case "HangupRequest":
		uid := e.Get("Uniqueid")
		for _, q := range sv.queues {
			if i := q.caller(uid); i >= 0 {
				q.waiting[i].hungUp = true
			}
		}
	case "AgentConnect":
		q := s.queue(sv, e.Get("Queue"))
		q.rollDay(t)
		q.c.Answered++
		if time.Duration(atoi(e.Get("HoldTime")))*time.Second <= q.ref.SLThreshold {
			q.c.AnsweredInSL++
		}
		s.touchQ(sv, q, t)
	case "AgentComplete":
		q := s.queue(sv, e.Get("Queue"))
		q.rollDay(t)
		q.c.TalkSum += atoi(e.Get("TalkTime"))
		q.c.TalkCount++
		s.touchQ(sv, q, t)
	case "AgentRingNoAnswer":
		if op := s.opOfDevice(sv, e.Get("Interface")); op != nil {
			s.rollOpDay(op, t)
			op.missed++
			if op.ringLid != "" && op.ringLid == e.Get("Linkedid") {
				op.ringLid = ""
			}
			s.refreshOp(sv, op, t, true)
		}
	case "DialEnd":
		if op := s.opOfDevice(sv, deviceOf(e.Get("DestChannel"))); op != nil && op.ringLid != "" && e.Get("DialStatus") != "ANSWER" {
			op.ringLid = ""
			s.refreshOp(sv, op, t, false)
		}
	case "Newchannel":
		if uid, lid := e.Get("Uniqueid"), e.Get("Linkedid"); uid != "" && uid == lid {
			if c := sv.calls[lid]; c != nil && c.DID == "" {
				c.DID = e.Get("Exten")
				sv.dirtyCall[lid] = true
			}
		}
	case "CoreShowChannel":
		s.resyncChannel(sv, e, t)
	case "CoreShowChannelsComplete":
		s.endChannelResync(sv, t)
	}
}

func (s *State) member(sv *server, e *ami.Event, queue, iface, name string, t time.Time) {
	if queue == "" || iface == "" {
		return
	}
	q := s.queue(sv, queue)
	m := q.members[iface]
	stateIface := e.Get("StateInterface")
	op := s.operator(sv, stateIface, iface, name)
	if m == nil {
		m = &memberState{queue: queue, op: op}
		m.Interface, m.Since = iface, t
		q.members[iface] = m
		q.order = append(q.order, iface)
	}
	if m.op != op { // state interface changed: move the membership
		delete(m.op.members, queue)
		s.refreshOp(sv, m.op, t, true)
		m.op = op
	}
	op.members[queue] = m
	m.StateInterface, m.Name, m.OperatorID = stateIface, name, op.id
	if v, ok := e.Fields.Lookup("Status"); ok {
		m.DeviceState = atoi(v)
	}
	m.Paused = e.Get("Paused") == "1"
	m.Reason = e.Get("PausedReason")
	if !m.Paused {
		m.Reason = "" // an unpause may carry the reason it was given (reference §3.j)
	}
	m.InCall = e.Get("InCall") == "1"
	m.CallsTaken = atoi(e.Get("CallsTaken"))
	prev := op.dev
	op.dev = m.DeviceState
	if inUse(prev) && op.dev == 1 || prev >= 6 && prev <= 7 && op.dev == 1 {
		// back to idle: whatever call or ring we knew of is over for this phone
		op.callLid, op.ringLid = "", ""
	}
	for _, other := range op.members { // one device, one state in every queue
		other.DeviceState = op.dev
	}
	s.touchQ(sv, q, t)
	s.refreshOp(sv, op, t, true)
}

func inUse(d int) bool { return d == 2 || d == 3 || d == 8 }

func (s *State) removeMember(sv *server, queue, iface string, t time.Time) {
	q := sv.queues[queue]
	if q == nil {
		return
	}
	m := q.members[iface]
	if m == nil {
		return
	}
	delete(q.members, iface)
	q.order = slices.DeleteFunc(q.order, func(x string) bool { return x == iface })
	delete(m.op.members, queue)
	s.touchQ(sv, q, t)
	s.refreshOp(sv, m.op, t, true)
}

func (s *State) endQueueResync(sv *server, t time.Time) {
	if sv.qSeen == nil {
		return
	}
	for name, q := range sv.queues {
		if !sv.qSeen[name] {
			q.mSeen, q.eSeen = map[string]bool{}, map[string]bool{}
		}
		for _, iface := range slices.Clone(q.order) {
			if !q.mSeen[iface] {
				s.removeMember(sv, name, iface, t)
			}
		}
		n := len(q.waiting)
		q.waiting = slices.DeleteFunc(q.waiting, func(c Caller) bool { return !q.eSeen[c.Uniqueid] })
		if n != len(q.waiting) {
			s.touchQ(sv, q, t)
		}
		q.mSeen, q.eSeen = nil, nil
	}
	sv.qSeen, sv.qResync = nil, ""
}

func (s *State) resyncChannel(sv *server, e *ami.Event, t time.Time) {
	if id := e.Get("ActionID"); id != sv.cResync || sv.cSeen == nil {
		sv.cResync, sv.cSeen = id, map[string]bool{}
	}
	lid, uid := e.Get("Linkedid"), e.Get("Uniqueid")
	if lid == "" {
		return
	}
	sv.cSeen[lid] = true
	c := sv.calls[lid]
	if c == nil {
		c = s.call(sv, lid, t)
		c.Started = t.Add(-parseHMS(e.Get("Duration")))
		c.Since = c.Started
	}
	if uid == lid {
		c.CallerNumber, c.CallerName = unknownEmpty(e.Get("CallerIDNum")), unknownEmpty(e.Get("CallerIDName"))
		c.Started = t.Add(-parseHMS(e.Get("Duration")))
		if e.Get("Application") == "Queue" {
			name, _, _ := strings.Cut(e.Get("ApplicationData"), ",")
			q := s.queue(sv, name)
			c.Queue, c.QueueID = q.name, q.ref.ID
			if c.State == CallNew {
				c.State = CallQueued
			}
		}
	}
	if op := s.opOfDevice(sv, deviceOf(e.Get("Channel"))); op != nil {
		switch e.Get("ChannelState") {
		case "6": // Up
			op.callLid = lid
			op.callDir = StatusOnCallIn
			if uid == lid {
				op.callDir = StatusOnCallOut
			} else {
				s.setOperator(c, op)
				s.setCallState(c, CallTalking, t)
			}
		case "5": // Ringing
			op.ringLid = lid
			if c.State != CallTalking {
				s.setOperator(c, op)
				s.setCallState(c, CallRinging, t)
			}
		}
		s.refreshOp(sv, op, t, false)
	}
	sv.dirtyCall[lid] = true
}

func (s *State) endChannelResync(sv *server, t time.Time) {
	if sv.cSeen == nil {
		sv.cSeen = map[string]bool{} // an empty list: nothing is live
	}
	for lid := range sv.calls {
		if !sv.cSeen[lid] {
			s.endCall(sv, lid, t)
		}
	}
	for _, op := range sv.ops {
		if op.callLid != "" && !sv.cSeen[op.callLid] || op.ringLid != "" && !sv.cSeen[op.ringLid] {
			if !sv.cSeen[op.callLid] {
				op.callLid = ""
			}
			if !sv.cSeen[op.ringLid] {
				op.ringLid = ""
			}
			s.refreshOp(sv, op, t, false)
		}
	}
	sv.cSeen, sv.cResync = nil, ""
}

func (s *State) note(sv *server, n *assemble.Notification) {
	t := n.Time
	switch n.Kind {
	case assemble.CallStarted:
		c := s.call(sv, n.Linkedid, t)
		c.CallerNumber, c.CallerName = n.Caller.Number, n.Caller.Name
		c.Started = t
		if op := s.opOfDevice(sv, n.Caller.Device); op != nil {
			s.rollOpDay(op, t)
			op.out++
			if op.callLid == "" {
				op.callLid, op.callDir = n.Linkedid, StatusOnCallOut
			}
			s.refreshOp(sv, op, t, true)
		}
		sv.dirtyCall[n.Linkedid] = true
	case assemble.Ringing:
		c := s.call(sv, n.Linkedid, t)
		fillCaller(c, n)
		if c.State != CallTalking {
			s.setCallState(c, CallRinging, t)
		}
		ev := CallEvent{Kind: EventRinging, Server: sv.id, Time: t, Linkedid: n.Linkedid}
		if op := s.opOfDevice(sv, n.Party.Device); op != nil {
			op.ringLid = n.Linkedid
			if c.State != CallTalking {
				s.setOperator(c, op)
			}
			s.refreshOp(sv, op, t, false)
			ev.OperatorID = op.id
		} else if c.State != CallTalking {
			c.OperatorID, c.OperatorNumber, c.OperatorName = 0, n.Party.Number, n.Party.Name
		}
		if n.Queue != "" {
			q := s.queue(sv, n.Queue)
			c.Queue, c.QueueID = q.name, q.ref.ID
		}
		fillEvent(&ev, &c.ActiveCall)
		ev.OperatorNumber, ev.OperatorName = n.Party.Number, n.Party.Name
		sv.events = append(sv.events, ev)
		sv.dirtyCall[n.Linkedid] = true
	case assemble.Answered:
		c := s.call(sv, n.Linkedid, t)
		fillCaller(c, n)
		s.setCallState(c, CallTalking, t)
		for _, op := range sv.ops {
			if op.ringLid == n.Linkedid {
				op.ringLid = ""
				s.refreshOp(sv, op, t, false)
			}
		}
		c.OperatorID, c.OperatorNumber, c.OperatorName = 0, n.Party.Number, n.Party.Name
		if op := s.opOfDevice(sv, n.Party.Device); op != nil {
			s.rollOpDay(op, t)
			op.in++
			op.callLid, op.callDir = n.Linkedid, StatusOnCallIn
			s.setOperator(c, op)
			s.refreshOp(sv, op, t, true)
		}
		if n.Queue != "" {
			q := s.queue(sv, n.Queue)
			c.Queue, c.QueueID = q.name, q.ref.ID
		}
		ev := CallEvent{Kind: EventAnswered, Server: sv.id, Time: t, Linkedid: n.Linkedid}
		fillEvent(&ev, &c.ActiveCall)
		sv.events = append(sv.events, ev)
		sv.dirtyCall[n.Linkedid] = true
	case assemble.Transferred:
		c := s.call(sv, n.Linkedid, t)
		ev := CallEvent{Kind: EventTransferred, Server: sv.id, Time: t, Linkedid: n.Linkedid}
		if n.Transfer != nil {
			ev.TransferType = n.Transfer.Type
		}
		if old := sv.ops[c.opKey]; old != nil && old.callLid == n.Linkedid {
			old.callLid = ""
			s.refreshOp(sv, old, t, false)
		}
		c.OperatorID, c.OperatorNumber, c.OperatorName, c.opKey = 0, n.Party.Number, n.Party.Name, ""
		if op := s.opOfDevice(sv, n.Party.Device); op != nil {
			s.setOperator(c, op)
		}
		fillEvent(&ev, &c.ActiveCall)
		sv.events = append(sv.events, ev)
		sv.dirtyCall[n.Linkedid] = true
	case assemble.Ended:
		ev := CallEvent{Kind: EventEnded, Server: sv.id, Time: t, Linkedid: n.Linkedid,
			CallerNumber: n.Caller.Number, CallerName: n.Caller.Name}
		if c := sv.calls[n.Linkedid]; c != nil {
			fillEvent(&ev, &c.ActiveCall)
		}
		sv.events = append(sv.events, ev)
		s.endCall(sv, n.Linkedid, t)
	}
}

func fillCaller(c *callState, n *assemble.Notification) {
	if c.CallerNumber == "" && c.CallerName == "" {
		c.CallerNumber, c.CallerName = n.Caller.Number, n.Caller.Name
	}
}

func fillEvent(ev *CallEvent, c *ActiveCall) {
	if ev.CallerNumber == "" && ev.CallerName == "" {
		ev.CallerNumber, ev.CallerName = c.CallerNumber, c.CallerName
	}
	ev.DID, ev.Queue, ev.QueueID = c.DID, c.Queue, c.QueueID
	if ev.OperatorID == 0 {
		ev.OperatorID = c.OperatorID
	}
	if ev.OperatorNumber == "" {
		ev.OperatorNumber, ev.OperatorName = c.OperatorNumber, c.OperatorName
	}
}

func (s *State) setOperator(c *callState, op *opState) {
	c.OperatorID, c.opKey = op.id, op.key
	c.OperatorName = op.name
	c.OperatorNumber = numberOf(op.key)
}

func (s *State) call(sv *server, lid string, t time.Time) *callState {
	if lid == "" {
		return &callState{} // nowhere to keep it; callers only fill it
	}
	c := sv.calls[lid]
	if c == nil {
		c = &callState{ActiveCall: ActiveCall{Server: sv.id, Linkedid: lid, State: CallNew, Since: t, Started: t}}
		sv.calls[lid] = c
		sv.dirtyCall[lid] = true
	}
	return c
}

func (s *State) setCallState(c *callState, st CallState, t time.Time) {
	if c.State != st {
		c.State, c.Since = st, t
	}
}

func (s *State) endCall(sv *server, lid string, t time.Time) {
	c := sv.calls[lid]
	if c == nil {
		return
	}
	delete(sv.calls, lid)
	sv.dirtyCall[lid] = true
	if _, ok := sv.ended[lid]; !ok {
		sv.endedQ = append(sv.endedQ, lid)
		if len(sv.endedQ) > 4096 {
			delete(sv.ended, sv.endedQ[0])
			sv.endedQ = sv.endedQ[1:]
		}
	}
	sv.ended[lid] = c.ActiveCall
	for _, op := range sv.ops {
		if op.callLid == lid || op.ringLid == lid {
			if op.callLid == lid {
				op.callLid = ""
			}
			if op.ringLid == lid {
				op.ringLid = ""
			}
			s.refreshOp(sv, op, t, false)
		}
	}
}

// memberStatus derives what one membership shows: a call beats ringing beats a
// pause beats the device state.
func memberStatus(m *Member, op *opState) (Status, string) {
	switch {
	case op.callLid != "":
		return op.callDir, ""
	case m.InCall:
		return StatusOnCallIn, ""
	case op.ringLid != "" || m.DeviceState == 6 || m.DeviceState == 7:
		return StatusRinging, ""
	case m.Paused:
		return StatusPaused, m.Reason
	case m.DeviceState == 4 || m.DeviceState == 5:
		return StatusUnavailable, ""
	case inUse(m.DeviceState):
		return StatusBusy, ""
	}
	return StatusFree, ""
}

// opStatus aggregates an operator over their queues: paused in any queue shows as
// paused (with the first reason given).
func opStatus(op *opState) (Status, string) {
	switch {
	case op.callLid != "":
		return op.callDir, ""
	case op.ringLid != "":
		return StatusRinging, ""
	case len(op.members) == 0:
		return StatusLoggedOut, ""
	}
	best, reason := StatusFree, ""
	rank := func(s Status) int {
		switch s {
		case StatusOnCallIn, StatusOnCallOut:
			return 6
		case StatusRinging:
			return 5
		case StatusPaused:
			return 4
		case StatusUnavailable:
			return 3
		case StatusBusy:
			return 2
		}
		return 1
	}
	for _, q := range slices.Sorted(mapsKeys(op.members)) {
		st, r := memberStatus(&op.members[q].Member, op)
		if rank(st) > rank(best) || st == best && reason == "" && r != "" {
			best, reason = st, r
		}
	}
	return best, reason
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// refreshOp recomputes an operator's and their memberships' statuses; dirty marks
// the operator changed even when the status did not (counters moved).
func (s *State) refreshOp(sv *server, op *opState, t time.Time, dirty bool) {
	for _, m := range op.members {
		st, r := memberStatus(&m.Member, op)
		if st != m.Status || r != m.Reason && st == StatusPaused {
			m.Status, m.Since = st, t
			if q := sv.queues[m.queue]; q != nil {
				s.touchQ(sv, q, t)
			}
		}
		if st == StatusPaused {
			m.Reason = r
		}
	}
	st, r := opStatus(op)
	if st != op.status || r != op.reason {
		ch := StatusChange{Server: sv.id, OperatorID: op.id, Interface: op.key, Status: st, Reason: r, At: t,
			PrevStatus: op.status, PrevReason: op.reason, PrevSince: op.since}
		op.status, op.reason, op.since = st, r, t
		if s.opts.OnStatus != nil {
			s.opts.OnStatus(ch)
		}
		dirty = true
	}
	if dirty {
		s.rollOpDay(op, t)
		op.updated = t
		sv.dirtyOp[op] = true
	}
}

func (s *State) touchQ(sv *server, q *queueState, t time.Time) {
	q.rollDay(t)
	if t.After(q.updated) {
		q.updated = t
	}
	sv.dirtyQ[q] = true
}

func (q *queueState) caller(uid string) int {
	return slices.IndexFunc(q.waiting, func(c Caller) bool { return c.Uniqueid == uid })
}

// flush publishes what changed in this Apply, one change per item.
func (s *State) flush(sv *server) {
	out := s.scratch[:0]
	if sv.reset {
		sv.reset = false
		out = append(out, Change{Topic: TopicReset, Key: strconv.Itoa(sv.id)})
	}
	for q := range sv.dirtyQ {
		qs := q.snapshot(sv.id)
		out = append(out, Change{Topic: TopicQueue, Key: queueKey(sv.id, q.name), Queue: &qs})
		delete(sv.dirtyQ, q)
	}
	for op := range sv.dirtyOp {
		os := op.snapshot(sv.id)
		out = append(out, Change{Topic: TopicOperator, Key: opKey(sv.id, op.key), Operator: &os})
		delete(sv.dirtyOp, op)
	}
	for lid := range sv.dirtyCall {
		ch := Change{Topic: TopicCall, Key: callKey(sv.id, lid)}
		if c := sv.calls[lid]; c != nil {
			ac := c.ActiveCall
			ch.Call = &ac
		} else if last, ok := sv.ended[lid]; ok {
			// the last value goes with the removal so scope filters can judge it
			ch.Removed, ch.Call = true, &last
		} else {
			ch.Removed = true
		}
		out = append(out, ch)
		delete(sv.dirtyCall, lid)
	}
	for i := range sv.events {
		ev := sv.events[i]
		out = append(out, Change{Topic: TopicEvent, Event: &ev})
	}
	sv.events = sv.events[:0]
	if len(out) > 0 && s.opts.Hub != nil {
		s.opts.Hub.Publish(out...)
	}
	clear(out)
	s.scratch = out[:0]
}

func (q *queueState) snapshot(server int) QueueStats {
	qs := QueueStats{Server: server, QueueID: q.ref.ID, Name: q.name, Day: q.day, Counters: q.c, UpdatedAt: q.updated,
		SLThresholdSeconds: int(q.ref.SLThreshold / time.Second),
		Waiting:            slices.Clone(q.waiting), Members: make([]Member, 0, len(q.order))}
	for _, iface := range q.order {
		qs.Members = append(qs.Members, q.members[iface].Member)
	}
	return qs
}

func (op *opState) snapshot(server int) OperatorState {
	os := OperatorState{Server: server, OperatorID: op.id, Interface: op.key, Name: op.name, Status: op.status, Reason: op.reason,
		Since: op.since, Day: op.day, Incoming: op.in, Outgoing: op.out, Missed: op.missed}
	os.Linkedid = op.callLid
	if os.Linkedid == "" {
		os.Linkedid = op.ringLid
	}
	for q := range op.members {
		os.Queues = append(os.Queues, q)
	}
	slices.Sort(os.Queues)
	return os
}

func queueKey(server int, name string) string { return strconv.Itoa(server) + "/" + name }
func opKey(server int, key string) string     { return strconv.Itoa(server) + "/" + key }
func callKey(server int, lid string) string   { return strconv.Itoa(server) + "/" + lid }

func atoi(s string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(s))
	return n
}

// unknownEmpty: QueueEntry writes "unknown" and snapshots "<unknown>" for no caller ID.
func unknownEmpty(s string) string {
	if s == "<unknown>" || s == "unknown" {
		return ""
	}
	return s
}

// deviceOf strips the channel suffix: "PJSIP/1001-0000002a" -> "PJSIP/1001".
func deviceOf(ch string) string {
	if i := strings.LastIndexByte(ch, '-'); i > 0 && strings.IndexByte(ch, '/') < i {
		return ch[:i]
	}
	return ch
}

// numberOf is the resource of a device: "PJSIP/1001" -> "1001".
func numberOf(dev string) string {
	_, r, ok := strings.Cut(dev, "/")
	if !ok {
		return dev
	}
	if i := strings.IndexAny(r, "@/"); i >= 0 {
		r = r[:i]
	}
	return r
}

// parseHMS reads CoreShowChannel's Duration "HH:MM:SS".
func parseHMS(s string) time.Duration {
	parts := strings.Split(s, ":")
	var d time.Duration
	for _, p := range parts {
		d = d*60 + time.Duration(atoi(p))
	}
	return d * time.Second
}
