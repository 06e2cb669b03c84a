package app

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/linkage/linkage/auth"
)

// ok runs a GraphQL request that must succeed and decodes its data into out (if
// not nil).
func (c *client) ok(t *testing.T, query string, vars map[string]any, out any) {
	t.Helper()
	_, r := c.gql(t, query, vars)
	if len(r.Errors) > 0 {
		t.Fatalf("%s\n%v: %+v", query, vars, r.Errors)
	}
	if out != nil {
		if err := json.Unmarshal(r.Data, out); err != nil {
			t.Fatalf("decode %s: %v", r.Data, err)
		}
	}
}

// fails runs a request that must fail with code and a message containing every
// part; it returns the response.
func (c *client) fails(t *testing.T, code, query string, vars map[string]any, parts ...string) gqlResponse {
	t.Helper()
	_, r := c.gql(t, query, vars)
	if len(r.Errors) == 0 {
		t.Fatalf("%s %v: succeeded (%s), want %s", query, vars, r.Data, code)
	}
	if got := errCode(r); got != code {
		t.Fatalf("%s %v: code %s (%s), want %s", query, vars, got, r.Errors[0].Message, code)
	}
	for _, p := range parts {
		if !strings.Contains(r.Errors[0].Message, p) {
			t.Fatalf("%s %v: message %q lacks %q", query, vars, r.Errors[0].Message, p)
		}
	}
	return r
}

// badFields are the field names a validation error lists.
func badFields(r gqlResponse) []string {
	var out []string
	if len(r.Errors) > 0 {
		fs, _ := r.Errors[0].Extensions["fields"].([]any)
		for _, f := range fs {
			out = append(out, fmt.Sprint(f))
		}
	}
	return out
}

// audited returns the audit entries (action target actor success) the admin reads
// through the API, newest first.
func audited(t *testing.T, a *App) []string {
	t.Helper()
	var d struct {
		AuditLog struct {
			Edges []struct {
				Node struct {
					Action, Target, Actor string
					Success               bool
				}
			}
		}
	}
	adminClient(t, a).ok(t, `{ auditLog(first: 500) { edges { node { action target actor success } } } }`, nil, &d)
	var out []string
	for _, e := range d.AuditLog.Edges {
		n := e.Node
		out = append(out, fmt.Sprintf("%s %s %s %v", n.Action, n.Target, n.Actor, n.Success))
	}
	return out
}

func mustAudit(t *testing.T, a *App, entries ...string) {
	t.Helper()
	log := audited(t, a)
	for _, e := range entries {
		if !slices.Contains(log, e) {
			t.Errorf("audit log lacks %q:\n%s", e, strings.Join(log, "\n"))
		}
	}
}

func id(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(err)
	}
	return n
}

// TestAdminQueues: queues are validated field by field (all bad fields reported at
// once), unique per server, updated, refused deletion while calls visited them, and
// every change is audited with the admin and the queue.
func TestAdminQueues(t *testing.T) {
	a, _ := startApp(t)
	d := seedLeakData(t, a)
	adm := adminClient(t, a)
	var sid int
	_ = a.DB.QueryRow(`SELECT server_id FROM queues WHERE id = $1`, d.q500).Scan(&sid)

	create := `mutation($s: ID!, $n: String!, $in: QueueInput) { createQueue(serverID: $s, number: $n, input: $in) { id number displayName timezone slThresholdSeconds discovered workingHours { days from to } } }`
	r := adm.fails(t, "GRAPHQL_VALIDATION_FAILED", create, map[string]any{"s": sid, "n": " ", "in": map[string]any{
		"timezone": "Mars/Olympus", "slThresholdSeconds": -1, "workingHours": map[string]any{"days": []int{0, 8}, "from": "9:00", "to": "25:00"}}},
		"Mars/Olympus", "number: is required")
	want := []string{"number", "timezone", "workingHours.days", "workingHours.from", "workingHours.to", "slThresholdSeconds"}
	if got := badFields(r); !slices.Equal(got, want) {
		t.Fatalf("bad fields %v, want %v", got, want)
	}
	adm.fails(t, "GRAPHQL_VALIDATION_FAILED", create, map[string]any{"s": sid, "n": "500"}, `queue "500" exists`)
	adm.fails(t, "NOT_FOUND", create, map[string]any{"s": 999999, "n": "600"})

	var c struct {
		CreateQueue struct {
			ID, Number, DisplayName, Timezone string
			SlThresholdSeconds                int
			Discovered                        bool
			WorkingHours                      *struct {
				Days     []int
				From, To string
			}
		}
	}
	adm.ok(t, create, map[string]any{"s": sid, "n": "600", "in": map[string]any{"displayName": "Support", "timezone": "Europe/Moscow",
		"slThresholdSeconds": 30, "workingHours": map[string]any{"days": []int{1, 2, 3, 4, 5}, "from": "09:00", "to": "18:00"}}}, &c)
	q := c.CreateQueue
	if q.Number != "600" || q.DisplayName != "Support" || q.Timezone != "Europe/Moscow" || q.SlThresholdSeconds != 30 || q.Discovered {
		t.Fatalf("created %+v", q)
	}
	var wh string
	_ = a.DB.QueryRow(`SELECT working_hours::text FROM queues WHERE id = $1`, q.ID).Scan(&wh)
	if !strings.Contains(wh, `"09:00"`) {
		t.Fatalf("working hours stored as %s", wh)
	}
	if h := q.WorkingHours; h == nil || !slices.Equal(h.Days, []int{1, 2, 3, 4, 5}) || h.From != "09:00" || h.To != "18:00" {
		t.Fatalf("working hours read back as %+v", h)
	}

	update := `mutation($id: ID!, $in: QueueInput!) { updateQueue(id: $id, input: $in) { id displayName timezone slThresholdSeconds } }`
	adm.fails(t, "GRAPHQL_VALIDATION_FAILED", update, map[string]any{"id": q.ID, "in": map[string]any{"timezone": "Nowhere"}}, "Nowhere")
	adm.fails(t, "NOT_FOUND", update, map[string]any{"id": 999999, "in": map[string]any{"displayName": "x"}})
	adm.ok(t, update, map[string]any{"id": q.ID, "in": map[string]any{"displayName": "Help desk", "timezone": "", "slThresholdSeconds": 0,
		"workingHours": map[string]any{"days": []int{}, "from": "", "to": ""}}}, nil)
	var name, tz string
	var sl int
	_ = a.DB.QueryRow(`SELECT display_name, coalesce(timezone, ''), sl_threshold_seconds, coalesce(working_hours::text, '') FROM queues WHERE id = $1`, q.ID).Scan(&name, &tz, &sl, &wh)
	if name != "Help desk" || tz != "" || sl != 0 || wh != "" {
		t.Fatalf("after update: %q %q %d %q", name, tz, sl, wh)
	}
	var back struct {
		Node struct{ WorkingHours *struct{ From string } }
	}
	adm.ok(t, `query($id: ID!) { node(id: $id) { ... on Queue { workingHours { from } } } }`, map[string]any{"id": q.ID}, &back)
	if back.Node.WorkingHours != nil {
		t.Fatalf("cleared working hours read back as %+v", back.Node.WorkingHours)
	}

	del := `mutation($id: ID!) { deleteQueue(id: $id) }`
	adm.fails(t, "CONFLICT", del, map[string]any{"id": d.q500}, "stored calls")
	adm.fails(t, "NOT_FOUND", del, map[string]any{"id": 999999})
	adm.ok(t, del, map[string]any{"id": q.ID}, nil)

	sup := signIn(t, a, "sup", []string{auth.RoleSupervisor}, auth.Grant{AllQueues: true})
	sup.fails(t, "FORBIDDEN", update, map[string]any{"id": d.q500, "in": map[string]any{"displayName": "Mine"}})

	mustAudit(t, a, "queue.create queue/"+q.ID+" admin true", "queue.update queue/"+q.ID+" admin true",
		"queue.delete queue/"+q.ID+" admin true", fmt.Sprintf("queue.update queue/%d sup false", d.q500))
}

// TestAdminOperatorsGroupsTrunksReasons covers operators (unique number per server,
// a user linked to one operator per server, groups), operator groups, trunks and
// pause reasons (unique per server and among the global ones), with their refusals.
func TestAdminOperatorsGroupsTrunksReasons(t *testing.T) {
	a, _ := startApp(t)
	d := seedLeakData(t, a)
	adm := adminClient(t, a)
	var sid int
	_ = a.DB.QueryRow(`SELECT server_id FROM queues WHERE id = $1`, d.q500).Scan(&sid)
	ctx := auth.SystemContext(context.Background())
	s2 := a.Client.Server.Create().SetName("pbx2").SetAmiAddress("127.0.0.1:5039").SetAmiUsername("u").SetAmiSecret("x").SaveX(ctx).ID
	worker := createUser(t, a, "worker", "worker-password-1", []string{auth.RoleOperator}, auth.Grant{})

	// Operators.
	create := `mutation($s: ID!, $in: OperatorInput!) { createOperator(serverID: $s, input: $in) { id number interface name tracked discovered user { login } groups { name } } }`
	r := adm.fails(t, "GRAPHQL_VALIDATION_FAILED", create, map[string]any{"s": sid, "in": map[string]any{
		"interface": "PJSIP 1009", "userID": 999999, "groupIDs": []int{999999}}}, "number: is required")
	if got, want := badFields(r), []string{"number", "interface", "userID", "groupIDs"}; !slices.Equal(got, want) {
		t.Fatalf("bad fields %v, want %v", got, want)
	}
	adm.fails(t, "GRAPHQL_VALIDATION_FAILED", create, map[string]any{"s": sid, "in": map[string]any{"number": "1001"}}, `"1001" exists`)
	adm.fails(t, "GRAPHQL_VALIDATION_FAILED", create, map[string]any{"s": sid, "in": map[string]any{"number": "1009", "userID": worker, "clearUser": true}}, "either")
	adm.fails(t, "NOT_FOUND", create, map[string]any{"s": 999999, "in": map[string]any{"number": "1009"}})
	var c struct {
		CreateOperator struct {
			ID, Number, Interface, Name string
			Tracked, Discovered         bool
			User                        *struct{ Login string }
			Groups                      []struct{ Name string }
		}
	}
	adm.ok(t, create, map[string]any{"s": sid, "in": map[string]any{"number": "1009", "interface": "PJSIP/1009", "name": "Nina",
		"tracked": false, "userID": worker, "groupIDs": []int{d.g1, d.g1}}}, &c)
	op := c.CreateOperator
	if op.Number != "1009" || op.Interface != "PJSIP/1009" || op.Tracked || op.User == nil || op.User.Login != "worker" || len(op.Groups) != 1 {
		t.Fatalf("created %+v", op)
	}
	// The same user may work on another server, but not twice on one.
	adm.ok(t, create, map[string]any{"s": s2, "in": map[string]any{"number": "1009", "userID": worker}}, nil)
	adm.fails(t, "GRAPHQL_VALIDATION_FAILED", create, map[string]any{"s": sid, "in": map[string]any{"number": "1010", "userID": worker}}, "operator 1009")

	update := `mutation($id: ID!, $in: OperatorInput!) { updateOperator(id: $id, input: $in) { number name user { login } groups { name } } }`
	adm.fails(t, "GRAPHQL_VALIDATION_FAILED", update, map[string]any{"id": op.ID, "in": map[string]any{"number": "1002"}}, `"1002" exists`)
	adm.fails(t, "NOT_FOUND", update, map[string]any{"id": 999999, "in": map[string]any{"name": "x"}})
	var u struct {
		UpdateOperator struct {
			Number, Name string
			User         *struct{ Login string }
			Groups       []struct{ Name string }
		}
	}
	adm.ok(t, update, map[string]any{"id": op.ID, "in": map[string]any{"number": "1019", "name": "Nina K", "clearUser": true, "groupIDs": []int{d.g2}}}, &u)
	if u.UpdateOperator.Number != "1019" || u.UpdateOperator.User != nil || len(u.UpdateOperator.Groups) != 1 || u.UpdateOperator.Groups[0].Name != "Team 2" {
		t.Fatalf("updated %+v", u.UpdateOperator)
	}
	del := `mutation($id: ID!) { deleteOperator(id: $id) }`
	adm.fails(t, "CONFLICT", del, map[string]any{"id": d.opA}, "untracked")
	adm.fails(t, "CONFLICT", del, map[string]any{"id": d.opB}, "stored calls")
	adm.fails(t, "NOT_FOUND", del, map[string]any{"id": 999999})
	adm.ok(t, del, map[string]any{"id": op.ID}, nil)
	adm.ok(t, del, map[string]any{"id": d.opU}, nil) // in a group, no calls

	// Groups.
	gcreate := `mutation($in: OperatorGroupInput!) { createOperatorGroup(input: $in) { id name virtual operators { id } } }`
	r = adm.fails(t, "GRAPHQL_VALIDATION_FAILED", gcreate, map[string]any{"in": map[string]any{"name": "", "operatorIDs": []int{999999}}}, "name: is required")
	if got, want := badFields(r), []string{"name", "operatorIDs"}; !slices.Equal(got, want) {
		t.Fatalf("bad fields %v, want %v", got, want)
	}
	adm.fails(t, "GRAPHQL_VALIDATION_FAILED", gcreate, map[string]any{"in": map[string]any{"name": "Team 1"}}, "exists")
	var g struct {
		CreateOperatorGroup struct {
			ID, Name  string
			Virtual   bool
			Operators []struct{ ID string }
		}
	}
	adm.ok(t, gcreate, map[string]any{"in": map[string]any{"name": "Night", "virtual": true, "operatorIDs": []int{d.opA, d.opB}}}, &g)
	if !g.CreateOperatorGroup.Virtual || len(g.CreateOperatorGroup.Operators) != 2 {
		t.Fatalf("group %+v", g.CreateOperatorGroup)
	}
	gid := g.CreateOperatorGroup.ID
	gupdate := `mutation($id: ID!, $in: OperatorGroupInput!) { updateOperatorGroup(id: $id, input: $in) { name operators { id } } }`
	adm.fails(t, "GRAPHQL_VALIDATION_FAILED", gupdate, map[string]any{"id": gid, "in": map[string]any{"name": "Team 2"}}, "exists")
	adm.fails(t, "NOT_FOUND", gupdate, map[string]any{"id": 999999, "in": map[string]any{"name": "x"}})
	adm.ok(t, gupdate, map[string]any{"id": gid, "in": map[string]any{"name": "Nights", "operatorIDs": []int{d.opA}}}, nil)
	var members int
	_ = a.DB.QueryRow(`SELECT count(*) FROM operator_group_operators WHERE operator_group_id = $1`, gid).Scan(&members)
	if members != 1 {
		t.Fatalf("group members after update = %d, want 1", members)
	}
	adm.fails(t, "NOT_FOUND", `mutation($id: ID!) { deleteOperatorGroup(id: $id) }`, map[string]any{"id": 999999})
	adm.ok(t, `mutation($id: ID!) { deleteOperatorGroup(id: $id) }`, map[string]any{"id": gid}, nil)

	// Trunks.
	tcreate := `mutation($s: ID!, $in: TrunkInput!) { createTrunk(serverID: $s, input: $in) { id number name } }`
	adm.fails(t, "GRAPHQL_VALIDATION_FAILED", tcreate, map[string]any{"s": sid, "in": map[string]any{"name": "no number"}}, "number: is required")
	var tr struct {
		CreateTrunk struct{ ID, Number, Name string }
	}
	adm.ok(t, tcreate, map[string]any{"s": sid, "in": map[string]any{"number": "5551000", "name": "Main line"}}, &tr)
	adm.fails(t, "GRAPHQL_VALIDATION_FAILED", tcreate, map[string]any{"s": sid, "in": map[string]any{"number": "5551000"}}, "exists")
	tid := tr.CreateTrunk.ID
	adm.ok(t, `mutation($id: ID!) { updateTrunk(id: $id, input: {name: "Sales line"}) { name } }`, map[string]any{"id": tid}, nil)
	adm.fails(t, "NOT_FOUND", `mutation { updateTrunk(id: 999999, input: {name: "x"}) { name } }`, nil)
	adm.fails(t, "NOT_FOUND", tcreate, map[string]any{"s": 999999, "in": map[string]any{"number": "5553000"}})
	adm.fails(t, "NOT_FOUND", `mutation { deleteTrunk(id: 999999) }`, nil)
	adm.fails(t, "NOT_FOUND", `mutation { acceptDiscovered(serverID: 999999, queues: ["x"]) { queues { number } } }`, nil)
	if _, err := a.DB.Exec(`UPDATE calls SET trunk_id = $1 WHERE id = $2`, tid, d.c500); err != nil {
		t.Fatal(err)
	}
	adm.fails(t, "CONFLICT", `mutation($id: ID!) { deleteTrunk(id: $id) }`, map[string]any{"id": tid}, "stored calls")
	var tr2 struct{ CreateTrunk struct{ ID string } }
	adm.ok(t, tcreate, map[string]any{"s": sid, "in": map[string]any{"number": "5552000"}}, &tr2)
	adm.fails(t, "GRAPHQL_VALIDATION_FAILED", `mutation($id: ID!) { updateTrunk(id: $id, input: {number: "5551000"}) { name } }`,
		map[string]any{"id": tr2.CreateTrunk.ID}, `"5551000" exists`)
	adm.fails(t, "GRAPHQL_VALIDATION_FAILED", `mutation($id: ID!) { updateTrunk(id: $id, input: {number: " "}) { name } }`,
		map[string]any{"id": tr2.CreateTrunk.ID}, "number: is required")
	adm.ok(t, `mutation($id: ID!) { deleteTrunk(id: $id) }`, map[string]any{"id": tr2.CreateTrunk.ID}, nil)

	// Pause reasons: unique among the global ones and within a server.
	pcreate := `mutation($in: PauseReasonInput!) { createPauseReason(input: $in) { id name position enabled } }`
	r = adm.fails(t, "GRAPHQL_VALIDATION_FAILED", pcreate, map[string]any{"in": map[string]any{"serverID": 999999, "position": -1}}, "name: is required")
	if got, want := badFields(r), []string{"serverID", "position", "name"}; !slices.Equal(got, want) {
		t.Fatalf("bad fields %v, want %v", got, want)
	}
	var p struct{ CreatePauseReason struct{ ID string } }
	adm.ok(t, pcreate, map[string]any{"in": map[string]any{"name": "Lunch", "position": 1}}, &p)
	adm.fails(t, "GRAPHQL_VALIDATION_FAILED", pcreate, map[string]any{"in": map[string]any{"name": "Lunch"}}, "every server")
	adm.ok(t, pcreate, map[string]any{"in": map[string]any{"name": "Lunch", "serverID": sid}}, nil) // a server's own may repeat a global one
	adm.fails(t, "GRAPHQL_VALIDATION_FAILED", pcreate, map[string]any{"in": map[string]any{"name": "Lunch", "serverID": sid}}, "on this server")
	var p2 struct{ CreatePauseReason struct{ ID string } }
	adm.ok(t, pcreate, map[string]any{"in": map[string]any{"name": "Training"}}, &p2)
	pupdate := `mutation($id: ID!, $in: PauseReasonInput!) { updatePauseReason(id: $id, input: $in) { name enabled position } }`
	adm.fails(t, "GRAPHQL_VALIDATION_FAILED", pupdate, map[string]any{"id": p2.CreatePauseReason.ID, "in": map[string]any{"name": "Lunch"}}, "every server")
	adm.fails(t, "NOT_FOUND", pupdate, map[string]any{"id": 999999, "in": map[string]any{"name": "x"}})
	adm.ok(t, pupdate, map[string]any{"id": p2.CreatePauseReason.ID, "in": map[string]any{"name": "Coaching", "enabled": false, "position": 3}}, nil)
	adm.fails(t, "NOT_FOUND", `mutation { deletePauseReason(id: 999999) }`, nil)
	adm.ok(t, `mutation($id: ID!) { deletePauseReason(id: $id) }`, map[string]any{"id": p.CreatePauseReason.ID}, nil)

	mustAudit(t, a,
		"operator.create operator/"+op.ID+" admin true", "operator.update operator/"+op.ID+" admin true", "operator.delete operator/"+op.ID+" admin true",
		"group.create group/"+gid+" admin true", "group.update group/"+gid+" admin true", "group.delete group/"+gid+" admin true",
		"trunk.create trunk/"+tid+" admin true", "trunk.update trunk/"+tid+" admin true", "trunk.delete trunk/"+tr2.CreateTrunk.ID+" admin true",
		"pause_reason.create pause_reason/"+p.CreatePauseReason.ID+" admin true",
		"pause_reason.update pause_reason/"+p2.CreatePauseReason.ID+" admin true",
		"pause_reason.delete pause_reason/"+p.CreatePauseReason.ID+" admin true")
}
