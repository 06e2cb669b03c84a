package assemble

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/linkage/linkage/ami"
	"github.com/linkage/linkage/ami/sim/pbx"
)

// checkReplayFrom checks OldestInFlightSeq by its promise: after any prefix of the
// stream, replaying the journal from the returned sequence into a fresh assembler
// rebuilds every call that was in flight (and every later call) exactly as the
// uninterrupted assembler finishes it. at lists the prefix lengths to try (nil: all).
func checkReplayFrom(t *testing.T, cfg Config, evs []ami.Event, at []int) {
	t.Helper()
	type point struct {
		k        int
		seq      uint64
		ok       bool
		finished map[string]bool
	}
	if at == nil {
		for k := 1; k <= len(evs); k++ {
			at = append(at, k)
		}
	}
	want := map[string]map[string]any{}
	finished := map[string]bool{}
	var points []point
	a := New(cfg)
	take := func(outs []Output) {
		for _, o := range outs {
			if o.Call != nil {
				id := o.Call.Linkedid
				if want[id] != nil {
					t.Fatalf("linkedid %s finished twice", id)
				}
				want[id] = richJSON(t, o.Call)
				finished[id] = true
			}
		}
	}
	next := 0
	for i := range evs {
		take(a.Feed(&evs[i]))
		if next < len(at) && at[next] == i+1 {
			next++
			seq, ok := a.OldestInFlightSeq()
			if pending := a.gap != nil && a.gap.resyncing; ok != (a.InFlight() > 0 || pending) {
				t.Fatalf("after %d events: OldestInFlightSeq ok=%v with %d calls in flight (resync pending %v)", i+1, ok, a.InFlight(), pending)
			}
			done := make(map[string]bool, len(finished))
			for id := range finished {
				done[id] = true
			}
			points = append(points, point{k: i + 1, seq: seq, ok: ok, finished: done})
		}
	}
	take(a.Close())
	for _, p := range points {
		from := p.k // nothing in flight: replay from the next event
		if p.ok {
			from = 0
			for from < len(evs) && evs[from].Seq < p.seq {
				from++
			}
		}
		b := New(cfg)
		got := map[string]map[string]any{}
		keep := func(outs []Output) {
			for _, o := range outs {
				if o.Call != nil && !p.finished[o.Call.Linkedid] {
					got[o.Call.Linkedid] = richJSON(t, o.Call)
				}
			}
		}
		for i := from; i < len(evs); i++ {
			keep(b.Feed(&evs[i]))
		}
		keep(b.Close())
		for id, w := range want {
			if p.finished[id] {
				continue
			}
			g := got[id]
			if g == nil {
				t.Errorf("after %d events (oldest seq %d): call %s not rebuilt by the replay", p.k, p.seq, id)
				continue
			}
			if !reflect.DeepEqual(w, g) {
				t.Errorf("after %d events (oldest seq %d): call %s rebuilt differently:\n%s", p.k, p.seq, id, strings.Join(diffCall(w, g), "\n"))
			}
		}
		for id := range got {
			if want[id] == nil {
				t.Errorf("after %d events (oldest seq %d): the replay made call %s the stream never had", p.k, p.seq, id)
			}
		}
		if t.Failed() {
			return
		}
	}
}

func TestOldestInFlightSeqEmpty(t *testing.T) {
	a := New(Config{})
	if seq, ok := a.OldestInFlightSeq(); ok || seq != 0 {
		t.Fatalf("empty assembler: %d, %v", seq, ok)
	}
}

// Every simulator scenario, cut after every event.
func TestOldestInFlightSeqScenarios(t *testing.T) {
	for name := range pbx.Scenarios() {
		t.Run(name, func(t *testing.T) {
			pc, evs := runScenario(t, name)
			checkReplayFrom(t, simConfig(pc), evs, nil)
		})
	}
}

// Every capture (Asterisk 11 merges by Dial/Bridge, SIP attended transfers that move
// channels between linkedids), cut after every event.
func TestOldestInFlightSeqCaptures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.json"))
	for _, f := range files {
		g := loadGolden(t, f)
		t.Run(filepath.Base(f), func(t *testing.T) {
			path := capturePath(g.Capture)
			evs := loadCapture(t, path)
			for i := range evs {
				evs[i].Seq = uint64(i + 1)
			}
			checkReplayFrom(t, configFor(path), evs, nil)
		})
	}
}

// The SIP attended transfer: the consultation call 1002 -> 2000 has its own linkedid
// until 2000 is moved into the customer's call. While the consultation is alive the
// oldest sequence is the customer call's first event; once 2000 has moved, the
// customer call still needs its own first event.
func TestOldestInFlightSeqAttendedTransfer(t *testing.T) {
	pc, evs := runScenario(t, "attended-transfer-refer")
	a := New(simConfig(pc))
	consult := ""
	for i := range evs {
		e := &evs[i]
		a.Feed(e)
		if e.Name == "Newchannel" && e.Get("Linkedid") != evs[0].Get("Linkedid") && consult == "" {
			consult = e.Get("Linkedid")
		}
		if seq, ok := a.OldestInFlightSeq(); ok && seq != evs[0].Seq {
			t.Fatalf("after %s (seq %d): oldest %d, want the customer call's first event %d", e.Name, e.Seq, seq, evs[0].Seq)
		}
	}
	if consult == "" {
		t.Fatal("no consultation call in the scenario")
	}
	// The move itself lowers the receiving call's sequence. Feed from the consultation's
	// first event on: the customer call is first seen later (its first event in this
	// cut, after the consultation began); when 2000 moves into it, it takes the
	// consultation's first sequence, because 2000's answer and leg were learned there.
	// Once the consultation has finished, that is still the oldest sequence needed.
	from := -1
	for i := range evs {
		if evs[i].Get("Linkedid") == consult {
			from = i
			break
		}
	}
	b := New(simConfig(pc))
	consultSeq := evs[from].Seq
	customerFirst := uint64(0)
	consultDone := false
	for i := from; i < len(evs); i++ {
		e := &evs[i]
		if customerFirst == 0 && e.Get("Linkedid") == evs[0].Get("Linkedid") {
			customerFirst = e.Seq
		}
		for _, o := range b.Feed(e) {
			if o.Call != nil && o.Call.Linkedid == consult {
				consultDone = true
			}
		}
		if consultDone && b.InFlight() > 0 {
			if seq, ok := b.OldestInFlightSeq(); !ok || seq != consultSeq {
				t.Fatalf("after the consultation ended (seq %d): oldest %d %v, want the consultation's first event %d (the customer call's own first event in this cut is %d)",
					e.Seq, seq, ok, consultSeq, customerFirst)
			}
		}
	}
	if !consultDone || customerFirst <= consultSeq {
		t.Fatalf("cut does not test the move: consultation done %v, customer first seen at %d, consultation at %d", consultDone, customerFirst, consultSeq)
	}
}

// A gap in the middle of calls: the events of a few seconds are lost, the collector
// feeds LinkageGap and a marked CoreShowChannels list. Calls known before the gap keep
// their first sequence; a call first seen in the list starts at its list item; and
// replays from any point rebuild what was in flight.
// gapStream runs the lab model with setup, then loses the events of [gapStart, gapEnd)
// the way a dropped connection does: at gapEnd the collector feeds LinkageGap, one
// marked CoreShowChannel per channel alive then (from its last snapshot) and the
// closing CoreShowChannelsComplete. Events are stamped and numbered in that order.
func gapStream(setup func(p *pbx.PBX), gapStart, gapEnd time.Time) []ami.Event {
	p := pbx.New(pbx.LabConfig(), simStart)
	setup(p)
	var evs []ami.Event
	for {
		next, ok := p.Next()
		if !ok {
			break
		}
		evs = append(evs, p.Advance(next)...)
	}
	var out []ami.Event
	last := map[string]ami.Event{}
	alive := map[string]bool{}
	var order []string
	inserted := false
	for _, e := range evs {
		if !e.Time.Before(gapEnd) && !inserted {
			inserted = true
			out = append(out, ami.Event{Name: "LinkageGap", Time: gapEnd, Fields: ami.Message{
				{Key: "Event", Value: "LinkageGap"}, {Key: "GapStart", Value: gapStart.Format("2006-01-02T15:04:05Z07:00")},
				{Key: "GapEnd", Value: gapEnd.Format("2006-01-02T15:04:05Z07:00")}, {Key: "Reason", Value: "test"}}})
			for _, uid := range order {
				if !alive[uid] {
					continue
				}
				s := last[uid]
				m := ami.Message{{Key: "Event", Value: "CoreShowChannel"}, {Key: "LinkageResync", Value: "1"}}
				for _, f := range s.Fields {
					switch f.Key {
					case "Channel", "ChannelState", "ChannelStateDesc", "CallerIDNum", "CallerIDName", "Context", "Exten", "Uniqueid", "Linkedid":
						m = append(m, f)
					}
				}
				out = append(out, ami.Event{Name: "CoreShowChannel", Time: gapEnd, Fields: m})
			}
			out = append(out, ami.Event{Name: "CoreShowChannelsComplete", Time: gapEnd, Fields: ami.Message{
				{Key: "Event", Value: "CoreShowChannelsComplete"}, {Key: "LinkageResync", Value: "1"}}})
		}
		if uid := e.Get("Uniqueid"); uid != "" && e.Get("Channel") != "" {
			if _, seen := last[uid]; !seen {
				order = append(order, uid)
			}
			last[uid] = e
			alive[uid] = e.Name != "Hangup"
		}
		if e.Time.Before(gapStart) || !e.Time.Before(gapEnd) {
			out = append(out, e)
		}
	}
	var seq uint64
	stampSim(out, &seq)
	return out
}

func TestOldestInFlightSeqAfterGap(t *testing.T) {
	pc := pbx.LabConfig()
	// A: answered at ~4 s, talks 60 s. B: arrives at 20 s, during the gap, answered.
	out := gapStream(func(p *pbx.PBX) {
		p.Inbound(0, pbx.Inbound{DID: "5551000", Caller: "0611111111", Answer: []pbx.Answer{{Member: "PJSIP/1002", After: 3e9}}, Talk: 60e9})
		p.Inbound(20e9, pbx.Inbound{DID: "5551003", Caller: "0622222222", Answer: []pbx.Answer{{Member: "Local/1001@agents", After: 2e9}}, Talk: 30e9})
	}, simStart.Add(15e9), simStart.Add(30e9))
	cfg := simConfig(pc)

	a := New(cfg)
	firstB := uint64(0)
	for i := range out {
		e := &out[i]
		a.Feed(e)
		if e.Name == "CoreShowChannel" && e.Get("Linkedid") != out[0].Get("Linkedid") && firstB == 0 {
			firstB = e.Seq
		}
		if e.Name == "CoreShowChannelsComplete" {
			s, ok := a.OldestInFlightSeq()
			if !ok || s != out[0].Seq {
				t.Fatalf("after the resync: oldest %d %v, want call A's first event %d", s, ok, out[0].Seq)
			}
			if a.InFlight() != 2 || firstB == 0 {
				t.Fatalf("after the resync: %d calls in flight (B listed at seq %d), want A and B", a.InFlight(), firstB)
			}
		}
	}
	checkReplayFrom(t, cfg, out, nil)
}

// The property also holds on a simulated morning with overlapping calls, transfers and
// holds, cut at a few points.
func TestOldestInFlightSeqBusy(t *testing.T) {
	pc := pbx.DefaultConfig()
	pc.Seed = 7
	pc.CallsPerHour = 400
	evs := simulate(pc, simStart, simStart.Add(40*60e9))
	var at []int
	for k := len(evs) / 7; k < len(evs); k += len(evs) / 7 {
		at = append(at, k)
	}
	checkReplayFrom(t, simConfig(pc), evs, at)
	if testing.Verbose() {
		fmt.Println(len(evs), "events")
	}
}

// Asterisk 11 merges calls on Dial. When the call with the newer uniqueid was seen
// first (the stream began mid-call), the merged call keeps the older of the two
// sequences: the channel seen first brought its state along.
func TestOldestInFlightSeqMerge(t *testing.T) {
	a := New(cacoConfig())
	feed := func(seq uint64, e ami.Event) {
		e = stamped(e, 1500000000+float64(seq))
		e.Seq = seq
		a.Feed(&e)
	}
	// The callee's channel (uid .11) is seen first, at seq 10, in a state event.
	feed(10, ev("Newstate", "Channel", "SIP/150010002-00000002", "Uniqueid", "1500000000.11", "ChannelStateDesc", "Ringing",
		"Context", "osvpi_account", "Exten", "202"))
	// The caller's channel (uid .10, older) at seq 20.
	feed(20, ev("Newchannel", "Channel", "SIP/150010001-00000001", "Uniqueid", "1500000000.10", "ChannelStateDesc", "Ring",
		"Context", "osvpi_account", "Exten", "202", "CallerIDNum", "201"))
	if seq, ok := a.OldestInFlightSeq(); !ok || seq != 10 || a.InFlight() != 2 {
		t.Fatalf("two groups: oldest %d %v, %d in flight", seq, ok, a.InFlight())
	}
	// Dial Begin .10 -> .11 merges them into the older uniqueid's call.
	feed(30, ev("Dial", "SubEvent", "Begin", "Channel", "SIP/150010001-00000001", "UniqueID", "1500000000.10",
		"Destination", "SIP/150010002-00000002", "DestUniqueID", "1500000000.11", "Dialstring", "150010002"))
	if a.InFlight() != 1 {
		t.Fatalf("%d calls in flight after the Dial, want 1", a.InFlight())
	}
	if seq, ok := a.OldestInFlightSeq(); !ok || seq != 10 {
		t.Fatalf("merged call: oldest %d %v, want 10 (the callee's channel, seen first)", seq, ok)
	}
}

// Nothing in flight when the connection drops; a call starts during the gap. The resync
// list is all there is of its beginning, and the list only counts after its LinkageGap:
// the call's oldest sequence is the LinkageGap's.
func TestOldestInFlightSeqStartedInGap(t *testing.T) {
	pc := pbx.LabConfig()
	out := gapStream(func(p *pbx.PBX) {
		p.Inbound(0, pbx.Inbound{DID: "5551000", Caller: "0611111111", Answer: []pbx.Answer{{Member: "PJSIP/1002", After: 3e9}}, Talk: 5e9})
		p.Inbound(20e9, pbx.Inbound{DID: "5551003", Caller: "0622222222", Answer: []pbx.Answer{{Member: "Local/1001@agents", After: 2e9}}, Talk: 30e9})
	}, simStart.Add(15e9), simStart.Add(30e9))
	cfg := simConfig(pc)
	a := New(cfg)
	var gapSeq uint64
	for i := range out {
		e := &out[i]
		a.Feed(e)
		if e.Name == "LinkageGap" {
			gapSeq = e.Seq
			if a.InFlight() != 0 {
				t.Fatalf("%d calls in flight at the gap, want none", a.InFlight())
			}
		}
		if e.Name == "CoreShowChannelsComplete" {
			if s, ok := a.OldestInFlightSeq(); !ok || s != gapSeq {
				t.Fatalf("after the resync: oldest %d %v, want the LinkageGap's %d", s, ok, gapSeq)
			}
		}
	}
	checkReplayFrom(t, cfg, out, nil)
}
