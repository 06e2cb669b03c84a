package app

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/linkage/linkage/ami/sim"
	"github.com/linkage/linkage/ami/sim/pbx"
	"github.com/linkage/linkage/auth"
	"github.com/linkage/linkage/ent/operatorstatuschange"
	"github.com/linkage/linkage/ent/user"
	"github.com/linkage/linkage/internal/livetest"
)

// wpLab is an app ingesting the lab simulator (pbx.LabConfig) over TCP, with its
// queues and operators registered up front so users can be scoped and linked to
// them before the first event.
type wpLab struct {
	a      *App
	sim    *sim.Server
	server int
	queue  map[string]int // by name
	op     map[string]int // by extension
}

func startWorkplaceLab(t *testing.T, speed float64, script func(p *pbx.PBX)) *wpLab {
	t.Helper()
	a, _ := startApp(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := pbx.LabConfig()
	s := sim.New(sim.Options{Listen: "127.0.0.1:0", Username: "linkage", Secret: "sim-secret", TimestampEvents: true, Speed: speed,
		Model: func(st time.Time) sim.Model {
			p := pbx.New(cfg, st)
			if script != nil {
				script(p)
			}
			return p
		}, Start: time.Now().UTC()}, slog.New(slog.DiscardHandler))
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	sc := auth.SystemContext(ctx)
	l := &wpLab{a: a, sim: s, queue: map[string]int{}, op: map[string]int{}}
	srv, err := a.Client.Server.Create().SetName("lab").SetAmiAddress(s.Addr()).SetAmiUsername("linkage").SetAmiSecret("sim-secret").
		SetTrunkPrefixes([]string{"PJSIP/trunk"}).SetTrunkContexts([]string{"from-trunk"}).Save(sc)
	if err != nil {
		t.Fatal(err)
	}
	l.server = srv.ID
	// "ghost" exists in Linkage but not in Asterisk.
	for _, q := range []string{"support", "sales", "support2", "emptyq", "closedq", "ghost"} {
		l.queue[q] = a.Client.Queue.Create().SetServerID(srv.ID).SetNumber(q).SaveX(sc).ID
	}
	for _, o := range []struct{ num, name string }{{"1001", "Agent One"}, {"1002", "Agent Two"}, {"1003", "Agent Three"}} {
		l.op[o.num] = a.Client.Operator.Create().SetServerID(srv.ID).SetNumber(o.num).SetName(o.name).SetInterface("PJSIP/" + o.num).SaveX(sc).ID
	}
	if err := a.Collector.Reload(sc); err != nil {
		t.Fatal(err)
	}
	return l
}

// user signs in a new user, optionally working as operator ext.
func (l *wpLab) user(t *testing.T, login, ext string, roles []string, g auth.Grant) *client {
	t.Helper()
	c := signIn(t, l.a, login, roles, g)
	if ext != "" {
		sc := auth.SystemContext(context.Background())
		uid := l.a.Client.User.Query().Where(user.Login(login)).OnlyIDX(sc)
		l.a.Client.Operator.UpdateOneID(l.op[ext]).SetUserID(uid).ExecX(sc)
	}
	return c
}

func (l *wpLab) grant(queues ...string) auth.Grant {
	var g auth.Grant
	for _, q := range queues {
		g.Queues = append(g.Queues, auth.QueueGrant{QueueID: l.queue[q]})
	}
	return g
}

// must runs a query that has to succeed and decodes its data into out.
func must(t *testing.T, c *client, query string, vars map[string]any, out any) {
	t.Helper()
	_, r := c.gql(t, query, vars)
	if len(r.Errors) > 0 {
		t.Fatalf("%s: %+v\n%s", firstLine(query), r.Errors, logsOf(c.a))
	}
	if out != nil {
		if err := json.Unmarshal(r.Data, out); err != nil {
			t.Fatalf("%v: %s", err, r.Data)
		}
	}
}

// refusedWith runs a query that has to fail with code.
func refusedWith(t *testing.T, c *client, code, query string, vars map[string]any) string {
	t.Helper()
	_, r := c.gql(t, query, vars)
	if got := errCode(r); got != code {
		t.Fatalf("%s: code %q, want %q: %s %+v", firstLine(query), got, code, r.Data, r.Errors)
	}
	return r.Errors[0].Message
}

func firstLine(s string) string { l, _, _ := strings.Cut(strings.TrimSpace(s), "\n"); return l }

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	eventuallyIn(t, nil, d, what, cond)
}

// eventuallyIn is eventually that shows the app's log when it times out.
func eventuallyIn(t *testing.T, a *App, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			if a != nil {
				t.Fatalf("timed out waiting for %s\n%s", what, logsOf(a))
			}
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type wpQueue struct {
	Queue  struct{ Number string }
	Member bool
	Paused bool
	Reason *string
	Status *string
}

type wpWorkplace struct {
	Operator struct{ ID, Number string }
	Server   struct{ Name string }
	Live     *struct {
		Status, Reason string
		Queues         []string
	}
	Queues               []wpQueue
	PauseReasons         []struct{ Name string }
	UnhandledMissedCalls int
}

const myWorkplacesQ = `{ myWorkplaces { operator { id number } server { name } live { status reason queues }
	queues { queue { number } member paused reason status } pauseReasons { name } unhandledMissedCalls } }`

func workplaces(t *testing.T, c *client) []wpWorkplace {
	t.Helper()
	var d struct{ MyWorkplaces []wpWorkplace }
	must(t, c, myWorkplacesQ, nil, &d)
	return d.MyWorkplaces
}

func (w wpWorkplace) queue(name string) wpQueue {
	for _, q := range w.Queues {
		if q.Queue.Number == name {
			return q
		}
	}
	return wpQueue{}
}

type actionResult struct {
	Operator  struct{ ID string }
	Live      *struct{ Status, Reason string }
	Confirmed bool
}

const pauseM = `mutation($in: PauseInput!) { pauseOperator(input: $in) { operator { id } live { status reason } confirmed } }`
const joinM = `mutation($in: MembershipInput!) { joinQueue(input: $in) { operator { id } live { status reason } confirmed } }`
const leaveM = `mutation($in: MembershipInput!) { leaveQueue(input: $in) { operator { id } live { status reason } confirmed } }`

func act(t *testing.T, c *client, m string, in map[string]any) actionResult {
	t.Helper()
	var d map[string]actionResult
	must(t, c, m, map[string]any{"in": in}, &d)
	for _, r := range d {
		return r
	}
	t.Fatal("no result")
	return actionResult{}
}

func idStr(n int) string { return strconv.Itoa(n) }

// TestWorkplaceActions drives an operator's own tools against the simulator: pause
// with a reason (confirmed by Asterisk's QueueMemberPause on the live state, shown on
// the board and in the status history), resume, leave and join a queue, Asterisk's
// refusals, and who may act for whom.
func TestWorkplaceActions(t *testing.T) {
	l := startWorkplaceLab(t, 4, nil)
	a := l.a
	admin := adminClient(t, a)
	sc := auth.SystemContext(context.Background())
	a.Client.PauseReason.Create().SetName("Lunch").SetPosition(1).ExecX(sc)
	a.Client.PauseReason.Create().SetName("Training").SetPosition(2).SetServerID(l.server).ExecX(sc)
	a.Client.PauseReason.Create().SetName("Disabled").SetPosition(3).SetEnabled(false).ExecX(sc)

	// Agent One is Local/1001@agents/n in support, PJSIP/1001 in sales and
	// Local/1001@agents in support2: one pause must reach all three.
	op1 := l.user(t, "op1", "1001", []string{auth.RoleOperator}, l.grant("support", "sales", "support2", "emptyq", "ghost"))
	op3 := l.user(t, "op3", "1003", []string{auth.RoleOperator}, l.grant("support", "sales"))
	nobody := l.user(t, "nobody", "", []string{auth.RoleOperator}, l.grant("support"))
	sup := l.user(t, "sup", "", []string{auth.RoleSupervisor, auth.RoleBusinessProcesses},
		auth.Grant{Queues: l.grant("support", "sales", "support2").Queues, OperatorIDs: []int{l.op["1001"]}})
	supOut := l.user(t, "supout", "", []string{auth.RoleBusinessProcesses},
		auth.Grant{Queues: l.grant("closedq").Queues, OperatorIDs: []int{l.op["1003"]}})

	var w wpWorkplace
	eventually(t, 20*time.Second, "the live state of Agent One", func() bool {
		ws := workplaces(t, op1)
		if len(ws) != 1 {
			t.Fatalf("myWorkplaces = %+v, want one", ws)
		}
		w = ws[0]
		return w.Live != nil && w.queue("support").Member && w.queue("sales").Member && w.queue("support2").Member
	})
	if w.Operator.Number != "1001" || w.Server.Name != "lab" || w.queue("ghost").Member || w.queue("emptyq").Member || len(w.Queues) != 5 {
		t.Fatalf("workplace = %+v", w)
	}
	if names := fmt.Sprint(w.PauseReasons); names != "[{Lunch} {Training}]" {
		t.Fatalf("pause reasons = %s, want the enabled global and server ones in order", names)
	}

	// Pause with a reason, in every queue.
	r := act(t, op1, pauseM, map[string]any{"paused": true, "reason": "Lunch"})
	if !r.Confirmed || r.Operator.ID != idStr(l.op["1001"]) || r.Live == nil || r.Live.Status != "PAUSED" || r.Live.Reason != "Lunch" {
		t.Fatalf("pause = %+v", r)
	}
	w = workplaces(t, op1)[0]
	for _, q := range []string{"support", "sales", "support2"} {
		if wq := w.queue(q); !wq.Paused || wq.Reason == nil || *wq.Reason != "Lunch" {
			t.Fatalf("queue %s after the pause = %+v", q, wq)
		}
	}
	var board struct {
		OperatorBoardNow []struct{ Interface, Status, Reason string }
	}
	must(t, admin, `{ operatorBoardNow { interface status reason } }`, nil, &board)
	if !slices.ContainsFunc(board.OperatorBoardNow, func(o struct{ Interface, Status, Reason string }) bool {
		return o.Interface == "PJSIP/1001" && o.Status == "PAUSED" && o.Reason == "Lunch"
	}) {
		t.Fatalf("board does not show Agent One paused for lunch: %+v", board)
	}
	eventually(t, 10*time.Second, "the pause in the status history", func() bool {
		return a.Client.OperatorStatusChange.Query().Where(operatorstatuschange.OperatorID(l.op["1001"]),
			operatorstatuschange.Status("paused"), operatorstatuschange.Reason("Lunch")).ExistX(sc)
	})

	// Free text is refused while reasons are configured; disabled ones too.
	refusedWith(t, op1, "GRAPHQL_VALIDATION_FAILED", pauseM, map[string]any{"in": map[string]any{"paused": true, "reason": "Coffee"}})
	refusedWith(t, op1, "GRAPHQL_VALIDATION_FAILED", pauseM, map[string]any{"in": map[string]any{"paused": true, "reason": "Disabled"}})

	// Resume.
	r = act(t, op1, pauseM, map[string]any{"paused": false})
	if !r.Confirmed || r.Live == nil || r.Live.Status == "PAUSED" {
		t.Fatalf("unpause = %+v", r)
	}
	if wq := workplaces(t, op1)[0].queue("support"); wq.Paused || !wq.Member {
		t.Fatalf("support after the unpause = %+v", wq)
	}

	// Join and leave emptyq (a dynamic member; sales has Agent One statically).
	r = act(t, op1, joinM, map[string]any{"queueID": l.queue["emptyq"], "penalty": 2, "paused": true})
	if !r.Confirmed {
		t.Fatalf("join = %+v", r)
	}
	if wq := workplaces(t, op1)[0].queue("emptyq"); !wq.Member || !wq.Paused {
		t.Fatalf("emptyq after joining paused = %+v", wq)
	}
	msg := refusedWith(t, op1, "ACTION_REFUSED", joinM, map[string]any{"in": map[string]any{"queueID": l.queue["emptyq"]}})
	if !strings.Contains(msg, "Already there") {
		t.Fatalf("refusal message %q does not pass Asterisk's on", msg)
	}
	r = act(t, op1, leaveM, map[string]any{"queueID": l.queue["emptyq"]})
	if !r.Confirmed {
		t.Fatalf("leave = %+v", r)
	}
	if wq := workplaces(t, op1)[0].queue("emptyq"); wq.Member {
		t.Fatalf("emptyq after leaving = %+v", wq)
	}
	refusedWith(t, op1, "ACTION_REFUSED", leaveM, map[string]any{"in": map[string]any{"queueID": l.queue["emptyq"]}})
	refusedWith(t, op1, "ACTION_REFUSED", leaveM, map[string]any{"in": map[string]any{"queueID": l.queue["sales"]}}) // static member
	refusedWith(t, op1, "ACTION_REFUSED", joinM, map[string]any{"in": map[string]any{"queueID": l.queue["ghost"]}})
	// A queue outside the operator's scope.
	refusedWith(t, op1, "FORBIDDEN", joinM, map[string]any{"in": map[string]any{"queueID": l.queue["closedq"]}})

	// No linked operator.
	refusedWith(t, nobody, "NO_OPERATOR", pauseM, map[string]any{"in": map[string]any{"paused": true}})
	if ws := workplaces(t, nobody); len(ws) != 0 {
		t.Fatalf("myWorkplaces of a user without an operator = %+v", ws)
	}
	// An operator may not act for another.
	refusedWith(t, op3, "FORBIDDEN", pauseM, map[string]any{"in": map[string]any{"paused": true, "operatorID": l.op["1001"]}})
	refusedWith(t, op3, "FORBIDDEN", leaveM, map[string]any{"in": map[string]any{"queueID": l.queue["sales"], "operatorID": l.op["1001"]}})
	// A supervisor with queues.membership and both in scope may; outside scope not.
	r = act(t, sup, pauseM, map[string]any{"paused": true, "reason": "Training", "operatorID": l.op["1001"], "queueID": l.queue["support"]})
	if !r.Confirmed {
		t.Fatalf("supervisor's pause = %+v", r)
	}
	if wq := workplaces(t, op1)[0].queue("support"); !wq.Paused || wq.Reason == nil || *wq.Reason != "Training" {
		t.Fatalf("support after the supervisor's pause = %+v", wq)
	}
	refusedWith(t, supOut, "FORBIDDEN", pauseM, map[string]any{"in": map[string]any{"paused": false, "operatorID": l.op["1001"]}})
	// A pause in every queue needs every queue of the operator in scope.
	supPart := l.user(t, "suppart", "", []string{auth.RoleBusinessProcesses},
		auth.Grant{Queues: l.grant("support").Queues, OperatorIDs: []int{l.op["1001"]}})
	refusedWith(t, supPart, "FORBIDDEN", pauseM, map[string]any{"in": map[string]any{"paused": true, "operatorID": l.op["1001"]}})
	refusedWith(t, supOut, "FORBIDDEN", leaveM, map[string]any{"in": map[string]any{"queueID": l.queue["support"], "operatorID": l.op["1003"]}})
	refusedWith(t, sup, "FORBIDDEN", leaveM, map[string]any{"in": map[string]any{"queueID": l.queue["sales"], "operatorID": l.op["1003"]}})
	refusedWith(t, sup, "FORBIDDEN", joinM, map[string]any{"in": map[string]any{"queueID": l.queue["emptyq"], "operatorID": l.op["1001"]}})

	// Every action is audited, the refused ones as failures.
	var ok, failed int
	for _, e := range a.Client.AuditLog.Query().AllX(sc) {
		if strings.HasPrefix(e.Action, "operator.") || strings.HasPrefix(e.Action, "queue.") {
			if e.Success {
				ok++
			} else {
				failed++
			}
		}
	}
	if ok != 5 || failed != 15 {
		t.Fatalf("audit: %d successful and %d failed workplace actions, want 5 and 15", ok, failed)
	}
}

type wpMissed struct {
	ID, CallID       string
	CallerNumber     string
	Reason           *string
	State            string
	HandledHow       *string
	HandledByID      *string
	Comment          *string
	CallbackAttempts int
	Queue            *struct{ Number string }
	Attempts         int
	PreviousCalls    []struct{ ID string }
}

const missedFields = `id callID callerNumber reason state handledHow handledByID comment callbackAttempts queue { number } attempts previousCalls { id }`

func unhandled(t *testing.T, c *client) map[string]wpMissed {
	t.Helper()
	var d struct{ UnhandledMissedCalls []wpMissed }
	must(t, c, `{ unhandledMissedCalls { `+missedFields+` } }`, nil, &d)
	out := map[string]wpMissed{}
	for _, m := range d.UnhandledMissedCalls {
		out[m.CallerNumber+"@"+m.Queue.Number] = m
	}
	return out
}

type wpCounts struct {
	Total  int
	Queues []struct {
		QueueID   string
		Queue     *struct{ Number string }
		Unhandled int
	}
}

const countsFields = `total queues { queueID queue { number } unhandled oldest }`

// TestWorkplaceMissedCalls: missed queue calls from the simulator become the
// operators' to-do list; a callback originated from the operator's phone (the
// simulator answers it) handles its missed call once the callback is stored
// answered; a customer who calls again and is answered handles theirs; marking one
// handled by hand takes the customer's other missed calls in scope with it; caller
// history never shows calls outside the viewer's queues; and the missedCallCounts
// subscription is pushed every change.
func TestWorkplaceMissedCalls(t *testing.T) {
	l := startWorkplaceLab(t, 10, func(p *pbx.PBX) {
		p.Inbound(20*time.Second, pbx.Inbound{DID: "5551002", Caller: "0699000222"}) // nobody answers: the queue times out
		p.Inbound(20*time.Second, pbx.Inbound{DID: "5551002", Caller: "0699000333", Patience: 3 * time.Second})
		p.Inbound(25*time.Second, pbx.Inbound{DID: "5551002", Caller: "0699000444", Patience: 3 * time.Second})
		p.Inbound(25*time.Second, pbx.Inbound{DID: "5551003", Caller: "0699000444", Patience: 3 * time.Second}) // support2
		// 333 calls again and Agent Two answers.
		p.Inbound(150*time.Second, pbx.Inbound{DID: "5551002", Caller: "0699000333",
			Answer: []pbx.Answer{{Member: "PJSIP/1002", After: 2 * time.Second}}, Talk: 5 * time.Second})
	})
	a := l.a
	sc := auth.SystemContext(context.Background())
	admin := adminClient(t, a)
	op2 := l.user(t, "op2", "1002", []string{auth.RoleOperator}, l.grant("support", "sales"))
	op2ID := a.Client.User.Query().Where(user.Login("op2")).OnlyIDX(sc)
	_, secret, err := a.Auth.CreateToken(sc, op2ID, "ws", "read", nil)
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ws, err := livetest.Dial(ctx, "http://"+a.Addr()+"/graphql", map[string]any{"authorization": "Bearer " + secret}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	pushes, err := ws.Subscribe(ctx, `subscription { missedCallCounts { `+countsFields+` } }`, nil, 64)
	if err != nil {
		t.Fatal(err)
	}
	var totals []int
	readPushes := func() {
		for {
			select {
			case raw := <-pushes:
				var m struct {
					Data   struct{ MissedCallCounts wpCounts }
					Errors []any
				}
				if err := json.Unmarshal(raw, &m); err != nil || len(m.Errors) > 0 {
					t.Fatalf("subscription message %s: %v", raw, err)
				}
				for _, q := range m.Data.MissedCallCounts.Queues {
					if q.Queue == nil || q.Queue.Number != "support" && q.Queue.Number != "sales" {
						t.Fatalf("subscription shows a queue outside the scope: %s", raw)
					}
				}
				totals = append(totals, m.Data.MissedCallCounts.Total)
			default:
				return
			}
		}
	}

	// The missed calls arrive: 222 (timeout), 333 and 444 (abandoned) in support;
	// 444's call into support2 is outside op2's scope.
	var list map[string]wpMissed
	eventuallyIn(t, a, 30*time.Second, "the missed calls", func() bool {
		list = unhandled(t, op2)
		_, ok1 := list["0699000222@support"]
		_, ok2 := list["0699000444@support"]
		return ok1 && ok2
	})
	for k := range list {
		if !strings.HasSuffix(k, "@support") {
			t.Fatalf("op2 sees a missed call outside the scope: %s", k)
		}
	}
	m222, m444 := list["0699000222@support"], list["0699000444@support"]
	if m222.Reason == nil || *m222.Reason != "timeout" || m222.Attempts != 1 {
		t.Fatalf("missed 222 = %+v", m222)
	}
	if m444.Reason == nil || *m444.Reason != "abandoned" || m444.Attempts != 1 {
		t.Fatalf("missed 444 = %+v (attempts count the scope's only)", m444)
	}
	var admins struct{ UnhandledMissedCalls []wpMissed }
	eventually(t, 10*time.Second, "444's support2 missed call", func() bool {
		must(t, admin, `{ unhandledMissedCalls { `+missedFields+` } }`, nil, &admins)
		return slices.ContainsFunc(admins.UnhandledMissedCalls, func(m wpMissed) bool {
			return m.CallerNumber == "0699000444" && m.Queue.Number == "support2" && m.Attempts == 2
		})
	})
	var support2Call string
	for _, m := range admins.UnhandledMissedCalls {
		if m.Queue.Number == "support2" {
			support2Call = m.CallID
		}
	}
	// The customer's previous calls: the admin sees 444's support2 call, op2 not.
	for _, m := range admins.UnhandledMissedCalls {
		if m.ID == m444.ID && (len(m.PreviousCalls) != 1 || m.PreviousCalls[0].ID != support2Call) {
			t.Fatalf("admin's previous calls of 444 = %+v, want the support2 call %s", m.PreviousCalls, support2Call)
		}
	}
	if len(m444.PreviousCalls) != 0 {
		t.Fatalf("op2's previous calls of 444 = %+v: outside the scope", m444.PreviousCalls)
	}
	var counts struct{ MissedCallCountsNow wpCounts }
	must(t, op2, `{ missedCallCountsNow { `+countsFields+` } }`, nil, &counts)
	if counts.MissedCallCountsNow.Total < 2 || len(counts.MissedCallCountsNow.Queues) != 1 {
		t.Fatalf("op2's counts = %+v", counts)
	}

	// Call 222 back: the simulator rings Agent Two's phone, dials the customer, both answer.
	var cb struct {
		CallBack struct {
			ActionID   string
			MissedCall wpMissed
		}
	}
	must(t, op2, `mutation($id: ID!) { callBack(missedCallID: $id) { actionID missedCall { `+missedFields+` } } }`, map[string]any{"id": m222.ID}, &cb)
	if cb.CallBack.ActionID == "" || cb.CallBack.MissedCall.CallbackAttempts != 1 || cb.CallBack.MissedCall.State != "unhandled" {
		t.Fatalf("callBack = %+v", cb)
	}
	mid, _ := strconv.Atoi(m222.ID)
	eventually(t, 30*time.Second, "the callback to handle 222", func() bool {
		return a.Client.MissedCall.GetX(sc, mid).State == "handled"
	})
	mc := a.Client.MissedCall.GetX(sc, mid)
	if mc.HandledHow == nil || *mc.HandledHow != "callback" || mc.HandledByID == nil || *mc.HandledByID != op2ID || mc.HandledCallID == nil || mc.LastCallbackAt == nil {
		t.Fatalf("222 after the callback = %+v", mc)
	}
	cbCall := a.Client.Call.GetX(sc, *mc.HandledCallID)
	if cbCall.Type != "outbound" || cbCall.Status != "answered" || cbCall.Custom["LINKAGE_CALLBACK"] != m222.ID {
		t.Fatalf("the callback call = %+v", cbCall)
	}

	// Mark 444 handled: its support2 twin is outside op2's scope and stays.
	var mh struct{ MarkMissedCallHandled wpMissed }
	must(t, op2, `mutation($id: ID!) { markMissedCallHandled(id: $id, comment: "Wrote an e-mail") { `+missedFields+` } }`, map[string]any{"id": m444.ID}, &mh)
	if h := mh.MarkMissedCallHandled; h.State != "handled" || h.HandledHow == nil || *h.HandledHow != "manual" || h.Comment == nil || *h.Comment != "Wrote an e-mail" ||
		h.HandledByID == nil || *h.HandledByID != idStr(op2ID) {
		t.Fatalf("markMissedCallHandled = %+v", h)
	}
	must(t, admin, `{ unhandledMissedCalls { `+missedFields+` } }`, nil, &admins)
	if !slices.ContainsFunc(admins.UnhandledMissedCalls, func(m wpMissed) bool { return m.CallID == support2Call }) {
		t.Fatalf("marking handled reached the support2 missed call outside the scope: %+v", admins)
	}

	// Caller history: op2 (no calls.read) sees 444's support call only; the admin both.
	const histQ = `query($s: ID!, $n: String!) { callerHistory(serverID: $s, number: $n) { id callerNumber } }`
	var h struct {
		CallerHistory []struct{ ID, CallerNumber string }
	}
	must(t, op2, histQ, map[string]any{"s": l.server, "n": "0699000444"}, &h)
	if len(h.CallerHistory) != 1 || h.CallerHistory[0].ID != m444.CallID {
		t.Fatalf("op2's history of 444 = %+v, want only call %s", h, m444.CallID)
	}
	must(t, admin, histQ, map[string]any{"s": l.server, "n": "0699000444"}, &h)
	if len(h.CallerHistory) != 2 || !slices.ContainsFunc(h.CallerHistory, func(c struct{ ID, CallerNumber string }) bool { return c.ID == support2Call }) {
		t.Fatalf("admin's history of 444 = %+v", h)
	}
	mon := signIn(t, a, "mon", []string{auth.RoleMonitoring}, l.grant("support"))
	refusedWith(t, mon, "FORBIDDEN", histQ, map[string]any{"s": l.server, "n": "0699000444"})
	refusedWith(t, mon, "FORBIDDEN", `mutation($id: ID!) { markMissedCallHandled(id: $id) { id } }`, map[string]any{"id": support2Call})

	// 333 calls again and is answered: their missed call handles itself.
	var m333 int
	eventually(t, 40*time.Second, "333's second call to handle the first", func() bool {
		for _, m := range a.Client.MissedCall.Query().AllX(sc) {
			if m.CallerNumber == "0699000333" && m.State == "handled" {
				m333 = m.ID
				return true
			}
		}
		return false
	})
	mc = a.Client.MissedCall.GetX(sc, m333)
	if mc.HandledHow == nil || *mc.HandledHow != "called_again" || mc.HandledCallID == nil || mc.HandledByID != nil {
		t.Fatalf("333 after calling again = %+v", mc)
	}
	if again := a.Client.Call.GetX(sc, *mc.HandledCallID); again.Status != "answered" || again.CallerNumber != "0699000333" {
		t.Fatalf("the call that handled 333 = %+v", again)
	}
	// The subscription was pushed the changes: the counts went up and came down.
	eventually(t, 10*time.Second, "the subscription to show every missed call of the scope handled", func() bool {
		readPushes()
		return len(totals) > 0 && totals[len(totals)-1] == 0
	})
	if len(totals) < 3 || slices.Max(totals) < 2 {
		t.Fatalf("subscription totals %v: want the snapshot, the rise and the fall", totals)
	}
	var audits []string
	for _, e := range a.Client.AuditLog.Query().AllX(sc) {
		if strings.HasPrefix(e.Action, "missed.") && e.Success {
			audits = append(audits, e.Action)
		}
	}
	slices.Sort(audits)
	if fmt.Sprint(audits) != "[missed.callback missed.handled]" {
		t.Fatalf("audited %v", audits)
	}
}
