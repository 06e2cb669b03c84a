package pbx

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/linkage/linkage/ami"
)

// PBX is one simulated Asterisk server. It is not safe for concurrent use.
type PBX struct {
	cfg Config
	now time.Time
	rng *rand.Rand

	sched  schedule
	free   []*item // spent schedule items, reused: a day schedules a few hundred thousand
	seq    uint64
	out    []ami.Event
	lastEv time.Time
	evOff  time.Duration
	uidN   uint64            // process-wide uniqueid counter (Local pairs take two)
	drvN   map[string]uint32 // per-driver channel name counters

	chans   []*channel // live channels in creation order (CoreShowChannels order is newest first)
	bridges []*bridge  // live bridges in creation order
	devices map[string]*device
	queues  map[string]*queue
	qorder  []*queue
	ops     map[string]*Operator
	idRand  *rand.Rand // bridge ids: a separate stream so scripts don't shift traffic
}

// New builds a PBX from cfg whose clock starts at start. Random traffic (if the config
// has any) is scheduled from start on.
func New(cfg Config, start time.Time) *PBX {
	// The PBX keeps its own copy: the caller may reuse or change its Config.
	cfg.Trunks, cfg.DIDs, cfg.Operators = slices.Clone(cfg.Trunks), slices.Clone(cfg.DIDs), slices.Clone(cfg.Operators)
	cfg.Queues = slices.Clone(cfg.Queues)
	for i := range cfg.Queues {
		cfg.Queues[i].Members = slices.Clone(cfg.Queues[i].Members)
	}
	cfg.TransferTargets, cfg.OutboundNumbers = slices.Clone(cfg.TransferTargets), slices.Clone(cfg.OutboundNumbers)
	p := &PBX{
		cfg:     cfg,
		now:     start,
		rng:     rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15)),
		idRand:  rand.New(rand.NewPCG(cfg.Seed^0x5bd1e995, uint64(start.UnixNano()))),
		drvN:    map[string]uint32{},
		devices: map[string]*device{},
		queues:  map[string]*queue{},
		ops:     map[string]*Operator{},
	}
	for i := range cfg.Operators {
		p.ops[cfg.Operators[i].Endpoint] = &cfg.Operators[i]
	}
	for _, qc := range cfg.Queues {
		q := &queue{cfg: qc, name: qc.Name}
		for _, mc := range qc.Members {
			q.members = append(q.members, p.newMember(q, mc, "static", start))
		}
		p.queues[qc.Name] = q
		p.qorder = append(p.qorder, q)
	}
	// app_queue's availability devices start in their current state; only changes
	// are announced.
	for _, q := range p.qorder {
		st := devInUse
		for _, m := range q.members {
			if !m.paused && p.memberStatus(m) == devNotInUse {
				st = devNotInUse
				break
			}
		}
		p.devices["Queue:"+q.name+"_avail"] = &device{state: st}
	}
	p.startTraffic()
	return p
}

// Now is the simulated time of the last Advance or Action.
func (p *PBX) Now() time.Time { return p.now }

// Advance runs the model up to simulated time t and returns the events produced, in
// wire order (including side effects of earlier actions).
func (p *PBX) Advance(t time.Time) []ami.Event {
	p.runUntil(t)
	out := p.out
	p.out = nil
	return out
}

// Next returns the time of the next scheduled model event.
func (p *PBX) Next() (time.Time, bool) {
	if len(p.sched) == 0 {
		return time.Time{}, false
	}
	return p.sched[0].at, true
}

func (p *PBX) runUntil(t time.Time) {
	for len(p.sched) > 0 && !p.sched[0].at.After(t) {
		it := heap.Pop(&p.sched).(*item)
		if it.at.After(p.now) {
			p.now = it.at
		}
		fn := it.fn
		it.fn = nil
		p.free = append(p.free, it)
		fn()
	}
	if t.After(p.now) {
		p.now = t
	}
}

// after schedules fn d after the current simulated time. Items at the same instant
// run in the order they were scheduled, which keeps bursts in causal order.
func (p *PBX) after(d time.Duration, fn func()) {
	p.seq++
	var it *item
	if n := len(p.free); n > 0 {
		it, p.free = p.free[n-1], p.free[:n-1]
	} else {
		it = &item{}
	}
	it.at, it.seq, it.fn = p.now.Add(d), p.seq, fn
	heap.Push(&p.sched, it)
}

type item struct {
	at  time.Time
	seq uint64
	fn  func()
}

type schedule []*item

func (s schedule) Len() int { return len(s) }
func (s schedule) Less(i, j int) bool {
	if s[i].at.Equal(s[j].at) {
		return s[i].seq < s[j].seq
	}
	return s[i].at.Before(s[j].at)
}
func (s schedule) Swap(i, j int) { s[i], s[j] = s[j], s[i] }
func (s *schedule) Push(x any)   { *s = append(*s, x.(*item)) }
func (s *schedule) Pop() any {
	old := *s
	n := len(old)
	it := old[n-1]
	old[n-1] = nil
	*s = old[:n-1]
	return it
}

// ---- channels

var stateDesc = [...]string{"Down", "Rsrvd", "OffHook", "Dialing", "Ring", "Ringing", "Up", "Busy", "Dialing Offhook", "Pre-ring", "Unknown"}
var stateNum = [...]string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}

const (
	stDown    = 0
	stRing    = 4
	stRinging = 5
	stUp      = 6
)

type channel struct {
	name              string
	state             int
	cidNum, cidName   string
	connNum, connName string
	context, exten    string
	prio              int
	uid, linkedid     string
	created           time.Time
	device            string // "PJSIP/1001"; "" for Local halves
	localDev          string // "Local/1001@agents" for Local halves
	bridge            *bridge
	app, appData      string
	dnid              string
	initExten         string   // Exten at creation; app_queue's DialBegin still shows it
	peer              *channel // other half of a Local pair
	dead              bool
	recording         bool // MixMonitor running
	held              bool // hears MOH because its peer put it on hold
	dialStart         time.Time
	dialAnswer        time.Time
	callID            string
	hasPvtCallID      bool
	// onHangup is set by the flow that owns the channel, so that an AMI Hangup (or
	// the far end hanging up) takes the same path as the modelled hangup.
	onHangup func(cause int)
}

func (p *PBX) nextUID(at time.Time) string {
	n := p.uidN
	p.uidN++
	s := strconv.FormatInt(at.Unix(), 10) + "." + strconv.FormatUint(n, 10)
	if p.cfg.SystemName != "" {
		s = p.cfg.SystemName + "-" + s
	}
	return s
}

func (p *PBX) driverSeq(drv string) string {
	n := p.drvN[drv]
	p.drvN[drv] = n + 1
	return fmt.Sprintf("%08x", n)
}

// newPJSIP creates a PJSIP channel. requestor is nil for inbound calls (the channel
// starts its own linkedid) and the dialing channel otherwise (§2.4).
func (p *PBX) newPJSIP(endpoint string, requestor *channel, inbound bool) *channel {
	c := &channel{
		name:    "PJSIP/" + endpoint + "-" + p.driverSeq("PJSIP"),
		created: p.now,
		device:  "PJSIP/" + endpoint,
		prio:    1,
		cidNum:  "<unknown>", cidName: "<unknown>", connNum: "<unknown>", connName: "<unknown>",
	}
	c.uid = p.nextUID(p.now)
	if requestor != nil {
		c.linkedid = requestor.linkedid
	} else {
		c.linkedid = c.uid
	}
	if inbound {
		c.state = stRing
	} else {
		c.state = stDown
		c.exten = "s"
		c.context = p.endpointContext(endpoint)
		if op := p.ops[endpoint]; op != nil {
			c.cidNum, c.cidName = endpoint, op.Name
		}
	}
	c.initExten = c.exten
	p.chans = append(p.chans, c)
	return c
}

// newLocal creates a Local pair for exten@context; both halves inherit the
// requestor's linkedid.
func (p *PBX) newLocal(exten, context string, requestor *channel) (*channel, *channel) {
	base := "Local/" + exten + "@" + context + "-" + p.driverSeq("Local")
	mk := func(suffix string, st int) *channel {
		c := &channel{name: base + suffix, state: st, created: p.now, context: context, exten: exten, prio: 1,
			cidNum: "<unknown>", cidName: "<unknown>", connNum: "<unknown>", connName: "<unknown>",
			localDev: "Local/" + exten + "@" + context}
		c.uid = p.nextUID(p.now)
		c.linkedid = requestor.linkedid
		c.initExten = exten
		p.chans = append(p.chans, c)
		return c
	}
	one := mk(";1", stDown)
	two := mk(";2", stRing)
	one.peer, two.peer = two, one
	return one, two
}

func (p *PBX) endpointContext(endpoint string) string {
	for _, t := range p.cfg.Trunks {
		if t.Endpoint == endpoint {
			return t.Context
		}
	}
	return "from-internal"
}

func (p *PBX) isTrunk(endpoint string) bool {
	for _, t := range p.cfg.Trunks {
		if t.Endpoint == endpoint {
			return true
		}
	}
	return false
}

func (p *PBX) removeChan(c *channel) {
	c.dead = true
	for i, x := range p.chans {
		if x == c {
			copy(p.chans[i:], p.chans[i+1:])
			p.chans[len(p.chans)-1] = nil
			p.chans = p.chans[:len(p.chans)-1]
			return
		}
	}
}

func (p *PBX) findChan(name string) *channel {
	for _, c := range p.chans {
		if c.name == name {
			return c
		}
	}
	return nil
}

// ---- event building

// snapKeys holds the 14 snapshot keys per prefix so building an event never
// concatenates strings.
var snapKeys = func() map[string]*[14]string {
	base := [14]string{"Channel", "ChannelState", "ChannelStateDesc", "CallerIDNum", "CallerIDName", "ConnectedLineNum",
		"ConnectedLineName", "Language", "AccountCode", "Context", "Exten", "Priority", "Uniqueid", "Linkedid"}
	m := map[string]*[14]string{}
	for _, pre := range []string{"", "Dest", "Transferer", "Transferee", "OrigTransferer", "SecondTransferer", "TransferTarget", "LocalOne", "LocalTwo", "Source"} {
		var k [14]string
		for i, b := range base {
			k[i] = pre + b
		}
		m[pre] = &k
	}
	return m
}()

var prioStr = func() []string {
	s := make([]string, 32)
	for i := range s {
		s[i] = strconv.Itoa(i)
	}
	return s
}()

func itoa(n int) string {
	if n >= 0 && n < len(prioStr) {
		return prioStr[n]
	}
	return strconv.Itoa(n)
}

func appendSnap(m ami.Message, prefix string, c *channel) ami.Message {
	k := snapKeys[prefix]
	return append(m,
		ami.Field{Key: k[0], Value: c.name},
		ami.Field{Key: k[1], Value: stateNum[c.state]},
		ami.Field{Key: k[2], Value: stateDesc[c.state]},
		ami.Field{Key: k[3], Value: c.cidNum},
		ami.Field{Key: k[4], Value: escapeName(c.cidName)},
		ami.Field{Key: k[5], Value: c.connNum},
		ami.Field{Key: k[6], Value: escapeName(c.connName)},
		ami.Field{Key: k[7], Value: "en"},
		ami.Field{Key: k[8], Value: ""},
		ami.Field{Key: k[9], Value: c.context},
		ami.Field{Key: k[10], Value: c.exten},
		ami.Field{Key: k[11], Value: itoa(c.prio)},
		ami.Field{Key: k[12], Value: c.uid},
		ami.Field{Key: k[13], Value: c.linkedid},
	)
}

// escapeName mimics ast_escape_c_alloc on caller/connected names (§1.1): CR/LF would
// otherwise break the frame.
func escapeName(s string) string {
	if !strings.ContainsAny(s, "\r\n\\") {
		return s
	}
	r := strings.NewReplacer("\\", "\\\\", "\r", "\\r", "\n", "\\n")
	return r.Replace(s)
}

// ev starts an event block; size is a capacity hint.
func ev(name, class string, size int) ami.Message {
	m := make(ami.Message, 0, size)
	return append(m, ami.Field{Key: "Event", Value: name}, ami.Field{Key: "Privilege", Value: class})
}

const (
	clCall     = "call,all"
	clAgent    = "agent,all"
	clDialplan = "dialplan,all"
)

func (p *PBX) emit(m ami.Message) {
	// Events of one burst get microsecond steps so their timestamps are strictly
	// increasing, as on a real server.
	if p.now.Equal(p.lastEv) {
		p.evOff += time.Microsecond
	} else {
		p.lastEv, p.evOff = p.now, 0
	}
	p.out = append(p.out, ami.Event{Name: m[0].Value, Time: p.now.Add(p.evOff), Stamped: true, Fields: m})
}

// chanEv emits a single-snapshot event with extra fields after the snapshot.
// Nothing is said about a channel after its Hangup: a flow step that was scheduled
// before an AMI Hangup cut it short is dropped here.
func (p *PBX) chanEv(name, class string, c *channel, extra ...ami.Field) {
	if c.dead {
		return
	}
	m := ev(name, class, 16+len(extra))
	m = appendSnap(m, "", c)
	p.emit(append(m, extra...))
}

// twoEv emits an event with a caller snapshot (omitted when c is nil, as for dials
// that have no caller) and a Dest snapshot.
func (p *PBX) twoEv(name, class string, c, dest *channel, extra ...ami.Field) {
	if dest.dead || c != nil && c.dead {
		return
	}
	m := ev(name, class, 30+len(extra))
	if c != nil {
		m = appendSnap(m, "", c)
	}
	m = appendSnap(m, "Dest", dest)
	p.emit(append(m, extra...))
}

func f(k, v string) ami.Field { return ami.Field{Key: k, Value: v} }

func (p *PBX) newchannel(c *channel) {
	p.chanEv("Newchannel", clCall, c)
	p.devChanged(c)
}

func (p *PBX) setState(c *channel, st int) {
	c.state = st
	p.chanEv("Newstate", clCall, c)
	p.devChanged(c)
}

var causeText = map[int]string{0: "Unknown", 1: "Unallocated (unassigned) number", 16: "Normal Clearing", 17: "User busy",
	18: "No user responding", 19: "User alerting, no answer", 21: "Call Rejected", 26: "Answered elsewhere",
	27: "Destination out of order", 31: "Normal, unspecified", 34: "Circuit/channel congestion"}

func causeTxt(c int) string {
	if s, ok := causeText[c]; ok {
		return s
	}
	return "Unknown"
}

func (p *PBX) hangupRequest(c *channel, cause int, soft bool) {
	name := "HangupRequest"
	if soft {
		name = "SoftHangupRequest"
	}
	p.chanEv(name, clCall, c, f("Cause", itoa(cause)))
}

func (p *PBX) hangup(c *channel, cause int, extra ...ami.Field) {
	if c.dead {
		return
	}
	fs := append([]ami.Field{f("Cause", itoa(cause)), f("Cause-txt", causeTxt(cause))}, extra...)
	p.chanEv("Hangup", clCall, c, fs...)
	p.removeChan(c)
	p.devChanged(c)
}

// ---- bridges

type bridge struct {
	id      string
	members []*channel
	gone    bool
}

func (p *PBX) newBridgeID() string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := p.idRand.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func bridgeFields(m ami.Message, prefix string, b *bridge) ami.Message {
	return append(m,
		f(prefix+"BridgeUniqueid", b.id),
		f(prefix+"BridgeType", "basic"),
		f(prefix+"BridgeTechnology", "simple_bridge"),
		f(prefix+"BridgeCreator", "<unknown>"),
		f(prefix+"BridgeName", "<unknown>"),
		f(prefix+"BridgeNumChannels", itoa(len(b.members))),
		f(prefix+"BridgeVideoSourceMode", "none"),
	)
}

func (p *PBX) bridgeCreate() *bridge {
	b := &bridge{id: p.newBridgeID()}
	p.bridges = append(p.bridges, b)
	p.emit(bridgeFields(ev("BridgeCreate", clCall, 9), "", b))
	return b
}

func (p *PBX) bridgeDestroy(b *bridge) {
	if b.gone {
		return
	}
	b.gone = true
	for i, x := range p.bridges {
		if x == b {
			p.bridges = append(p.bridges[:i], p.bridges[i+1:]...)
			break
		}
	}
	p.emit(bridgeFields(ev("BridgeDestroy", clCall, 9), "", b))
}

func (p *PBX) bridgeEnter(b *bridge, c *channel, swap *channel) {
	if c.dead {
		return
	}
	b.members = append(b.members, c)
	c.bridge = b
	m := bridgeFields(ev("BridgeEnter", clCall, 24), "", b)
	m = appendSnap(m, "", c)
	if swap != nil {
		m = append(m, f("SwapUniqueid", swap.uid))
	}
	p.emit(m)
	p.bridgePeers(b)
}

func (p *PBX) bridgeLeave(b *bridge, c *channel) {
	for i, x := range b.members {
		if x == c {
			b.members = append(b.members[:i], b.members[i+1:]...)
			break
		}
	}
	if c.bridge != b {
		return // already left (e.g. hung up by AMI)
	}
	c.bridge = nil
	m := bridgeFields(ev("BridgeLeave", clCall, 23), "", b)
	p.emit(appendSnap(m, "", c))
	p.bridgeUnpeer(c)
}

// ---- small helpers for random durations

// expDur draws an exponential duration with the given mean.
func (p *PBX) expDur(mean time.Duration) time.Duration {
	return time.Duration(p.rng.ExpFloat64() * float64(mean))
}

// jitter returns d ± 30 %, never below 100 ms.
func (p *PBX) jitter(d time.Duration) time.Duration {
	x := time.Duration(float64(d) * (0.7 + 0.6*p.rng.Float64()))
	return max(x, 100*time.Millisecond)
}
