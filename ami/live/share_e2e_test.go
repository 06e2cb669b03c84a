package live_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/linkage/linkage/ami/live"
	"github.com/linkage/linkage/graph"
	"github.com/linkage/linkage/internal/livetest"
)

// sharedCounts reads linkage_graphql_subscription_messages_total by render.
func sharedCounts(t *testing.T, reg *prometheus.Registry) (shared, own float64) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "linkage_graphql_subscription_messages_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				switch l.GetValue() {
				case "shared":
					shared = m.GetCounter().GetValue()
				case "own":
					own = m.GetCounter().GetValue()
				}
			}
		}
	}
	return shared, own
}

// Over real WebSocket connections: viewers with the same scope and operation get
// the same bytes rendered once; a viewer with another scope renders its own and
// sees what its scope allows, and nothing leaks from one scope to the other.
func TestSharedSubscriptionsByScope(t *testing.T) {
	livetest.CheckLeaks(t)
	ctx := guard(t, 30*time.Second)
	hub := live.NewHub(live.HubOptions{BoardInterval: -1})
	defer hub.Close()
	hub.Publish(
		live.Change{Topic: live.TopicQueue, Key: "1/support", Queue: &live.QueueStats{Server: 1, Name: "support", QueueID: 600}},
		live.Change{Topic: live.TopicQueue, Key: "1/sales", Queue: &live.QueueStats{Server: 1, Name: "sales", QueueID: 601}},
	)
	reg := prometheus.NewRegistry()
	h := graph.NewHandler(&graph.Resolver{Live: &graph.Live{Hub: hub, Scope: testScope,
		ScopeKey: func(ctx context.Context) (string, bool) {
			ids, _ := ctx.Value(scopeKey{}).([]int)
			return fmt.Sprint(slices.Sorted(slices.Values(ids))), true
		}}}, graph.ServerOptions{Registerer: reg,
		WebsocketInit: func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			var ids []int
			for _, q := range p["queues"].([]any) {
				ids = append(ids, int(q.(float64)))
			}
			return context.WithValue(ctx, scopeKey{}, ids), nil, nil
		}})
	srv := httptest.NewServer(asSystem(h))
	defer srv.Close()

	const boardQ = `subscription { queueStats { snapshot queues { queueId received } } }`
	type viewerSubs struct{ board, events <-chan json.RawMessage }
	open := func(queues ...int) viewerSubs {
		cl, err := livetest.Dial(ctx, srv.URL, map[string]any{"queues": queues}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cl.Close() })
		b, err := cl.Subscribe(ctx, boardQ, nil, 16)
		if err != nil {
			t.Fatal(err)
		}
		e, err := cl.Subscribe(ctx, callEventsQuery, nil, 16)
		if err != nil {
			t.Fatal(err)
		}
		return viewerSubs{b, e}
	}
	a1, a2, b := open(600), open(600), open(600, 601)

	// Snapshots: the same for a1 and a2, both queues for b.
	sa1, sa2, sb := string(recvT(t, ctx, a1.board)), string(recvT(t, ctx, a2.board)), string(recvT(t, ctx, b.board))
	if sa1 != sa2 || strings.Contains(sa1, `"601"`) || !strings.Contains(sa1, `"600"`) {
		t.Errorf("snapshots of the 600 viewers: %s / %s", sa1, sa2)
	}
	if sb == sa1 || !strings.Contains(sb, `"601"`) || !strings.Contains(sb, `"600"`) {
		t.Errorf("snapshot of the 600+601 viewer: %s", sb)
	}
	time.Sleep(100 * time.Millisecond) // the callEvents subscriptions register
	shared0, own0 := sharedCounts(t, reg)

	// One event in 600: every viewer sees it; the 600 group renders it once, the
	// 600+601 viewer (another group) renders its own.
	hub.Publish(live.Change{Topic: live.TopicEvent, Event: &live.CallEvent{Kind: live.EventRinging, Server: 1, Linkedid: "x600", QueueID: 600}})
	e1, e2, e3 := string(recvT(t, ctx, a1.events)), string(recvT(t, ctx, a2.events)), string(recvT(t, ctx, b.events))
	if e1 != e2 || e2 != e3 || !strings.Contains(e1, "x600") {
		t.Errorf("event 600: %s / %s / %s", e1, e2, e3)
	}
	shared, own := sharedCounts(t, reg)
	if shared-shared0 != 1 || own-own0 != 2 {
		t.Errorf("event 600: %v shared and %v rendered, want 1 shared (a2 or a1) and 2 rendered (the 600 group, the 600+601 viewer)", shared-shared0, own-own0)
	}

	// An event and a board change in 601: only b.
	hub.Publish(live.Change{Topic: live.TopicEvent, Event: &live.CallEvent{Kind: live.EventRinging, Server: 1, Linkedid: "x601", QueueID: 601}})
	hub.Publish(live.Change{Topic: live.TopicQueue, Key: "1/sales", Queue: &live.QueueStats{Server: 1, Name: "sales", QueueID: 601, Counters: live.Counters{Received: 7}}})
	if e := string(recvT(t, ctx, b.events)); !strings.Contains(e, "x601") {
		t.Errorf("event 601 for b: %s", e)
	}
	if u := string(recvT(t, ctx, b.board)); !strings.Contains(u, `"received":7`) {
		t.Errorf("board change 601 for b: %s", u)
	}
	// A board change in 600 reaches everyone; a 601 item never reaches the 600 group.
	hub.Publish(live.Change{Topic: live.TopicQueue, Key: "1/support", Queue: &live.QueueStats{Server: 1, Name: "support", QueueID: 600, Counters: live.Counters{Received: 3}}})
	u1, u2 := string(recvT(t, ctx, a1.board)), string(recvT(t, ctx, a2.board))
	if u1 != u2 || !strings.Contains(u1, `"received":3`) || strings.Contains(u1, "601") {
		t.Errorf("board change 600: %s / %s", u1, u2)
	}
	if u := string(recvT(t, ctx, b.board)); !strings.Contains(u, `"received":3`) {
		t.Errorf("board change 600 for b: %s", u)
	}
	for _, ch := range []<-chan json.RawMessage{a1.events, a2.events, a1.board, a2.board} {
		select {
		case raw := <-ch:
			t.Errorf("something outside scope 600 arrived: %s", raw)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// A subscriber that stops reading (its socket fills and the server's writes to it
// block) never holds up the others of its sharing group: a message is claimed only
// while it is rendered, never while it is written.
func TestSharedGroupStalledSubscriber(t *testing.T) {
	livetest.CheckLeaks(t)
	ctx := guard(t, 60*time.Second)
	hub := live.NewHub(live.HubOptions{MaxEvents: 1 << 20})
	defer hub.Close()
	reg := prometheus.NewRegistry()
	h := graph.NewHandler(&graph.Resolver{Live: &graph.Live{Hub: hub}}, graph.ServerOptions{Registerer: reg})
	srv := httptest.NewServer(asSystem(h))
	defer srv.Close()
	dial := func() <-chan json.RawMessage {
		// Its own context: the stalled client's reader is blocked handing a message
		// over and lets go only when the context ends (before Close).
		cctx, cancel := context.WithCancel(ctx)
		cl, err := livetest.Dial(cctx, srv.URL, map[string]any{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cl.Close() })
		t.Cleanup(cancel)
		ch, err := cl.Subscribe(cctx, `subscription { callEvents { linkedid callerName } }`, nil, 1)
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	_ = dial() // stalled: nobody reads it
	reader := dial()
	time.Sleep(200 * time.Millisecond) // both subscriptions register
	// Large events fill the stalled connection's socket buffers quickly.
	name := strings.Repeat("x", 4000)
	const n = 5000 // ≈ 20 MB for the stalled connection, more than loopback buffers hold
	start := time.Now()
	// Slowly enough that the reader keeps up: the two take turns rendering, so when
	// the stalled one's writes block it has just rendered a message the reader
	// still needs (ahead of it by less than a group's cache).
	go func() {
		for i := range n {
			hub.Publish(live.Change{Topic: live.TopicEvent, Event: &live.CallEvent{Kind: live.EventRinging, Linkedid: fmt.Sprint("L", i), CallerName: name}})
			if i%10 == 9 {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	last := fmt.Sprintf(`"L%d"`, n-1)
	for got := 0; ; got++ {
		select {
		case raw := <-reader:
			if strings.Contains(string(raw), last) {
				shared, own := sharedCounts(t, reg)
				t.Logf("%d messages to the reader in %v; %v rendered, %v shared", got+1, time.Since(start).Round(time.Millisecond), own, shared)
				if shared == 0 {
					t.Error("the two subscribers never shared a message")
				}
				return
			}
		case <-ctx.Done():
			t.Fatalf("the reading subscriber got %d of %d events: held up by the stalled one", got, n)
		}
	}
}
