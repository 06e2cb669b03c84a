package live_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/linkage/linkage/ami/live"
	"github.com/linkage/linkage/graph"
	"github.com/linkage/linkage/internal/livetest"
)

type scopeKey struct{}

// testScope reads the queue ids a viewer may see from the context (the init
// payload's "queues" over WebSocket, the X-Queues header over HTTP), standing in for
// access control.
func testScope(ctx context.Context) (func(int) bool, func(int) bool) {
	ids, _ := ctx.Value(scopeKey{}).([]int)
	allow := func(id int) bool {
		for _, x := range ids {
			if x == id {
				return true
			}
		}
		return false
	}
	return allow, func(int) bool { return false }
}

func scopedServer(t *testing.T, hub *live.Hub) *httptest.Server {
	h := graph.NewHandler(&graph.Resolver{Live: &graph.Live{Hub: hub, Scope: testScope}}, graph.ServerOptions{
		WebsocketInit: func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			var ids []int
			if qs, ok := p["queues"].([]any); ok {
				for _, q := range qs {
					if f, ok := q.(float64); ok {
						ids = append(ids, int(f))
					}
				}
			}
			return context.WithValue(ctx, scopeKey{}, ids), nil, nil
		}})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Queues") == "600" {
			r = r.WithContext(context.WithValue(r.Context(), scopeKey{}, []int{600}))
		}
		asSystem(h).ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// The scope taken from the request context filters snapshots, changes and queries.
func TestGraphQLScope(t *testing.T) {
	livetest.CheckLeaks(t)
	ctx := guard(t, 30*time.Second)
	hub := live.NewHub(live.HubOptions{BoardInterval: -1})
	defer hub.Close()
	hub.Publish(
		live.Change{Topic: live.TopicQueue, Key: "1/support", Queue: &live.QueueStats{Server: 1, Name: "support", QueueID: 600}},
		live.Change{Topic: live.TopicQueue, Key: "1/sales", Queue: &live.QueueStats{Server: 1, Name: "sales", QueueID: 601}},
		live.Change{Topic: live.TopicCall, Key: "1/a", Call: &live.ActiveCall{Server: 1, Linkedid: "a", QueueID: 600, State: live.CallQueued}},
		live.Change{Topic: live.TopicCall, Key: "1/b", Call: &live.ActiveCall{Server: 1, Linkedid: "b", QueueID: 601, State: live.CallQueued}},
	)
	srv := scopedServer(t, hub)

	cl, err := livetest.Dial(ctx, srv.URL, map[string]any{"queues": []int{601}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	qs, _ := cl.Subscribe(ctx, `subscription { queueStats { snapshot queues { queueId } } }`, nil, 16)
	evs, _ := cl.Subscribe(ctx, `subscription { callEvents { linkedid queueId } }`, nil, 16)
	var snap struct {
		Data struct {
			QueueStats struct{ Queues []struct{ QueueID string } }
		}
	}
	_ = json.Unmarshal(recvT(t, ctx, qs), &snap)
	if q := snap.Data.QueueStats.Queues; len(q) != 1 || q[0].QueueID != "601" {
		t.Fatalf("snapshot for a viewer of 601: %+v", q)
	}
	time.Sleep(100 * time.Millisecond) // the callEvents subscription registers
	hub.Publish(
		live.Change{Topic: live.TopicEvent, Event: &live.CallEvent{Kind: live.EventRinging, Server: 1, Linkedid: "a", QueueID: 600}},
		live.Change{Topic: live.TopicEvent, Event: &live.CallEvent{Kind: live.EventRinging, Server: 1, Linkedid: "b", QueueID: 601}},
		live.Change{Topic: live.TopicQueue, Key: "1/support", Queue: &live.QueueStats{Server: 1, Name: "support", QueueID: 600, Counters: live.Counters{Received: 1}}},
		live.Change{Topic: live.TopicQueue, Key: "1/sales", Queue: &live.QueueStats{Server: 1, Name: "sales", QueueID: 601, Counters: live.Counters{Received: 1}}},
	)
	var ev struct {
		Data struct{ CallEvents struct{ Linkedid string } }
	}
	_ = json.Unmarshal(recvT(t, ctx, evs), &ev)
	if ev.Data.CallEvents.Linkedid != "b" {
		t.Errorf("first event for a viewer of 601: %+v", ev)
	}
	_ = json.Unmarshal(recvT(t, ctx, qs), &snap)
	if q := snap.Data.QueueStats.Queues; len(q) != 1 || q[0].QueueID != "601" {
		t.Errorf("change for a viewer of 601: %+v", q)
	}
	select {
	case raw := <-evs:
		t.Errorf("an event outside the scope arrived: %s", raw)
	case <-time.After(200 * time.Millisecond):
	}

	// Queries over HTTP, scope from the request context.
	post := func(hdr string) string {
		body, _ := json.Marshal(map[string]any{"query": `{ queueStatsNow { queueId } activeCallsNow { linkedid } }`})
		req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Queues", hdr)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return b.String()
	}
	if got, want := post("600"), `{"data":{"queueStatsNow":[{"queueId":"600"}],"activeCallsNow":[{"linkedid":"a"}]}}`; got != want {
		t.Errorf("viewer of 600: %s, want %s", got, want)
	}
	if got, want := post(""), `{"data":{"queueStatsNow":[],"activeCallsNow":[]}}`; got != want {
		t.Errorf("viewer of nothing: %s, want %s", got, want)
	}
}

// A browser page from another origin cannot open a subscription.
func TestWebSocketOriginCheck(t *testing.T) {
	livetest.CheckLeaks(t)
	ctx := guard(t, 10*time.Second)
	hub := live.NewHub(live.HubOptions{})
	defer hub.Close()
	srv := serveGraphQL(t, hub, nil)
	if cl, err := livetest.Dial(ctx, srv.URL, map[string]any{}, http.Header{"Origin": {"https://evil.example"}}); err == nil {
		cl.Close()
		t.Fatal("a foreign origin was accepted")
	}
	cl, err := livetest.Dial(ctx, srv.URL, map[string]any{}, http.Header{"Origin": {srv.URL}})
	if err != nil {
		t.Fatalf("same origin refused: %v", err)
	}
	cl.Close()
}
