package pbx

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/linkage/linkage/ami"
)

// Action executes one authenticated AMI action at simulated time t and returns the
// messages to write back: the Response, then for list actions the items and the
// Complete event. Events the action causes are queued for the next Advance.
//
// Action first runs the model up to t, so its answer reflects every earlier event;
// events produced by that catch-up also wait for the next Advance. A server that
// wants them on the wire before the Response (as Asterisk writes queued events
// before it handles the next action) calls Advance(t) just before Action(t).
func (p *PBX) Action(t time.Time, action ami.Message) []ami.Message {
	p.runUntil(t) // the model catches up first so side effects follow earlier events
	return p.exec(action)
}

// exec runs an action at the current simulated time (scripts call it from the
// scheduler, where Action's catch-up would re-enter the run loop).
func (p *PBX) exec(action ami.Message) []ami.Message {
	name := action.Get("Action")
	id, hasID := action.Lookup("ActionID")
	resp := func(kind, msg string, extra ...ami.Field) []ami.Message {
		m := ami.Message{{Key: "Response", Value: kind}}
		if hasID {
			m = append(m, ami.Field{Key: "ActionID", Value: id})
		}
		m = append(m, extra...)
		if msg != "" {
			m = append(m, ami.Field{Key: "Message", Value: msg})
		}
		return []ami.Message{m}
	}
	list := func(msg string, items []ami.Message, complete string, extra ...ami.Field) []ami.Message {
		out := resp("Success", msg, f("EventList", "start"))
		out = append(out, items...)
		c := ami.Message{{Key: "Event", Value: complete}}
		if hasID {
			c = append(c, f("ActionID", id))
		}
		c = append(c, f("EventList", "Complete"), f("ListItems", itoa(len(items))))
		return append(out, append(c, extra...))
	}
	// Queue item events carry ActionID last; CoreShowChannel right after Event (§1.4).
	tailID := func(m ami.Message) ami.Message {
		if hasID {
			m = append(m, f("ActionID", id))
		}
		return m
	}
	switch strings.ToLower(name) {
	case "":
		return resp("Error", "Missing action in request")
	case "queuestatus":
		return list("Queue status will follow", p.queueStatusItems(action.Get("Queue"), action.Get("Member"), tailID), "QueueStatusComplete")
	case "queuesummary":
		return list("Queue summary will follow", p.queueSummaryItems(action.Get("Queue"), tailID), "QueueSummaryComplete")
	case "queuepause":
		iface, paused := action.Get("Interface"), action.Get("Paused")
		if iface == "" || paused == "" {
			return resp("Error", "Need 'Interface' and 'Paused' parameters.")
		}
		on := isTrue(paused)
		if !p.pauseMember(iface, action.Get("Queue"), on, action.Get("Reason")) {
			return resp("Error", "Interface not found")
		}
		if on {
			return resp("Success", "Interface paused successfully")
		}
		return resp("Success", "Interface unpaused successfully")
	case "queuepenalty":
		iface, pen := action.Get("Interface"), action.Get("Penalty")
		n, err := strconv.Atoi(pen)
		if iface == "" || err != nil || n < 0 {
			return resp("Error", "Need 'Interface' and 'Penalty' parameters.")
		}
		if !p.eachMember(iface, action.Get("Queue"), func(m *member) {
			m.penalty = n
			p.emit(p.memberEvent("QueueMemberPenalty", m))
		}) {
			return resp("Error", "Invalid interface, queuename or penalty")
		}
		return resp("Success", "Interface penalty set successfully")
	case "queuememberringinuse":
		iface, v := action.Get("Interface"), action.Get("RingInUse")
		if iface == "" || v == "" {
			return resp("Error", "Need 'Interface' and 'RingInUse' parameters.")
		}
		if !p.eachMember(iface, action.Get("Queue"), func(m *member) {
			m.ringinuse = isTrue(v)
			p.emit(p.memberEvent("QueueMemberRinginuse", m))
		}) {
			return resp("Error", "Invalid interface, queuename, or ringinuse value")
		}
		return resp("Success", "Interface ringinuse set successfully")
	case "queueadd":
		qn, iface := action.Get("Queue"), action.Get("Interface")
		if qn == "" || iface == "" {
			return resp("Error", "'Queue' or 'Interface' not set.")
		}
		q := p.queues[qn]
		if q == nil {
			return resp("Error", "Unable to add interface to queue: No such queue")
		}
		for _, m := range q.members {
			if m.iface == iface {
				return resp("Error", "Unable to add interface: Already there")
			}
		}
		pen, _ := strconv.Atoi(action.Get("Penalty"))
		m := p.newMember(q, Member{Interface: iface, Name: action.Get("MemberName"), StateInterface: action.Get("StateInterface"), Penalty: pen}, "dynamic", p.now)
		m.paused = isTrue(action.Get("Paused"))
		if m.paused {
			m.reason = action.Get("Reason")
		}
		q.members = append(q.members, m)
		pauseState := devNotInUse
		if m.paused {
			pauseState = devInUse
		}
		p.setDeviceRaw("Queue:"+q.name+"_pause_"+iface, pauseState)
		p.emit(p.memberEvent("QueueMemberAdded", m))
		p.queueAvail(q)
		return resp("Success", "Added interface to queue")
	case "queueremove":
		qn, iface := action.Get("Queue"), action.Get("Interface")
		if qn == "" || iface == "" {
			return resp("Error", "Need 'Queue' and 'Interface' parameters.")
		}
		q := p.queues[qn]
		if q == nil {
			return resp("Error", "Unable to remove interface from queue: No such queue")
		}
		for i, m := range q.members {
			if m.iface == iface {
				if m.membership == "static" {
					return resp("Error", "Member not dynamic") // app_queue RES_NOT_DYNAMIC: static members stay
				}
				q.members = append(q.members[:i], q.members[i+1:]...)
				p.emit(p.memberEvent("QueueMemberRemoved", m))
				p.queueAvail(q)
				return resp("Success", "Removed interface from queue")
			}
		}
		return resp("Error", "Unable to remove interface: Not there")
	case "originate":
		return p.originate(action, resp)
	case "hangup":
		ch := action.Get("Channel")
		if ch == "" {
			return resp("Error", "No channel specified")
		}
		cause := 16
		if v := action.Get("Cause"); v != "" {
			if n, err := strconv.Atoi(v); err == nil {
				cause = n
			}
		}
		var targets []*channel
		if len(ch) > 2 && ch[0] == '/' && ch[len(ch)-1] == '/' {
			sub := ch[1 : len(ch)-1] // a regex in Asterisk; a substring match covers the usual "/PJSIP\/1001-/"
			sub = strings.ReplaceAll(sub, `\/`, "/")
			for _, c := range p.chans {
				if strings.Contains(c.name, sub) {
					targets = append(targets, c)
				}
			}
		} else if c := p.findChan(ch); c != nil {
			targets = append(targets, c)
		}
		if len(targets) == 0 {
			return resp("Error", "No such channel")
		}
		for _, c := range targets {
			p.hangupChannel(c, cause)
		}
		if len(ch) > 2 && ch[0] == '/' {
			return resp("Success", fmt.Sprintf("%d channels hung up.", len(targets)))
		}
		return resp("Success", "Channel Hungup")
	case "stopmixmonitor":
		ch := action.Get("Channel")
		if ch == "" {
			return resp("Error", "No channel specified")
		}
		c := p.findChan(ch)
		if c == nil {
			return resp("Error", "No such channel")
		}
		if !p.stopMixMonitor(c) {
			return resp("Error", "Could not stop monitoring channel")
		}
		return resp("Success", "")
	case "coreshowchannels":
		var items []ami.Message
		for i := len(p.chans) - 1; i >= 0; i-- {
			c := p.chans[i]
			m := ami.Message{f("Event", "CoreShowChannel")}
			if hasID {
				m = append(m, f("ActionID", id))
			}
			m = appendSnap(m, "", c)
			bid := ""
			if c.bridge != nil {
				bid = c.bridge.id
			}
			app, data := c.app, c.appData
			if app == "" {
				app, data = "AppDial", "(Outgoing Line)"
			}
			items = append(items, append(m, f("Application", app), f("ApplicationData", data), f("Duration", hms(p.now.Sub(c.created))), f("BridgeId", bid)))
		}
		return list("Channels will follow", items, "CoreShowChannelsComplete")
	case "bridgelist":
		var items []ami.Message
		for _, b := range p.bridges {
			m := ami.Message{f("Event", "BridgeListItem")}
			if hasID {
				m = append(m, f("ActionID", id))
			}
			items = append(items, bridgeFields(m, "", b))
		}
		return list("Bridge listing will follow", items, "BridgeListComplete")
	case "status":
		var items []ami.Message
		want := action.Get("Channel")
		for _, c := range p.chans {
			if want != "" && c.name != want {
				continue
			}
			m := ami.Message{f("Event", "Status"), f("Privilege", "Call")}
			m = appendSnap(m, "", c)
			bid := ""
			if c.bridge != nil {
				bid = c.bridge.id
			}
			typ := "PJSIP"
			if c.localDev != "" {
				typ = "Local"
			}
			app, data := c.app, c.appData
			if app == "" {
				app, data = "AppDial", "(Outgoing Line)"
			}
			items = append(items, tailID(append(m, f("Type", typ), f("DNID", c.dnid), f("EffectiveConnectedLineNum", c.connNum),
				f("EffectiveConnectedLineName", c.connName), f("TimeToHangup", "0"), f("BridgeID", bid), f("Application", app), f("Data", data),
				f("Nativeformats", "(ulaw)"), f("Readformat", "ulaw"), f("Readtrans", ""), f("Writeformat", "ulaw"), f("Writetrans", ""),
				f("Callgroup", "0"), f("Pickupgroup", "0"), f("Seconds", itoa(int(p.now.Sub(c.created)/time.Second))))))
		}
		if want != "" && len(items) == 0 {
			return resp("Error", "No such channel")
		}
		return list("Channel status will follow", items, "StatusComplete", f("Items", itoa(len(items))))
	}
	return resp("Error", "Invalid/unknown command: "+name+". Use Action: ListCommands to show available commands.")
}

func isTrue(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "y", "t", "on":
		return true
	}
	return false
}

func hms(d time.Duration) string {
	s := int(d / time.Second)
	return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
}

// pauseMember pauses or unpauses iface in queue qn, or in every queue when qn is "".
// It reports whether any member was found.
func (p *PBX) pauseMember(iface, qn string, on bool, reason string) bool {
	found := false
	for _, q := range p.qorder {
		if qn != "" && q.name != qn {
			continue
		}
		for _, m := range q.members {
			if m.iface != iface {
				continue
			}
			found = true
			m.paused = on
			m.reason = reason // an unpause with a reason shows it in that one event (§3.j)
			if on {
				m.lastPause = p.now
			}
			st := devNotInUse
			if on {
				st = devInUse
			}
			p.setDeviceRaw("Queue:"+q.name+"_pause_"+iface, st)
			p.emit(p.memberEvent("QueueMemberPause", m))
			p.queueAvail(q)
			if !on {
				m.reason = ""
			}
		}
	}
	return found
}

// eachMember applies fn to iface in queue qn (all queues when qn is "") and reports
// whether there was one.
func (p *PBX) eachMember(iface, qn string, fn func(*member)) bool {
	found := false
	for _, q := range p.qorder {
		if qn != "" && q.name != qn {
			continue
		}
		for _, m := range q.members {
			if m.iface == iface {
				found = true
				fn(m)
			}
		}
	}
	return found
}

func (p *PBX) queueStatusItems(qn, member string, tailID func(ami.Message) ami.Message) []ami.Message {
	var items []ami.Message
	for _, q := range p.qorder {
		if qn != "" && q.name != qn {
			continue
		}
		hold, talk := 0, 0
		if q.completed > 0 {
			hold = int(q.holdSum / time.Second / time.Duration(q.completed))
			talk = int(q.talkSum / time.Second / time.Duration(q.completed))
		}
		strategy := q.cfg.Strategy
		if strategy == "" {
			strategy = RingAll
		}
		items = append(items, tailID(ami.Message{f("Event", "QueueParams"), f("Queue", q.name), f("Max", "0"), f("Strategy", strategy),
			f("Calls", itoa(len(q.callers))), f("Holdtime", itoa(hold)), f("TalkTime", itoa(talk)), f("Completed", itoa(q.completed)),
			f("Abandoned", itoa(q.abandoned)), f("ServiceLevel", "0"), f("ServicelevelPerf", "0.0"), f("ServicelevelPerf2", "0.0"), f("Weight", "0")}))
		for _, m := range q.members {
			if member != "" && m.iface != member && m.name != member {
				continue
			}
			items = append(items, tailID(ami.Message{f("Event", "QueueMember"), f("Queue", q.name), f("Name", m.name), f("Location", m.iface),
				f("StateInterface", m.stateIface), f("Membership", m.membership), f("Penalty", itoa(m.penalty)), f("CallsTaken", itoa(m.calls)),
				f("LastCall", epoch(m.lastCall)), f("LastPause", epoch(m.lastPause)), f("LoginTime", epoch(m.loginTime)), f("InCall", boolNum(m.inCall)),
				f("Status", itoa(p.memberStatus(m))), f("Paused", boolNum(m.paused)), f("PausedReason", m.reason),
				f("Wrapuptime", "0")}))
		}
		if member != "" {
			continue
		}
		for _, c := range q.callers {
			t := c.caller
			items = append(items, tailID(ami.Message{f("Event", "QueueEntry"), f("Queue", q.name), f("Position", itoa(c.pos)), f("Channel", t.name),
				f("Uniqueid", t.uid), f("CallerIDNum", entryID(t.cidNum)), f("CallerIDName", entryID(t.cidName)), f("ConnectedLineNum", entryID(t.connNum)),
				f("ConnectedLineName", entryID(t.connName)), f("Wait", itoa(int(p.now.Sub(c.joined)/time.Second))), f("Priority", "0")}))
		}
	}
	return items
}

// entryID: QueueEntry writes "unknown" where snapshots write "<unknown>" (§4.9).
func entryID(s string) string {
	if s == "<unknown>" || s == "" {
		return "unknown"
	}
	return s
}

func (p *PBX) queueSummaryItems(qn string, tailID func(ami.Message) ami.Message) []ami.Message {
	var items []ami.Message
	for _, q := range p.qorder {
		if qn != "" && q.name != qn {
			continue
		}
		logged, avail := 0, 0
		for _, m := range q.members {
			st := p.memberStatus(m)
			if st != devInvalid && st != 5 {
				logged++
			}
			if !m.paused && st == devNotInUse && !m.inCall {
				avail++
			}
		}
		hold, talk, longest := 0, 0, 0
		if q.completed > 0 {
			hold = int(q.holdSum / time.Second / time.Duration(q.completed))
			talk = int(q.talkSum / time.Second / time.Duration(q.completed))
		}
		for _, c := range q.callers {
			longest = max(longest, int(p.now.Sub(c.joined)/time.Second))
		}
		items = append(items, tailID(ami.Message{f("Event", "QueueSummary"), f("Queue", q.name), f("LoggedIn", itoa(logged)), f("Available", itoa(avail)),
			f("Callers", itoa(len(q.callers))), f("HoldTime", itoa(hold)), f("TalkTime", itoa(talk)), f("LongestHoldTime", itoa(longest))}))
	}
	return items
}

// originate places the first leg (a phone), and when it answers runs the dialplan
// target (an internal or outbound Dial) or the application. The Response comes at
// once even without Async (a real synchronous Originate answers only after the first
// leg answered or failed; the server can't be blocked here). OriginateResponse
// follows for Async originates.
func (p *PBX) originate(a ami.Message, resp func(string, string, ...ami.Field) []ami.Message) []ami.Message {
	chName := a.Get("Channel")
	if chName == "" {
		return resp("Error", "Channel not specified")
	}
	ep, ok := strings.CutPrefix(chName, "PJSIP/")
	if !ok || p.ops[ep] == nil {
		// Asterisk accepts it and reports the failure in OriginateResponse.
		p.after(0, func() { p.originateResponse(a, "Failure", chName, "", "0", "<unknown>", "<unknown>") })
		return resp("Success", "Originate successfully queued")
	}
	exten, app := a.Get("Exten"), a.Get("Application")
	if exten == "" && app == "" {
		return resp("Error", "Exten not specified")
	}
	timeout := 30 * time.Second
	if v, err := strconv.Atoi(a.Get("Timeout")); err == nil && v > 0 {
		timeout = time.Duration(v) * time.Millisecond
	}
	cidNum, cidName := parseCallerID(a.Get("CallerID"))
	p.after(0, func() {
		c := p.newPJSIP(ep, nil, false)
		c.context, c.exten = "from-internal", "s"
		if cidNum != "" {
			c.cidNum, c.cidName = cidNum, cidName
		}
		p.newchannel(c)
		for _, v := range a.GetAll("Variable") {
			if k, val, ok := strings.Cut(v, "="); ok {
				p.varSet(c, k, val)
			}
		}
		p.after(3*time.Millisecond, func() { p.setState(c, stRinging) })
		ans := 2 * time.Second
		if op := p.ops[ep]; op != nil && op.AnswerDelay > 0 {
			ans = p.jitter(op.AnswerDelay / 2)
		}
		if ans >= timeout {
			p.after(timeout, func() {
				p.hangup(c, 19)
				p.originateResponse(a, "Failure", chName, "", "3", orUnknown(cidNum), orUnknown(cidName))
			})
			return
		}
		p.after(ans, func() {
			if c.dead {
				return
			}
			p.setState(c, stUp)
			p.originateResponse(a, "Success", chName, c.uid, "4", orUnknown(cidNum), orUnknown(cidName))
			if exten != "" {
				c.context, c.exten = orDefault(a.Get("Context"), "from-internal"), exten
				// The dialled party is a person: answer after a few seconds, talk a minute.
				p.direct(Direct{From: ep, Number: exten, Ring: p.jitter(4 * time.Second), Talk: p.jitter(time.Minute), originated: c})
				return
			}
			c.app, c.appData = app, a.Get("Data")
			p.after(p.jitter(10*time.Second), func() {
				if c.dead {
					return
				}
				p.hangupRequest(c, 16, true)
				p.hangup(c, 16)
			})
		})
	})
	return resp("Success", "Originate successfully queued")
}

// originateResponse is written for Async originates only, as manager.c does; a
// synchronous Originate learns the outcome from its Response alone.
func (p *PBX) originateResponse(a ami.Message, result, ch, uid, reason, num, name string) {
	if !isTrue(a.Get("Async")) {
		return
	}
	m := ev("OriginateResponse", clCall, 14)
	if id, ok := a.Lookup("ActionID"); ok {
		m = append(m, f("ActionID", id))
	}
	p.emit(append(m, f("Response", result), f("Channel", ch), f("Context", a.Get("Context")), f("Exten", a.Get("Exten")),
		f("Application", a.Get("Application")), f("Data", a.Get("Data")), f("Reason", reason), f("Uniqueid", orDefault(uid, "<null>")),
		f("CallerIDNum", num), f("CallerIDName", name)))
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// parseCallerID splits `"Name" <num>` (or a bare number).
func parseCallerID(s string) (num, name string) {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '<'); i >= 0 {
		if j := strings.IndexByte(s[i:], '>'); j > 0 {
			num = s[i+1 : i+j]
			name = strings.Trim(strings.TrimSpace(s[:i]), `"`)
			return num, name
		}
	}
	return s, ""
}
