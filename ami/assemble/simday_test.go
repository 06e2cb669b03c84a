package assemble

import (
	"slices"
	"testing"
	"time"

	"github.com/linkage/linkage/ami"
	"github.com/linkage/linkage/ami/sim/pbx"
)

// dayConfig is DefaultConfig busier: a few thousand inbound calls over the day's curve,
// with its holds, blind and attended transfers, busy members, abandons and timeouts.
func dayConfig() pbx.Config {
	pc := pbx.DefaultConfig()
	pc.Seed = 20261126
	pc.CallsPerHour = 400
	return pc
}

var dayStart = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)

// TestSimulatedDay feeds a simulated day and checks what must hold whatever the
// details: every call the model started ends as exactly one record, nothing is left in
// flight once the model is drained, and the figures add up. The expectations are
// counted from the model's own events, not from the assembler.
func TestSimulatedDay(t *testing.T) {
	if testing.Short() {
		t.Skip("a simulated day")
	}
	pc := dayConfig()
	evs := simulate(pc, dayStart, dayStart.Add(24*time.Hour))
	var withSeq, without map[string]*Call
	t.Run("seq", func(t *testing.T) { withSeq = checkDay(t, pc, evs) })
	// The same day without Seq: duplicates are found by content, and the records must
	// not change.
	unnumbered := slices.Clone(evs)
	for i := range unnumbered {
		unnumbered[i].Seq = 0
	}
	t.Run("noseq", func(t *testing.T) { without = checkDay(t, pc, unnumbered) })
	if len(withSeq) != len(without) {
		t.Fatalf("%d records with Seq, %d without", len(withSeq), len(without))
	}
	for id, c := range withSeq {
		if d := diffCall(richJSON(t, c), richJSON(t, without[id])); len(d) > 0 {
			t.Errorf("%s differs without Seq: %v", id, d)
		}
	}
}

func checkDay(t *testing.T, pc pbx.Config, evs []ami.Event) map[string]*Call {

	// What the model did, from its events.
	trunkCtx := map[string]bool{}
	for _, tr := range pc.Trunks {
		trunkCtx[tr.Context] = true
	}
	started := map[string]bool{} // linkedid of every call's first channel
	inbound := map[string]bool{} // ... whose first channel is an inbound trunk channel
	connected := map[string]bool{}
	called := map[string]int{}
	for i := range evs {
		e := &evs[i]
		switch e.Name {
		case "Newchannel":
			if e.Get("Uniqueid") == e.Get("Linkedid") {
				started[e.Get("Linkedid")] = true
				if trunkCtx[e.Get("Context")] {
					inbound[e.Get("Linkedid")] = true
				}
			}
		case "AgentConnect":
			connected[e.Get("Linkedid")] = true
		case "AgentCalled":
			called[e.Get("Linkedid")]++
		}
	}
	if len(inbound) < 2000 {
		t.Fatalf("only %d inbound calls in the simulated day: not the day this test is about", len(inbound))
	}

	cfg := simConfig(pc)
	ops := map[string]bool{}
	for _, o := range cfg.Operators {
		ops[o.Device] = true
	}
	a := New(cfg)
	recs := map[string]*Call{}
	for i := range evs {
		for _, o := range a.Feed(&evs[i]) {
			if c := o.Call; c != nil {
				if recs[c.Linkedid] != nil {
					t.Errorf("call %s finished twice", c.Linkedid)
				}
				recs[c.Linkedid] = c
			}
		}
	}
	if n := a.InFlight(); n != 0 {
		t.Errorf("%d calls still in flight after the model was drained", n)
	}
	if seq, ok := a.OldestInFlightSeq(); ok {
		t.Errorf("OldestInFlightSeq = %d with nothing in flight", seq)
	}
	if rest := a.Close(); len(rest) != 0 {
		t.Errorf("Close emitted %d outputs after the drain", len(rest))
	}

	// One record per started call (consultation calls of SIP attended transfers are
	// calls of their own, linked by Parent).
	nIn, nAns, nParent, nMissed := 0, 0, 0, 0
	for id := range started {
		if recs[id] == nil {
			t.Errorf("call %s (started by the model) has no record", id)
		}
	}
	for id, c := range recs {
		if !started[id] {
			t.Errorf("record %s is no call the model started", id)
			continue
		}
		if c.Incomplete {
			t.Errorf("%s incomplete: %s", id, c.IncompleteReason)
		}
		if c.Parent != "" {
			nParent++
			if recs[c.Parent] == nil {
				t.Errorf("%s: parent %s has no record", id, c.Parent)
			}
		}
		if inbound[id] != (c.Type == Inbound) {
			t.Errorf("%s: type %s, model inbound=%v", id, c.Type, inbound[id])
		}
		checkSums(t, c)
		switch c.Status {
		case StatusAnswered:
			if c.AnsweredBy == nil || c.Answered == nil {
				t.Errorf("%s answered without AnsweredBy/Answered", id)
			}
		case StatusMissed:
			nMissed++
			if c.AnsweredBy != nil || c.TalkSeconds != 0 || c.MissedReason == "" {
				t.Errorf("%s missed but AnsweredBy=%v talk=%d reason=%q", id, c.AnsweredBy, c.TalkSeconds, c.MissedReason)
			}
		default:
			t.Errorf("%s: status %q", id, c.Status)
		}
		if !inbound[id] {
			continue
		}
		nIn++
		// An inbound call is a queue call (or an IVR hang-up): answered exactly when
		// app_queue connected a member, by a queue member, who is an operator.
		if (c.Status == StatusAnswered) != connected[id] {
			t.Errorf("%s: status %s, AgentConnect seen %v", id, c.Status, connected[id])
		}
		if c.Status == StatusAnswered {
			nAns++
			if c.AnsweredBy == nil || !ops[c.AnsweredBy.Device] || len(c.Operators) == 0 {
				t.Errorf("%s answered by %v (operators %v): not an operator", id, c.AnsweredBy, c.Operators)
			}
		}
		if len(c.Attempts) != called[id] {
			t.Errorf("%s: %d attempts, %d AgentCalled", id, len(c.Attempts), called[id])
		}
		if t.Failed() && testing.Verbose() {
			break
		}
	}
	if nIn != len(inbound) {
		t.Errorf("%d inbound records, the model started %d inbound calls", nIn, len(inbound))
	}
	t.Logf("%d events, %d calls (%d inbound, %d answered, %d missed overall, %d consultations)",
		len(evs), len(recs), nIn, nAns, nMissed, nParent)
	return recs
}

// checkSums checks what every record must satisfy.
func checkSums(t *testing.T, c *Call) {
	t.Helper()
	id := c.Linkedid
	if c.WaitSeconds < 0 || c.TalkSeconds < 0 || c.HoldSeconds < 0 || c.TalkWithoutHoldSeconds < 0 {
		t.Errorf("%s: negative wait %d talk %d hold %d", id, c.WaitSeconds, c.TalkSeconds, c.HoldSeconds)
	}
	if c.TalkSeconds != c.TalkWithoutHoldSeconds+c.HoldSeconds {
		t.Errorf("%s: talk %d != talkWithoutHold %d + hold %d", id, c.TalkSeconds, c.TalkWithoutHoldSeconds, c.HoldSeconds)
	}
	if c.End.Before(c.Start) {
		t.Errorf("%s: ends before it starts", id)
	}
	if c.Answered != nil && (c.Answered.Before(c.Start) || c.Answered.After(c.End)) {
		t.Errorf("%s: answered %v outside %v..%v", id, c.Answered, c.Start, c.End)
	}
	if max := int(c.End.Sub(c.Start) / time.Second); c.WaitSeconds+c.TalkSeconds > max+1 {
		t.Errorf("%s: wait %d + talk %d > duration %d", id, c.WaitSeconds, c.TalkSeconds, max)
	}
	for i, l := range c.Legs {
		if l.TalkSeconds < 0 || l.HoldSeconds < 0 || l.TalkSeconds != l.TalkWithoutHoldSeconds+l.HoldSeconds {
			t.Errorf("%s leg %d: talk %d, without hold %d, hold %d", id, i, l.TalkSeconds, l.TalkWithoutHoldSeconds, l.HoldSeconds)
		}
	}
}

// BenchmarkAssembleSimDay feeds a simulated day (dayConfig) to one assembler; the
// events are made once, outside the timing.
func BenchmarkAssembleSimDay(b *testing.B) {
	evs := simulate(dayConfig(), dayStart, dayStart.Add(24*time.Hour))
	calls := 0
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for i := 0; i < b.N; i++ {
		a := New(simConfig(dayConfig()))
		calls = 0
		for j := range evs {
			for _, o := range a.Feed(&evs[j]) {
				if o.Call != nil {
					calls++
				}
			}
		}
	}
	el, cpu := time.Since(start), cpuTime()-cpu0
	b.ReportMetric(float64(len(evs))*float64(b.N)/el.Seconds(), "events/s")
	b.ReportMetric(float64(len(evs))*float64(b.N)/cpu.Seconds(), "events/cpu-s")
	b.ReportMetric(float64(len(evs)), "events/op")
	b.ReportMetric(float64(calls), "calls/op")
}
