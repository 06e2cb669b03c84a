package live_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"github.com/linkage/linkage/ami/live"
	"github.com/linkage/linkage/internal/livetest"
	"github.com/linkage/linkage/internal/testdb"
)

func openDB(t testing.TB) (*sql.DB, string) {
	url := testdb.URL(t)
	db, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, url
}

func startBridge(t testing.TB, ctx context.Context, db *sql.DB, url string, h *live.Hub) *live.PGBridge {
	t.Helper()
	b := live.NewPGBridge(db, url, h, live.BridgeOptions{})
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Stop() })
	return b
}

func waitFor(t testing.TB, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Two hubs on one database: the collector's hub (A) and an API process's hub (B).
func TestPGBridgeTwoHubs(t *testing.T) {
	db, url := openDB(t) // first: the cluster and the pool outlive the leak check
	livetest.CheckLeaks(t)
	ctx := guard(t, 60*time.Second)
	a, b := live.NewHub(live.HubOptions{}), live.NewHub(live.HubOptions{})
	defer a.Close()
	defer b.Close()
	ba := startBridge(t, ctx, db, url, a)

	// State that exists before B starts reaches B through hello/resend.
	big := &live.QueueStats{Server: 1, Name: "support", QueueID: 600, Counters: live.Counters{Received: 7}}
	for i := range 200 { // far beyond the 8000-byte NOTIFY limit: goes through the table
		big.Members = append(big.Members, live.Member{Interface: fmt.Sprintf("PJSIP/%d", 1000+i), Name: "Agent with a long display name", Status: live.StatusFree})
	}
	a.Publish(live.Change{Topic: live.TopicQueue, Key: "1/support", Queue: big},
		live.Change{Topic: live.TopicCall, Key: "1/c1", Call: &live.ActiveCall{Server: 1, Linkedid: "c1", QueueID: 600, State: live.CallQueued}})
	bb := startBridge(t, ctx, db, url, b)
	waitFor(t, ctx, "B's snapshot", func() bool {
		q := b.Snapshot(live.TopicQueue, nil)
		return len(q) == 1 && len(q[0].Queue.Members) == 200 && len(b.Snapshot(live.TopicCall, nil)) == 1
	})

	var stored int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM linkage_live_payloads`).Scan(&stored); err != nil || stored == 0 {
		t.Errorf("the oversized queue did not go through the payload table: %d, %v", stored, err)
	}

	// Changes flow to a subscriber on B as they are published on A.
	evs := live.Watch(ctx, b, live.TopicEvent, nil, live.ToEvents)
	calls := live.Watch(ctx, b, live.TopicCall, nil, live.ToCalls)
	if u := recvT(t, ctx, calls); !u.Snapshot || len(u.Calls) != 1 {
		t.Fatalf("calls snapshot %+v", u)
	}
	for i := range 50 {
		a.Publish(live.Change{Topic: live.TopicEvent, Event: &live.CallEvent{Kind: live.EventRinging, Server: 1, Linkedid: fmt.Sprint(i)}})
	}
	for i := range 50 {
		if e := recvT(t, ctx, evs); e.Linkedid != fmt.Sprint(i) {
			t.Fatalf("event %d: %+v (order lost)", i, e)
		}
	}
	// A new State taking server 1 over resets it everywhere: B's subscriber sees c1 end.
	a.Publish(live.Change{Topic: live.TopicReset, Key: "1"})
	for {
		u := recvT(t, ctx, calls)
		if len(u.Ended) == 1 && u.Ended[0].Linkedid == "c1" {
			break
		}
	}
	// Nothing echoes back: A never receives its own changes as remote ones.
	if q := a.Snapshot(live.TopicQueue, nil); len(q) != 0 {
		t.Errorf("A's queue came back after the reset: %+v", q)
	}
	if err := bb.Stop(); err != nil {
		t.Error(err)
	}
	_ = bb.Stop()
	_ = ba.Stop()
}

func recvT[T any](t testing.TB, ctx context.Context, ch <-chan T) T {
	t.Helper()
	select {
	case v, ok := <-ch:
		if !ok {
			t.Fatal("channel closed")
		}
		return v
	case <-ctx.Done():
		t.Fatal("timed out")
	}
	var zero T
	return zero
}

// A GraphQL subscriber on a process without the collector sees the calls ingested by
// another process (simulator -> State -> hub A -> NOTIFY -> hub B -> WebSocket).
func TestPGBridgeSubscriberOnOtherProcess(t *testing.T) {
	db, url := openDB(t) // first: the cluster and the pool outlive the leak check
	livetest.CheckLeaks(t)
	ctx := guard(t, 60*time.Second)
	a, b := live.NewHub(live.HubOptions{}), live.NewHub(live.HubOptions{})
	defer a.Close()
	defer b.Close()
	startBridge(t, ctx, db, url, a)
	startBridge(t, ctx, db, url, b)
	srv := serveGraphQL(t, b, nil)
	cl, err := livetest.Dial(ctx, srv.URL, map[string]any{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ech, err := cl.Subscribe(ctx, callEventsQuery, nil, 64)
	if err != nil {
		t.Fatal(err)
	}
	startPipeline(t, ctx, pipeOpts{speed: 2, script: oneCall, hub: a})
	var kinds []string
	for !contains(kinds, "ENDED") {
		raw := recvT(t, ctx, ech)
		var m eventMsg
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, m.Data.CallEvents.Kind)
	}
	if !inOrder(kinds, "RINGING", "ANSWERED", "ENDED") {
		t.Errorf("events on the other process: %v", kinds)
	}
	waitFor(t, ctx, "queue 600 on B with the answer", func() bool {
		for _, c := range b.Snapshot(live.TopicQueue, nil) {
			if c.Queue.QueueID == 600 && c.Queue.Answered() == 1 {
				return true
			}
		}
		return false
	})
}
