package workplace

import (
	"context"
	"testing"
	"time"

	"github.com/linkage/linkage/ami/live"
	"github.com/linkage/linkage/ent"
	"github.com/linkage/linkage/graph/model"
)

func queueChange(server int, name string, members ...live.Member) live.Change {
	q := &live.QueueStats{Server: server, Name: name, Members: members}
	return live.Change{Topic: live.TopicQueue, Key: "q/" + name, Queue: q}
}

// TestConfirm: an action is confirmed by the first change after it that shows the
// wanted state in every pending queue; changes that do not show it yet, other
// servers' changes and the state before the action do not confirm it; the wait ends
// at ConfirmWait or with the request.
func TestConfirm(t *testing.T) {
	hub := live.NewHub(live.HubOptions{})
	defer hub.Close()
	s := New(Options{Hub: hub, ConfirmWait: 300 * time.Millisecond})
	op := &ent.Operator{ID: 7, ServerID: 1, Interface: "PJSIP/1001"}
	paused := func(q *live.QueueStats) bool {
		m := memberIn(q, op)
		return m != nil && m.Paused && m.Reason == "Lunch"
	}
	agent := func(p bool, reason string) live.Member {
		return live.Member{Interface: "Local/1001@agents/n", StateInterface: "PJSIP/1001", Paused: p, Reason: reason}
	}
	// Already paused before the action: the snapshot does not count.
	hub.Publish(queueChange(1, "support", agent(true, "Lunch")))

	sub, now, err := s.watch(1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hub.Unsubscribe(sub) })
	if m := memberIn(now["support"], op); m == nil || !m.Paused {
		t.Fatalf("snapshot at registration = %+v", now)
	}
	go func() {
		hub.Publish(queueChange(2, "support", agent(true, "Lunch"))) // another server
		hub.Publish(queueChange(1, "sales", agent(false, "")))       // not yet
		time.Sleep(20 * time.Millisecond)
		hub.Publish(queueChange(1, "support", agent(true, "Lunch")))
		time.Sleep(20 * time.Millisecond)
		hub.Publish(queueChange(1, "sales", agent(true, "Lunch")))
	}()
	if !s.confirm(context.Background(), sub, map[string]func(*live.QueueStats) bool{"support": paused, "sales": paused}) {
		t.Fatal("not confirmed")
	}

	// Nothing confirming: false after ConfirmWait.
	sub2, _, _ := s.watch(1)
	defer hub.Unsubscribe(sub2)
	hub.Publish(queueChange(1, "support", agent(false, "")))
	start := time.Now()
	if s.confirm(context.Background(), sub2, map[string]func(*live.QueueStats) bool{"support": paused}) {
		t.Fatal("confirmed by a change that does not show the pause")
	}
	if d := time.Since(start); d < 250*time.Millisecond || d > 2*time.Second {
		t.Fatalf("gave up after %s, want ~300ms", d)
	}
	// The request ends first.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sub3, _, _ := s.watch(1)
	defer hub.Unsubscribe(sub3)
	if s.confirm(ctx, sub3, map[string]func(*live.QueueStats) bool{"support": paused}) {
		t.Fatal("confirmed after the request ended")
	}
}

func TestIsMember(t *testing.T) {
	op := &ent.Operator{ID: 7, Interface: "PJSIP/1001"}
	for _, c := range []struct {
		m    live.Member
		want bool
	}{
		{live.Member{Interface: "PJSIP/1001"}, true},
		{live.Member{Interface: "Local/1001@agents/n", StateInterface: "pjsip/1001"}, true},
		{live.Member{Interface: "PJSIP/1001", OperatorID: 7}, true},
		{live.Member{Interface: "PJSIP/1001", OperatorID: 8}, false}, // the directory knows better
		{live.Member{Interface: "PJSIP/1002"}, false},
	} {
		if got := isMember(&c.m, op); got != c.want {
			t.Errorf("isMember(%+v) = %v", c.m, got)
		}
	}
}

func TestSameCounts(t *testing.T) {
	t1 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	t2 := t1.Add(time.Minute)
	a := &model.MissedCallCounts{Total: 2, Queues: []*model.MissedCallCount{{QueueID: 1, Unhandled: 2, Oldest: &t1}}}
	b := &model.MissedCallCounts{Total: 2, Queues: []*model.MissedCallCount{{QueueID: 1, Unhandled: 2, Oldest: &t1}}}
	if !sameCounts(a, b) {
		t.Error("equal counts differ")
	}
	b.Queues[0].Oldest = &t2 // the oldest was handled and another came in
	if sameCounts(a, b) {
		t.Error("a new oldest is no change")
	}
}
