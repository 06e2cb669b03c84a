package pbx

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/linkage/linkage/ami"
)

var t0 = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)

func streamHash(evs []ami.Event) string {
	h := sha256.New()
	for _, e := range evs {
		fmt.Fprintf(h, "%d|%s", e.Time.UnixNano(), e.Fields.String())
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func day(cfg Config) []ami.Event {
	p := New(cfg, t0)
	var out []ami.Event
	// Advance in 10-minute steps, as a server fast-forwarding would.
	for t := t0; t.Before(t0.Add(24 * time.Hour)); t = t.Add(10 * time.Minute) {
		out = append(out, p.Advance(t)...)
	}
	return out
}

func TestDeterminism(t *testing.T) {
	cfg := DefaultConfig()
	a, b := day(cfg), day(cfg)
	if len(a) < 10000 {
		t.Fatalf("a simulated day gave only %d events", len(a))
	}
	if streamHash(a) != streamHash(b) {
		t.Fatal("same seed gave different streams")
	}
	cfg.Seed = 2
	if c := day(cfg); streamHash(a) == streamHash(c) {
		t.Fatal("different seeds gave the same stream")
	}
}

// TestDayInvariants checks what must hold on any stream: every channel that appears
// is created once and hung up once, Hangup is its last event, uniqueids are unique and
// the queue calls balance (each join has one leave).
func TestDayInvariants(t *testing.T) {
	evs := day(DefaultConfig())
	names := checkStream(t, evs, 20)
	for _, n := range []string{"AgentConnect", "AgentComplete", "AgentRingNoAnswer", "QueueCallerAbandon", "BlindTransfer", "AttendedTransfer",
		"Hold", "LocalOptimizationBegin", "QueueMemberPause", "DialEnd", "MixMonitorStart", "HangupRequest"} {
		if names[n] == 0 {
			t.Errorf("a simulated day has no %s", n)
		}
	}
	if names["QueueCallerJoin"] < 100 {
		t.Errorf("only %d queue calls in a day", names["QueueCallerJoin"])
	}
	t.Logf("%d events; %v", len(evs), names)
}

// TestRandomHangups hangs up a random live channel through AMI every few simulated
// seconds during a busy morning: whatever state a flow is in, the stream must stay
// consistent.
func TestRandomHangups(t *testing.T) {
	cfg := DefaultConfig()
	cfg.CallsPerHour = 300
	start := t0.Add(9 * time.Hour)
	p := New(cfg, start)
	var evs []ami.Event
	pick := 0
	for at := start; at.Before(start.Add(2 * time.Hour)); at = at.Add(7 * time.Second) {
		evs = append(evs, p.Advance(at)...)
		if len(p.chans) == 0 {
			continue
		}
		pick = (pick*31 + 17) % 1009
		c := p.chans[pick%len(p.chans)]
		r := p.Action(at, act("Action", "Hangup", "Channel", c.name, "Cause", "16"))
		if r[0].Get("Response") != "Success" {
			t.Fatalf("hangup %s: %v", c.name, r[0])
		}
	}
	evs = append(evs, p.Advance(start.Add(3*time.Hour))...)
	checkStream(t, evs, 60)
}

// checkStream checks what must hold on any stream and returns the event counts:
// every channel is created once and hung up at most once, nothing follows its
// Hangup, uniqueids are unique, headers are laid out as the server expects, and the
// relations of checkRelations hold. Up to open channels may still be up at the end.
func checkStream(t *testing.T, evs []ami.Event, open int) map[string]int {
	t.Helper()
	created, gone := map[string]bool{}, map[string]bool{}
	names := map[string]int{}
	var last time.Time
	for _, e := range evs {
		names[e.Name]++
		if e.Time.Before(last) {
			t.Fatalf("time went backwards at %s %s", e.Name, e.Time)
		}
		last = e.Time
		if e.Fields[0].Key != "Event" || e.Fields[0].Value != e.Name || e.Fields[1].Key != "Privilege" || e.Fields.Has("Timestamp") {
			t.Fatalf("bad header layout: %v", e.Fields[:2])
		}
		uid := e.Get("Uniqueid")
		switch e.Name {
		case "Newchannel":
			if created[uid] {
				t.Fatalf("uniqueid %s created twice", uid)
			}
			created[uid] = true
		case "Hangup":
			if !created[uid] || gone[uid] {
				t.Fatalf("Hangup of %s without Newchannel or twice", uid)
			}
			gone[uid] = true
		}
		for _, k := range []string{"Uniqueid", "DestUniqueid", "LocalOneUniqueid", "LocalTwoUniqueid", "TransfereeUniqueid", "TransfererUniqueid"} {
			if u := e.Get(k); u != "" && gone[u] && !(e.Name == "Hangup" && k == "Uniqueid") {
				t.Fatalf("%s names %s after its Hangup", e.Name, u)
			}
		}
	}
	if n := len(created) - len(gone); n > open {
		t.Errorf("%d channels never hung up", n)
	}
	checkRelations(t, evs)
	return names
}

// checkRelations checks the relations an assembler relies on: a dialled channel has
// the dialler's linkedid, both halves of a Local pair share one, everyone in a bridge
// shares one, every DialBegin gets a DialEnd, every queue entry ends in AgentConnect or
// QueueCallerAbandon, and bridges are destroyed empty.
func checkRelations(t *testing.T, evs []ami.Event) {
	t.Helper()
	lid := map[string]string{}
	dials := map[string]bool{}
	inBridge := map[string]map[string]bool{}
	queued := map[string]int{}
	for _, e := range evs {
		switch e.Name {
		case "Newchannel":
			lid[e.Get("Uniqueid")] = e.Get("Linkedid")
		case "DialBegin":
			d := e.Get("DestUniqueid")
			if c := e.Get("Uniqueid"); c != "" && lid[c] != lid[d] {
				t.Fatalf("dialled %s has linkedid %s, caller %s has %s", d, lid[d], c, lid[c])
			}
			dials[d] = true
		case "DialEnd":
			delete(dials, e.Get("DestUniqueid"))
		case "LocalBridge":
			if lid[e.Get("LocalOneUniqueid")] != lid[e.Get("LocalTwoUniqueid")] {
				t.Fatalf("Local halves with different linkedids")
			}
		case "BridgeEnter":
			lid[e.Get("Uniqueid")] = e.Get("Linkedid") // a bridge may hand over the older call's linkedid
			b := e.Get("BridgeUniqueid")
			if inBridge[b] == nil {
				inBridge[b] = map[string]bool{}
			}
			for u := range inBridge[b] {
				if lid[u] != e.Get("Linkedid") {
					t.Fatalf("bridge %s mixes linkedids %s and %s", b, lid[u], e.Get("Linkedid"))
				}
			}
			inBridge[b][e.Get("Uniqueid")] = true
			if n := e.Get("BridgeNumChannels"); n != fmt.Sprint(len(inBridge[b])) {
				t.Fatalf("BridgeEnter NumChannels %s, %d in bridge", n, len(inBridge[b]))
			}
		case "BridgeLeave":
			delete(inBridge[e.Get("BridgeUniqueid")], e.Get("Uniqueid"))
		case "BridgeDestroy":
			if len(inBridge[e.Get("BridgeUniqueid")]) != 0 {
				t.Fatalf("bridge destroyed with channels in it")
			}
		case "QueueCallerJoin":
			queued[e.Get("Uniqueid")]++
		case "AgentConnect", "QueueCallerAbandon":
			queued[e.Get("Uniqueid")]--
		case "Hangup":
			if _, ok := lid[e.Get("Uniqueid")]; !ok {
				t.Fatalf("Hangup of an unknown channel")
			}
		}
	}
	open := 0
	for _, n := range queued {
		if n != 0 {
			open++
		}
	}
	if open > 10 || len(dials) > 20 {
		t.Errorf("%d queue entries without an end, %d dials without DialEnd", open, len(dials))
	}
}

func TestWorstCase(t *testing.T) {
	sc := Scenarios()["worst-case-21-attempts"]
	p := New(sc.Config(), t0)
	sc.Run(p)
	evs := p.Advance(t0.Add(time.Hour))
	chans := map[string]bool{}
	lids := map[string]bool{}
	called, rna, abandon := 0, 0, 0
	var first, last time.Time
	for _, e := range evs {
		if u := e.Get("Uniqueid"); u != "" {
			chans[u] = true
			lids[e.Get("Linkedid")] = true
		}
		switch e.Name {
		case "AgentCalled":
			called++
		case "AgentRingNoAnswer":
			rna++
		case "QueueCallerAbandon":
			abandon++
		case "QueueCallerJoin":
			first = e.Time
		case "QueueCallerLeave":
			last = e.Time
		}
	}
	if called != 21 || rna != 20 || abandon != 1 {
		t.Errorf("AgentCalled %d (want 21), AgentRingNoAnswer %d (want 20), abandon %d", called, rna, abandon)
	}
	if len(chans) != 64 || len(lids) != 1 {
		t.Errorf("%d channels (want 64) under %d linkedids (want 1)", len(chans), len(lids))
	}
	if w := last.Sub(first); w < 5*time.Minute || w > 7*time.Minute {
		t.Errorf("waited %s", w)
	}
	if len(evs) < 350 {
		t.Errorf("only %d events", len(evs))
	}
	checkRelations(t, evs)
	t.Logf("%d events, %d channels, waited %s", len(evs), len(chans), last.Sub(first))
}

func act(kv ...string) ami.Message {
	var m ami.Message
	for i := 0; i+1 < len(kv); i += 2 {
		m = m.Add(kv[i], kv[i+1])
	}
	return m
}

func TestQueuePauseAddRemove(t *testing.T) {
	p := New(LabConfig(), t0)
	at := t0.Add(time.Second)
	r := p.Action(at, act("Action", "QueueAdd", "ActionID", "x1", "Queue", "support", "Interface", "PJSIP/1003", "MemberName", "Agent Three", "Penalty", "1", "Paused", "false"))
	if got := r[0].String(); got != "Response: Success\r\nActionID: x1\r\nMessage: Added interface to queue\r\n\r\n" {
		t.Fatalf("QueueAdd response %q", got)
	}
	r = p.Action(at, act("Action", "QueueAdd", "ActionID", "x2", "Queue", "support", "Interface", "PJSIP/1003"))
	if r[0].Get("Response") != "Error" || r[0].Get("Message") != "Unable to add interface: Already there" {
		t.Fatalf("second QueueAdd: %v", r[0])
	}
	evs := p.Advance(at)
	if len(evs) != 2 || evs[0].Get("Device") != "Queue:support_pause_PJSIP/1003" || evs[1].Name != "QueueMemberAdded" {
		t.Fatalf("QueueAdd events: %v", evs)
	}
	wantKeys := "Event Privilege Queue MemberName Interface StateInterface Membership Penalty CallsTaken LastCall LastPause LoginTime InCall Status Paused PausedReason Ringinuse Wrapuptime"
	if keys(evs[1].Fields) != wantKeys {
		t.Fatalf("QueueMemberAdded keys\n%s\nwant\n%s", keys(evs[1].Fields), wantKeys)
	}
	if evs[1].Get("Membership") != "dynamic" || evs[1].Get("Status") != "1" || evs[1].Get("Penalty") != "1" {
		t.Fatalf("QueueMemberAdded: %v", evs[1].Fields)
	}

	at = at.Add(time.Second)
	r = p.Action(at, act("Action", "QueuePause", "ActionID", "x3", "Queue", "support", "Interface", "PJSIP/1003", "Paused", "true", "Reason", "Lunch"))
	if r[0].Get("Message") != "Interface paused successfully" {
		t.Fatalf("QueuePause: %v", r[0])
	}
	evs = p.Advance(at)
	if len(evs) != 2 || evs[0].Get("State") != "INUSE" || evs[1].Name != "QueueMemberPause" ||
		evs[1].Get("Paused") != "1" || evs[1].Get("PausedReason") != "Lunch" || evs[1].Get("LastPause") != fmt.Sprint(at.Unix()) {
		t.Fatalf("pause events: %v", evs)
	}
	r = p.Action(at, act("Action", "QueuePause", "Queue", "support", "Interface", "PJSIP/1003", "Paused", "false"))
	if r[0].Get("Message") != "Interface unpaused successfully" || r[0].Has("ActionID") {
		t.Fatalf("unpause: %v", r[0])
	}
	evs = p.Advance(at)
	if evs[1].Get("Paused") != "0" || evs[1].Get("PausedReason") != "" {
		t.Fatalf("unpause event: %v", evs[1].Fields)
	}
	r = p.Action(at, act("Action", "QueuePause", "Interface", "PJSIP/7777", "Paused", "true"))
	if r[0].Get("Response") != "Error" || r[0].Get("Message") != "Interface not found" {
		t.Fatalf("pause unknown: %v", r[0])
	}
	r = p.Action(at, act("Action", "QueueRemove", "Queue", "support", "Interface", "PJSIP/1003"))
	if r[0].Get("Message") != "Removed interface from queue" {
		t.Fatalf("remove: %v", r[0])
	}
	if evs = p.Advance(at); len(evs) != 1 || evs[0].Name != "QueueMemberRemoved" {
		t.Fatalf("remove events: %v", evs)
	}
	r = p.Action(at, act("Action", "QueueRemove", "Queue", "support", "Interface", "PJSIP/1003"))
	if r[0].Get("Message") != "Unable to remove interface: Not there" {
		t.Fatalf("remove again: %v", r[0])
	}
	// Pausing without Queue pauses the interface in every queue that has it.
	p.Action(at, act("Action", "QueuePause", "Interface", "PJSIP/1002", "Paused", "1", "Reason", "Break"))
	n := 0
	for _, e := range p.Advance(at) {
		if e.Name == "QueueMemberPause" {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("PJSIP/1002 is in support and sales; got %d QueueMemberPause", n)
	}
}

func keys(m ami.Message) string {
	var k []string
	for _, f := range m {
		k = append(k, f.Key)
	}
	return strings.Join(k, " ")
}

// The list shapes are compared with the lab's QueueStatus answer in a1 (p-2).
func TestQueueStatusShape(t *testing.T) {
	p := New(LabConfig(), t0)
	r := p.Action(t0, act("Action", "QueueStatus", "ActionID", "p-2", "Queue", "support"))
	if len(r) != 5 {
		t.Fatalf("want Response + QueueParams + 2 QueueMember + Complete, got %d messages", len(r))
	}
	want := []string{
		"Response ActionID EventList Message",
		"Event Queue Max Strategy Calls Holdtime TalkTime Completed Abandoned ServiceLevel ServicelevelPerf ServicelevelPerf2 Weight ActionID",
		"Event Queue Name Location StateInterface Membership Penalty CallsTaken LastCall LastPause LoginTime InCall Status Paused PausedReason Wrapuptime ActionID",
	}
	if keys(r[0]) != want[0] || r[0].Get("Message") != "Queue status will follow" {
		t.Fatalf("response: %v", r[0])
	}
	if keys(r[1]) != want[1] || keys(r[2]) != want[2] {
		t.Fatalf("items:\n%s\n%s", keys(r[1]), keys(r[2]))
	}
	last := r[len(r)-1]
	if keys(last) != "Event ActionID EventList ListItems" || last.Get("ListItems") != "3" || last.Get("Event") != "QueueStatusComplete" {
		t.Fatalf("complete: %v", last)
	}
	// A waiting caller shows as QueueEntry with "unknown" for empty caller ID parts.
	p.Inbound(0, Inbound{DID: "5551002", Caller: "0612345678"})
	r = p.Action(t0.Add(3*time.Second), act("Action", "QueueStatus", "Queue", "support"))
	var entry ami.Message
	for _, m := range r {
		if m.Get("Event") == "QueueEntry" {
			entry = m
		}
	}
	if entry == nil || entry.Get("CallerIDName") != "unknown" || entry.Get("Wait") != "3" && entry.Get("Wait") != "2" {
		t.Fatalf("QueueEntry: %v", entry)
	}
	s := p.Action(t0.Add(3*time.Second), act("Action", "QueueSummary", "ActionID", "s", "Queue", "support"))
	if len(s) != 3 || keys(s[1]) != "Event Queue LoggedIn Available Callers HoldTime TalkTime LongestHoldTime ActionID" || s[1].Get("Callers") != "1" {
		t.Fatalf("QueueSummary: %v", s)
	}
}

func TestUnknownAction(t *testing.T) {
	p := New(LabConfig(), t0)
	r := p.Action(t0, act("Action", "FooBar", "ActionID", "7"))
	want := "Response: Error\r\nActionID: 7\r\nMessage: Invalid/unknown command: FooBar. Use Action: ListCommands to show available commands.\r\n\r\n"
	if len(r) != 1 || r[0].String() != want {
		t.Fatalf("got %q", r)
	}
}

func TestOriginateAndHangup(t *testing.T) {
	p := New(LabConfig(), t0)
	r := p.Action(t0, act("Action", "Originate", "ActionID", "o1", "Channel", "PJSIP/1001", "Exten", "1002", "Context", "from-internal", "Priority", "1", "Async", "true", "CallerID", `"Agent One" <1001>`))
	if r[0].Get("Message") != "Originate successfully queued" {
		t.Fatalf("originate: %v", r[0])
	}
	evs := p.Advance(t0.Add(5 * time.Second))
	var seq []string
	var orig ami.Message
	for _, e := range evs {
		if e.Name == "OriginateResponse" {
			orig = e.Fields
		}
		seq = append(seq, e.Name)
	}
	if orig == nil || orig.Get("Response") != "Success" || orig.Get("ActionID") != "o1" || orig.Get("Reason") != "4" {
		t.Fatalf("no OriginateResponse: %v", seq)
	}
	got := strings.Join(seq, " ")
	for _, w := range []string{"Newchannel", "DialBegin", "DialEnd", "BridgeEnter"} {
		if !strings.Contains(got, w) {
			t.Fatalf("originated call lacks %s: %s", w, got)
		}
	}
	// Both legs share the first leg's linkedid.
	lid := ""
	for _, e := range evs {
		if e.Name == "Newchannel" {
			if lid == "" {
				lid = e.Get("Linkedid")
			} else if e.Get("Linkedid") != lid {
				t.Fatalf("second leg linkedid %s, first %s", e.Get("Linkedid"), lid)
			}
		}
	}
	cs := p.Action(t0.Add(5*time.Second), act("Action", "CoreShowChannels", "ActionID", "c"))
	if len(cs) != 4 || keys(cs[1])[:22] != "Event ActionID Channel" || cs[3].Get("ListItems") != "2" {
		t.Fatalf("CoreShowChannels: %v", cs)
	}
	name := cs[1].Get("Channel")
	r = p.Action(t0.Add(6*time.Second), act("Action", "Hangup", "Channel", name, "Cause", "16"))
	if r[0].Get("Message") != "Channel Hungup" {
		t.Fatalf("hangup: %v", r[0])
	}
	evs = p.Advance(t0.Add(7 * time.Second))
	hang := 0
	for _, e := range evs {
		if e.Name == "Hangup" {
			hang++
		}
	}
	if hang != 2 || len(p.chans) != 0 {
		t.Fatalf("after AMI Hangup: %d Hangup events, %d channels left", hang, len(p.chans))
	}
	r = p.Action(t0.Add(8*time.Second), act("Action", "Hangup", "Channel", name))
	if r[0].Get("Message") != "No such channel" {
		t.Fatalf("hangup gone: %v", r[0])
	}
}

// Two servers started at different times never share a uniqueid.
func TestTwoServers(t *testing.T) {
	a := New(LabConfig(), t0)
	b := New(LabConfig(), t0.Add(time.Second))
	for _, p := range []*PBX{a, b} {
		Scenarios()["queue-answered-local"].Run(p)
	}
	ua := map[string]bool{}
	for _, e := range a.Advance(t0.Add(time.Minute)) {
		ua[e.Get("Uniqueid")] = true
	}
	for _, e := range b.Advance(t0.Add(time.Minute)) {
		if u := e.Get("Uniqueid"); u != "" && ua[u] {
			t.Fatalf("uniqueid %s on both servers", u)
		}
	}
}

func TestAllScenariosRun(t *testing.T) {
	for name, sc := range Scenarios() {
		p := New(sc.Config(), t0)
		sc.Run(p)
		evs := p.Advance(t0.Add(time.Hour))
		if len(evs) == 0 {
			t.Errorf("%s: no events", name)
		}
		if len(p.chans) != 0 {
			t.Errorf("%s: %d channels left: %s", name, len(p.chans), p.chans[0].name)
		}
	}
}

// BenchmarkGenerate runs a simulated day of a busy center (600 inbound calls in the
// peak hour, about 5000 a day, plus operator calls) as fast as possible, in the
// one-minute steps a server fast-forwarding would use.
func BenchmarkGenerate(b *testing.B) {
	cfg := DefaultConfig()
	cfg.CallsPerHour = 600
	cfg.OutboundPerHour = 100
	cfg.InternalPerHour = 30
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		p := New(cfg, t0)
		for t := t0; t.Before(t0.Add(24 * time.Hour)); t = t.Add(time.Minute) {
			n += len(p.Advance(t))
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(n)/float64(b.N), "events/day")
}
