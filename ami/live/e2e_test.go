package live_test

import (
	"context"
	"encoding/json"
	"github.com/linkage/linkage/auth"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/linkage/linkage/ami"
	"github.com/linkage/linkage/ami/assemble"
	"github.com/linkage/linkage/ami/live"
	"github.com/linkage/linkage/ami/sim"
	"github.com/linkage/linkage/ami/sim/pbx"
	"github.com/linkage/linkage/graph"
	"github.com/linkage/linkage/internal/livetest"
)

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

func labDirectory() *live.StaticDirectory {
	d := live.NewStaticDirectory()
	d.SetQueue(1, "support", live.QueueRef{ID: 600, SLThreshold: 20 * time.Second})
	d.SetQueue(1, "sales", live.QueueRef{ID: 601})
	d.SetOperator(1, "PJSIP/1001", 11)
	d.SetOperator(1, "PJSIP/1002", 12)
	d.SetOperator(1, "PJSIP/1003", 13)
	return d
}

func guard(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// pipeline is the ingest path of one simulated server as the collector will run it:
// the simulator over TCP, ami.Conn (with its resync), the assembler, State.Apply.
type pipeline struct {
	Sim   *sim.Server
	Conn  *ami.Conn
	State *live.State
	Hub   *live.Hub
	wg    sync.WaitGroup
}

type pipeOpts struct {
	speed  float64
	script func(p *pbx.PBX)
	pbx    func() pbx.Config
	hub    *live.Hub
	state  live.Options
	seed   *live.Today
	// connectAfter delays the AMI login: what happened before is known only
	// through the resync (a restart).
	connectAfter time.Duration
}

func startPipeline(t testing.TB, ctx context.Context, o pipeOpts) *pipeline {
	t.Helper()
	if o.pbx == nil {
		o.pbx = pbx.LabConfig
	}
	so := sim.Options{Listen: "127.0.0.1:0", Username: "admin", Secret: "s3cret", TimestampEvents: true, Speed: o.speed,
		Model: func(start time.Time) sim.Model {
			p := pbx.New(o.pbx(), start)
			if o.script != nil {
				o.script(p)
			}
			return p
		}}
	s := sim.New(so, nil)
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	p := &pipeline{Sim: s, Hub: o.hub}
	if p.Hub == nil {
		p.Hub = live.NewHub(live.HubOptions{})
		t.Cleanup(p.Hub.Close)
	}
	o.state.Hub = p.Hub
	if o.state.Directory == nil {
		o.state.Directory = labDirectory()
	}
	p.State = live.NewState(o.state)
	if o.seed != nil {
		p.State.Seed(o.seed)
	}
	if o.connectAfter > 0 {
		select {
		case <-time.After(o.connectAfter):
		case <-ctx.Done():
		}
	}
	c, err := ami.Connect(ctx, ami.Config{ServerID: 1, Addr: s.Addr(), Username: "admin", Secret: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	p.Conn = c
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		a := assemble.New(labConfig())
		for ev := range c.Events() {
			p.State.Apply(1, &ev, a.Feed(&ev))
		}
	}()
	t.Cleanup(p.Stop)
	return p
}

// Stop closes the connection and waits for the worker; safe to call twice.
func (p *pipeline) Stop() {
	_ = p.Conn.Close()
	p.wg.Wait()
}

func serveGraphQL(t testing.TB, hub *live.Hub, scope live.ScopeFunc) *httptest.Server {
	h := graph.NewHandler(&graph.Resolver{Live: &graph.Live{Hub: hub, Scope: scope}}, graph.ServerOptions{})
	srv := httptest.NewServer(asSystem(h))
	t.Cleanup(srv.Close)
	return srv
}

// oneCall is the scripted scenario of the end-to-end tests: 1.5 s in, a customer calls
// DID 5551000 (IVR, then queue support = Linkage queue 600); both members ring;
// PJSIP/1002 answers after 2 s, talks 2 s and hangs up.
func oneCall(p *pbx.PBX) {
	p.Inbound(1500*time.Millisecond, pbx.Inbound{DID: "5551000", Caller: "0612345678", CallerName: "Customer",
		Answer: []pbx.Answer{{Member: "PJSIP/1002", After: 2 * time.Second}}, Talk: 2 * time.Second, AgentHangsUp: true})
}

const queueStatsQuery = `subscription($q: [ID!]) { queueStats(queueIds: $q) { snapshot queues { queueId name received answered abandoned serviceLevel waiting { number position } members { interface status operatorId } } } }`
const callEventsQuery = `subscription { callEvents { kind linkedid callerNumber callerName did queue queueId operatorId operatorNumber callId } }`

type queueMsg struct {
	Data struct {
		QueueStats struct {
			Snapshot bool
			Queues   []struct {
				QueueID            string
				Name               string
				Received, Answered int
				Abandoned          int
				ServiceLevel       *float64
				Waiting            []struct{ Number string }
				Members            []struct{ Interface, Status, OperatorID string }
			}
		}
	}
}

type eventMsg struct {
	Data struct {
		CallEvents struct {
			Kind, Linkedid, CallerNumber, CallerName, Did, Queue, QueueID, OperatorID, OperatorNumber string
			CallID                                                                                    *string
		}
	}
}

func TestSubscriptionsOverSimulator(t *testing.T) {
	livetest.CheckLeaks(t)
	ctx := guard(t, 60*time.Second)
	p := startPipeline(t, ctx, pipeOpts{speed: 2, script: oneCall})
	srv := serveGraphQL(t, p.Hub, nil)
	cl, err := livetest.Dial(ctx, srv.URL, map[string]any{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	qch, err := cl.Subscribe(ctx, queueStatsQuery, map[string]any{"q": []string{"600"}}, 64)
	if err != nil {
		t.Fatal(err)
	}
	ech, err := cl.Subscribe(ctx, callEventsQuery, nil, 64)
	if err != nil {
		t.Fatal(err)
	}
	var (
		kinds                         []string
		sawWaiting, sawRinging, first bool
		answered                      int
		lid                           string
	)
	for done := false; !done; {
		select {
		case raw, ok := <-qch:
			if !ok {
				t.Fatal("queueStats ended")
			}
			var m queueMsg
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatalf("%v: %s", err, raw)
			}
			if !first {
				first = true
				if !m.Data.QueueStats.Snapshot {
					t.Errorf("first message is not the snapshot: %s", raw)
				}
			}
			for _, q := range m.Data.QueueStats.Queues {
				if q.QueueID != "600" {
					t.Errorf("queue %s leaked through the queueIds filter", q.QueueID)
				}
				if len(q.Waiting) == 1 && q.Waiting[0].Number == "0612345678" {
					sawWaiting = true
				}
				for _, mb := range q.Members {
					if mb.Status == "RINGING" {
						sawRinging = true
					}
				}
				answered = q.Answered
			}
		case raw, ok := <-ech:
			if !ok {
				t.Fatal("callEvents ended")
			}
			var m eventMsg
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatalf("%v: %s", err, raw)
			}
			e := m.Data.CallEvents
			kinds = append(kinds, e.Kind)
			lid = e.Linkedid
			if e.CallerNumber != "0612345678" || e.Queue != "support" || e.QueueID != "600" || e.Did != "5551000" {
				t.Errorf("event %s", raw)
			}
			if e.Kind == "ANSWERED" && (e.OperatorID != "12" || e.OperatorNumber != "1002") {
				t.Errorf("answered by %s", raw)
			}
			if e.Kind == "ENDED" {
				done = true
			}
		case <-ctx.Done():
			t.Fatalf("timed out; events so far %v", kinds)
		}
	}
	if !sawWaiting || !sawRinging {
		t.Errorf("waiting seen %v, ringing seen %v", sawWaiting, sawRinging)
	}
	if !inOrder(kinds, "RINGING", "ANSWERED", "ENDED") {
		t.Errorf("events %v", kinds)
	}
	// The collector stores the call and publishes its id.
	p.State.CallStored(1, lid, 42, time.Now())
	for {
		raw := <-ech
		var m eventMsg
		_ = json.Unmarshal(raw, &m)
		if m.Data.CallEvents.Kind == "STORED" {
			if m.Data.CallEvents.CallID == nil || *m.Data.CallEvents.CallID != "42" || m.Data.CallEvents.CallerNumber != "0612345678" {
				t.Errorf("stored %s", raw)
			}
			break
		}
	}
	// The counters moved: the last queue update has the answer (it may come after ENDED).
	for answered != 1 {
		select {
		case raw := <-qch:
			var m queueMsg
			_ = json.Unmarshal(raw, &m)
			for _, q := range m.Data.QueueStats.Queues {
				answered = q.Answered
			}
		case <-ctx.Done():
			t.Fatal("answered never reached 1")
		}
	}
}

func inOrder(got []string, want ...string) bool {
	i := 0
	for _, k := range got {
		if i < len(want) && k == want[i] {
			i++
		}
	}
	return i == len(want)
}

// The npm graphql-ws client, run with Node, subscribes while the simulator plays one
// queue call: it must see the caller join queue 600, an operator ring, the answer,
// the end, and the counters move.
func TestGraphQLWSNodeClient(t *testing.T) {
	livetest.CheckLeaks(t)
	ctx := guard(t, 90*time.Second)
	hub := live.NewHub(live.HubOptions{})
	t.Cleanup(hub.Close)
	srv := serveGraphQL(t, hub, nil)
	nc := livetest.StartNodeClient(t, ctx, srv.URL, []livetest.NodeSub{
		{Name: "queues", Query: `subscription { queueStats(queueIds: ["600"]) { snapshot queues { queueId received answered waiting { number } members { interface status } } } }`},
		{Name: "events", Query: `subscription { callEvents { kind linkedid callerNumber queueId operatorId operatorNumber did } }`},
		{Name: "calls", Query: `subscription { activeCalls { snapshot calls { linkedid state queueId } ended { linkedid } } }`},
	}, map[string]any{})
	var snapshots int
	for snapshots < 2 { // connected and the (empty) snapshots arrived: start the PBX
		select {
		case m, ok := <-nc.Msgs:
			if !ok {
				t.Fatal("node client exited")
			}
			if m.Error != "" {
				t.Fatalf("%s: %s", m.Sub, m.Error)
			}
			if m.Sub == "queues" || m.Sub == "calls" {
				snapshots++
			}
		case <-ctx.Done():
			t.Fatal("node client never got its snapshots")
		}
	}
	startPipeline(t, ctx, pipeOpts{speed: 2, script: oneCall, hub: hub})

	// Steps per subscription: the order between two subscriptions is not defined.
	var steps, board []string
	step := func(s string) {
		if len(steps) == 0 || steps[len(steps)-1] != s {
			steps = append(steps, s)
		}
	}
	boardStep := func(s string) {
		if len(board) == 0 || board[len(board)-1] != s {
			board = append(board, s)
		}
	}
	var received, answered int
	for answered < 1 || !contains(steps, "ENDED") {
		var m livetest.NodeMsg
		select {
		case mm, ok := <-nc.Msgs:
			if !ok {
				t.Fatalf("node client exited; steps %v", steps)
			}
			m = mm
		case <-ctx.Done():
			t.Fatalf("timed out; steps %v", steps)
		}
		if m.Error != "" {
			t.Fatalf("%s: %s", m.Sub, m.Error)
		}
		switch m.Sub {
		case "queues":
			var p struct {
				Data struct {
					QueueStats struct {
						Queues []struct {
							Received, Answered int
							Waiting            []struct{ Number string }
							Members            []struct{ Interface, Status string }
						}
					}
				}
			}
			_ = json.Unmarshal(m.Payload, &p)
			for _, q := range p.Data.QueueStats.Queues {
				if len(q.Waiting) > 0 && q.Waiting[0].Number == "0612345678" {
					boardStep("caller waiting in 600")
				}
				for _, mb := range q.Members {
					if mb.Status == "RINGING" {
						boardStep("member ringing")
					}
				}
				received, answered = q.Received, q.Answered
				if q.Answered == 1 {
					boardStep("answered 1")
				}
			}
		case "events":
			var p struct {
				Data struct {
					CallEvents struct{ Kind, OperatorNumber, QueueID string }
				}
			}
			_ = json.Unmarshal(m.Payload, &p)
			e := p.Data.CallEvents
			if e.QueueID != "600" {
				t.Errorf("event outside queue 600: %s", m.Payload)
			}
			if e.Kind == "ANSWERED" && e.OperatorNumber != "1002" {
				t.Errorf("answered by %s", m.Payload)
			}
			step(e.Kind)
		}
	}
	t.Logf("seen by graphql-ws: board %v, call events %v", board, steps)
	if !inOrder(board, "caller waiting in 600", "member ringing", "answered 1") {
		t.Errorf("queue board steps %v", board)
	}
	if !inOrder(steps, "RINGING", "ANSWERED", "ENDED") {
		t.Errorf("call events %v", steps)
	}
	if received != 1 || answered != 1 {
		t.Errorf("counters: received %d answered %d", received, answered)
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// asSystem runs every request as the system viewer: these tests exercise the live
// resolvers and their ScopeFunc, not sign-in (internal/app tests that path).
func asSystem(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(auth.SystemContext(r.Context())))
	})
}
