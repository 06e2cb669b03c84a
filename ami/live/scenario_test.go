package live

import (
	"testing"
	"time"

	"github.com/linkage/linkage/ami/assemble"
	"github.com/linkage/linkage/ami/sim/pbx"
)

// playScenario runs a pbx scenario to its end, feeding the assembler and a State
// the way the collector's worker does, and returns the recorder.
func playScenario(t *testing.T, name string) (*recorder, []Change) {
	t.Helper()
	sc, ok := pbx.Scenarios()[name]
	if !ok {
		t.Fatalf("no scenario %q", name)
	}
	st, r := newRecorded(t)
	evSub, _ := r.hub.Subscribe(TopicEvent, nil)
	start := time.Date(2026, 11, 26, 14, 55, 8, 0, time.UTC)
	p := pbx.New(sc.Config(), start)
	sc.Run(p)
	a := assemble.New(labConfig())
	evs := p.Advance(start.Add(24 * time.Hour))
	for i := range evs {
		e := &evs[i]
		if e.Time.IsZero() {
			t.Fatalf("event without a time: %v", e.Fields)
		}
		st.Apply(1, e, a.Feed(e))
	}
	r.hub.Sync()
	return r, evSub.Take()
}

func TestScenarios(t *testing.T) {
	type want struct {
		queue                         string
		received, answered, abandoned int
		finished                      int
		events                        []EventKind
		check                         func(t *testing.T, r *recorder)
	}
	opByIface := func(r *recorder, iface string) *OperatorState {
		for _, c := range r.hub.Snapshot(TopicOperator, nil) {
			if c.Operator.Interface == iface {
				return c.Operator
			}
		}
		return nil
	}
	for name, w := range map[string]want{
		"queue-answered-local":     {queue: "support", received: 1, answered: 1, finished: 1, events: []EventKind{EventRinging, EventAnswered, EventEnded}},
		"queue-answered-pjsip":     {queue: "support", received: 1, answered: 1, finished: 1, events: []EventKind{EventRinging, EventAnswered, EventEnded}},
		"ringall-noanswer-abandon": {queue: "support", received: 1, abandoned: 1, finished: 1, events: []EventKind{EventRinging, EventEnded}},
		"rrmemory-noanswer-abandon": {queue: "sales", received: 1, abandoned: 1, finished: 1, check: func(t *testing.T, r *recorder) {
			if o := opByIface(r, "PJSIP/1003"); o == nil || o.Missed != 1 {
				t.Errorf("1003 missed: %+v", o)
			}
		}},
		"queue-timeout": {queue: "support", received: 1, finished: 1},
		"blind-transfer": {queue: "support", received: 1, answered: 1, finished: 1,
			events: []EventKind{EventRinging, EventAnswered, EventTransferred, EventEnded}},
		"ringall-member-busy": {queue: "support", received: 1, answered: 1, finished: 1, check: func(t *testing.T, r *recorder) {
			if o := opByIface(r, "PJSIP/1001"); o == nil || o.Incoming != 1 {
				t.Errorf("1001: %+v", o)
			}
		}},
		"outbound-trunk": {check: func(t *testing.T, r *recorder) {
			if o := opByIface(r, "PJSIP/1001"); o == nil || o.Outgoing != 1 {
				t.Errorf("1001 outgoing: %+v", o)
			}
			var out bool
			for _, c := range r.statuses {
				out = out || c.Interface == "PJSIP/1001" && c.Status == StatusOnCallOut
			}
			if !out {
				t.Errorf("1001 never ON_CALL_OUT: %+v", r.statuses)
			}
		}},
		"member-management": {check: func(t *testing.T, r *recorder) {
			var seq []string
			for _, c := range r.statuses {
				if c.Interface == "PJSIP/1003" {
					seq = append(seq, string(c.Status)+":"+c.Reason)
				}
			}
			if !containsStr(seq, []string{"FREE:", "PAUSED:Lunch", "FREE:", "LOGGED_OUT:"}) {
				t.Errorf("1003: %v", seq)
			}
		}},
	} {
		t.Run(name, func(t *testing.T) {
			r, evs := playScenario(t, name)
			if n := len(r.hub.Snapshot(TopicCall, nil)); n != 0 {
				t.Errorf("%d calls still active at the end", n)
			}
			for _, c := range r.hub.Snapshot(TopicQueue, nil) {
				if len(c.Queue.Waiting) != 0 {
					t.Errorf("%s: callers still waiting: %+v", c.Queue.Name, c.Queue.Waiting)
				}
			}
			if w.queue != "" {
				q := queueNow(t, r.hub, "1/"+w.queue)
				got := [4]int{q.Received(), q.Answered(), q.Abandoned(), q.Counters.Finished}
				if got != [4]int{w.received, w.answered, w.abandoned, w.finished} {
					t.Errorf("%s received/answered/abandoned/finished %v, want %v", w.queue, got,
						[4]int{w.received, w.answered, w.abandoned, w.finished})
				}
			}
			if w.events != nil && !containsInOrder(kinds(evs), w.events) {
				t.Errorf("events %v, want %v in order", kinds(evs), w.events)
			}
			// Every operator's status history is a chain: each change starts where the
			// previous one of that operator ended.
			last := map[string]StatusChange{}
			for _, c := range r.statuses {
				if p, ok := last[c.Interface]; ok && (c.PrevStatus != p.Status || !c.PrevSince.Equal(p.At)) {
					t.Errorf("%s: change %+v does not follow %+v", c.Interface, c, p)
				}
				last[c.Interface] = c
			}
			if w.check != nil {
				w.check(t, r)
			}
		})
	}
}
