package app

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/linkage/linkage/ami"
	"github.com/linkage/linkage/ami/live"
	"github.com/linkage/linkage/auth"
	"github.com/linkage/linkage/ent/server"
	"github.com/linkage/linkage/ent/user"
	"github.com/linkage/linkage/internal/livetest"
)

// TestLiveScopeLeaks extends the leak test to live monitoring: a supervisor granted
// queue 500 sees neither queue 502, its waiting caller, nor the operator who serves
// only 502 — while an admin, on the same hub, sees both (so the test can fail).
func TestLiveScopeLeaks(t *testing.T) {
	a, _ := startApp(t)
	d := seedLeakData(t, a)
	sys := auth.SystemContext(context.Background())
	srv := a.Client.Server.Query().Where(server.Name("pbx")).OnlyX(sys)

	dir := live.NewStaticDirectory()
	dir.SetQueue(srv.ID, "500", live.QueueRef{ID: d.q500})
	dir.SetQueue(srv.ID, "502", live.QueueRef{ID: d.q502})
	dir.SetOperator(srv.ID, "PJSIP/1001", d.opA)
	dir.SetOperator(srv.ID, "PJSIP/1002", d.opB)
	st := live.NewState(live.Options{Hub: a.Hub, Directory: dir})
	now := time.Now().UTC()
	seq := uint64(0)
	feed := func(name string, kv ...string) {
		seq++
		m := ami.Message{{Key: "Event", Value: name}, {Key: "Privilege", Value: "agent,all"}}
		for i := 0; i+1 < len(kv); i += 2 {
			m = append(m, ami.Field{Key: kv[i], Value: kv[i+1]})
		}
		st.Apply(srv.ID, &ami.Event{Seq: seq, Received: now, Time: now, Stamped: true, Name: name, Fields: m}, nil)
	}
	member := func(queue, iface, name string) {
		feed("QueueMemberAdded", "Queue", queue, "MemberName", name, "Interface", iface, "StateInterface", iface,
			"Membership", "dynamic", "Penalty", "0", "CallsTaken", "0", "LastCall", "0", "LastPause", "0", "InCall", "0",
			"Status", "1", "Paused", "0", "PausedReason", "", "Ringinuse", "0", "Wrapuptime", "0")
	}
	member("500", "PJSIP/1001", "Anna")
	member("502", "PJSIP/1001", "Anna")
	member("502", "PJSIP/1002", "Boris")
	join := func(queue, uid, caller string) {
		feed("QueueCallerJoin", "Channel", "PJSIP/trunk-0000000"+uid, "ChannelState", "6", "ChannelStateDesc", "Up",
			"CallerIDNum", caller, "CallerIDName", "Customer "+caller, "ConnectedLineNum", "<unknown>", "ConnectedLineName", "<unknown>",
			"Language", "en", "AccountCode", "", "Context", "from-trunk", "Exten", "5551000", "Priority", "3",
			"Uniqueid", "1795704908."+uid, "Linkedid", "1795704908."+uid, "Queue", queue, "Position", "1", "Count", "1")
	}
	join("500", "1", "0611111111")
	join("502", "2", "0622222222")

	const q = `{ queueStatsNow { queueId name waiting { number } members { interface name } }
		operatorBoardNow { operatorId name } activeCallsNow { linkedid callerNumber queueId } }`
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, r := gql(t, a, q, nil)
		body := string(r.Data)
		if strings.Contains(body, "0622222222") && strings.Contains(body, `"502"`) && strings.Contains(body, "Boris") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("admin never saw queue 502 live: %s %+v", body, r.Errors)
		}
		time.Sleep(50 * time.Millisecond)
	}
	sup := signIn(t, a, "sup500live", []string{auth.RoleSupervisor}, auth.Grant{
		Queues: []auth.QueueGrant{{QueueID: d.q500}}, GroupIDs: []int{d.g1}, AllGroupOperators: true,
	})
	_, r := sup.gql(t, q, nil)
	body := string(r.Data)
	if len(r.Errors) > 0 || !strings.Contains(body, "0611111111") {
		t.Fatalf("supervisor of 500 does not see queue 500 live: %s %+v", body, r.Errors)
	}
	for _, leak := range []string{"0622222222", `"name":"502"`, "Boris", "1795704908.2"} {
		if strings.Contains(body, leak) {
			t.Errorf("live data of queue 502 leaked (%q): %s", leak, body)
		}
	}
	liveSubscriptionsByScope(t, a, d, sup)
	op := signIn(t, a, "oplive", []string{auth.RoleOperator}, auth.Grant{})
	if _, r := op.gql(t, `{ activeCallsNow { linkedid } }`, nil); len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "FORBIDDEN" {
		t.Fatalf("operator read the live call list: %s %+v", r.Data, r.Errors)
	}
	// Linked to operator A (PJSIP/1001), the operator follows their own status live
	// for the workplace, and nothing else: no queue, not Boris, not the callers.
	me := signIn(t, a, "opself", []string{auth.RoleOperator}, auth.Grant{})
	a.Client.Operator.UpdateOneID(d.opA).SetUserID(a.Client.User.Query().Where(user.Login("opself")).OnlyIDX(sys)).ExecX(sys)
	_, r = me.gql(t, q, nil)
	body = string(r.Data)
	if len(r.Errors) > 0 || !strings.Contains(body, "Anna") {
		t.Fatalf("a linked operator does not see themselves live: %s %+v", body, r.Errors)
	}
	for _, leak := range []string{"Boris", "0611111111", "0622222222", `"name":"500"`, `"name":"502"`} {
		if strings.Contains(body, leak) {
			t.Errorf("an operator's own live view leaked %q: %s", leak, body)
		}
	}
	ownBoardsNotShared(t, a, d, me)
}

// ownBoardsNotShared: two operators with the same roles and the same (empty) grant,
// linked to different operators, subscribe to the same operator board: each sees
// only themselves. (Their live scope is their own operator, which the grant does not
// show; graph.LiveScopeKey adds the user so that sharing never mixes them, and the
// messages' version keys differ as well.)
func ownBoardsNotShared(t *testing.T, a *App, d *leakData, anna *client) {
	t.Helper()
	sys := auth.SystemContext(context.Background())
	boris := signIn(t, a, "opself2", []string{auth.RoleOperator}, auth.Grant{})
	a.Client.Operator.UpdateOneID(d.opB).SetUserID(a.Client.User.Query().Where(user.Login("opself2")).OnlyIDX(sys)).ExecX(sys)
	admin := adminClient(t, a)
	const board = `subscription { operatorBoard { snapshot operators { operatorId name } } }`
	// A write token: following one's own operators needs self.status.
	sa, sb := firstMessage(t, a, admin, anna, "write", board), firstMessage(t, a, admin, boris, "write", board)
	if !strings.Contains(sa, "Anna") || strings.Contains(sa, "Boris") {
		t.Errorf("Anna's own board: %s", sa)
	}
	if !strings.Contains(sb, "Boris") || strings.Contains(sb, "Anna") {
		t.Errorf("Boris's own board: %s", sb)
	}
}

// liveSubscriptionsByScope: over WebSocket with API tokens, two supervisors of queue
// 500 and an admin subscribe to the same queue board. The supervisors get the same
// bytes (one rendering, shared: graph/share.go keyed by graph.LiveScopeKey) without
// queue 502; the admin, same operation but another scope, gets its own payload with
// 502.
func liveSubscriptionsByScope(t *testing.T, a *App, d *leakData, sup *client) {
	t.Helper()
	admin := adminClient(t, a)
	sup2 := signIn(t, a, "sup500live2", []string{auth.RoleSupervisor}, auth.Grant{
		Queues: []auth.QueueGrant{{QueueID: d.q500}}, GroupIDs: []int{d.g1}, AllGroupOperators: true,
	})
	shared0 := sharedMessages(t, a)
	const board = `subscription { queueStats { snapshot queues { queueId name waiting { number } members { interface name } } } }`
	s1, s2, sa := firstMessage(t, a, admin, sup, "read", board), firstMessage(t, a, admin, sup2, "read", board), firstMessage(t, a, admin, admin, "read", board)
	if s1 != s2 || !strings.Contains(s1, "0611111111") {
		t.Errorf("the supervisors of 500 got different boards: %s / %s", s1, s2)
	}
	for _, leak := range []string{"0622222222", `"name":"502"`, "Boris"} {
		if strings.Contains(s1, leak) {
			t.Errorf("queue 502 leaked into a subscription of a supervisor of 500 (%q): %s", leak, s1)
		}
	}
	if sa == s1 || !strings.Contains(sa, "0622222222") {
		t.Errorf("the admin's board is not its own: %s", sa)
	}
	if n := sharedMessages(t, a) - shared0; n != 1 {
		t.Errorf("%v shared messages, want 1 (the second supervisor's snapshot)", n)
	}
}

// firstMessage subscribes to query over WebSocket as c's user, with an API token of
// scope the admin creates for them, and returns the first message (the snapshot).
// The connection stays open until the test ends.
func firstMessage(t *testing.T, a *App, admin, c *client, scope, query string) string {
	t.Helper()
	_, r := c.gql(t, `{ viewer { user { id } } }`, nil)
	var me struct {
		Viewer struct{ User struct{ ID string } }
	}
	_ = json.Unmarshal(r.Data, &me)
	_, r = admin.gql(t, `mutation($u: ID!, $s: APITokenScope!) { createAPIToken(userID: $u, name: "live", scope: $s) { secret } }`,
		map[string]any{"u": me.Viewer.User.ID, "s": scope})
	var tok struct{ CreateAPIToken struct{ Secret string } }
	_ = json.Unmarshal(r.Data, &tok)
	if tok.CreateAPIToken.Secret == "" {
		t.Fatalf("createAPIToken: %s %+v", r.Data, r.Errors)
	}
	// The subscription must outlive this call (sharing needs the group alive).
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ws, err := livetest.Dial(ctx, "http://"+a.Addr()+"/graphql", map[string]any{"authorization": "Bearer " + tok.CreateAPIToken.Secret}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	ch, err := ws.Subscribe(ctx, query, nil, 16)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case raw := <-ch:
		return string(raw)
	case <-time.After(30 * time.Second):
		t.Fatalf("no first message for %s", query)
	}
	return ""
}

// sharedMessages reads linkage_graphql_subscription_messages_total{render="shared"}.
func sharedMessages(t *testing.T, a *App) float64 {
	t.Helper()
	mfs, err := a.Metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "linkage_graphql_subscription_messages_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "render" && l.GetValue() == "shared" {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
