package live

import (
	"testing"
	"time"

	"github.com/linkage/linkage/ami"
)

// TestReresolve: a queue and an operator the state knows keep what the directory said
// when they were first seen, until Reresolve looks them up again (an admin changed
// the queue's threshold and zone, and created the operator) and publishes them.
func TestReresolve(t *testing.T) {
	hub := NewHub(HubOptions{})
	t.Cleanup(hub.Close)
	dir := labDirectory()
	st := NewState(Options{Hub: hub, Directory: dir})
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	member := func(queue, iface string) *ami.Event {
		m := ami.Message{{Key: "Event", Value: "QueueMember"}, {Key: "Queue", Value: queue}, {Key: "Name", Value: "Agent"},
			{Key: "Location", Value: iface}, {Key: "StateInterface", Value: iface}, {Key: "Status", Value: "1"}, {Key: "Paused", Value: "0"}}
		return &ami.Event{Name: "QueueMember", Time: at, Received: at, Fields: m}
	}
	st.Apply(1, member("support", "PJSIP/1009"), nil)
	q := queueNow(t, hub, "1/support")
	if q.QueueID != 600 || q.SLThresholdSeconds != 20 || q.Members[0].OperatorID != 0 {
		t.Fatalf("first seen: %+v", q)
	}
	moscow, _ := time.LoadLocation("Europe/Moscow")
	dir.SetQueue(1, "support", QueueRef{ID: 600, SLThreshold: 45 * time.Second, Location: moscow})
	dir.SetOperator(1, "PJSIP/1009", 19)
	st.Apply(1, member("support", "PJSIP/1009"), nil)
	if q := queueNow(t, hub, "1/support"); q.SLThresholdSeconds != 20 {
		t.Fatalf("a known queue re-resolved without Reresolve (the test no longer shows the need): %+v", q)
	}
	st.Reresolve()
	q = queueNow(t, hub, "1/support")
	if q.SLThresholdSeconds != 45 || q.Members[0].OperatorID != 19 {
		t.Fatalf("after Reresolve: %+v", q)
	}
	var op *OperatorState
	for _, c := range hub.Snapshot(TopicOperator, nil) {
		if c.Operator.Interface == "PJSIP/1009" {
			op = c.Operator
		}
	}
	if op == nil || op.OperatorID != 19 {
		t.Fatalf("operator after Reresolve: %+v", op)
	}
}
