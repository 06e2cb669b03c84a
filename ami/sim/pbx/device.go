package pbx

import (
	"strconv"
	"strings"
	"time"

	"github.com/linkage/linkage/ami"
)

// Device states as app_queue numbers them in QueueMember*/QueueMemberStatus Status.
const (
	devNotInUse  = 1
	devInUse     = 2
	devInvalid   = 4
	devRinging   = 6
	devRingInUse = 7
	devOnHold    = 8
)

var devName = map[int]string{devNotInUse: "NOT_INUSE", devInUse: "INUSE", devInvalid: "INVALID",
	devRinging: "RINGING", devRingInUse: "RINGINUSE", devOnHold: "ONHOLD"}

type device struct {
	state int
}

// queue is the run-time state of one queues.conf section.
type queue struct {
	cfg       Queue
	name      string
	members   []*member
	callers   []*qcall
	rrNext    int
	completed int
	abandoned int
	holdSum   time.Duration // for QueueParams Holdtime / QueueSummary HoldTime (moving average simplified to mean)
	talkSum   time.Duration
}

type member struct {
	q           *queue
	iface, name string
	stateIface  string
	membership  string
	penalty     int
	calls       int
	lastCall    time.Time
	lastPause   time.Time
	loginTime   time.Time
	paused      bool
	reason      string
	inCall      bool
	ringing     bool
	wrapUntil   time.Time
	ringinuse   bool
}

func (p *PBX) newMember(q *queue, mc Member, membership string, at time.Time) *member {
	m := &member{q: q, iface: mc.Interface, name: mc.Name, stateIface: mc.StateInterface, membership: membership,
		penalty: mc.Penalty, loginTime: at}
	if m.stateIface == "" {
		m.stateIface = m.iface
		if ep, ok := localExten(m.iface); ok {
			m.stateIface = "PJSIP/" + ep
		}
	}
	if m.name == "" {
		m.name = m.iface
	}
	return m
}

// localExten returns the extension of a Local member interface ("Local/1001@agents/n" -> "1001").
func localExten(iface string) (string, bool) {
	rest, ok := strings.CutPrefix(iface, "Local/")
	if !ok {
		return "", false
	}
	ex, _, _ := strings.Cut(rest, "@")
	return ex, true
}

// localParts splits "Local/1001@agents/n" into exten, context and whether /n is set.
func localParts(iface string) (exten, context string, noOpt bool) {
	rest := strings.TrimPrefix(iface, "Local/")
	rest, noOpt = strings.CutSuffix(rest, "/n")
	exten, context, _ = strings.Cut(rest, "@")
	return exten, context, noOpt
}

// devState computes the aggregate state of a device from its live channels, the way
// res_pjsip's device state provider does: any answered channel makes it in use, a
// ringing one ringing, a held one on hold.
func (p *PBX) devState(dev string) int {
	if ep, ok := strings.CutPrefix(dev, "PJSIP/"); ok {
		if p.ops[ep] == nil && !p.isTrunk(ep) {
			return devInvalid
		}
	}
	ringing, up, held := false, false, false
	for _, c := range p.chans {
		if c.device != dev {
			continue
		}
		switch c.state {
		case stRinging:
			ringing = true
		case stUp:
			up = true
			if c.held {
				held = true
			}
		}
	}
	switch {
	case held:
		return devOnHold
	case up && ringing:
		return devRingInUse
	case up:
		return devInUse
	case ringing:
		return devRinging
	}
	return devNotInUse
}

// devChanged re-evaluates c's device and, when its state changed, emits
// DeviceStateChange and one QueueMemberStatus per queue member that watches it.
func (p *PBX) devChanged(c *channel) {
	if c.localDev != "" {
		p.localDevChanged(c.localDev)
	}
	if c.device == "" {
		return
	}
	p.setDevice(c.device, p.devState(c.device))
}

func (p *PBX) setDevice(dev string, st int) {
	d := p.devices[dev]
	if d == nil {
		d = &device{state: devNotInUse}
		p.devices[dev] = d
	}
	if d.state == st {
		return
	}
	d.state = st
	p.emit(append(ev("DeviceStateChange", clCall, 4), f("Device", dev), f("State", devName[st])))
	for _, q := range p.qorder {
		hit := false
		for _, m := range q.members {
			if m.stateIface == dev {
				p.emit(p.memberEvent("QueueMemberStatus", m))
				hit = true
			}
		}
		if hit {
			p.queueAvail(q)
		}
	}
}

// queueAvail keeps app_queue's Queue:<q>_avail device: NOT_INUSE while at least one
// member could take a call, INUSE when none can.
func (p *PBX) queueAvail(q *queue) {
	st := devInUse
	for _, m := range q.members {
		s := p.memberStatus(m)
		if !m.paused && (s == devNotInUse || m.ringinuse && s == devInUse) {
			st = devNotInUse
			break
		}
	}
	p.setDeviceRaw("Queue:"+q.name+"_avail", st)
}

func (p *PBX) localDevChanged(dev string) {
	st := devNotInUse
	for _, c := range p.chans {
		if c.localDev == dev {
			st = devInUse
			break
		}
	}
	d := p.devices[dev]
	if d == nil {
		d = &device{state: devNotInUse}
		p.devices[dev] = d
	}
	if d.state == st {
		return
	}
	d.state = st
	p.emit(append(ev("DeviceStateChange", clCall, 4), f("Device", dev), f("State", devName[st])))
}

func (p *PBX) memberStatus(m *member) int {
	if d := p.devices[m.stateIface]; d != nil {
		return d.state
	}
	return p.devState(m.stateIface)
}

func epoch(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return strconv.FormatInt(t.Unix(), 10)
}

func boolNum(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// memberEvent builds a QueueMember* event with the full member record in app_queue's
// field order (§3.j).
func (p *PBX) memberEvent(name string, m *member) ami.Message {
	e := ev(name, clAgent, 18)
	return append(e,
		f("Queue", m.q.name), f("MemberName", m.name), f("Interface", m.iface), f("StateInterface", m.stateIface),
		f("Membership", m.membership), f("Penalty", itoa(m.penalty)), f("CallsTaken", itoa(m.calls)),
		f("LastCall", epoch(m.lastCall)), f("LastPause", epoch(m.lastPause)), f("LoginTime", epoch(m.loginTime)),
		f("InCall", boolNum(m.inCall)), f("Status", itoa(p.memberStatus(m))), f("Paused", boolNum(m.paused)),
		f("PausedReason", m.reason), f("Ringinuse", boolNum(m.ringinuse)), f("Wrapuptime", "0"))
	// Wrapuptime is the member's own option, which the model leaves at 0; the
	// queue-level wrapuptime applies and is not shown here, as in Asterisk.
}

// available says whether the queue may ring m now (ringinuse=no, wrap-up honoured).
func (p *PBX) available(m *member) bool {
	if m.paused || m.inCall || m.ringing || p.now.Before(m.wrapUntil) {
		return false
	}
	st := p.memberStatus(m)
	if m.ringinuse {
		return st == devNotInUse || st == devInUse
	}
	return st == devNotInUse
}

// opOf returns the operator behind a member (nil for unknown endpoints).
func (p *PBX) opOf(m *member) *Operator {
	ep := strings.TrimPrefix(m.stateIface, "PJSIP/")
	return p.ops[ep]
}
