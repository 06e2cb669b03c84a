package assemble

import (
	"math/rand"
	"testing"
	"time"

	"github.com/linkage/linkage/ami"
)

func goldenFor(t *testing.T, name string) golden {
	t.Helper()
	return loadGolden(t, "testdata/golden/"+name+".json")
}

func eventsOf(t *testing.T, g golden) []ami.Event {
	t.Helper()
	return loadCapture(t, capturePath(g.Capture))
}

// Reference §4.4: a collector that retries or a journal replayed twice delivers exact
// duplicates. Every event twice must give the same calls as once.
func TestDuplicatedEvents(t *testing.T) {
	for _, name := range []string{"a1", "b1", "e1", "d2", "caco14", "caco23"} {
		t.Run(name, func(t *testing.T) {
			g := goldenFor(t, name)
			evs := eventsOf(t, g)
			dup := make([]ami.Event, 0, 2*len(evs))
			for _, e := range evs {
				dup = append(dup, e, e)
			}
			checkCalls(t, g, run(configFor(capturePath(g.Capture)), dup))
		})
	}
}

// Reference §4.4: events from different Asterisk threads interleave differently from
// run to run (AgentComplete before or after BridgeLeave, CEL, Cdr). Swapping
// neighbouring events of different channels must neither crash nor change what the call
// is; a quarter of all neighbours are swapped, with a fixed seed for reproducibility.
func TestLocallyShuffledEvents(t *testing.T) {
	for _, name := range []string{"a1", "a3", "b1", "c1", "d1", "e1", "h2", "caco05", "caco14", "caco22"} {
		t.Run(name, func(t *testing.T) {
			g := goldenFor(t, name)
			evs := eventsOf(t, g)
			rng := rand.New(rand.NewSource(42))
			for i := 0; i+1 < len(evs); i++ {
				a, b := &evs[i], &evs[i+1]
				if rng.Intn(4) == 0 && a.Get("Uniqueid") != b.Get("Uniqueid") && a.Name != "Newchannel" && b.Name != "Newchannel" && a.Name != "Hangup" && b.Name != "Hangup" {
					evs[i], evs[i+1] = evs[i+1], evs[i]
					i++
				}
			}
			calls := run(configFor(capturePath(g.Capture)), evs)
			if len(calls) != len(g.Calls) {
				t.Fatalf("want %d calls, got %d", len(g.Calls), len(calls))
			}
			for i, want := range g.Calls {
				got := richJSON(t, calls[i])
				for _, k := range []string{"linkedid", "type", "status", "caller", "dialed", "answeredBy", "queues", "parent"} {
					sub := map[string]any{k: want[k]}
					for _, d := range diffCall(sub, got) {
						t.Errorf("call %d: %s", i, d)
					}
				}
			}
		})
	}
}

// A fully random order is nonsense, but it must not crash or loop, and every call must
// come out (Flush ends the rest).
func TestRandomOrderDoesNotPanic(t *testing.T) {
	for _, name := range []string{"a1", "e1", "caco14", "caco23", "caco21"} {
		g := goldenFor(t, name)
		evs := eventsOf(t, g)
		rand.New(rand.NewSource(7)).Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
		a := New(configFor(capturePath(g.Capture)))
		for i := range evs {
			a.Feed(&evs[i])
		}
		a.Close()
		if a.InFlight() != 0 {
			t.Errorf("%s: %d calls left in flight after Close", name, a.InFlight())
		}
	}
}

func ev(name string, kv ...string) ami.Event {
	e := ami.Event{Name: name, Fields: ami.Message{{Key: "Event", Value: name}}}
	for i := 0; i+1 < len(kv); i += 2 {
		e.Fields = append(e.Fields, ami.Field{Key: kv[i], Value: kv[i+1]})
	}
	return e
}

func stamped(e ami.Event, sec float64) ami.Event {
	e.Time = time.Unix(0, int64(sec*1e9)).UTC()
	e.Stamped = true
	return e
}

// A Hangup that overtakes its channel's Newchannel must not crash, and the late
// Newchannel must not resurrect the channel as a second call.
func TestHangupBeforeNewchannel(t *testing.T) {
	evs := []ami.Event{
		stamped(ev("Hangup", "Channel", "PJSIP/1001-00000001", "Uniqueid", "1700000000.1", "Linkedid", "1700000000.1", "Cause", "16"), 1700000001),
		stamped(ev("Newchannel", "Channel", "PJSIP/1001-00000001", "Uniqueid", "1700000000.1", "Linkedid", "1700000000.1", "Exten", "1002", "Context", "from-internal"), 1700000000),
	}
	calls := run(labConfig(), evs)
	if len(calls) != 1 {
		t.Fatalf("want 1 call, got %d", len(calls))
	}
	if calls[0].Status != StatusMissed {
		t.Errorf("status %s", calls[0].Status)
	}
}

// Reference §2.4/§4.2: a linkedid change is visible only as a new Linkedid value. The
// caco14 capture without its AttendedTransfer event still yields the consultation call
// linked to the customer call, and 203 talking in the customer call.
func TestLinkedidChangeWithoutEvent(t *testing.T) {
	g := goldenFor(t, "caco14")
	var evs []ami.Event
	for _, e := range eventsOf(t, g) {
		if e.Name != "AttendedTransfer" {
			evs = append(evs, e)
		}
	}
	calls := run(cacoConfig(), evs)
	if len(calls) != 2 {
		t.Fatalf("want 2 calls, got %d", len(calls))
	}
	consult, customer := calls[0], calls[1]
	if consult.Linkedid != "195176c06ab8-1529941225.617" || consult.Parent != "195176c06ab8-1529941216.590" {
		t.Errorf("consultation %s parent %q", consult.Linkedid, consult.Parent)
	}
	if customer.Linkedid != "195176c06ab8-1529941216.590" || len(customer.Linkedids) != 2 {
		t.Errorf("customer %s linkedids %v", customer.Linkedid, customer.Linkedids)
	}
	if len(customer.Operators) != 2 || customer.Operators[1].Number != "203" {
		t.Errorf("customer operators %v, want 202 then 203", customer.Operators)
	}
	if len(customer.Transfers) != 0 {
		t.Errorf("no transfer event, yet transfers %v", customer.Transfers)
	}
}

// Reference §3.c.1: QueueCallerAbandon also fires on a queue timeout. Without VarSet
// (class dialplan not readable) and without Newexten, the missing HangupRequest before
// the abandon still says "timeout".
func TestAbandonOnTimeoutWithoutVarSet(t *testing.T) {
	g := goldenFor(t, "c1")
	var evs []ami.Event
	for _, e := range eventsOf(t, g) {
		if e.Name != "VarSet" && e.Name != "Newexten" {
			evs = append(evs, e)
		}
	}
	calls := run(labConfig(), evs)
	if len(calls) != 1 || calls[0].MissedReason != ReasonTimeout || calls[0].HangupBy != BySystem {
		t.Fatalf("got %d calls, reason %q hangupBy %q", len(calls), calls[0].MissedReason, calls[0].HangupBy)
	}
}

// The gap contract (resync.go): after LinkageGap, channels not listed by the resync are
// hung up at GapStart and their calls come out Incomplete.
func TestGapResyncClosesUnlistedCalls(t *testing.T) {
	g := goldenFor(t, "a1")
	evs := eventsOf(t, g)
	cut := 0
	for i, e := range evs {
		if e.Name == "AgentConnect" {
			cut = i + 1
			break
		}
	}
	a := New(labConfig())
	for i := 0; i < cut; i++ {
		a.Feed(&evs[i])
	}
	if a.InFlight() != 1 {
		t.Fatalf("in flight %d", a.InFlight())
	}
	gap := stamped(ev("LinkageGap", "GapStart", "1795704915.0", "GapEnd", "1795704930.0", "Reason", "connection reset"), 1795704930)
	a.Feed(&gap)
	done := stamped(ev("CoreShowChannelsComplete", "LinkageResync", "1", "ListItems", "0"), 1795704930)
	var calls []*Call
	for _, o := range a.Feed(&done) {
		if o.Call != nil {
			calls = append(calls, o.Call)
		}
	}
	if len(calls) != 1 {
		t.Fatalf("want the call closed by the resync, got %d", len(calls))
	}
	c := calls[0]
	if !c.Incomplete || c.IncompleteReason == "" {
		t.Errorf("not flagged incomplete: %+v", c.IncompleteReason)
	}
	if want := time.Unix(1795704915, 0).UTC(); !c.End.Equal(want) {
		t.Errorf("end %v, want the gap start %v", c.End, want)
	}
	if c.Status != StatusAnswered || c.AnsweredBy == nil || c.AnsweredBy.Number != "1001" {
		t.Errorf("what was known before the gap is kept: %+v", c)
	}
}

// A call listed by the resync survives the gap, finishes normally, and is flagged
// Incomplete because its events during the gap are lost.
func TestGapResyncKeepsListedCalls(t *testing.T) {
	g := goldenFor(t, "a1")
	evs := eventsOf(t, g)
	cut := 0
	for i, e := range evs {
		if e.Name == "AgentConnect" {
			cut = i + 1
			break
		}
	}
	a := New(labConfig())
	for i := 0; i < cut; i++ {
		a.Feed(&evs[i])
	}
	live := []string{}
	for uid := range a.chans {
		live = append(live, uid)
	}
	gap := stamped(ev("LinkageGap", "GapStart", "2026-11-26T14:55:13Z", "GapEnd", "2026-11-26T14:55:14Z"), 1795704914)
	a.Feed(&gap)
	for _, uid := range live {
		item := ev("CoreShowChannel", "LinkageResync", "1", "Uniqueid", uid, "Linkedid", "1795704908.0")
		a.Feed(&item)
	}
	done := ev("CoreShowChannelsComplete", "LinkageResync", "1")
	if outs := a.Feed(&done); len(outs) != 0 {
		t.Fatalf("listed calls must stay open, got %d outputs", len(outs))
	}
	var calls []*Call
	for i := cut; i < len(evs); i++ {
		for _, o := range a.Feed(&evs[i]) {
			if o.Call != nil {
				calls = append(calls, o.Call)
			}
		}
	}
	if len(calls) != 1 || !calls[0].Incomplete || calls[0].TalkSeconds != 13 {
		t.Fatalf("got %d calls: %+v", len(calls), calls)
	}
}

// Notifications for live state and CRMs come in call order.
func TestNotifications(t *testing.T) {
	g := goldenFor(t, "d1")
	evs := eventsOf(t, g)
	a := New(labConfig())
	var kinds []NotificationKind
	for i := range evs {
		for _, o := range a.Feed(&evs[i]) {
			if o.Note != nil && o.Note.Kind != OperatorStatus && o.Note.Kind != Ringing {
				kinds = append(kinds, o.Note.Kind)
			}
		}
	}
	want := []NotificationKind{CallStarted, Answered, Transferred, Ended}
	if len(kinds) != len(want) {
		t.Fatalf("kinds %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("kinds %v, want %v", kinds, want)
		}
	}
}

// A channel first seen in the resync list belongs to a call that began during the gap.
func TestGapResyncAdoptsNewChannels(t *testing.T) {
	a := New(labConfig())
	gap := stamped(ev("LinkageGap", "GapStart", "1795709000.0", "GapEnd", "1795709060.0", "Reason", "AMI reconnect"), 1795709060)
	a.Feed(&gap)
	item := stamped(ev("CoreShowChannel", "LinkageResync", "1", "Channel", "PJSIP/trunk-000000aa", "ChannelStateDesc", "Up",
		"CallerIDNum", "0699999999", "Context", "from-trunk", "Exten", "5551000", "Uniqueid", "1795709030.500", "Linkedid", "1795709030.500"), 1795709060)
	a.Feed(&item)
	// A polling list of somebody else (no LinkageResync) must not count.
	foreign := stamped(ev("CoreShowChannel", "Channel", "PJSIP/1001-000000ab", "Uniqueid", "1795709031.501", "Linkedid", "1795709031.501"), 1795709060)
	a.Feed(&foreign)
	done := stamped(ev("CoreShowChannelsComplete", "LinkageResync", "1"), 1795709060)
	a.Feed(&done)
	if a.InFlight() != 1 {
		t.Fatalf("in flight %d, want the adopted call only", a.InFlight())
	}
	hup := stamped(ev("Hangup", "Channel", "PJSIP/trunk-000000aa", "Uniqueid", "1795709030.500", "Linkedid", "1795709030.500", "Cause", "16"), 1795709100)
	var calls []*Call
	for _, o := range a.Feed(&hup) {
		if o.Call != nil {
			calls = append(calls, o.Call)
		}
	}
	if len(calls) != 1 || !calls[0].Incomplete || calls[0].Caller.Number != "0699999999" || calls[0].Type != Inbound {
		t.Fatalf("got %+v", calls)
	}
}

// Reference §3.e.1: when the transferer completes before the target answers, the
// transfer is "blonde". Emulated from e1 by moving 2000's answer after AttendedTransfer.
func TestBlondeTransfer(t *testing.T) {
	evs := eventsOf(t, goldenFor(t, "e1"))
	var moved, rest []ami.Event
	isAnswer := func(e ami.Event) bool {
		switch e.Name {
		case "Newstate":
			return e.Get("ChannelStateDesc") == "Up" && len(e.Get("Channel")) > 10 && e.Get("Channel")[:10] == "PJSIP/2000"
		case "DialEnd":
			d := e.Get("DestChannel")
			return e.Get("DialStatus") == "ANSWER" && (len(d) > 10 && d[:10] == "PJSIP/2000" || len(d) > 10 && d[:10] == "Local/2000")
		}
		return false
	}
	for _, e := range evs {
		if isAnswer(e) {
			moved = append(moved, e)
			continue
		}
		rest = append(rest, e)
		if e.Name == "AttendedTransfer" {
			rest = append(rest, moved...)
		}
	}
	if len(moved) != 3 {
		t.Fatalf("moved %d answer events, want 3 (#286, #290, #292)", len(moved))
	}
	calls := run(labConfig(), rest)
	if len(calls) != 1 || len(calls[0].Transfers) != 1 {
		t.Fatalf("got %d calls", len(calls))
	}
	tr := calls[0].Transfers[0]
	if tr.Type != TransferBlonde || !tr.Answered || tr.To.Number != "2000" {
		t.Errorf("transfer %+v, want blonde to 2000, answered later", tr)
	}
}

// Without timestampevents the collector's receive time is the clock; without either
// (a stripped capture) the durations Asterisk reports are used. Both flag
// ApproximateTimes and keep a1's wait 3 s (#141 AgentConnect HoldTime=3) and talk 13 s
// (#234 AgentComplete TalkTime=13).
func TestUnstampedTimes(t *testing.T) {
	for _, mode := range []string{"received", "none"} {
		evs := eventsOf(t, goldenFor(t, "a1"))
		for i := range evs {
			if mode == "received" {
				evs[i].Received = evs[i].Time
			}
			evs[i].Time, evs[i].Stamped = time.Time{}, false
		}
		calls := run(labConfig(), evs)
		if len(calls) != 1 {
			t.Fatalf("%s: %d calls", mode, len(calls))
		}
		c := calls[0]
		if !c.ApproximateTimes || c.Status != StatusAnswered || c.WaitSeconds != 3 || c.TalkSeconds != 13 || c.HangupBy != ByCaller {
			t.Errorf("%s: approx %v status %s wait %d talk %d hangupBy %s", mode, c.ApproximateTimes, c.Status, c.WaitSeconds, c.TalkSeconds, c.HangupBy)
		}
		if want := time.Unix(1795704908, 0).UTC(); mode == "none" && !c.Start.Equal(want) {
			t.Errorf("none: start %v, want the linkedid epoch %v", c.Start, want)
		}
	}
}

// With receive times, a call without Asterisk-reported durations (h1, internal) still
// gets its talk time from the clock: #49 answer .. #96 BridgeLeave = 5 s.
func TestReceivedTimesInternalCall(t *testing.T) {
	evs := eventsOf(t, goldenFor(t, "h1"))
	for i := range evs {
		evs[i].Received, evs[i].Time, evs[i].Stamped = evs[i].Time, time.Time{}, false
	}
	c := run(labConfig(), evs)[0]
	if c.TalkSeconds != 5 || c.WaitSeconds != 2 || !c.ApproximateTimes {
		t.Errorf("talk %d wait %d approx %v", c.TalkSeconds, c.WaitSeconds, c.ApproximateTimes)
	}
}

// Without Seq and Timestamp, two events that differ only in their name (an Unhold and
// the same channel's Newstate carry the same snapshot) are different events, whatever
// the hash seed; and events that differ only in the middle of a long event (DialEnd
// CANCEL to two members) too.
func TestDedupDistinguishesNamesAndMiddles(t *testing.T) {
	snap := []string{"Channel", "PJSIP/1002-00000001", "ChannelState", "6", "ChannelStateDesc", "Up", "CallerIDNum", "1002",
		"CallerIDName", "Agent Two", "ConnectedLineNum", "0612345678", "ConnectedLineName", "Customer", "Language", "en",
		"AccountCode", "", "Context", "from-internal", "Exten", "5551000", "Priority", "1", "Uniqueid", "1795683601.1",
		"Linkedid", "1795683600.0"}
	newstate, unhold := ev("Newstate", snap...), ev("Unhold", snap...)
	dial := func(dest, uid string) ami.Event {
		kv := append(append([]string{}, snap...), "DestChannel", dest, "DestChannelState", "5", "DestChannelStateDesc", "Ringing",
			"DestCallerIDNum", "1001", "DestCallerIDName", "Agent One", "DestConnectedLineNum", "0612345678",
			"DestConnectedLineName", "Customer", "DestLanguage", "en", "DestAccountCode", "", "DestContext", "agents",
			"DestExten", "5551000", "DestPriority", "1", "DestUniqueid", uid, "DestLinkedid", "1795683600.0", "DialStatus", "CANCEL")
		return ev("DialEnd", kv...)
	}
	c1, c2 := dial("Local/1001@agents-00000000;1", "1795683601.2"), dial("Local/1003@agents-00000001;1", "1795683601.5")
	for i := 0; i < 256; i++ {
		var d dedupRing
		if d.seen(&newstate) || d.seen(&unhold) {
			t.Fatalf("seed %d: an Unhold taken for the Newstate before it", i)
		}
		if d.seen(&c1) || d.seen(&c2) {
			t.Fatalf("seed %d: DialEnd CANCEL to another member taken for a repeat", i)
		}
		if !d.seen(&unhold) || !d.seen(&c1) {
			t.Fatalf("seed %d: a true repeat not recognised", i)
		}
		// With Seq, the Seq decides.
		a, b := unhold, unhold
		a.Seq, b.Seq = 7, 8
		if d.seen(&a) || d.seen(&b) || !d.seen(&a) {
			t.Fatalf("seed %d: Seq 7, 8, 7 should be new, new, repeat", i)
		}
	}
}
