package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/linkage/linkage/ami"
	"github.com/linkage/linkage/ami/live"
	"github.com/linkage/linkage/auth"
	"github.com/linkage/linkage/ent/server"
	"github.com/linkage/linkage/ent/user"
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
}
