package cli

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/linkage/linkage/ami/sim"
	"github.com/linkage/linkage/ami/sim/pbx"
	"github.com/linkage/linkage/internal/testdb"
)

// TestTwoServersOneDatabase: two `linkage serve` processes on one database. One holds
// the AMI server's collector lock and ingests; a viewer of the other sees the live
// state it ingests (LISTEN/NOTIFY); kill -9 of the first makes the second take over
// ingestion within seconds, and calls go on being stored.
func TestTwoServersOneDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("two server processes and a simulated Asterisk")
	}
	dbURL := testdb.URL(t)
	cfg := pbx.DefaultConfig()
	cfg.CallsPerHour = 600
	s := sim.New(sim.Options{Listen: "127.0.0.1:0", Username: "linkage", Secret: "sim-secret",
		TimestampEvents: true, Speed: 30, PBX: cfg}, slog.New(slog.DiscardHandler))
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })

	env := map[string]string{"DATABASE_URL": dbURL, "LINKAGE_AMI_SECRET": "sim-secret"}
	run := func(stdin string, args ...string) {
		t.Helper()
		var out, errb strings.Builder
		code := MainEnv(context.Background(), args, &Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }})
		if code != 0 {
			t.Fatalf("%v: %d %s %s", args, code, out.String(), errb.String())
		}
	}
	run("", "server", "add", "--name", "pbx", "--ami", s.Addr(), "--username", "linkage", "--timezone", "Europe/Moscow",
		"--trunk-prefixes", "PJSIP/trunk", "--trunk-contexts", "from-trunk")
	run("admin-password-1\n", "user", "add", "--login", "admin", "--role", "admin", "--password-stdin")

	a := startServerEnv(t, []string{"DATABASE_URL=" + dbURL})
	b := startServerEnv(t, []string{"DATABASE_URL=" + dbURL})
	a.login(t, "admin", "admin-password-1")
	b.login(t, "admin", "admin-password-1")
	type health struct {
		Data struct {
			Servers struct {
				Edges []struct {
					Node struct {
						Health *struct{ Active, Connected bool }
					}
				}
			}
		}
	}
	activeOn := func(p *serverProc) bool {
		var h health
		_ = json.Unmarshal([]byte(p.query(t, `{ servers { edges { node { health { active connected } } } } }`)), &h)
		if len(h.Data.Servers.Edges) == 0 || h.Data.Servers.Edges[0].Node.Health == nil {
			return false
		}
		hh := h.Data.Servers.Edges[0].Node.Health
		return hh.Active && hh.Connected
	}
	waitUntil := func(what string, d time.Duration, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(d)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s\nA:\n%s\nB:\n%s", what, a.logs.String(), b.logs.String())
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	var ingest, standby *serverProc
	waitUntil("one process to ingest", 30*time.Second, func() bool {
		switch {
		case activeOn(a):
			ingest, standby = a, b
		case activeOn(b):
			ingest, standby = b, a
		}
		return ingest != nil
	})
	if activeOn(standby) {
		t.Fatal("both processes ingest the same server")
	}
	// Live state ingested by one process reaches a viewer of the other.
	waitUntil("live queue counters on the standby process", 60*time.Second, func() bool {
		var r struct {
			Data struct{ QueueStatsNow []struct{ Received int } }
		}
		_ = json.Unmarshal([]byte(standby.query(t, `{ queueStatsNow { received } }`)), &r)
		for _, q := range r.Data.QueueStatsNow {
			if q.Received > 0 {
				return true
			}
		}
		return false
	})
	stored := func(p *serverProc) int {
		var r struct {
			Data struct{ Calls struct{ TotalCount int } }
		}
		_ = json.Unmarshal([]byte(p.query(t, `{ calls(input: {period: {preset: LAST_7_DAYS}}, first: 1) { totalCount } }`)), &r)
		return r.Data.Calls.TotalCount
	}
	waitUntil("calls stored", 60*time.Second, func() bool { return stored(standby) > 0 })
	before := stored(standby)

	// kill -9 the ingesting process: its lock session dies with it.
	ingest.kill()
	start := time.Now()
	waitUntil("the standby to take over", 30*time.Second, func() bool { return activeOn(standby) })
	t.Logf("takeover after %s", time.Since(start).Round(100*time.Millisecond))
	waitUntil("calls stored after the takeover", 90*time.Second, func() bool { return stored(standby) > before })
	var dups int
	row := standby.query(t, `{ calls(input: {period: {preset: LAST_7_DAYS}}, first: 500) { edges { node { linkedid } } } }`)
	seen := map[string]bool{}
	for _, part := range strings.Split(row, `"linkedid":"`)[1:] {
		id := part[:strings.IndexByte(part, '"')]
		if seen[id] {
			dups++
		}
		seen[id] = true
	}
	if dups > 0 {
		t.Fatalf("%d calls stored twice across the takeover", dups)
	}
}
