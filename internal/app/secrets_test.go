package app

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/linkage/linkage/auth"
)

// TestSecretsNeverShow: passwords, session and CSRF tokens, API tokens and AMI
// secrets appear in no log line and in no API response — except the one response
// that hands a new token or generated password out — while the audit log records
// logins (success and failure) and admin changes, with who and from where.
func TestSecretsNeverShow(t *testing.T) {
	a, logs := startApp(t)
	d := seedLeakData(t, a) // its server has the AMI secret "ami-secret-do-not-leak"
	admin := adminClient(t, a)
	var responses []string
	run := func(c *client, q string, vars map[string]any) gqlResponse {
		t.Helper()
		_, r := c.gql(t, q, vars)
		b, _ := json.Marshal(r)
		responses = append(responses, string(b))
		return r
	}
	// A failed login whose "password" is a secret-looking string.
	anon(a).login(t, "admin", "wrong-password-secret")
	r := run(admin, `mutation { createUser(input: {login: "gen", roles: [SUPERVISOR]}) { password user { id } } }`, nil)
	var created struct {
		CreateUser struct {
			Password string
			User     struct{ ID string }
		}
	}
	json.Unmarshal(r.Data, &created)
	responses = responses[:0] // that response hands the generated password out, once
	_, r2 := admin.gql(t, `mutation($u: ID!) { createAPIToken(userID: $u, name: "crm", scope: read) { secret } }`, map[string]any{"u": created.CreateUser.User.ID})
	var tok struct{ CreateAPIToken struct{ Secret string } }
	json.Unmarshal(r2.Data, &tok)
	gen := anon(a)
	if r := gen.login(t, "gen", created.CreateUser.Password); len(r.Errors) > 0 {
		t.Fatalf("generated password does not work: %+v", r.Errors)
	}
	run(tokenClient(a, tok.CreateAPIToken.Secret), `{ viewer { user { login } } }`, nil)
	run(admin, `mutation($id: ID!) { setUserPassword(id: $id, password: "a-new-password-123") { user { login } password } }`, map[string]any{"id": created.CreateUser.User.ID})
	run(admin, `{ users(first: 10) { edges { node { login displayName lastLoginAt } } } apiTokens { name prefix scope lastUsedAt } servers(first: 5) { edges { node { name amiAddress amiUsername } } } }`, nil)
	r = run(admin, `{ auditLog(first: 50, orderBy: {field: AT, direction: ASC}) { totalCount edges { node { action actor actorID target success address details } } } }`, nil)
	audit := string(r.Data)
	for _, want := range []string{`"action":"login","actor":"anonymous"`, `"success":false`, `"action":"user.create"`, `"action":"token.create"`, `"action":"user.password"`, `"address":"127.0.0.1"`, `"actor":"admin"`} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit log lacks %s: %s", want, audit)
		}
	}
	// The audit log is for admins only.
	sup := signIn(t, a, "sup500", []string{auth.RoleSupervisor, auth.RoleUserManagement}, auth.Grant{Queues: []auth.QueueGrant{{QueueID: d.q500}}})
	if r := run(sup, `{ auditLog { totalCount } }`, nil); !strings.Contains(string(r.Data), `"totalCount":0`) {
		t.Errorf("a user manager read the audit log: %s", r.Data)
	}
	// A user manager may not make anyone an admin; the attempt is refused and audited.
	if r := run(sup, `mutation($id: ID!) { setUserRoles(id: $id, roles: [ADMIN]) { roles } }`, map[string]any{"id": created.CreateUser.User.ID}); errCode(r) != "FORBIDDEN" {
		t.Errorf("user manager granted admin: %s %+v", r.Data, r.Errors)
	}
	r = run(admin, `{ auditLog(where: {action: "user.roles", success: false}) { edges { node { actor details } } } }`, nil)
	if !strings.Contains(string(r.Data), `"actor":"sup500"`) || !strings.Contains(string(r.Data), "role/admin") {
		t.Errorf("the refused role change is not in the audit log: %s %+v", r.Data, r.Errors)
	}

	secrets := map[string]string{
		"admin password":     adminPassword,
		"failed password":    "wrong-password-secret",
		"generated password": created.CreateUser.Password,
		"new password":       "a-new-password-123",
		"API token":          tok.CreateAPIToken.Secret,
		"session cookie":     admin.cookie(t).Value,
		"CSRF token":         admin.csrf,
		"AMI secret":         "ami-secret-do-not-leak",
	}
	all := strings.Join(responses, "\n")
	for name, s := range secrets {
		if s == "" {
			t.Fatalf("%s is empty: the test is broken", name)
		}
		if strings.Contains(logs.String(), s) {
			t.Errorf("the %s appears in the logs", name)
		}
		if strings.Contains(all, s) {
			t.Errorf("the %s appears in an API response", name)
		}
	}
	if strings.Contains(logs.String(), "argon2id") || strings.Contains(all, "argon2id") {
		t.Error("a password hash leaked")
	}
}

// TestSessionCookieAttributes: HttpOnly and SameSite=Lax always; Secure when the
// request came over TLS (here: through a proxy that says so).
func TestSessionCookieAttributes(t *testing.T) {
	a, _ := startApp(t)
	createUser(t, a, "sup", "sup-password", []string{auth.RoleSupervisor}, auth.Grant{})
	for _, tls := range []bool{false, true} {
		body := `{"query":"mutation { login(login: \"sup\", password: \"sup-password\") { csrfToken } }"}`
		req, _ := http.NewRequest(http.MethodPost, "http://"+a.Addr()+"/graphql", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if tls {
			req.Header.Set("X-Forwarded-Proto", "https")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var session *http.Cookie
		for _, c := range resp.Cookies() {
			if c.Name == auth.SessionCookie {
				session = c
			}
		}
		if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Secure != tls || session.Path != "/" {
			t.Errorf("tls=%v: session cookie %+v", tls, session)
		}
	}
}
