package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"sync"
	"testing"

	"github.com/linkage/linkage/auth"
)

// adminPassword is the password of the "admin" user every test app gets.
const adminPassword = "admin-password-for-tests"

// client speaks to an app over real HTTP as one caller: anonymous, signed in with a
// session cookie (plus its CSRF token), or with an API token.
type client struct {
	a     *App
	http  *http.Client
	csrf  string
	token string
}

func anon(a *App) *client {
	jar, _ := cookiejar.New(nil)
	return &client{a: a, http: &http.Client{Jar: jar}}
}

func tokenClient(a *App, token string) *client {
	c := anon(a)
	c.token = token
	return c
}

var admins sync.Map // *App -> *client

// adminClient signs in as "admin" (created on first use with the Admin role).
func adminClient(t *testing.T, a *App) *client {
	t.Helper()
	if c, ok := admins.Load(a); ok {
		return c.(*client)
	}
	createUser(t, a, "admin", adminPassword, []string{auth.RoleAdmin}, auth.Grant{})
	c := anon(a)
	if r := c.login(t, "admin", adminPassword); len(r.Errors) > 0 || c.csrf == "" {
		t.Fatalf("admin login: %s %+v\n%s", r.Data, r.Errors, logsOf(a))
	}
	admins.Store(a, c)
	return c
}

func createUser(t *testing.T, a *App, login, password string, roles []string, g auth.Grant) int {
	t.Helper()
	u, _, err := a.Auth.CreateUser(auth.SystemContext(context.Background()), auth.NewUser{Login: login, Password: password, Roles: roles, Grant: g})
	if err != nil {
		t.Fatalf("create user %s: %v", login, err)
	}
	return u.ID
}

// login signs in and keeps the cookie and the CSRF token.
func (c *client) login(t *testing.T, login, password string) gqlResponse {
	t.Helper()
	_, r := c.gql(t, `mutation($l: String!, $p: String!) { login(login: $l, password: $p) { csrfToken viewer { user { login } } } }`,
		map[string]any{"l": login, "p": password})
	if len(r.Errors) == 0 {
		var d struct{ Login struct{ CsrfToken string } }
		_ = json.Unmarshal(r.Data, &d)
		c.csrf = d.Login.CsrfToken
	}
	return r
}

func (c *client) gql(t *testing.T, query string, vars map[string]any) (int, gqlResponse) {
	t.Helper()
	code, raw := c.post(t, query, vars, nil)
	var out gqlResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("response is not JSON: %v: %s", err, raw)
	}
	return code, out
}

// post sends a GraphQL request; header overrides the CSRF header when given.
func (c *client) post(t *testing.T, query string, vars map[string]any, header map[string]string) (int, []byte) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, "http://"+c.a.Addr()+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if c.csrf != "" {
		req.Header.Set(auth.CSRFHeader, c.csrf)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

func errCode(r gqlResponse) string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

var appLogs sync.Map // *App -> *bytes.Buffer

func logsOf(a *App) string {
	if b, ok := appLogs.Load(a); ok {
		return b.(*bytes.Buffer).String()
	}
	return ""
}

// cookie returns the client's session cookie.
func (c *client) cookie(t *testing.T) *http.Cookie {
	t.Helper()
	u, _ := url.Parse("http://" + c.a.Addr() + "/graphql")
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == auth.SessionCookie {
			return ck
		}
	}
	t.Fatal("no session cookie")
	return nil
}

func (c *client) setCookie(t *testing.T, ck *http.Cookie) {
	t.Helper()
	u, _ := url.Parse("http://" + c.a.Addr() + "/graphql")
	c.http.Jar.SetCookies(u, []*http.Cookie{ck})
}
