package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/linkage/linkage/auth"
	"github.com/linkage/linkage/ent/call"
	"github.com/linkage/linkage/ent/queueattempt"
	"github.com/linkage/linkage/ent/queuevisit"
	"github.com/linkage/linkage/internal/config"
)

// leakData is a call center with queues 500 and 502 and operators serving both.
type leakData struct {
	q500, q502                 int
	g1, g2                     int
	opA, opB, opU              int // opA serves 500 and 502 (group 1); opB only 502 (group 2); opU untracked (group 1)
	c500, c502, cBoth, cDirect int
	// Everything of 502 (and of operators outside the scope), by id.
	forbidden []int
	// What a supervisor granted 500 and group 1 must see.
	allowed []int
}

func seedLeakData(t *testing.T, a *App) *leakData {
	t.Helper()
	ctx := auth.SystemContext(context.Background())
	c := a.Client
	d := &leakData{}
	s := c.Server.Create().SetName("pbx").SetAmiAddress("127.0.0.1:5038").SetAmiUsername("u").SetAmiSecret("ami-secret-do-not-leak").SaveX(ctx)
	d.q500 = c.Queue.Create().SetServer(s).SetNumber("500").SetDisplayName("Sales").SaveX(ctx).ID
	d.q502 = c.Queue.Create().SetServer(s).SetNumber("502").SetDisplayName("Secret line").SaveX(ctx).ID
	opA := c.Operator.Create().SetServer(s).SetNumber("1001").SetName("Anna").SaveX(ctx)
	opB := c.Operator.Create().SetServer(s).SetNumber("1002").SetName("Boris").SaveX(ctx)
	opU := c.Operator.Create().SetServer(s).SetNumber("1003").SetName("Untracked").SetTracked(false).SaveX(ctx)
	d.opA, d.opB, d.opU = opA.ID, opB.ID, opU.ID
	d.g1 = c.OperatorGroup.Create().SetName("Team 1").AddOperators(opA, opU).SaveX(ctx).ID
	d.g2 = c.OperatorGroup.Create().SetName("Team 2").AddOperators(opB).SaveX(ctx).ID
	t0 := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	mkCall := func(linkedid string, queues []string, answeredBy int) int {
		cc := c.Call.Create().SetServer(s).SetLinkedid(linkedid).SetStart(t0).SetEnd(t0.Add(time.Minute)).
			SetType(call.TypeInbound).SetStatus(call.StatusAnswered).SetQueues(queues).
			SetMissedInQueues(queues).SetMissedByOperators([]string{"1002"})
		if answeredBy != 0 {
			cc.SetAnsweredByID(answeredBy)
		}
		return cc.SaveX(ctx).ID
	}
	visit := func(callID, q, op int) int {
		return c.QueueVisit.Create().SetCallID(callID).SetQueueID(q).SetJoinedAt(t0).SetResult(queuevisit.ResultAnswered).SetAnsweredByID(op).SaveX(ctx).ID
	}
	attempt := func(callID, q, op int) int {
		return c.QueueAttempt.Create().SetCallID(callID).SetQueueID(q).SetOperatorID(op).SetRingStart(t0).SetResult(queueattempt.ResultAnswered).SaveX(ctx).ID
	}
	leg := func(callID, q, op int) int {
		return c.CallLeg.Create().SetCallID(callID).SetQueueID(q).SetOperatorID(op).SaveX(ctx).ID
	}
	d.c500 = mkCall("1.1", []string{"500"}, d.opA)
	d.c502 = mkCall("1.2", []string{"502"}, d.opA)
	d.cBoth = mkCall("1.3", []string{"500", "502"}, d.opA)
	d.cDirect = mkCall("1.4", nil, d.opB)
	status := func(op int, queue string) int {
		return c.OperatorStatusChange.Create().SetOperatorID(op).SetStatus("paused").SetQueue(queue).SetFrom(t0).SaveX(ctx).ID
	}
	d.allowed = []int{d.q500, d.opA, d.g1, d.c500, d.cBoth,
		visit(d.c500, d.q500, d.opA), attempt(d.c500, d.q500, d.opA), leg(d.c500, d.q500, d.opA),
		visit(d.cBoth, d.q500, d.opA), attempt(d.cBoth, d.q500, d.opA), status(d.opA, "500")}
	d.forbidden = []int{d.q502, d.opB, d.opU, d.g2, d.c502, d.cDirect,
		visit(d.c502, d.q502, d.opA), attempt(d.c502, d.q502, d.opA), attempt(d.c502, d.q502, d.opB), leg(d.c502, d.q502, d.opA),
		visit(d.cBoth, d.q502, d.opA), attempt(d.cBoth, d.q502, d.opB), leg(d.cBoth, d.q502, d.opA),
		status(d.opA, "502"), status(d.opB, "")}
	return d
}

// mustNotLeak fails when a response mentions any forbidden id or the text "502".
func (d *leakData) mustNotLeak(t *testing.T, what string, r gqlResponse) {
	t.Helper()
	raw, _ := json.Marshal(r)
	body := string(raw)
	for _, id := range d.forbidden {
		if strings.Contains(body, `"`+strconv.Itoa(id)+`"`) {
			t.Errorf("%s: leaked id %d: %s", what, id, body)
		}
	}
	for _, s := range []string{"502", "Secret line", "Boris", "Untracked", "1002", "1003", "Team 2"} {
		if strings.Contains(body, s) {
			t.Errorf("%s: leaked %q: %s", what, s, body)
		}
	}
}

func signIn(t *testing.T, a *App, login string, roles []string, g auth.Grant) *client {
	t.Helper()
	createUser(t, a, login, login+"-password", roles, g)
	c := anon(a)
	if r := c.login(t, login, login+"-password"); len(r.Errors) > 0 {
		t.Fatalf("login %s: %+v", login, r.Errors)
	}
	return c
}

// TestScopeLeaks: a supervisor granted only queue 500 (and operator group 1) never
// receives anything of queue 502 — through lists, node(id:) and nodes(ids:), nested
// edges from an operator who also serves 502, or the call's own lists.
func TestScopeLeaks(t *testing.T) {
	a, _ := startApp(t)
	d := seedLeakData(t, a)
	sup := signIn(t, a, "sup500", []string{auth.RoleSupervisor}, auth.Grant{
		Queues: []auth.QueueGrant{{QueueID: d.q500}}, GroupIDs: []int{d.g1}, AllGroupOperators: true,
	})

	t.Run("lists", func(t *testing.T) {
		_, r := sup.gql(t, `{
			queues(first: 10) { totalCount edges { node { id number displayName } } }
			other: queues(where: {number: "502"}) { totalCount }
			operators(first: 10) { totalCount edges { node { id number name groups { id name } } } }
			operatorGroups(first: 10) { totalCount edges { node { id name operators { id number name } } } }
		}`, nil)
		if len(r.Errors) > 0 {
			t.Fatalf("errors: %+v", r.Errors)
		}
		d.mustNotLeak(t, "lists", r)
		_, r2 := sup.gql(t, `{ servers(first: 5) { edges { node { id name queues(first: 10) { edges { node { id number } } } operators(first: 10) { edges { node { id number } } } } } } }`, nil)
		if len(r2.Errors) > 0 || !strings.Contains(string(r2.Data), `"500"`) {
			t.Fatalf("servers: %s %+v", r2.Data, r2.Errors)
		}
		d.mustNotLeak(t, "servers", r2)
		var got struct {
			Queues, Other, Operators, OperatorGroups struct{ TotalCount int }
		}
		json.Unmarshal(r.Data, &got)
		if got.Queues.TotalCount != 1 || got.Other.TotalCount != 0 || got.Operators.TotalCount != 1 || got.OperatorGroups.TotalCount != 1 {
			t.Fatalf("counts = %+v, want one queue, no 502, one operator, one group", got)
		}
	})

	t.Run("node by id", func(t *testing.T) {
		for _, id := range d.forbidden {
			_, r := sup.gql(t, `query($id: ID!) { node(id: $id) { id __typename } }`, map[string]any{"id": id})
			if string(r.Data) != `{"node":null}` {
				t.Errorf("node(%d) = %s", id, r.Data)
			}
			d.mustNotLeak(t, fmt.Sprintf("node(%d)", id), r)
		}
		_, r := sup.gql(t, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": append(append([]int{}, d.allowed...), d.forbidden...)})
		d.mustNotLeak(t, "nodes", r)
		for _, id := range d.allowed {
			if !strings.Contains(string(r.Data), `"`+strconv.Itoa(id)+`"`) {
				t.Errorf("nodes lacks allowed id %d: %s", id, r.Data)
			}
		}
	})

	t.Run("nested edges", func(t *testing.T) {
		q := `query($id: ID!) { node(id: $id) { ... on Call {
			id queues missedInQueues missedByOperators
			visits { id queue { id number } answeredBy { id number } }
			attempts { id queue { number } operator { id number groups { id operators { id number } } } }
			legs { id queue { number } operator { number } }
			answeredBy { id number groups { id name operators { id number } } server { queues { edges { node { id number } } } } }
			server { name operators { edges { node { id } } } queues { totalCount } }
		} } }`
		_, r := sup.gql(t, q, map[string]any{"id": d.cBoth})
		d.mustNotLeak(t, "call 500+502", r)
		if !strings.Contains(string(r.Data), `"500"`) || !strings.Contains(string(r.Data), "1001") {
			t.Fatalf("the allowed part of the call is missing: %s %+v", r.Data, r.Errors)
		}
		_, r = sup.gql(t, `query($id: ID!) { node(id: $id) { ... on Operator { number groups { name operators { number } } server { queues { edges { node { number } } } } } } }`, map[string]any{"id": d.opA})
		d.mustNotLeak(t, "operator serving both", r)
		if !strings.Contains(string(r.Data), "1001") {
			t.Fatalf("operator A missing: %s %+v", r.Data, r.Errors)
		}
	})

	t.Run("operator cannot read statistics", func(t *testing.T) {
		op := signIn(t, a, "op500", []string{auth.RoleOperator}, auth.Grant{
			Queues: []auth.QueueGrant{{QueueID: d.q500}}, GroupIDs: []int{d.g1}, AllGroupOperators: true,
		})
		for _, id := range d.allowed {
			_, r := op.gql(t, `query($id: ID!) { node(id: $id) { __typename id } }`, map[string]any{"id": id})
			var n struct {
				Node *struct {
					Typename string `json:"__typename"`
				}
			}
			json.Unmarshal(r.Data, &n)
			if n.Node == nil {
				continue
			}
			switch n.Node.Typename {
			case "Call", "CallLeg", "QueueVisit", "QueueAttempt", "OperatorStatusChange":
				t.Errorf("operator read %s %d (statistics)", n.Node.Typename, id)
			}
		}
		// Their own queues and colleagues are visible.
		_, r := op.gql(t, `{ queues { totalCount } operators { totalCount } viewer { permissions } }`, nil)
		if !strings.Contains(string(r.Data), `"queues":{"totalCount":1}`) || strings.Contains(string(r.Data), "reports.read") || strings.Contains(string(r.Data), "calls.read") {
			t.Fatalf("operator view = %s %+v", r.Data, r.Errors)
		}
		// Admin-only data is filtered out or refused.
		_, r = op.gql(t, `{ auditLog { totalCount } users { totalCount } }`, nil)
		if !strings.Contains(string(r.Data), `"auditLog":{"totalCount":0}`) || !strings.Contains(string(r.Data), `"users":{"totalCount":1}`) {
			t.Fatalf("operator sees admin data: %s %+v", r.Data, r.Errors)
		}
		_, r = op.gql(t, `mutation { createUser(input: {login: "x", roles: [ADMIN]}) { user { id } } }`, nil)
		if errCode(r) != "FORBIDDEN" || !strings.Contains(r.Errors[0].Message, "users.manage") {
			t.Fatalf("operator createUser: %+v", r.Errors)
		}
	})

	t.Run("unauthenticated", func(t *testing.T) {
		nobody := anon(a)
		for _, q := range []string{`{ queues { totalCount } }`, fmt.Sprintf(`{ node(id: %d) { id } }`, d.q500), `{ operators { totalCount } }`} {
			_, r := nobody.gql(t, q, nil)
			if errCode(r) != "UNAUTHENTICATED" {
				t.Errorf("%s without credentials: %s %+v", q, r.Data, r.Errors)
			}
		}
		_, r := nobody.gql(t, `mutation { createUser(input: {login: "x"}) { user { id } } }`, nil)
		if errCode(r) != "UNAUTHENTICATED" {
			t.Errorf("mutation without credentials: %+v", r.Errors)
		}
		if _, r := nobody.gql(t, `{ viewer { user { login } } }`, nil); string(r.Data) != `{"viewer":null}` || len(r.Errors) > 0 {
			t.Errorf("anonymous viewer = %s %+v", r.Data, r.Errors)
		}
	})
}

// TestTokenScopesAndRevocation: a token acts as its user within its scope; a token
// without the needed scope cannot mutate; a revoked token stops working at once.
func TestTokenScopesAndRevocation(t *testing.T) {
	a, _ := startApp(t)
	admin := adminClient(t, a)
	_, r := admin.gql(t, `{ viewer { user { id } } }`, nil)
	var me struct {
		Viewer struct{ User struct{ ID string } }
	}
	json.Unmarshal(r.Data, &me)
	newToken := func(scope string) (string, string) {
		t.Helper()
		_, r := admin.gql(t, `mutation($u: ID!, $s: APITokenScope!) { createAPIToken(userID: $u, name: "crm", scope: $s) { secret token { id prefix scope } } }`,
			map[string]any{"u": me.Viewer.User.ID, "s": scope})
		var p struct {
			CreateAPIToken struct {
				Secret string
				Token  struct{ ID, Prefix string }
			}
		}
		json.Unmarshal(r.Data, &p)
		if p.CreateAPIToken.Secret == "" || !strings.HasPrefix(p.CreateAPIToken.Secret, p.CreateAPIToken.Token.Prefix) {
			t.Fatalf("createAPIToken: %s %+v", r.Data, r.Errors)
		}
		return p.CreateAPIToken.Token.ID, p.CreateAPIToken.Secret
	}
	mutation := `mutation($l: String!) { createUser(input: {login: $l, roles: [OPERATOR]}) { user { login } } }`
	readID, read := newToken("read")
	_, write := newToken("write")
	_, adm := newToken("admin")

	if _, r := tokenClient(a, read).gql(t, `{ queues { totalCount } viewer { tokenID } }`, nil); len(r.Errors) > 0 || !strings.Contains(string(r.Data), readID) {
		t.Fatalf("read token query: %s %+v", r.Data, r.Errors)
	}
	_, r = admin.gql(t, `{ apiTokens { id lastUsedAt } }`, nil)
	var toks struct {
		APITokens []struct {
			ID         string
			LastUsedAt *string
		}
	}
	json.Unmarshal(r.Data, &toks)
	for _, tk := range toks.APITokens {
		if (tk.ID == readID) != (tk.LastUsedAt != nil) {
			t.Errorf("last use of token %s = %v (only the read token was used)", tk.ID, tk.LastUsedAt)
		}
	}
	for name, tok := range map[string]string{"read": read, "write": write} {
		if _, r := tokenClient(a, tok).gql(t, mutation, map[string]any{"l": "by-" + name}); errCode(r) != "FORBIDDEN" {
			t.Errorf("%s token created a user: %s %+v", name, r.Data, r.Errors)
		}
	}
	if _, r := tokenClient(a, adm).gql(t, mutation, map[string]any{"l": "by-admin-token"}); len(r.Errors) > 0 {
		t.Fatalf("admin token: %+v", r.Errors)
	}
	// No CSRF token is needed with a bearer token: there is no ambient credential.
	if _, r := admin.gql(t, `mutation($id: ID!) { revokeAPIToken(id: $id) { revokedAt } }`, map[string]any{"id": readID}); len(r.Errors) > 0 {
		t.Fatalf("revoke: %+v", r.Errors)
	}
	code, r := tokenClient(a, read).gql(t, `{ queues { totalCount } }`, nil)
	if code != http.StatusUnauthorized || errCode(r) != "UNAUTHENTICATED" {
		t.Fatalf("revoked token: %d %+v", code, r.Errors)
	}
	if code, _ := tokenClient(a, "lkg_made-up").gql(t, `{ queues { totalCount } }`, nil); code != http.StatusUnauthorized {
		t.Fatalf("made-up token: %d", code)
	}
}

func TestCSRFRejection(t *testing.T) {
	a, _ := startApp(t)
	c := signIn(t, a, "sup", []string{auth.RoleSupervisor}, auth.Grant{})
	q := `mutation { logout }`
	for name, h := range map[string]map[string]string{"missing": {auth.CSRFHeader: ""}, "wrong": {auth.CSRFHeader: "not-the-token"}} {
		code, raw := c.post(t, q, nil, h)
		if code != http.StatusForbidden || !strings.Contains(string(raw), `"CSRF"`) {
			t.Errorf("%s CSRF token: %d %s", name, code, raw)
		}
	}
	// Another session's CSRF token does not fit this session.
	other := signIn(t, a, "other", []string{auth.RoleSupervisor}, auth.Grant{})
	if code, _ := c.post(t, q, nil, map[string]string{auth.CSRFHeader: other.csrf}); code != http.StatusForbidden {
		t.Errorf("a CSRF token of another session was accepted: %d", code)
	}
	// The session still works with the right token, and logout ends it server-side:
	// the old cookie, replayed, is worthless.
	if _, r := c.gql(t, q, nil); len(r.Errors) > 0 {
		t.Fatalf("logout with the right token: %+v", r.Errors)
	}
	replay := anon(a)
	replay.csrf = c.csrf
	u, _ := http.NewRequest("GET", "http://"+a.Addr()+"/", nil)
	for _, ck := range c.http.Jar.Cookies(u.URL) {
		if ck.Name == auth.SessionCookie {
			t.Fatal("logout did not clear the session cookie")
		}
	}
}

func TestSessionRevocationAndExpiry(t *testing.T) {
	a, _ := startApp(t, func(o *config.Options) { o.SessionIdle = 1500 * time.Millisecond })
	c := signIn(t, a, "sup", []string{auth.RoleSupervisor}, auth.Grant{})
	stolen := c.cookie(t)
	if _, r := c.gql(t, `mutation { logout }`, nil); len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	thief := anon(a)
	thief.setCookie(t, stolen)
	if _, r := thief.gql(t, `{ queues { totalCount } }`, nil); errCode(r) != "UNAUTHENTICATED" {
		t.Fatalf("a logged-out session still works: %+v", r.Errors)
	}
	// Revocation by an admin.
	c = anon(a)
	c.login(t, "sup", "sup-password")
	admin := adminClient(t, a)
	_, r := admin.gql(t, `{ users(where: {login: "sup"}) { edges { node { id } } } }`, nil)
	var us struct {
		Users struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	json.Unmarshal(r.Data, &us)
	if _, r := admin.gql(t, `mutation($id: ID!) { revokeUserSessions(id: $id) }`, map[string]any{"id": us.Users.Edges[0].Node.ID}); string(r.Data) != `{"revokeUserSessions":1}` {
		t.Fatalf("revokeUserSessions: %s %+v", r.Data, r.Errors)
	}
	if _, r := c.gql(t, `{ queues { totalCount } }`, nil); errCode(r) != "UNAUTHENTICATED" {
		t.Fatalf("a revoked session still works: %+v", r.Errors)
	}
	// Idle expiry.
	c = anon(a)
	c.login(t, "sup", "sup-password")
	if _, r := c.gql(t, `{ queues { totalCount } }`, nil); len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	time.Sleep(1600 * time.Millisecond)
	if _, r := c.gql(t, `{ queues { totalCount } }`, nil); errCode(r) != "UNAUTHENTICATED" {
		t.Fatalf("an idle session still works: %+v", r.Errors)
	}
}

// TestLoginRateLimitAndUniformFailures: failures never say which of login or
// password was wrong, and guessing is stopped per login even with the right password.
func TestLoginRateLimitAndUniformFailures(t *testing.T) {
	a, _ := startApp(t)
	createUser(t, a, "victim", "victim-password", []string{auth.RoleSupervisor}, auth.Grant{})
	c := anon(a)
	wrongPw := c.login(t, "victim", "guess-1")
	noUser := c.login(t, "nobody-by-that-name", "guess-1")
	if wrongPw.Errors[0].Message != noUser.Errors[0].Message || errCode(wrongPw) != errCode(noUser) || errCode(wrongPw) != "UNAUTHENTICATED" {
		t.Fatalf("failures differ: %+v vs %+v", wrongPw.Errors, noUser.Errors)
	}
	for i := 2; i <= 5; i++ {
		c.login(t, "victim", fmt.Sprintf("guess-%d", i))
	}
	r := c.login(t, "victim", "victim-password") // the 6th attempt on this login
	if errCode(r) != "RATE_LIMITED" {
		t.Fatalf("6th attempt: %s %+v", r.Data, r.Errors)
	}
	// Another login from the same address is still possible (the address bucket is larger).
	createUser(t, a, "bystander", "bystander-password", nil, auth.Grant{})
	if r := c.login(t, "bystander", "bystander-password"); len(r.Errors) > 0 {
		t.Fatalf("another login was limited too: %+v", r.Errors)
	}
}

// TestWebsocketConnectionInit speaks graphql-transport-ws: connection_init without
// credentials is refused (4401), with a bearer token in the payload it is acknowledged
// and operations run as the token's user.
func TestWebsocketConnectionInit(t *testing.T) {
	a, _ := startApp(t)
	admin := adminClient(t, a)
	_, r := admin.gql(t, `{ viewer { user { id } } }`, nil)
	var me struct {
		Viewer struct{ User struct{ ID string } }
	}
	json.Unmarshal(r.Data, &me)
	_, r = admin.gql(t, `mutation($u: ID!) { createAPIToken(userID: $u, name: "ws", scope: read) { secret token { id } } }`, map[string]any{"u": me.Viewer.User.ID})
	var p struct {
		CreateAPIToken struct {
			Secret string
			Token  struct{ ID string }
		}
	}
	json.Unmarshal(r.Data, &p)

	dial := func(t *testing.T, payload map[string]any) (*websocket.Conn, context.Context) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		t.Cleanup(cancel)
		conn, _, err := websocket.Dial(ctx, "ws://"+a.Addr()+"/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.CloseNow() })
		msg := map[string]any{"type": "connection_init"}
		if payload != nil {
			msg["payload"] = payload
		}
		if err := wsjson.Write(ctx, conn, msg); err != nil {
			t.Fatal(err)
		}
		return conn, ctx
	}
	refused := func(t *testing.T, payload map[string]any) {
		t.Helper()
		conn, ctx := dial(t, payload)
		for {
			var m map[string]any
			err := wsjson.Read(ctx, conn, &m)
			if err != nil {
				if websocket.CloseStatus(err) != 4401 {
					t.Fatalf("closed with %v, want 4401", err)
				}
				return
			}
			if m["type"] == "connection_ack" {
				t.Fatalf("connection acknowledged with payload %v", payload)
			}
		}
	}
	t.Run("no credentials", func(t *testing.T) { refused(t, nil) })
	t.Run("bad token", func(t *testing.T) { refused(t, map[string]any{"authorization": "Bearer lkg_nonsense"}) })
	t.Run("token", func(t *testing.T) {
		conn, ctx := dial(t, map[string]any{"authorization": "Bearer " + p.CreateAPIToken.Secret})
		var m map[string]any
		if err := wsjson.Read(ctx, conn, &m); err != nil || m["type"] != "connection_ack" {
			t.Fatalf("init: %v %v", m, err)
		}
		wsjson.Write(ctx, conn, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": `{ viewer { user { login } tokenID } }`}})
		for {
			if err := wsjson.Read(ctx, conn, &m); err != nil {
				t.Fatal(err)
			}
			if m["type"] == "next" {
				b, _ := json.Marshal(m["payload"])
				if !strings.Contains(string(b), `"login":"admin"`) || !strings.Contains(string(b), p.CreateAPIToken.Token.ID) {
					t.Fatalf("result over WebSocket: %s", b)
				}
				break
			}
		}
		conn.Close(websocket.StatusNormalClosure, "")
	})
	t.Run("revoked token", func(t *testing.T) {
		admin.gql(t, `mutation($id: ID!) { revokeAPIToken(id: $id) { id } }`, map[string]any{"id": p.CreateAPIToken.Token.ID})
		refused(t, map[string]any{"authorization": "Bearer " + p.CreateAPIToken.Secret})
	})
}
