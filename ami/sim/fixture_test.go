package sim_test

// TEST FIXTURE, not a call model: a tiny deterministic stand-in for ami/sim/pbx so the
// server and the client can be tested on their own (the real model lives on another
// branch). It knows one queue, a few members and channels, answers the actions the
// client sends, and emits a synthetic call every Interval of simulated time.

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/linkage/linkage/ami"
	"github.com/linkage/linkage/ami/sim"
)

type fixtureMember struct {
	iface, name, reason string
	paused              bool
	penalty             int
}

type fixtureModel struct {
	mu       sync.Mutex
	interval time.Duration // one synthetic call per interval of simulated time
	next     time.Time
	n        int
	queue    string
	members  []*fixtureMember
	pending  []ami.Event // side effects of actions, out with the next Advance
	system   string      // prefix of uniqueids, to tell two servers apart
}

func newFixture(interval time.Duration, system string) func(time.Time) sim.Model {
	return func(start time.Time) sim.Model {
		return &fixtureModel{
			interval: interval, next: start.Add(interval), queue: "support", system: system,
			members: []*fixtureMember{{iface: "PJSIP/1001", name: "Anna"}, {iface: "PJSIP/1002", name: "Boris"}},
		}
	}
}

func ev(name, class string, kv ...string) ami.Event {
	m := ami.Message{{Key: "Event", Value: name}, {Key: "Privilege", Value: class + ",all"}}
	for i := 0; i+1 < len(kv); i += 2 {
		m = append(m, ami.Field{Key: kv[i], Value: kv[i+1]})
	}
	return ami.Event{Name: name, Fields: m}
}

func (f *fixtureModel) Advance(t time.Time) []ami.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.pending
	f.pending = nil
	for i := range out {
		out[i].Time = t
	}
	for f.interval > 0 && !f.next.After(t) {
		f.n++
		uid := fmt.Sprintf("%s%d.%d", f.system, f.next.Unix(), f.n)
		at := f.next
		for _, e := range []ami.Event{
			ev("Newchannel", "call", "Channel", "PJSIP/trunk-"+strconv.Itoa(f.n), "ChannelState", "0", "CallerIDNum", "5550100",
				"Exten", "5551000", "Uniqueid", uid, "Linkedid", uid),
			ev("VarSet", "dialplan", "Channel", "PJSIP/trunk-"+strconv.Itoa(f.n), "Variable", "CRM_ID", "Value", strconv.Itoa(f.n), "Uniqueid", uid, "Linkedid", uid),
			ev("QueueCallerJoin", "agent", "Channel", "PJSIP/trunk-"+strconv.Itoa(f.n), "Queue", f.queue, "Position", "1", "Count", "1", "Uniqueid", uid, "Linkedid", uid),
			ev("Hangup", "call", "Channel", "PJSIP/trunk-"+strconv.Itoa(f.n), "Cause", "16", "Cause-txt", "Normal Clearing", "Uniqueid", uid, "Linkedid", uid),
		} {
			e.Time = at
			out = append(out, e)
		}
		f.next = f.next.Add(f.interval)
	}
	return out
}

func (f *fixtureModel) Next() (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.interval <= 0 && len(f.pending) == 0 {
		return time.Time{}, false
	}
	if len(f.pending) > 0 {
		return time.Time{}, true
	}
	return f.next, true
}

func resp(kind, msg string, kv ...string) ami.Message {
	m := ami.Message{{Key: "Response", Value: kind}}
	if msg != "" {
		m = append(m, ami.Field{Key: "Message", Value: msg})
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m = append(m, ami.Field{Key: kv[i], Value: kv[i+1]})
	}
	return m
}

func item(name string, kv ...string) ami.Message {
	m := ami.Message{{Key: "Event", Value: name}}
	for i := 0; i+1 < len(kv); i += 2 {
		m = append(m, ami.Field{Key: kv[i], Value: kv[i+1]})
	}
	return m
}

func b01(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func (f *fixtureModel) memberEvent(name string, m *fixtureMember) ami.Event {
	return ev(name, "agent", "Queue", f.queue, "MemberName", m.name, "Interface", m.iface, "StateInterface", m.iface,
		"Membership", "dynamic", "Penalty", strconv.Itoa(m.penalty), "CallsTaken", "0", "LastCall", "0", "LastPause", "0",
		"LoginTime", "0", "InCall", "0", "Status", "1", "Paused", b01(m.paused), "PausedReason", m.reason, "Ringinuse", "0", "Wrapuptime", "0")
}

func (f *fixtureModel) find(iface string) *fixtureMember {
	for _, m := range f.members {
		if strings.EqualFold(m.iface, iface) {
			return m
		}
	}
	return nil
}

func (f *fixtureModel) Action(t time.Time, a ami.Message) []ami.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch strings.ToLower(a.Get("Action")) {
	case "queuestatus":
		if q := a.Get("Queue"); q != "" && q != f.queue {
			return []ami.Message{resp("Success", "Queue status will follow", "EventList", "start"),
				item("QueueStatusComplete", "EventList", "Complete", "ListItems", "0")}
		}
		out := []ami.Message{resp("Success", "Queue status will follow", "EventList", "start"),
			item("QueueParams", "Queue", f.queue, "Max", "0", "Strategy", "ringall", "Calls", "0")}
		for _, m := range f.members {
			if mf := a.Get("Member"); mf != "" && mf != m.iface {
				continue
			}
			out = append(out, item("QueueMember", "Queue", f.queue, "Name", m.name, "Location", m.iface, "StateInterface", m.iface,
				"Membership", "dynamic", "Penalty", strconv.Itoa(m.penalty), "Status", "1", "Paused", b01(m.paused), "PausedReason", m.reason))
		}
		out = append(out, item("QueueEntry", "Queue", f.queue, "Position", "1", "Channel", "PJSIP/trunk-0", "Uniqueid", f.system+"1.0", "Wait", "12"))
		return append(out, item("QueueStatusComplete", "EventList", "Complete", "ListItems", strconv.Itoa(len(out)-1)))
	case "queuesummary":
		return []ami.Message{resp("Success", "Queue summary will follow", "EventList", "start"),
			item("QueueSummary", "Queue", f.queue, "LoggedIn", strconv.Itoa(len(f.members)), "Available", "1", "Callers", "1"),
			item("QueueSummaryComplete", "EventList", "Complete", "ListItems", "1")}
	case "coreshowchannels":
		return []ami.Message{resp("Success", "Channels will follow", "EventList", "start"),
			item("CoreShowChannel", "Channel", "PJSIP/trunk-0", "Uniqueid", f.system+"1.0", "Linkedid", f.system+"1.0", "Duration", "00:00:12"),
			item("CoreShowChannel", "Channel", "PJSIP/1001-0", "Uniqueid", f.system+"1.1", "Linkedid", f.system+"1.0", "Duration", "00:00:05"),
			item("CoreShowChannelsComplete", "EventList", "Complete", "ListItems", "2")}
	case "queuepause":
		m := f.find(a.Get("Interface"))
		if m == nil {
			return []ami.Message{resp("Error", "Interface not found")}
		}
		m.paused = strings.EqualFold(a.Get("Paused"), "true")
		m.reason = a.Get("Reason")
		f.pending = append(f.pending, f.memberEvent("QueueMemberPause", m))
		if m.paused {
			return []ami.Message{resp("Success", "Interface paused successfully")}
		}
		return []ami.Message{resp("Success", "Interface unpaused successfully")}
	case "queueadd":
		if f.find(a.Get("Interface")) != nil {
			return []ami.Message{resp("Error", "Unable to add interface: Already there")}
		}
		p, _ := strconv.Atoi(a.Get("Penalty"))
		m := &fixtureMember{iface: a.Get("Interface"), name: a.Get("MemberName"), penalty: p, paused: strings.EqualFold(a.Get("Paused"), "true")}
		f.members = append(f.members, m)
		f.pending = append(f.pending, f.memberEvent("QueueMemberAdded", m))
		return []ami.Message{resp("Success", "Added interface to queue")}
	case "queueremove":
		for i, m := range f.members {
			if strings.EqualFold(m.iface, a.Get("Interface")) {
				f.members = append(f.members[:i], f.members[i+1:]...)
				f.pending = append(f.pending, f.memberEvent("QueueMemberRemoved", m))
				return []ami.Message{resp("Success", "Removed interface from queue")}
			}
		}
		return []ami.Message{resp("Error", "Unable to remove interface: Not there")}
	case "originate":
		return []ami.Message{resp("Success", "Originate successfully queued")}
	case "hangup":
		return []ami.Message{resp("Error", "No such channel")}
	}
	return nil
}
