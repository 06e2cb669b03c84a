package live

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/linkage/linkage/ami"
	"github.com/linkage/linkage/ami/assemble"
)

// labConfig is the lab PBX of the captures (ami/assemble's tests use the same).
func labConfig() assemble.Config {
	return assemble.Config{
		Server: "lab",
		Operators: []assemble.Operator{
			{Exten: "1001", Name: "Agent One", Device: "PJSIP/1001", Interfaces: []string{"Local/1001@agents/n", "Local/1001@agents"}},
			{Exten: "1002", Name: "Agent Two", Device: "PJSIP/1002"},
			{Exten: "1003", Name: "Agent Three", Device: "PJSIP/1003"},
		},
		LearnOperators:   true,
		TrunkPrefixes:    []string{"PJSIP/trunk"},
		TrunkContexts:    []string{"from-trunk"},
		InternalContexts: []string{"from-internal"},
		Queues:           []assemble.QueueExten{{Exten: "5551000", Queue: "support"}},
		DIDs:             []string{"5551000", "5551001", "5551002", "5551003", "5551004"},
	}
}

func labDirectory() *StaticDirectory {
	d := NewStaticDirectory()
	d.SetQueue(1, "support", QueueRef{ID: 600, SLThreshold: 20 * time.Second})
	d.SetQueue(1, "sales", QueueRef{ID: 601})
	d.SetOperator(1, "PJSIP/1001", 11)
	d.SetOperator(1, "PJSIP/1002", 12)
	d.SetOperator(1, "PJSIP/1003", 13)
	return d
}

func loadCapture(t testing.TB, name string) []ami.Event {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join("..", "testdata", "captures", "lab", name+"_*.ami"))
	if len(m) != 1 {
		t.Fatalf("capture %s: %v", name, m)
	}
	f, err := os.Open(m[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	evs, err := assemble.ReadCaptureEvents(f)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// recorder collects everything a State publishes.
type recorder struct {
	hub      *Hub
	changes  []Change
	statuses []StatusChange
}

func newRecorded(t testing.TB) (*State, *recorder) {
	r := &recorder{hub: NewHub(HubOptions{})}
	t.Cleanup(r.hub.Close)
	st := NewState(Options{Hub: r.hub, Directory: labDirectory(), OnStatus: func(c StatusChange) { r.statuses = append(r.statuses, c) }})
	return st, r
}

func feed(st *State, server int, evs []ami.Event) []assemble.Output {
	a := assemble.New(labConfig())
	var all []assemble.Output
	for i := range evs {
		outs := a.Feed(&evs[i])
		all = append(all, outs...)
		st.Apply(server, &evs[i], outs)
	}
	return all
}

func queueNow(t testing.TB, h *Hub, key string) *QueueStats {
	t.Helper()
	for _, c := range h.Snapshot(TopicQueue, nil) {
		if c.Key == key {
			return c.Queue
		}
	}
	t.Fatalf("no queue %s", key)
	return nil
}

func opNow(t testing.TB, h *Hub, key string) *OperatorState {
	t.Helper()
	for _, c := range h.Snapshot(TopicOperator, nil) {
		if c.Key == key {
			return c.Operator
		}
	}
	t.Fatalf("no operator %s", key)
	return nil
}

func kinds(chs []Change) []EventKind {
	var k []EventKind
	for _, c := range chs {
		if c.Event != nil {
			k = append(k, c.Event.Kind)
		}
	}
	return k
}

func TestCaptureA1Answered(t *testing.T) {
	st, r := newRecorded(t)
	evSub, _ := r.hub.Subscribe(TopicEvent, nil)
	qSub, _ := r.hub.Subscribe(TopicQueue, nil)
	var sawWaiting, sawRinging bool
	a := assemble.New(labConfig())
	evs := loadCapture(t, "a1")
	for i := range evs {
		outs := a.Feed(&evs[i])
		st.Apply(1, &evs[i], outs)
		r.hub.Sync()
		for _, c := range qSub.Take() {
			if c.Queue.Name == "support" && len(c.Queue.Waiting) == 1 && c.Queue.Waiting[0].Number == "0612345678" {
				sawWaiting = true
			}
			for _, m := range c.Queue.Members {
				if m.Status == StatusRinging {
					sawRinging = true
				}
			}
		}
	}
	if !sawWaiting || !sawRinging {
		t.Errorf("waiting seen %v, ringing seen %v", sawWaiting, sawRinging)
	}
	q := queueNow(t, r.hub, "1/support")
	if q.QueueID != 600 || q.Received() != 1 || q.Answered() != 1 || q.Abandoned() != 0 || len(q.Waiting) != 0 {
		t.Errorf("support: %+v", q)
	}
	if sl := q.ServiceLevel(); sl == nil || *sl != 100 {
		t.Errorf("service level %v", sl)
	}
	if q.AvgWaitSeconds() < 2 || q.AvgWaitSeconds() > 4 || q.AvgTalkSeconds() < 10 {
		t.Errorf("wait %d talk %d", q.AvgWaitSeconds(), q.AvgTalkSeconds())
	}
	r.hub.Sync()
	evk := kinds(evSub.Take())
	want := []EventKind{EventRinging, EventAnswered, EventEnded}
	if !containsInOrder(evk, want) {
		t.Errorf("events %v, want %v in order", evk, want)
	}
	if n := len(r.hub.Snapshot(TopicCall, nil)); n != 0 {
		t.Errorf("%d calls still active", n)
	}
	op := opNow(t, r.hub, "1/PJSIP/1001")
	if op.OperatorID != 11 || op.Incoming != 1 || op.Status != StatusFree {
		t.Errorf("1001: %+v", op)
	}
	var sawCall bool
	for _, c := range r.statuses {
		if c.OperatorID == 11 && c.Status == StatusOnCallIn {
			sawCall = true
		}
	}
	if !sawCall {
		t.Errorf("no ON_CALL_IN status change for 1001: %+v", r.statuses)
	}
}

func containsInOrder(got, want []EventKind) bool {
	i := 0
	for _, k := range got {
		if i < len(want) && k == want[i] {
			i++
		}
	}
	return i == len(want)
}

func TestCaptureB1Abandoned(t *testing.T) {
	st, r := newRecorded(t)
	feed(st, 1, loadCapture(t, "b1"))
	q := queueNow(t, r.hub, "1/support")
	if q.Received() != 1 || q.Answered() != 0 || q.Abandoned() != 1 || len(q.Waiting) != 0 {
		t.Errorf("support: %+v", q.Counters)
	}
	if sl := q.ServiceLevel(); sl == nil || *sl != 0 {
		t.Errorf("service level %v", sl)
	}
	if q.MaxWaitSeconds() < 15 {
		t.Errorf("max wait %d", q.MaxWaitSeconds())
	}
	var missed int
	for _, c := range r.hub.Snapshot(TopicOperator, nil) {
		missed += c.Operator.Missed
	}
	if missed == 0 {
		t.Errorf("no missed rings counted")
	}
}

func TestCaptureJ1PauseLunch(t *testing.T) {
	st, r := newRecorded(t)
	sub, _ := r.hub.Subscribe(TopicOperator, nil)
	var sawLunch bool
	a := assemble.New(labConfig())
	evs := loadCapture(t, "j1")
	for i := range evs {
		st.Apply(1, &evs[i], a.Feed(&evs[i]))
		r.hub.Sync()
		for _, c := range sub.Take() {
			if c.Operator.Interface == "PJSIP/1003" && c.Operator.Status == StatusPaused && c.Operator.Reason == "Lunch" {
				sawLunch = true
			}
		}
	}
	if !sawLunch {
		t.Error("1003 never showed paused with reason Lunch")
	}
	var seq []string
	for _, c := range r.statuses {
		if c.Interface == "PJSIP/1003" {
			seq = append(seq, string(c.Status)+":"+c.Reason)
		}
	}
	want := []string{"FREE:", "PAUSED:Lunch", "FREE:", "LOGGED_OUT:"}
	if !containsStr(seq, want) {
		t.Errorf("1003 status history %v, want %v in order", seq, want)
	}
	op := opNow(t, r.hub, "1/PJSIP/1003")
	if op.Status != StatusLoggedOut || op.OperatorID != 13 {
		t.Errorf("1003 after QueueRemove: %+v", op)
	}
}

func containsStr(got, want []string) bool {
	i := 0
	for _, k := range got {
		if i < len(want) && k == want[i] {
			i++
		}
	}
	return i == len(want)
}

// A queue with no event after midnight still starts the new day at zero.
func TestTickRollsQuietQueues(t *testing.T) {
	st, r := newRecorded(t)
	feed(st, 1, loadCapture(t, "a1"))
	q := queueNow(t, r.hub, "1/support")
	if q.Received() != 1 {
		t.Fatalf("received %d", q.Received())
	}
	day, _ := time.Parse(time.DateOnly, q.Day)
	st.Tick(day.Add(36 * time.Hour))
	q = queueNow(t, r.hub, "1/support")
	if q.Received() != 0 || q.Day != day.AddDate(0, 0, 1).Format(time.DateOnly) {
		t.Errorf("after midnight: day %s, %+v", q.Day, q.Counters)
	}
	if op := opNow(t, r.hub, "1/PJSIP/1001"); op.Incoming != 0 {
		t.Errorf("1001 after midnight: %+v", op)
	}
}

// A reconnect after a gap: what the resync does not list any more is gone (the call
// ended in the gap, the caller left), what it lists stays.
func TestResyncPrunesWhatEndedInTheGap(t *testing.T) {
	st, r := newRecorded(t)
	a := assemble.New(labConfig())
	evs := loadCapture(t, "a1")
	var joined bool
	for i := range evs { // up to the caller waiting and both members ringing
		st.Apply(1, &evs[i], a.Feed(&evs[i]))
		if evs[i].Name == "AgentCalled" {
			joined = true
			break
		}
	}
	if !joined || len(queueNow(t, r.hub, "1/support").Waiting) != 1 || len(r.hub.Snapshot(TopicCall, nil)) != 1 {
		t.Fatal("the caller is not waiting before the gap")
	}
	at := evs[len(evs)-1].Time.Add(time.Minute)
	ev := func(fields ...string) *ami.Event {
		m := ami.Message{}
		for i := 0; i < len(fields); i += 2 {
			m = append(m, ami.Field{Key: fields[i], Value: fields[i+1]})
		}
		m = append(m, ami.Field{Key: ami.ResyncField, Value: "1"})
		return &ami.Event{Name: m.Get("Event"), Time: at, Received: at, Fields: m}
	}
	for _, e := range []*ami.Event{
		ev("Event", ami.EventConnected, "Reason", "EOF"),
		ev("Event", "QueueParams", "Queue", "support", "ActionID", "r1"),
		ev("Event", "QueueMember", "Queue", "support", "Name", "Agent Two", "Location", "PJSIP/1002", "StateInterface", "PJSIP/1002",
			"Status", "1", "Paused", "1", "PausedReason", "Coffee", "InCall", "0", "ActionID", "r1"),
		ev("Event", "QueueStatusComplete", "ActionID", "r1"),
		ev("Event", "CoreShowChannelsComplete", "ActionID", "r2"),
	} {
		st.Apply(1, e, a.Feed(e))
	}
	q := queueNow(t, r.hub, "1/support")
	if len(q.Waiting) != 0 || len(q.Members) != 1 || q.Members[0].Interface != "PJSIP/1002" ||
		q.Members[0].Status != StatusPaused || q.Members[0].Reason != "Coffee" {
		t.Errorf("after the resync: waiting %+v, members %+v", q.Waiting, q.Members)
	}
	if n := len(r.hub.Snapshot(TopicCall, nil)); n != 0 {
		t.Errorf("%d calls survived a resync that lists none", n)
	}
	for _, c := range r.hub.Snapshot(TopicOperator, nil) {
		if op := c.Operator; op.Interface != "PJSIP/1002" && op.Status != StatusLoggedOut {
			t.Errorf("%s, in no queue after the resync: %+v", op.Interface, op)
		}
	}
}
