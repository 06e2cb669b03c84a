package collector

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/linkage/linkage/auth"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/linkage/linkage/ami"
	"github.com/linkage/linkage/ami/assemble"
	"github.com/linkage/linkage/ami/sim"
	"github.com/linkage/linkage/ami/sim/pbx"
	"github.com/linkage/linkage/ent"
	"github.com/linkage/linkage/internal/dbschema"
	"github.com/linkage/linkage/internal/testdb"
)

func TestMain(m *testing.M) {
	testdb.SetMigrate(func(ctx context.Context, db *sql.DB) error { _, err := dbschema.Apply(ctx, db); return err })
	testdb.Main(m)
}

func testCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(auth.SystemContext(context.Background()), d)
	t.Cleanup(cancel)
	return ctx
}

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("COLLECTOR_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

type env struct {
	db     *sql.DB
	client *ent.Client
}

func newEnv(t testing.TB) *env {
	db := testdb.New(t)
	db.SetMaxOpenConns(20)
	return &env{db: db, client: ent.NewClient(ent.Driver(entsql.OpenDB("postgres", db)))}
}

// addServer registers a server row shaped like the lab PBX (pbx.LabConfig).
func (e *env) addServer(t testing.TB, name, addr string) *ent.Server {
	t.Helper()
	s, err := e.client.Server.Create().SetName(name).SetAmiAddress(addr).SetAmiUsername("admin").SetAmiSecret("s3cret").
		SetTrunkContexts([]string{"from-trunk"}).SetTrunkPrefixes([]string{"PJSIP/trunk"}).Save(auth.SystemContext(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (e *env) options(t testing.TB) Options {
	return Options{
		DB: e.db, Client: e.client, Logger: testLogger(t),
		PollInterval: 200 * time.Millisecond, FlushInterval: 50 * time.Millisecond, LockRetry: 200 * time.Millisecond,
		ConnConfig: func(s *ent.Server) ami.Config {
			return ami.Config{MinBackoff: 100 * time.Millisecond, MaxBackoff: 500 * time.Millisecond,
				ActionTimeout: 5 * time.Second, ListTimeout: 10 * time.Second, LoginTimeout: 5 * time.Second}
		},
	}
}

func startCollector(t testing.TB, o Options) *Collector {
	t.Helper()
	c := New(o)
	if err := c.Start(testCtx(t, time.Minute)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop(context.Background()) })
	return c
}

// scripted is a sim.Model that runs named pbx scenarios one after another on one PBX
// (spaced by gap, simulated time), held back until open is called so that no event
// is produced before the collector is connected. The same schedule replayed offline
// (reference) gives the same stream.
type scripted struct {
	mu      sync.Mutex
	p       *pbx.PBX
	start   time.Time
	runs    []scheduled
	gate    atomic.Bool
	based   bool // the schedule was rebased on the first Advance after open
	rebase  bool // rebase the schedule to the time the gate opens (timed mode)
	end     time.Time
	emitted atomic.Int64
	pauseAt atomic.Int64 // unix nanos of simulated time to hold at (0: none)
}

type scheduled struct {
	at  time.Duration
	run func(*pbx.PBX)
}

func allScenariosConfig() pbx.Config {
	c := pbx.WorstCaseConfig()
	c.DIDs = append(c.DIDs, pbx.DID{Number: "5551006", Trunk: "trunk", Queue: "lr"})
	c.Queues = append(c.Queues, pbx.Queue{Name: "lr", Strategy: pbx.LeastRecent, Timeout: 5 * time.Second, Retry: time.Second, MusicClass: "default",
		Members: []pbx.Member{{Interface: "PJSIP/1001", Name: "Agent One"}, {Interface: "PJSIP/1003", Name: "Agent Three"}}})
	return c
}

// scenarioNames are the scenarios in a fixed order, the 6-minute one last.
func scenarioNames() []string {
	var names []string
	for n := range pbx.Scenarios() {
		if n != "worst-case-21-attempts" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return append(names, "worst-case-21-attempts")
}

func newScripted(start time.Time, cfg pbx.Config, gap time.Duration, names []string) *scripted {
	s := &scripted{p: pbx.New(cfg, start), start: start}
	sc := pbx.Scenarios()
	for i, n := range names {
		s.runs = append(s.runs, scheduled{at: time.Duration(i) * gap, run: sc[n].Run})
	}
	s.end = start.Add(time.Duration(len(names))*gap + 8*time.Minute)
	return s
}

func (s *scripted) open() { s.gate.Store(true) }

// Advance runs the due scenarios, then the PBX, up to t.
func (s *scripted) Advance(t time.Time) []ami.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.gate.Load() {
		return nil
	}
	if p := s.pauseAt.Load(); p != 0 && t.After(time.Unix(0, p)) {
		t = time.Unix(0, p).UTC()
	}
	if s.rebase && !s.based {
		s.based = true
		d := t.Sub(s.start)
		s.start = t
		s.end = s.end.Add(d)
	}
	var out []ami.Event
	for len(s.runs) > 0 && !s.start.Add(s.runs[0].at).After(t) {
		out = append(out, s.p.Advance(s.start.Add(s.runs[0].at))...)
		s.runs[0].run(s.p)
		s.runs = s.runs[1:]
	}
	out = append(out, s.p.Advance(t)...)

	s.emitted.Add(int64(len(out)))
	return out
}

func (s *scripted) Action(t time.Time, a ami.Message) []ami.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.p.Action(t, a)
}

func (s *scripted) Next() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	next, ok := s.nextLocked()
	if p := s.pauseAt.Load(); ok && p != 0 && next.After(time.Unix(0, p)) {
		return time.Time{}, false
	}
	return next, ok
}

// holding reports whether the simulation has reached its pause: everything before
// pauseAt has been emitted, so nothing more comes until the pause is lifted.
func (s *scripted) holding() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pauseAt.Load()
	if p == 0 || !s.gate.Load() {
		return false
	}
	next, ok := s.nextLocked()
	return !ok || next.After(time.Unix(0, p))
}

func (s *scripted) nextLocked() (time.Time, bool) {
	if !s.gate.Load() {
		return time.Time{}, false
	}
	if s.rebase && !s.based {
		return time.Time{}, false
	}
	var next time.Time
	ok := false
	if len(s.runs) > 0 {
		next, ok = s.start.Add(s.runs[0].at), true
	}
	if n, more := s.p.Next(); more && (!ok || n.Before(next)) && n.Before(s.end) {
		next, ok = n, true
	}
	return next, ok
}

// reference runs the same schedule offline and assembles it with cfg.
func reference(start time.Time, cfg pbx.Config, gap time.Duration, names []string, acfg assemble.Config) map[string]*assemble.Call {
	s := newScripted(start, cfg, gap, names)
	s.open()
	var evs []ami.Event
	for {
		n, ok := s.Next()
		if !ok {
			break
		}
		evs = append(evs, s.Advance(n)...)
	}
	a := assemble.New(acfg)
	out := map[string]*assemble.Call{}
	for i := range evs {
		// As the simulator renders it (timestampevents=yes): the dedup of repeated
		// events sees the Timestamp like the live path does.
		e := &evs[i]
		e.Stamped = true
		e.Time = e.Time.Truncate(time.Microsecond)
		f := make(ami.Message, 0, len(e.Fields)+1)
		after := 0
		for j, fl := range e.Fields {
			if strings.EqualFold(fl.Key, "Privilege") {
				after = j
				break
			}
		}
		for j, fl := range e.Fields {
			f = append(f, fl)
			if j == after {
				f = append(f, ami.Field{Key: "Timestamp", Value: fmt.Sprintf("%d.%06d", e.Time.Unix(), e.Time.Nanosecond()/1000)})
			}
		}
		e.Fields = f
		for _, o := range a.Feed(&evs[i]) {
			if o.Call != nil {
				out[o.Call.Linkedid] = o.Call
			}
		}
	}
	for _, o := range a.Close() {
		if o.Call != nil {
			out[o.Call.Linkedid] = o.Call
		}
	}
	return out
}

func startSim(t testing.TB, speed float64, start time.Time, m sim.Model) *sim.Server {
	t.Helper()
	s := sim.New(sim.Options{Listen: "127.0.0.1:0", Username: "admin", Secret: "s3cret", TimestampEvents: true, Speed: speed, Start: start,
		Model: func(time.Time) sim.Model { return m }}, nil)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// waitFor polls cond until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func count(t testing.TB, db *sql.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// journalEvents reads a server's whole journal back through the replay path.
func journalEvents(t testing.TB, db *sql.DB, serverID int) []ami.Event {
	t.Helper()
	var out []ami.Event
	if err := readJournal(context.Background(), db, serverID, 0, func(e *ami.Event) bool {
		out = append(out, *e)
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// journalCount counts the journaled events of a server that keep holds for (all when
// keep is nil).
func journalCount(t testing.TB, db *sql.DB, serverID int, keep func(*ami.Event) bool) int {
	t.Helper()
	n := 0
	for _, e := range journalEvents(t, db, serverID) {
		if keep == nil || keep(&e) {
			n++
		}
	}
	return n
}

// notMarker: an event received from Asterisk, not one of the Conn's markers.
func notMarker(e *ami.Event) bool { return !strings.HasPrefix(e.Name, "Linkage") }

// storedCall is what the tests compare of a stored call.
type storedCall struct {
	Linkedid, Type, Status, MissedReason, HangupBy string
	Wait, Talk, Hold                               int
	Operators                                      string // answered_by_number
	Incomplete                                     bool
	Legs, Visits, Attempts                         int
}

func storedCalls(t testing.TB, db *sql.DB, serverID int) map[string]storedCall {
	t.Helper()
	rows, err := db.Query(`SELECT c.linkedid, c.type, c.status, COALESCE(c.missed_reason, ''), c.hangup_by, c.wait_seconds, c.talk_seconds,
		c.hold_seconds, COALESCE(c.answered_by_number, ''), c.incomplete,
		(SELECT count(*) FROM call_legs l WHERE l.call_id = c.id), (SELECT count(*) FROM queue_visits v WHERE v.call_id = c.id),
		(SELECT count(*) FROM queue_attempts a WHERE a.call_id = c.id)
		FROM calls c WHERE c.server_id = $1`, serverID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]storedCall{}
	for rows.Next() {
		var s storedCall
		if err := rows.Scan(&s.Linkedid, &s.Type, &s.Status, &s.MissedReason, &s.HangupBy, &s.Wait, &s.Talk, &s.Hold, &s.Operators, &s.Incomplete,
			&s.Legs, &s.Visits, &s.Attempts); err != nil {
			t.Fatal(err)
		}
		if _, dup := out[s.Linkedid]; dup {
			t.Fatalf("call %s stored twice", s.Linkedid)
		}
		out[s.Linkedid] = s
	}
	return out
}

func expectedCall(c *assemble.Call) storedCall {
	s := storedCall{Linkedid: c.Linkedid, Type: string(c.Type), Status: string(c.Status), MissedReason: c.MissedReason, HangupBy: c.HangupBy,
		Wait: c.WaitSeconds, Talk: c.TalkSeconds, Hold: c.HoldSeconds, Incomplete: c.Incomplete,
		Legs: len(c.Legs), Visits: len(c.Visits), Attempts: len(c.Attempts)}
	if c.AnsweredBy != nil {
		s.Operators = c.AnsweredBy.Number
	}
	return s
}
