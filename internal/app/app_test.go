package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linkage/linkage/auth"
	"github.com/linkage/linkage/internal/config"
	"github.com/linkage/linkage/internal/testdb"
)

// The template stays empty: App.Start applies the migrations itself, which is the
// path under test.
func TestMain(m *testing.M) { testdb.Main(m) }

// startApp runs an App on a fresh database and a loopback port, stopped at cleanup.
func startApp(t *testing.T, tune ...func(*config.Options)) (*App, *bytes.Buffer) {
	t.Helper()
	opts := config.Defaults()
	opts.Listen = "127.0.0.1:0"
	opts.DatabaseURL = testdb.URL(t)
	opts.ShutdownTimeout = 10 * time.Second
	for _, f := range tune {
		f(&opts)
	}
	if err := opts.Validate(); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	a := New(opts, slog.New(slog.NewTextHandler(&lockedWriter{w: &logs}, nil)))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := a.Start(ctx); err != nil {
		t.Fatalf("start: %v", err)
	}
	appLogs.Store(a, &logs)
	t.Cleanup(func() {
		admins.Delete(a)
		appLogs.Delete(a)
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := a.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return a, &logs
}

type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// gql runs a query as the admin (signed in with a session cookie).
func gql(t *testing.T, a *App, query string, vars map[string]any) (int, gqlResponse) {
	t.Helper()
	return adminClient(t, a).gql(t, query, vars)
}

func get(t *testing.T, a *App, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + a.Addr() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHealthReadyMetrics(t *testing.T) {
	a, _ := startApp(t)
	if code, body := get(t, a, "/healthz"); code != 200 || !strings.Contains(body, "ok") {
		t.Fatalf("healthz = %d %s", code, body)
	}
	if code, body := get(t, a, "/readyz"); code != 200 || !strings.Contains(body, "ready") {
		t.Fatalf("readyz = %d %s", code, body)
	}
	gql(t, a, `{ servers { totalCount } }`, nil) // after the admin's login: two POSTs
	code, body := get(t, a, "/metrics")
	if code != 200 {
		t.Fatalf("metrics = %d", code)
	}
	for _, want := range []string{`linkage_http_requests_total{code="200",handler="graphql",method="post"} 2`, "go_goroutines", "process_resident_memory_bytes"} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if code, body := get(t, a, "/graphiql"); code != 200 || !strings.Contains(body, "/graphql") {
		t.Errorf("graphiql = %d", code)
	}
}

func TestReadyzReportsPendingMigrations(t *testing.T) {
	a, _ := startApp(t)
	if _, err := a.DB.Exec(`DELETE FROM linkage_schema_migrations`); err != nil {
		t.Fatal(err)
	}
	code, body := get(t, a, "/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "migrations pending") {
		t.Fatalf("readyz with pending migrations = %d %s, want 503", code, body)
	}
}

func TestGraphQLConnectionsAndNodes(t *testing.T) {
	a, _ := startApp(t)
	ctx := auth.SystemContext(context.Background())
	c := a.Client
	s1 := c.Server.Create().SetName("pbx-a").SetAmiAddress("10.0.0.1:5038").SetAmiUsername("u").SetAmiSecret("s3cret-a").SetTimezone("Europe/Moscow").SaveX(ctx)
	s2 := c.Server.Create().SetName("pbx-b").SetAmiAddress("10.0.0.2:5038").SetAmiUsername("u").SetAmiSecret("s3cret-b").SaveX(ctx)
	// The same queue number on two servers is two queues.
	q1 := c.Queue.Create().SetServer(s1).SetNumber("600").SetDisplayName("Support A").SaveX(ctx)
	c.Queue.Create().SetServer(s2).SetNumber("600").SetDisplayName("Support B").SaveX(ctx)
	c.Queue.Create().SetServer(s2).SetNumber("601").SaveX(ctx)
	op := c.Operator.Create().SetServer(s1).SetNumber("1001").SetInterface("PJSIP/1001").SetName("Agent One").SaveX(ctx)
	c.OperatorGroup.Create().SetName("Day shift").AddOperators(op).SaveX(ctx)
	c.Trunk.Create().SetServer(s1).SetNumber("5551000").SetName("Main DID").SaveX(ctx)

	_, r := gql(t, a, `{ servers(first: 1, orderBy: {field: NAME, direction: DESC}) { totalCount pageInfo { hasNextPage endCursor } edges { node { name timezone } } } }`, nil)
	if len(r.Errors) > 0 {
		t.Fatalf("errors: %+v", r.Errors)
	}
	var page struct {
		Servers struct {
			TotalCount int
			PageInfo   struct {
				HasNextPage bool
				EndCursor   string
			}
			Edges []struct {
				Node struct{ Name, Timezone string }
			}
		}
	}
	json.Unmarshal(r.Data, &page)
	if page.Servers.TotalCount != 2 || len(page.Servers.Edges) != 1 || page.Servers.Edges[0].Node.Name != "pbx-b" || !page.Servers.PageInfo.HasNextPage {
		t.Fatalf("first page = %+v", page)
	}
	_, r = gql(t, a, `query($after: Cursor) { servers(first: 5, after: $after, orderBy: {field: NAME, direction: DESC}) { edges { node { name } } pageInfo { hasNextPage } } }`,
		map[string]any{"after": page.Servers.PageInfo.EndCursor})
	if !strings.Contains(string(r.Data), `"pbx-a"`) || strings.Contains(string(r.Data), `"pbx-b"`) {
		t.Fatalf("second page = %s", r.Data)
	}

	_, r = gql(t, a, `{ queues(where: {number: "600"}, orderBy: {field: DISPLAY_NAME}) { totalCount edges { node { displayName server { name } } } } }`, nil)
	if got := string(r.Data); !strings.Contains(got, `"totalCount":2`) || !strings.Contains(got, `"Support A"`) || !strings.Contains(got, `"pbx-b"`) {
		t.Fatalf("queues 600 = %s %+v", got, r.Errors)
	}

	_, r = gql(t, a, `query($id: ID!) { node(id: $id) { __typename ... on Queue { number displayName server { name } } } }`, map[string]any{"id": q1.ID})
	if got := string(r.Data); !strings.Contains(got, `"__typename":"Queue"`) || !strings.Contains(got, `"Support A"`) || !strings.Contains(got, `"pbx-a"`) {
		t.Fatalf("node(queue) = %s %+v", got, r.Errors)
	}
	_, r = gql(t, a, `query($id: ID!) { node(id: $id) { __typename ... on Operator { name groups { name } } } }`, map[string]any{"id": op.ID})
	if got := string(r.Data); !strings.Contains(got, `"Operator"`) || !strings.Contains(got, `"Day shift"`) {
		t.Fatalf("node(operator) = %s %+v", got, r.Errors)
	}
	_, r = gql(t, a, `{ operatorGroups { edges { node { name operators { number } } } } trunks { edges { node { number name } } } operators { totalCount } }`, nil)
	if got := string(r.Data); !strings.Contains(got, `"1001"`) || !strings.Contains(got, `"5551000"`) || !strings.Contains(got, `"totalCount":1`) {
		t.Fatalf("groups/trunks/operators = %s %+v", got, r.Errors)
	}
}

func TestGraphQLBadInput(t *testing.T) {
	a, logs := startApp(t)
	ctx := auth.SystemContext(context.Background())
	a.Client.Server.Create().SetName("pbx").SetAmiAddress("h:5038").SetAmiUsername("u").SetAmiSecret("very-secret-value").SaveX(ctx)

	cases := []struct {
		name, query string
		vars        map[string]any
		wantMsg     string
	}{
		{"secret is not in the schema", `{ servers { edges { node { amiSecret } } } }`, nil, `Cannot query field "amiSecret"`},
		{"syntax error", `{ servers { `, nil, "Expected Name"},
		{"wrong id type", `{ node(id: "not-a-number") { id } }`, nil, "not-a-number"},
		{"unknown node", `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": 99}, "Could not resolve to a node"},
		{"unknown enum", `{ servers(orderBy: {field: PASSWORD}) { totalCount } }`, nil, "PASSWORD"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, r := gql(t, a, tc.query, tc.vars)
			if len(r.Errors) == 0 {
				t.Fatalf("no error for %s: %s", tc.query, r.Data)
			}
			if !strings.Contains(r.Errors[0].Message, tc.wantMsg) {
				t.Fatalf("error = %q, want it to mention %q", r.Errors[0].Message, tc.wantMsg)
			}
		})
	}
	if strings.Contains(logs.String(), "very-secret-value") {
		t.Fatal("the AMI secret appeared in the logs")
	}
}

func TestComplexityLimit(t *testing.T) {
	a, _ := startApp(t)
	// Each nested connection multiplies the cost; this one is far beyond the limit.
	q := `{ servers(first: 1000) { edges { node { queues(first: 1000) { edges { node { server { operators(first: 1000) { edges { node { groups { operators { number } } } } } } } } } } } } }`
	_, r := gql(t, a, q, nil)
	if len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Message, "complexity") {
		t.Fatalf("over-complex query was not refused: %+v", r.Errors)
	}
}

func TestStopTwiceAndStartFailureCleansUp(t *testing.T) {
	opts := config.Defaults()
	opts.Listen = "127.0.0.1:0"
	opts.DatabaseURL = "host=/nonexistent port=1 user=x dbname=x sslmode=disable connect_timeout=2"
	a := New(opts, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	err := a.Start(ctx)
	if err == nil || !strings.Contains(err.Error(), "connect to database") {
		t.Fatalf("start on an unreachable database: %v", err)
	}
	if err := a.Stop(ctx); err != nil {
		t.Fatalf("stop after failed start: %v", err)
	}
}

// lockedWriter lets the test read logs the server writes from other goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
