package auth

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	entsql "entgo.io/ent/dialect/sql"
	_ "github.com/lib/pq"

	"github.com/linkage/linkage/auth/viewer"
	"github.com/linkage/linkage/ent"
	"github.com/linkage/linkage/internal/dbschema"
	"github.com/linkage/linkage/internal/testdb"
)

func TestMain(m *testing.M) {
	testdb.SetMigrate(func(ctx context.Context, db *sql.DB) error {
		_, err := dbschema.Apply(ctx, db)
		return err
	})
	testdb.Main(m)
}

type fixture struct {
	url    string
	client *ent.Client
	svc    *Service
	sys    context.Context
	q500   int
	q502   int
	now    time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{url: testdb.URL(t), now: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	db, err := sql.Open("postgres", f.url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f.client = ent.NewClient(ent.Driver(entsql.OpenDB("postgres", db)))
	en, err := NewEnforcer(f.client, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	f.svc = NewService(f.client, en, Options{Now: func() time.Time { return f.now }})
	f.sys = SystemContext(context.Background())
	s := f.client.Server.Create().SetName("pbx").SetAmiAddress("127.0.0.1:5038").SetAmiUsername("u").SetAmiSecret("x").SaveX(f.sys)
	f.q500 = f.client.Queue.Create().SetServer(s).SetNumber("500").SaveX(f.sys).ID
	f.q502 = f.client.Queue.Create().SetServer(s).SetNumber("502").SaveX(f.sys).ID
	return f
}

// user creates a user with roles and grant and returns its viewer (capped at level).
func (f *fixture) viewer(t *testing.T, login string, roles []string, g Grant, level viewer.Level) *Viewer {
	t.Helper()
	u, _, err := f.svc.CreateUser(f.sys, NewUser{Login: login, Password: "correct horse battery", Roles: roles, Grant: g})
	if err != nil {
		t.Fatal(err)
	}
	v, err := f.svc.viewerFor(f.sys, u, level)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestPolicyTruthTable is the reviewed policy as a table: role(s) × grant × action ×
// object → allow or deny, through Can as every caller uses it.
func TestPolicyTruthTable(t *testing.T) {
	f := newFixture(t)
	only500 := Grant{Queues: []QueueGrant{{QueueID: f.q500}}}
	listen500 := Grant{Queues: []QueueGrant{{QueueID: f.q500, Listen: true}}}
	q500, q502 := idOf("queue", f.q500), idOf("queue", f.q502)

	type row struct {
		roles  []string
		grant  Grant
		level  viewer.Level // API token ceiling; LevelAdmin is a session
		action string
		object string
		allow  bool
	}
	S, O, L, M, V, B, U, A := RoleSupervisor, RoleOperator, RoleListenRecordings, RoleMonitoring, RoleViewStatistics, RoleBusinessProcesses, RoleUserManagement, RoleAdmin
	full := viewer.LevelAdmin
	rows := []row{
		// Supervisor: statistics and monitoring of the granted queues only.
		{[]string{S}, only500, full, "calls.read", "*", true},
		{[]string{S}, only500, full, "calls.read", q500, true},
		{[]string{S}, only500, full, "calls.read", q502, false},
		{[]string{S}, only500, full, "reports.read", q500, true},
		{[]string{S}, only500, full, "monitor.read", q502, false},
		{[]string{S}, only500, full, "exports.create", "*", true},
		{[]string{S}, only500, full, "queues.membership", q500, false}, // a separate permission
		{[]string{S}, only500, full, "recordings.listen", q500, false}, // needs the role
		{[]string{S}, only500, full, "users.manage", "*", false},
		{[]string{S}, only500, full, "audit.read", "*", false},
		{[]string{S}, only500, full, "config.write", "*", false},
		// Listening needs the role and the queue's listen flag.
		{[]string{S, L}, listen500, full, "recordings.listen", q500, true},
		{[]string{S, L}, listen500, full, "recordings.listen", q502, false},
		{[]string{S, L}, only500, full, "recordings.listen", q500, false},
		// Supervisor who may change queue membership.
		{[]string{S, B}, only500, full, "queues.membership", q500, true},
		{[]string{S, B}, only500, full, "queues.membership", q502, false},
		// Operator: own tools, never statistics or reports.
		{[]string{O}, only500, full, "self.status", "*", true},
		{[]string{O}, only500, full, "queues.read", q500, true},
		{[]string{O}, only500, full, "calls.read", "*", false},
		{[]string{O}, only500, full, "statuses.read", "*", false},
		{[]string{O}, only500, full, "reports.read", q500, false},
		{[]string{O}, only500, full, "exports.create", "*", false},
		// Monitoring: live boards, no history.
		{[]string{M}, only500, full, "monitor.read", q500, true},
		{[]string{M}, only500, full, "calls.read", "*", false},
		// View statistics: history and reports, no live boards.
		{[]string{V}, only500, full, "reports.read", q500, true},
		{[]string{V}, only500, full, "monitor.read", "*", false},
		// User management: users and tokens, nothing of the call center, no audit log.
		{[]string{U}, Grant{}, full, "users.manage", "*", true},
		{[]string{U}, Grant{}, full, "tokens.manage", "*", true},
		{[]string{U}, Grant{}, full, "calls.read", "*", false},
		{[]string{U}, Grant{}, full, "audit.read", "*", false},
		// Admin: everything, every queue.
		{[]string{A}, Grant{}, full, "audit.read", "*", true},
		{[]string{A}, Grant{}, full, "recordings.listen", q502, true},
		{[]string{A}, Grant{}, full, "config.write", "*", true},
		// No role: nothing.
		{nil, only500, full, "queues.read", q500, false},
		// API tokens are capped by their scope.
		{[]string{A}, Grant{}, viewer.LevelRead, "calls.read", "*", true},
		{[]string{A}, Grant{}, viewer.LevelRead, "config.write", "*", false},
		{[]string{A}, Grant{}, viewer.LevelRead, "users.manage", "*", false},
		{[]string{A}, Grant{}, viewer.LevelWrite, "config.write", "*", true},
		{[]string{A}, Grant{}, viewer.LevelWrite, "tokens.manage", "*", false},
		{[]string{S}, only500, viewer.LevelAdmin, "users.manage", "*", false}, // a token never exceeds its user
	}
	check := func(t *testing.T, v *Viewer, action, object string, allow bool) {
		t.Helper()
		err := Can(WithViewer(context.Background(), v), action, object)
		switch {
		case allow && err != nil:
			t.Errorf("%v may %s %s: got %v", v.Roles, action, object, err)
		case !allow && err == nil:
			t.Errorf("%v may not %s %s: allowed", v.Roles, action, object)
		case !allow:
			var pe *PermissionError
			if !errors.As(err, &pe) || pe.Action != action || !strings.Contains(err.Error(), action) {
				t.Errorf("denial should name the request, got %v", err)
			}
		}
	}
	for i, r := range rows {
		v := f.viewer(t, "u"+strings.Repeat("x", i), r.roles, r.grant, r.level)
		check(t, v, r.action, r.object, r.allow)
	}
	// Without a viewer nothing is allowed; the system may do anything.
	if err := Can(context.Background(), "queues.read", "*"); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("no viewer: %v", err)
	}
	if err := Can(f.sys, "users.manage", "*"); err != nil {
		t.Errorf("system: %v", err)
	}
}

// TestPolicyChangeReachesOtherProcesses: two enforcers on one database, as two
// replicas would have; a role granted through one is seen by the other without a
// restart (LISTEN/NOTIFY), and a revocation too.
func TestPolicyChangeReachesOtherProcesses(t *testing.T) {
	f := newFixture(t)
	mk := func() *Enforcer {
		en, err := NewEnforcer(f.client, f.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { en.Close() })
		return en
	}
	a, b := mk(), mk()
	svcA := NewService(f.client, a, Options{})
	u, _, err := svcA.CreateUser(f.sys, NewUser{Login: "sync", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	sub := subject(u.ID)
	// Warm b's cache with the old answer: the reload must drop it.
	if b.Allowed(sub, "calls.read", "*") {
		t.Fatal("no role yet, allowed")
	}
	wait := func(want bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for b.Allowed(sub, "calls.read", "*") != want {
			if time.Now().After(deadline) {
				t.Fatalf("the other enforcer never saw the change (want %v)", want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if err := svcA.SetRoles(f.sys, u.ID, []string{RoleSupervisor}); err != nil {
		t.Fatal(err)
	}
	if !a.Allowed(sub, "calls.read", "*") {
		t.Fatal("the changing process must see its change at once")
	}
	wait(true)
	if err := svcA.SetRoles(f.sys, u.ID, nil); err != nil {
		t.Fatal(err)
	}
	wait(false)
}

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$") || strings.Contains(h, "correct") {
		t.Fatalf("hash %q", h)
	}
	if ok, _ := CheckPassword(h, "correct horse battery"); !ok {
		t.Fatal("right password refused")
	}
	if ok, _ := CheckPassword(h, "correct horse batterY"); ok {
		t.Fatal("wrong password accepted")
	}
	if _, err := CheckPassword("$2a$10$bcrypt", "x"); err == nil {
		t.Fatal("malformed hash accepted")
	}
}

func TestLoginRateLimit(t *testing.T) {
	now := time.Unix(0, 0)
	l := newLoginLimiter(RateOptions{PerLoginBurst: 3, PerLoginEvery: 10 * time.Second, PerAddressBurst: 5, PerAddressEvery: time.Minute}, func() time.Time { return now })
	for i := range 3 {
		if !l.allow("Admin", "10.0.0.1") {
			t.Fatalf("attempt %d refused", i+1)
		}
	}
	if l.allow("admin", "10.0.0.2") {
		t.Fatal("4th attempt on one login (any case, any address) allowed")
	}
	if !l.allow("other", "10.0.0.1") || !l.allow("other", "10.0.0.1") {
		t.Fatal("another login from the same address refused too early")
	}
	if l.allow("third", "10.0.0.1") {
		t.Fatal("6th attempt from one address allowed")
	}
	now = now.Add(10 * time.Second)
	if !l.allow("admin", "10.0.0.3") {
		t.Fatal("the login's bucket did not refill")
	}
}

func TestSessionExpiryAndRevocation(t *testing.T) {
	f := newFixture(t)
	f.svc.opts.SessionIdle = time.Hour
	f.svc.opts.SessionMax = 3 * time.Hour
	f.viewer(t, "sup", []string{RoleSupervisor}, Grant{}, viewer.LevelAdmin)
	login := func() string {
		t.Helper()
		res, err := f.svc.Login(context.Background(), "sup", "correct horse battery")
		if err != nil {
			t.Fatal(err)
		}
		return res.Token
	}
	valid := func(tok string) bool {
		_, _, err := f.svc.sessionViewer(context.Background(), tok)
		return err == nil
	}
	tok := login()
	f.now = f.now.Add(59 * time.Minute)
	if !valid(tok) {
		t.Fatal("session idle 59m of 1h ended")
	}
	f.now = f.now.Add(59 * time.Minute) // used a minute ago: the idle clock restarted
	if !valid(tok) {
		t.Fatal("sliding idle timeout did not slide")
	}
	f.now = f.now.Add(61 * time.Minute)
	if valid(tok) {
		t.Fatal("idle session still valid")
	}
	tok = login()
	for range 6 { // used every 30 minutes, but 3h is the absolute limit
		f.now = f.now.Add(30 * time.Minute)
		valid(tok)
	}
	if valid(tok) {
		t.Fatal("session outlived its absolute limit")
	}
	tok = login()
	u := f.client.User.Query().FirstX(f.sys)
	if n, err := f.svc.RevokeSessions(f.sys, u.ID); err != nil || n == 0 {
		t.Fatalf("revoke: %d %v", n, err)
	}
	if valid(tok) {
		t.Fatal("revoked session still valid")
	}
}

func TestNoViewerIsDenied(t *testing.T) {
	f := newFixture(t)
	if _, err := f.client.Queue.Query().All(context.Background()); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("query without a viewer: %v", err)
	}
	if _, err := f.client.Queue.Create().SetServerID(1).SetNumber("9").Save(context.Background()); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("mutation without a viewer: %v", err)
	}
	if n := f.client.Queue.Query().CountX(f.sys); n != 2 {
		t.Fatalf("system sees %d queues", n)
	}
}

// TestScopeSQLFilters: the helpers raw-SQL readers use select exactly the scope.
func TestScopeSQLFilters(t *testing.T) {
	f := newFixture(t)
	db, err := sql.Open("postgres", f.url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func(sc Scope) int {
		t.Helper()
		cond, args := sc.SQLQueueFilter("q.id", 2)
		var n int
		err := db.QueryRow("SELECT count(*) FROM queues q WHERE q.number <> $1 AND "+cond, append([]any{"none"}, args...)...).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(Scope{All: true}); n != 2 {
		t.Errorf("all: %d", n)
	}
	if n := count(Scope{}); n != 0 {
		t.Errorf("empty scope: %d", n)
	}
	if n := count(Scope{QueueIDs: []int{f.q500}}); n != 1 {
		t.Errorf("queue 500 only: %d", n)
	}
	v := f.viewer(t, "sup", []string{RoleSupervisor}, Grant{Queues: []QueueGrant{{QueueID: f.q502, Listen: true}}}, viewer.LevelAdmin)
	sc := ScopeFromContext(WithViewer(context.Background(), v))
	if !sc.AllowsQueue(f.q502) || sc.AllowsQueue(f.q500) || !sc.MayListen(f.q502) || count(sc) != 1 {
		t.Errorf("viewer scope = %+v", sc)
	}
	if sc := ScopeFromContext(context.Background()); sc.All || len(sc.QueueIDs) > 0 {
		t.Errorf("no viewer has scope %+v", sc)
	}
	if !ScopeFromContext(f.sys).All {
		t.Error("the system is unrestricted")
	}
}

// TestAuditHelpers: what reports and the recordings player call to leave a trace.
func TestAuditHelpers(t *testing.T) {
	f := newFixture(t)
	v := f.viewer(t, "listener", []string{RoleSupervisor, RoleListenRecordings}, Grant{Queues: []QueueGrant{{QueueID: f.q500, Listen: true}}}, viewer.LevelAdmin)
	ctx := WithViewer(context.Background(), v)
	if err := Can(ctx, "recordings.listen", idOf("queue", f.q500)); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.RecordListen(ctx, 42, "2026/11/26/1.1.wav"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.RecordExport(ctx, "report/calls", map[string]any{"from": "2026-11-01"}); err != nil {
		t.Fatal(err)
	}
	if err := Audit(ctx, "x", "", nil); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("Audit without the middleware's service: %v", err)
	}
	rows := f.client.AuditLog.Query().AllX(f.sys)
	var got []string
	for _, r := range rows {
		if r.ActorID != nil && *r.ActorID == v.UserID {
			got = append(got, r.Action+" "+r.Target+" "+r.Actor)
		}
	}
	want := "recording.listen call/42 listener|export.create report/calls listener"
	if strings.Join(got, "|") != want {
		t.Fatalf("audit = %q, want %q", strings.Join(got, "|"), want)
	}
	// Only admins read it through ent.
	if n, err := f.client.AuditLog.Query().Count(ctx); err != nil || n != 0 {
		t.Fatalf("a supervisor counts %d audit rows (%v)", n, err)
	}
}
