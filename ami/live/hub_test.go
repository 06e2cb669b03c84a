package live

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/linkage/linkage/internal/livetest"
)

func guard(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func qChange(server int, name string, received int) Change {
	return Change{Topic: TopicQueue, Key: queueKey(server, name),
		Queue: &QueueStats{Server: server, Name: name, QueueID: 600, Counters: Counters{Received: received}}}
}

func recv[T any](t *testing.T, ctx context.Context, ch <-chan T) T {
	t.Helper()
	select {
	case v, ok := <-ch:
		if !ok {
			t.Fatal("channel closed")
		}
		return v
	case <-ctx.Done():
		t.Fatal("timed out waiting for an update")
	}
	var zero T
	return zero
}

func TestHubSnapshotThenChanges(t *testing.T) {
	livetest.CheckLeaks(t)
	ctx := guard(t, 5*time.Second)
	h := NewHub(HubOptions{})
	defer h.Close()
	h.Publish(qChange(1, "support", 1))
	wctx, stop := context.WithCancel(ctx)
	ch := Watch(wctx, h, TopicQueue, nil, ToQueues)
	u := recv(t, ctx, ch)
	if !u.Snapshot || len(u.Queues) != 1 || u.Queues[0].Received() != 1 {
		t.Fatalf("snapshot %+v", u)
	}
	h.Publish(qChange(1, "support", 2))
	u = recv(t, ctx, ch)
	if u.Snapshot || len(u.Queues) != 1 || u.Queues[0].Received() != 2 {
		t.Fatalf("change %+v", u)
	}
	stop()
	for range ch { // the producer closes the channel when the context ends
	}
}

func TestHubSlowSubscriberCoalescesAndDoesNotBlock(t *testing.T) {
	livetest.CheckLeaks(t)
	ctx := guard(t, 10*time.Second)
	reg := prometheus.NewRegistry()
	h := NewHub(HubOptions{Registerer: reg, MaxEvents: 10})
	defer h.Close()
	slow := Watch(ctx, h, TopicQueue, nil, ToQueues)
	events := Watch(ctx, h, TopicEvent, nil, ToEvents)
	<-slow // the (empty) snapshot; nobody reads after this
	start := time.Now()
	for i := range 100000 {
		h.Publish(qChange(1, "support", i), Change{Topic: TopicEvent, Event: &CallEvent{Kind: EventRinging, Linkedid: strconv.Itoa(i)}})
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("publishing to a stalled subscriber took %v", el)
	}
	h.Sync() // the fan-out is asynchronous: count after it has seen everything
	if c := testutil.ToFloat64(h.coalesced); c < 99000 {
		t.Errorf("coalesced %v, want ~100000", c)
	}
	if d := testutil.ToFloat64(h.dropped); d < 99000 {
		t.Errorf("dropped %v, want ~100000", d)
	}
	// The slow reader gets the latest value, not a backlog.
	var last *QueuesUpdate
	for last == nil || last.Queues[0].Received() != 99999 {
		last = recv(t, ctx, slow)
	}
	if n, err := testutil.GatherAndCount(reg, "linkage_live_changes_coalesced_total", "linkage_live_events_dropped_total"); err != nil || n != 2 {
		t.Errorf("metrics: %d, %v", n, err)
	}
	_ = events
}

func TestHubCloseTwiceAndPublishAfterClose(t *testing.T) {
	livetest.CheckLeaks(t)
	ctx := guard(t, 5*time.Second)
	h := NewHub(HubOptions{})
	ch := Watch(ctx, h, TopicQueue, nil, ToQueues)
	<-ch
	done := make(chan struct{})
	go func() { h.Close(); h.Close(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("Close hung with a subscriber attached")
	}
	if _, ok := <-ch; ok {
		t.Fatal("channel still open after Close")
	}
	h.Publish(qChange(1, "q", 1)) // no panic, no effect
	if s, _ := h.Subscribe(TopicQueue, nil); s != nil {
		t.Fatal("Subscribe after Close returned a subscription")
	}
	if _, ok := <-Watch(ctx, h, TopicQueue, nil, ToQueues); ok {
		t.Fatal("Watch after Close yielded")
	}
}

func TestHubUnsubscribeDuringPublish(t *testing.T) {
	livetest.CheckLeaks(t)
	ctx := guard(t, 20*time.Second)
	h := NewHub(HubOptions{})
	defer h.Close()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			h.Publish(qChange(1, "q"+strconv.Itoa(i%5), i))
		}
	}()
	for range 200 {
		wctx, cancel := context.WithCancel(ctx)
		ch := Watch(wctx, h, TopicQueue, nil, ToQueues)
		<-ch
		<-ch
		cancel()
		for range ch {
		}
		s, _ := h.Subscribe(TopicQueue, nil)
		h.Unsubscribe(s)
		h.Unsubscribe(s)
	}
	close(stop)
	wg.Wait()
	if n := len(h.subs[TopicQueue]); n != 0 {
		t.Fatalf("%d subscribers left", n)
	}
}

func TestScopeFilters(t *testing.T) {
	h := NewHub(HubOptions{})
	defer h.Close()
	h.Publish(
		Change{Topic: TopicQueue, Key: "1/a", Queue: &QueueStats{Server: 1, Name: "a", QueueID: 600}},
		Change{Topic: TopicQueue, Key: "1/b", Queue: &QueueStats{Server: 1, Name: "b", QueueID: 601}},
		Change{Topic: TopicQueue, Key: "1/x", Queue: &QueueStats{Server: 1, Name: "x"}},
		Change{Topic: TopicOperator, Key: "1/PJSIP/1001", Operator: &OperatorState{Server: 1, OperatorID: 11}},
		Change{Topic: TopicOperator, Key: "1/PJSIP/1002", Operator: &OperatorState{Server: 1, OperatorID: 12}},
		Change{Topic: TopicCall, Key: "1/c1", Call: &ActiveCall{Server: 1, Linkedid: "c1", QueueID: 600}},
		Change{Topic: TopicCall, Key: "1/c2", Call: &ActiveCall{Server: 1, Linkedid: "c2", QueueID: 601, OperatorID: 11}},
		Change{Topic: TopicCall, Key: "1/c3", Call: &ActiveCall{Server: 1, Linkedid: "c3"}},
	)
	only := func(ids ...int) func(int) bool {
		return func(id int) bool {
			for _, x := range ids {
				if x == id {
					return true
				}
			}
			return false
		}
	}
	keys := func(chs []Change) (out []string) {
		for _, c := range chs {
			out = append(out, c.Key)
		}
		return out
	}
	for _, tc := range []struct {
		name               string
		scope              Scope
		queues, ops, calls string
		queueArg           []int
	}{
		{"admin", Scope{}, "[1/a 1/b 1/x]", "[1/PJSIP/1001 1/PJSIP/1002]", "[1/c1 1/c2 1/c3]", nil},
		{"queue 600 only", Scope{Queue: only(600), Operator: only()}, "[1/a]", "[]", "[1/c1]", nil},
		{"operator 11 only", Scope{Queue: only(), Operator: only(11)}, "[]", "[1/PJSIP/1001]", "[1/c2]", nil},
		{"queue 601 asked, 600 allowed", Scope{Queue: only(600), Operator: only()}, "[]", "[]", "[1/c1]", []int{601}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := keys(h.Snapshot(TopicQueue, QueueFilter(tc.scope, tc.queueArg)))
			o := keys(h.Snapshot(TopicOperator, OperatorBoardFilter(tc.scope, nil)))
			c := keys(h.Snapshot(TopicCall, CallsFilter(tc.scope, nil)))
			if got := fmtList(q); got != tc.queues {
				t.Errorf("queues %s, want %s", got, tc.queues)
			}
			if got := fmtList(o); got != tc.ops {
				t.Errorf("operators %s, want %s", got, tc.ops)
			}
			if got := fmtList(c); got != tc.calls {
				t.Errorf("calls %s, want %s", got, tc.calls)
			}
		})
	}
	// Changes are filtered as well as snapshots.
	s, _ := h.Subscribe(TopicEvent, CallsFilter(Scope{Queue: only(600), Operator: only()}, nil))
	defer h.Unsubscribe(s)
	h.Publish(Change{Topic: TopicEvent, Event: &CallEvent{Linkedid: "in", QueueID: 600}},
		Change{Topic: TopicEvent, Event: &CallEvent{Linkedid: "out", QueueID: 601}})
	h.Sync()
	if b := s.Take(); len(b) != 1 || b[0].Event.Linkedid != "in" {
		t.Errorf("events through scope: %+v", b)
	}
}

func fmtList(s []string) string {
	out := "["
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out + "]"
}

func TestUntilNextTick(t *testing.T) {
	iv := 100 * time.Millisecond
	base := time.Unix(1700000000, 0) // a multiple of iv
	for _, c := range []struct{ at, want time.Duration }{{0, iv}, {time.Millisecond, 99 * time.Millisecond}, {99 * time.Millisecond, time.Millisecond}, {250 * time.Millisecond, 50 * time.Millisecond}} {
		if got := untilNextTick(base.Add(c.at), iv); got != c.want {
			t.Errorf("untilNextTick(+%v) = %v, want %v", c.at, got, c.want)
		}
	}
}

// Board subscriptions send at most once per tick, and two subscribers of one board
// end on the same versions (the same KeyBatch key), which is what lets graph share
// one rendered message between them.
func TestBoardTicksAndKeys(t *testing.T) {
	livetest.CheckLeaks(t)
	ctx := guard(t, 10*time.Second)
	iv := 50 * time.Millisecond
	h := NewHub(HubOptions{BoardInterval: iv})
	defer h.Close()
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	a := Watch(wctx, h, TopicQueue, nil, KeyBatch(ToQueues))
	b := Watch(wctx, h, TopicQueue, nil, KeyBatch(ToQueues))
	if ka, kb := recv(t, ctx, a).Key, recv(t, ctx, b).Key; ka != kb || ka != "s" {
		t.Fatalf("snapshot keys %q %q", ka, kb)
	}
	type tally struct {
		n    int
		last Keyed[*QueuesUpdate]
	}
	read := func(ch <-chan Keyed[*QueuesUpdate], out chan<- tally) {
		var tl tally
		for m := range ch { // closes when wctx ends
			tl.n, tl.last = tl.n+1, m
		}
		out <- tl
	}
	ta, tb := make(chan tally, 1), make(chan tally, 1)
	go read(a, ta)
	go read(b, tb)
	start := time.Now()
	for i := range 100 {
		h.Publish(qChange(1, "support", i))
		time.Sleep(5 * time.Millisecond)
	}
	h.Sync()
	time.Sleep(3 * iv) // the last tick passes for both
	el := time.Since(start)
	stop()
	ra, rb := <-ta, <-tb
	na, nb, la, lb := ra.n, rb.n, ra.last, rb.last
	if maxN := int(el/iv) + 1; na > maxN || nb > maxN || na < 2 || nb < 2 {
		t.Errorf("%d and %d board messages in %v, want 2..%d (one per %v tick)", na, nb, el, maxN, iv)
	}
	if la.Key != lb.Key || la.Value.Queues[0].Received() != 99 || lb.Value.Queues[0].Received() != 99 {
		t.Errorf("last messages differ: %q (received %d) vs %q (received %d)", la.Key, la.Value.Queues[0].Received(), lb.Key, lb.Value.Queues[0].Received())
	}
}
