package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/linkage/linkage/auth"
)

// mutationCase is one row of the access truth table: a request for every role, the
// roles it must not deny, and what a successful admin call leaves in the audit log.
type mutationCase struct {
	query string
	vars  func(role string) map[string]any
	// allowed are the roles the mutation must not refuse; all others must get
	// FORBIDDEN or UNAUTHENTICATED.
	allowed []string
	// action and target (from the admin's response data) are the audit entry a
	// successful admin call must leave; "" checks nothing.
	action string
	target func(data map[string]any) string
	// session runs the request on a new session of the role (logout ends it).
	session bool
	// stub: the resolver is another helper's and may still panic; a panic is not
	// judged (reported as a TODO).
	stub bool
}

const anonymous = "anonymous"

var (
	everyRole   = []string{auth.RoleAdmin, auth.RoleSupervisor, auth.RoleOperator, auth.RoleMonitoring, auth.RoleViewStatistics, auth.RoleBusinessProcesses, auth.RoleUserManagement, auth.RoleListenRecordings}
	adminOnly   = []string{auth.RoleAdmin}
	userManager = []string{auth.RoleAdmin, auth.RoleUserManagement}
	// Workplace actions need self.status (the operator's own) or queues.membership.
	workplaceRoles = []string{auth.RoleAdmin, auth.RoleOperator, auth.RoleBusinessProcesses}
)

// dataAt reads a string at a dotted path of a response's data.
func dataAt(data map[string]any, p string) string {
	var cur any = data
	for _, k := range strings.Split(p, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = m[k]
	}
	return fmt.Sprint(cur)
}

func fixed(s string) func(map[string]any) string { return func(map[string]any) string { return s } }

func fromData(kind, p string) func(map[string]any) string {
	return func(d map[string]any) string { return kind + "/" + dataAt(d, p) }
}

// TestMutationAccessTruthTable: every field of the Mutation type (read by
// introspection, so a new mutation without a row fails) is tried by every role and
// anonymously; the roles outside its row must be refused with a permission error,
// the others must not be; and each successful admin call leaves its audit entry
// naming the admin and the target.
func TestMutationAccessTruthTable(t *testing.T) {
	a, _ := startApp(t)
	d := seedLeakData(t, a)
	ctx := auth.SystemContext(context.Background())
	c := a.Client
	sid := c.Queue.GetX(ctx, d.q500).ServerID
	qDel := c.Queue.Create().SetServerID(sid).SetNumber("700").SaveX(ctx).ID
	opDel := c.Operator.Create().SetServerID(sid).SetNumber("1099").SaveX(ctx).ID
	gDel := c.OperatorGroup.Create().SetName("Doomed").SaveX(ctx).ID
	trUpd := c.Trunk.Create().SetServerID(sid).SetNumber("5550001").SaveX(ctx).ID
	trDel := c.Trunk.Create().SetServerID(sid).SetNumber("5550002").SaveX(ctx).ID
	prUpd := c.PauseReason.Create().SetName("Lunch").SaveX(ctx).ID
	prDel := c.PauseReason.Create().SetName("Smoke").SaveX(ctx).ID
	spareU := c.Server.Create().SetName("spare-u").SetAmiAddress("127.0.0.1:1").SetAmiUsername("u").SetAmiSecret("s").SetEnabled(false).SaveX(ctx).ID
	spareD := c.Server.Create().SetName("spare-d").SetAmiAddress("127.0.0.1:1").SetAmiUsername("u").SetAmiSecret("s").SetEnabled(false).SaveX(ctx).ID
	victim := createUser(t, a, "victim", "victim-password-1", []string{auth.RoleOperator}, auth.Grant{})
	tok, _, err := a.Auth.CreateToken(ctx, victim, "victim-token", "read", nil)
	if err != nil {
		t.Fatal(err)
	}
	passwords := map[string]string{auth.RoleAdmin: adminPassword}
	for _, r := range everyRole[1:] {
		passwords[r] = r + "-password"
	}
	login := map[string]string{auth.RoleAdmin: "admin"}
	for _, r := range everyRole[1:] {
		login[r] = r
	}
	none := func(string) map[string]any { return nil }
	v := func(m map[string]any) func(string) map[string]any { return func(string) map[string]any { return m } }
	itemID := func(kind, field string) func(map[string]any) string { return fromData(kind, field+".id") }

	cases := map[string]mutationCase{
		// Configuration (admin.graphqls and servers): config.write.
		"createQueue": {query: `mutation($s: ID!, $n: String!) { createQueue(serverID: $s, number: $n) { id } }`,
			vars: func(r string) map[string]any { return map[string]any{"s": sid, "n": "q-" + r} }, allowed: adminOnly,
			action: "queue.create", target: itemID("queue", "createQueue")},
		"updateQueue": {query: `mutation($id: ID!, $n: String) { updateQueue(id: $id, input: {displayName: $n}) { id } }`,
			vars: func(r string) map[string]any { return map[string]any{"id": d.q502, "n": "Q-" + r} }, allowed: adminOnly,
			action: "queue.update", target: fixed(fmt.Sprintf("queue/%d", d.q502))},
		"deleteQueue": {query: `mutation($id: ID!) { deleteQueue(id: $id) }`, vars: v(map[string]any{"id": qDel}), allowed: adminOnly,
			action: "queue.delete", target: fixed(fmt.Sprintf("queue/%d", qDel))},
		"createOperator": {query: `mutation($s: ID!, $n: String) { createOperator(serverID: $s, input: {number: $n}) { id } }`,
			vars: func(r string) map[string]any { return map[string]any{"s": sid, "n": "op-" + r} }, allowed: adminOnly,
			action: "operator.create", target: itemID("operator", "createOperator")},
		"updateOperator": {query: `mutation($id: ID!, $n: String) { updateOperator(id: $id, input: {name: $n}) { id } }`,
			vars: func(r string) map[string]any { return map[string]any{"id": d.opB, "n": "B-" + r} }, allowed: adminOnly,
			action: "operator.update", target: fixed(fmt.Sprintf("operator/%d", d.opB))},
		"deleteOperator": {query: `mutation($id: ID!) { deleteOperator(id: $id) }`, vars: v(map[string]any{"id": opDel}), allowed: adminOnly,
			action: "operator.delete", target: fixed(fmt.Sprintf("operator/%d", opDel))},
		"createOperatorGroup": {query: `mutation($n: String) { createOperatorGroup(input: {name: $n}) { id } }`,
			vars: func(r string) map[string]any { return map[string]any{"n": "g-" + r} }, allowed: adminOnly,
			action: "group.create", target: itemID("group", "createOperatorGroup")},
		"updateOperatorGroup": {query: `mutation($id: ID!, $n: String) { updateOperatorGroup(id: $id, input: {name: $n}) { id } }`,
			vars: func(r string) map[string]any { return map[string]any{"id": d.g2, "n": "G-" + r} }, allowed: adminOnly,
			action: "group.update", target: fixed(fmt.Sprintf("group/%d", d.g2))},
		"deleteOperatorGroup": {query: `mutation($id: ID!) { deleteOperatorGroup(id: $id) }`, vars: v(map[string]any{"id": gDel}), allowed: adminOnly,
			action: "group.delete", target: fixed(fmt.Sprintf("group/%d", gDel))},
		"createTrunk": {query: `mutation($s: ID!, $n: String) { createTrunk(serverID: $s, input: {number: $n}) { id } }`,
			vars: func(r string) map[string]any { return map[string]any{"s": sid, "n": "t-" + r} }, allowed: adminOnly,
			action: "trunk.create", target: itemID("trunk", "createTrunk")},
		"updateTrunk": {query: `mutation($id: ID!, $n: String) { updateTrunk(id: $id, input: {name: $n}) { id } }`,
			vars: func(r string) map[string]any { return map[string]any{"id": trUpd, "n": "T-" + r} }, allowed: adminOnly,
			action: "trunk.update", target: fixed(fmt.Sprintf("trunk/%d", trUpd))},
		"deleteTrunk": {query: `mutation($id: ID!) { deleteTrunk(id: $id) }`, vars: v(map[string]any{"id": trDel}), allowed: adminOnly,
			action: "trunk.delete", target: fixed(fmt.Sprintf("trunk/%d", trDel))},
		"createPauseReason": {query: `mutation($n: String) { createPauseReason(input: {name: $n}) { id } }`,
			vars: func(r string) map[string]any { return map[string]any{"n": "p-" + r} }, allowed: adminOnly,
			action: "pause_reason.create", target: itemID("pause_reason", "createPauseReason")},
		"updatePauseReason": {query: `mutation($id: ID!, $p: Int) { updatePauseReason(id: $id, input: {position: $p}) { id } }`,
			vars: v(map[string]any{"id": prUpd, "p": 2}), allowed: adminOnly,
			action: "pause_reason.update", target: fixed(fmt.Sprintf("pause_reason/%d", prUpd))},
		"deletePauseReason": {query: `mutation($id: ID!) { deletePauseReason(id: $id) }`, vars: v(map[string]any{"id": prDel}), allowed: adminOnly,
			action: "pause_reason.delete", target: fixed(fmt.Sprintf("pause_reason/%d", prDel))},
		"acceptDiscovered": {query: `mutation($s: ID!) { acceptDiscovered(serverID: $s, queues: [], operators: []) { queues { number } } }`,
			vars: v(map[string]any{"s": sid}), allowed: adminOnly, action: "discovery.accept", target: fixed(fmt.Sprintf("server/%d", sid))},
		"createServer": {query: `mutation($n: String) { createServer(input: {name: $n, amiAddress: "127.0.0.1:1", amiUsername: "u", amiSecret: "s", enabled: false}) { id } }`,
			vars: func(r string) map[string]any { return map[string]any{"n": "srv-" + r} }, allowed: adminOnly,
			action: "server.create", target: itemID("server", "createServer")},
		"updateServer": {query: `mutation($id: ID!, $n: String) { updateServer(id: $id, input: {name: $n, customVariables: ["CRM_ID"]}) { id } }`,
			vars: func(r string) map[string]any { return map[string]any{"id": spareU, "n": "spare-" + r} }, allowed: adminOnly,
			action: "server.update", target: fixed(fmt.Sprintf("server/%d", spareU))},
		"deleteServer": {query: `mutation($id: ID!) { deleteServer(id: $id) }`, vars: v(map[string]any{"id": spareD}), allowed: adminOnly,
			action: "server.delete", target: fixed(fmt.Sprintf("server/%d", spareD))},

		// Sessions: public.
		"login": {query: `mutation($l: String!, $p: String!) { login(login: $l, password: $p) { csrfToken } }`,
			vars: func(r string) map[string]any {
				if r == anonymous {
					return map[string]any{"l": "victim", "p": "victim-password-1"}
				}
				return map[string]any{"l": login[r], "p": passwords[r]}
			}, allowed: append(slices.Clone(everyRole), anonymous), session: true},
		// Logging out takes a session.
		"logout": {query: `mutation { logout }`, vars: none, allowed: everyRole, session: true},

		// Users and tokens: users.manage, tokens.manage.
		"createUser": {query: `mutation($l: String!) { createUser(input: {login: $l, password: "Long-password-123", roles: [OPERATOR]}) { user { id } } }`,
			vars: func(r string) map[string]any { return map[string]any{"l": "new-" + r} }, allowed: userManager,
			action: "user.create", target: fromData("user", "createUser.user.id")},
		"updateUser": {query: `mutation($id: ID!, $n: String) { updateUser(id: $id, input: {displayName: $n}) { id } }`,
			vars: func(r string) map[string]any { return map[string]any{"id": victim, "n": "V-" + r} }, allowed: userManager,
			action: "user.update", target: fixed(fmt.Sprintf("user/%d", victim))},
		"setUserPassword": {query: `mutation($id: ID!) { setUserPassword(id: $id, password: "Another-password-456") { user { id } } }`,
			vars: v(map[string]any{"id": victim}), allowed: userManager, action: "user.password", target: fixed(fmt.Sprintf("user/%d", victim))},
		"setUserRoles": {query: `mutation($id: ID!) { setUserRoles(id: $id, roles: [OPERATOR]) { roles } }`,
			vars: v(map[string]any{"id": victim}), allowed: userManager, action: "user.roles", target: fixed(fmt.Sprintf("user/%d", victim))},
		"setUserGrant": {query: `mutation($id: ID!) { setUserGrant(id: $id, grant: {allQueues: true}) { roles } }`,
			vars: v(map[string]any{"id": victim}), allowed: userManager, action: "user.scope", target: fixed(fmt.Sprintf("user/%d", victim))},
		"revokeUserSessions": {query: `mutation($id: ID!) { revokeUserSessions(id: $id) }`,
			vars: v(map[string]any{"id": victim}), allowed: userManager, action: "user.sessions.revoke", target: fixed(fmt.Sprintf("user/%d", victim))},
		"createAPIToken": {query: `mutation($u: ID!, $n: String!) { createAPIToken(userID: $u, name: $n, scope: read) { token { id } } }`,
			vars: func(r string) map[string]any { return map[string]any{"u": victim, "n": "t-" + r} }, allowed: userManager,
			action: "token.create", target: fromData("token", "createAPIToken.token.id")},
		"revokeAPIToken": {query: `mutation($id: ID!) { revokeAPIToken(id: $id) { id } }`,
			vars: v(map[string]any{"id": tok.ID}), allowed: userManager, action: "token.revoke", target: fixed(fmt.Sprintf("token/%d", tok.ID))},

		// The operator workplace: self.status or queues.membership.
		"pauseOperator": {query: `mutation($s: ID) { pauseOperator(input: {serverID: $s, paused: true, reason: "Lunch"}) { confirmed } }`,
			vars: v(map[string]any{"s": sid}), allowed: workplaceRoles, stub: true},
		"joinQueue": {query: `mutation($q: ID!) { joinQueue(input: {queueID: $q}) { confirmed } }`,
			vars: v(map[string]any{"q": d.q500}), allowed: workplaceRoles, stub: true},
		"leaveQueue": {query: `mutation($q: ID!) { leaveQueue(input: {queueID: $q}) { confirmed } }`,
			vars: v(map[string]any{"q": d.q500}), allowed: workplaceRoles, stub: true},
		"callBack":              {query: `mutation { callBack(missedCallID: 999999) { missedCall { id } } }`, vars: none, allowed: workplaceRoles, stub: true},
		"markMissedCallHandled": {query: `mutation { markMissedCallHandled(id: 999999, comment: "done") { id } }`, vars: none, allowed: workplaceRoles, stub: true},
	}

	// The fields of Mutation, by introspection.
	var schema struct {
		Schema struct {
			MutationType struct{ Fields []struct{ Name string } }
		} `json:"__schema"`
	}
	adminClient(t, a).ok(t, `{ __schema { mutationType { fields { name } } } }`, nil, &schema)
	var fields []string
	for _, f := range schema.Schema.MutationType.Fields {
		fields = append(fields, f.Name)
		if _, ok := cases[f.Name]; !ok {
			t.Errorf("mutation %s has no row in the access truth table: add who may call it", f.Name)
		}
	}
	for name := range cases {
		if !slices.Contains(fields, name) {
			t.Errorf("truth table row %s: no such mutation", name)
		}
	}
	if len(fields) < 30 {
		t.Fatalf("introspection found %d mutations: %v", len(fields), fields)
	}

	// One signed-in client per role, with a full scope so that only the role decides.
	full := auth.Grant{AllQueues: true, ListenAll: true, AllGroups: true, AllGroupOperators: true}
	clients := map[string]*client{auth.RoleAdmin: adminClient(t, a), anonymous: anon(a)}
	for _, r := range everyRole[1:] {
		clients[r] = signIn(t, a, r, []string{r}, full)
	}

	unjudged := map[string][]string{}
	defer func() {
		for name, roles := range unjudged {
			// TODO(workplace): drop once the workplace resolvers are implemented.
			t.Logf("TODO %s: internal error (resolver not implemented yet?) for %v: access not judged", name, roles)
		}
	}()
	// Admin last: its calls change or remove what the others were refused.
	roles := append(slices.Clone(everyRole[1:]), anonymous, auth.RoleAdmin)
	for _, name := range fields {
		mc, ok := cases[name]
		if !ok {
			continue
		}
		for _, role := range roles {
			cl := clients[role]
			if mc.session {
				cl = anon(a)
				if name != "login" && role != anonymous {
					cl = sessionClient(t, a, login[role], passwords[role])
				}
			}
			var before int
			_ = a.DB.QueryRow(`SELECT count(*) FROM audit_logs`).Scan(&before)
			status, r := cl.gql(t, mc.query, mc.vars(role))
			code := errCode(r)
			denied := code == "FORBIDDEN" || code == "UNAUTHENTICATED" || status == 401 || status == 403
			want := slices.Contains(mc.allowed, role)
			if mc.stub && code == "INTERNAL" {
				unjudged[name] = append(unjudged[name], role)
				continue
			}
			switch {
			case want && denied:
				t.Errorf("%s as %s: refused (%s: %s), want allowed", name, role, code, r.Errors[0].Message)
			case !want && !denied:
				t.Errorf("%s as %s: not refused (data %s, errors %+v), want a permission error", name, role, r.Data, r.Errors)
			}
			if role != auth.RoleAdmin || mc.action == "" {
				continue
			}
			if len(r.Errors) > 0 {
				t.Errorf("%s as admin should succeed here: %+v", name, r.Errors)
				continue
			}
			var data map[string]any
			_ = json.Unmarshal(r.Data, &data)
			target := mc.target(data)
			var n int
			if err := a.DB.QueryRow(`SELECT count(*) FROM audit_logs WHERE id > 0 AND action = $1 AND target = $2 AND actor = 'admin' AND success
				AND at >= now() - interval '1 minute'`, mc.action, target).Scan(&n); err != nil {
				t.Fatal(err)
			}
			var after int
			_ = a.DB.QueryRow(`SELECT count(*) FROM audit_logs`).Scan(&after)
			if n == 0 || after <= before {
				t.Errorf("%s as admin: no audit entry %s %s by admin", name, mc.action, target)
			}
		}
	}
	// And the admin reads them through the API, actor and target included.
	log := audited(t, a)
	if !slices.Contains(log, fmt.Sprintf("queue.delete queue/%d admin true", qDel)) ||
		!slices.Contains(log, fmt.Sprintf("queue.delete queue/%d supervisor false", qDel)) {
		t.Errorf("auditLog lacks the queue deletion and its refusal:\n%s", strings.Join(log, "\n"))
	}
}

// sessionClient opens a new session of a user without the HTTP login, whose
// per-address rate limit a table of every role would exhaust.
func sessionClient(t *testing.T, a *App, login, password string) *client {
	t.Helper()
	res, err := a.Auth.Login(context.Background(), login, password)
	if err != nil {
		t.Fatalf("session of %s: %v", login, err)
	}
	c := anon(a)
	c.setCookie(t, &http.Cookie{Name: auth.SessionCookie, Value: res.Token, Path: "/"})
	c.csrf = res.CSRFToken
	return c
}
