package collector

import (
	"context"
	"fmt"
	"github.com/linkage/linkage/auth"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/linkage/linkage/ami"
	"github.com/linkage/linkage/ami/assemble"
	"github.com/linkage/linkage/ami/sim/pbx"
	"github.com/linkage/linkage/ent"
)

// baseAssembleConfig is what a collector starts with for a fresh lab server row.
func baseAssembleConfig(s *ent.Server) assemble.Config { return AssembleConfig(s, nil, nil) }

// compare checks the stored calls against the reference, exactly once each.
// inFlight are linkedids whose Incomplete flag may differ (they lived through a
// restart or a gap).
func compare(t *testing.T, got map[string]storedCall, want map[string]*assemble.Call, mayDiffIncomplete map[string]bool) {
	t.Helper()
	var diffs []string
	for lid, c := range want {
		g, ok := got[lid]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("%s: missing (want %+v)", lid, expectedCall(c)))
			continue
		}
		w := expectedCall(c)
		if mayDiffIncomplete[lid] {
			g.Incomplete = w.Incomplete
		}
		if g != w {
			diffs = append(diffs, fmt.Sprintf("%s:\n got %+v\nwant %+v", lid, g, w))
		}
	}
	for lid, g := range got {
		if _, ok := want[lid]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: unexpected call %+v", lid, g))
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Fatalf("%d differences (got %d calls, want %d):\n%s", len(diffs), len(got), len(want), strings.Join(diffs, "\n"))
	}
}

// TestEndToEnd: every scripted scenario, simulator -> TCP -> collector -> PostgreSQL;
// the stored calls are what the assembler concludes from the same stream, and the
// journal holds every event received.
func TestEndToEnd(t *testing.T) {
	e := newEnv(t)
	start := time.Now().UTC().Truncate(time.Second)
	names := scenarioNames()
	const gap = 75 * time.Second
	m := newScripted(start, allScenariosConfig(), gap, names)
	s := startSim(t, 0, start, m)
	srv := e.addServer(t, "lab", s.Addr())
	c := startCollector(t, e.options(t))
	waitFor(t, 10*time.Second, "connected", func() bool { h, ok := c.Health(srv.ID); return ok && h.Connected })
	m.open()
	want := reference(start, allScenariosConfig(), gap, names, baseAssembleConfig(srv))
	waitFor(t, 60*time.Second, "all calls stored", func() bool {
		return count(t, e.db, `SELECT count(*) FROM calls WHERE server_id = $1`, srv.ID) >= len(want)
	})
	time.Sleep(300 * time.Millisecond) // anything extra would show up now
	if err := c.Stop(testCtx(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	compare(t, storedCalls(t, e.db, srv.ID), want, nil)

	h, _ := c.Health(srv.ID) // after Stop: the pipeline is gone
	_ = h
	journaled := journalCount(t, e.db, srv.ID, nil)
	received := journalCount(t, e.db, srv.ID, notMarker)
	if int64(received) < m.emitted.Load() {
		t.Errorf("journal has %d AMI events, the simulator emitted %d", received, m.emitted.Load())
	}
	if max := count(t, e.db, `SELECT max(last_seq) FROM ami_journal_blocks WHERE server_id = $1`, srv.ID); max != journaled {
		t.Errorf("journal seqs are not 1..n: max %d, rows %d", max, journaled)
	}
	if n := count(t, e.db, `SELECT count(*) FROM queues WHERE server_id = $1`, srv.ID); n == 0 {
		t.Error("no queue discovered")
	}
	if n := count(t, e.db, `SELECT count(*) FROM operator_status_changes`); n == 0 {
		t.Error("no operator status change stored (member-management pauses)")
	}
	if n := count(t, e.db, `SELECT count(*) FROM operator_status_changes WHERE status = 'paused' AND reason = 'Lunch'`); n != 1 {
		t.Errorf("paused (Lunch) intervals: %d, want 1", n)
	}
	t.Logf("%d calls, %d journal rows (%d AMI events emitted)", len(want), journaled, m.emitted.Load())
}

// TestCrashRecovery kills a collector (no flush, connections dropped) while calls are
// in flight, then starts a new one on the same database: every call is stored exactly
// once, with the metrics the assembler gives for the uninterrupted stream.
func TestCrashRecovery(t *testing.T) {
	e := newEnv(t)
	start := time.Now().UTC().Truncate(time.Second)
	names := []string{"queue-hold", "queue-answered-local", "blind-transfer", "attended-transfer", "ringall-noanswer-abandon", "internal-answered", "member-management"}
	const gap = 5 * time.Second
	m := newScripted(start, allScenariosConfig(), gap, names)
	// Hold the simulator 28 s in: queue-hold talks until ~74 s, the others are at
	// various stages.
	m.pauseAt.Store(start.Add(28 * time.Second).UnixNano())
	s := startSim(t, 0, start, m)
	srv := e.addServer(t, "lab", s.Addr())
	c1 := New(e.options(t))
	if err := c1.Start(testCtx(t, time.Minute)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "connected", func() bool { h, ok := c1.Health(srv.ID); return ok && h.Connected })
	m.open()
	// Kill only once the simulator holds at its pause and all it sent is journaled:
	// events sent after the kill would go to a dead socket, as with a real crash, and
	// the calls they end could never complete (under load the journal can catch up
	// with the simulator before the simulator reaches the pause).
	waitFor(t, 20*time.Second, "the first part journaled", func() bool {
		return m.holding() && int64(journalCount(t, e.db, srv.ID, notMarker)) >= m.emitted.Load() && m.emitted.Load() > 0
	})
	before := storedCalls(t, e.db, srv.ID)
	c1.abort()
	if len(before) == 0 {
		t.Log("no call finished before the kill")
	}
	// The new process replays the journal from the checkpoint, then goes on live.
	c2 := startCollector(t, e.options(t))
	waitFor(t, 10*time.Second, "reconnected", func() bool { h, ok := c2.Health(srv.ID); return ok && h.Connected })
	m.pauseAt.Store(0)
	want := reference(start, allScenariosConfig(), gap, names, baseAssembleConfig(srv))
	waitFor(t, 60*time.Second, "all calls stored", func() bool {
		return count(t, e.db, `SELECT count(*) FROM calls WHERE server_id = $1`, srv.ID) >= len(want)
	})
	time.Sleep(300 * time.Millisecond)
	if err := c2.Stop(testCtx(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	got := storedCalls(t, e.db, srv.ID)
	// Calls in flight at the kill lived through a gap the assembler cannot see
	// through (nothing was lost, but it cannot know): they may be flagged incomplete.
	may := map[string]bool{}
	for lid := range want {
		if _, ok := before[lid]; !ok {
			may[lid] = true
		}
	}
	compare(t, got, want, may)
	for lid := range before {
		if before[lid] != got[lid] {
			t.Errorf("%s changed after the restart: %+v -> %+v", lid, before[lid], got[lid])
		}
	}
	t.Logf("%d calls before the kill, %d after", len(before), len(got))
}

// TestReconnectGap drops the AMI connection for 30 s (5 s with -short) while calls
// are in flight: calls that ended in the gap are closed at the resync, flagged
// incomplete with the gap; nothing is duplicated; calls after the gap are whole.
func TestReconnectGap(t *testing.T) {
	down := 30 * time.Second
	if testing.Short() {
		down = 5 * time.Second
	}
	e := newEnv(t)
	start := time.Now().UTC().Truncate(time.Second)
	// Speed 1: the gap markers carry wall-clock times and Asterisk's timestamps must
	// be on the same clock. Calls rebase to the moment the gate opens.
	m := newScripted(start, pbx.LabConfig(), 0, nil)
	m.rebase = true
	m.runs = []scheduled{{at: 0, run: func(p *pbx.PBX) {
		// Ends during the gap: talk 4 s + ring 1 s, drop at ~3 s.
		p.Inbound(0, pbx.Inbound{DID: "5551000", Caller: "0611111111", Answer: []pbx.Answer{{Member: "PJSIP/1002", After: time.Second}}, Talk: 4 * time.Second})
		// Lives through the gap and ends after it.
		p.Call(0, pbx.Direct{From: "1001", Number: "1003", Ring: time.Second, Talk: down + 8*time.Second})
		// After the gap: whole.
		p.Call(down+6*time.Second, pbx.Direct{From: "2000", Number: "00611223344", Ring: time.Second, Talk: 2 * time.Second})
	}}}
	m.end = start.Add(time.Hour)
	s := startSim(t, 1, start, m)
	srv := e.addServer(t, "lab", s.Addr())
	c := startCollector(t, e.options(t))
	waitFor(t, 10*time.Second, "connected", func() bool { h, ok := c.Health(srv.ID); return ok && h.Connected })
	m.open()
	time.Sleep(3 * time.Second)
	s.Restart(down)
	waitFor(t, down+15*time.Second, "reconnected", func() bool { h, _ := c.Health(srv.ID); return h.Connected && h.Reconnects > 0 })
	deadline := time.Now().Add(30 * time.Second)
	for count(t, e.db, `SELECT count(*) FROM calls WHERE server_id = $1`, srv.ID) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for 3 calls: %+v; journal: %d events", storedCalls(t, e.db, srv.ID),
				journalCount(t, e.db, srv.ID, nil))
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	rows, err := e.db.Query(`SELECT linkedid, type, incomplete, COALESCE(incomplete_reason, ''), talk_seconds FROM calls WHERE server_id = $1 ORDER BY start`, srv.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	type row struct {
		lid, typ   string
		incomplete bool
		reason     string
		talk       int
	}
	var got []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.lid, &r.typ, &r.incomplete, &r.reason, &r.talk); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if len(got) != 3 {
		t.Fatalf("want 3 calls, got %d: %+v", len(got), got)
	}
	inbound, through, after := got[0], got[1], got[2]
	if inbound.typ != "inbound" || !inbound.incomplete || !strings.Contains(inbound.reason, "gap") {
		t.Errorf("the call that ended in the gap: %+v", inbound)
	}
	if !through.incomplete || !strings.Contains(through.reason, "gap") || through.talk < int(down/time.Second) {
		t.Errorf("the call that lived through the gap: %+v", through)
	}
	if after.incomplete {
		t.Errorf("the call after the gap: %+v", after)
	}
	if n := journalCount(t, e.db, srv.ID, func(e *ami.Event) bool { return e.Name == ami.EventConnected }); n != 2 {
		t.Errorf("connect markers journaled: %d, want 2", n)
	}
}

// TestReload: a server row added is connected within PollInterval; disabled, it is
// disconnected; a changed address restarts its pipeline.
func TestReload(t *testing.T) {
	e := newEnv(t)
	start := time.Now().UTC()
	s1 := startSim(t, 1, start, newScripted(start, pbx.LabConfig(), 0, nil))
	o := e.options(t)
	c := startCollector(t, o)
	srv := e.addServer(t, "lab", s1.Addr())
	waitFor(t, o.PollInterval+5*time.Second, "connected by polling", func() bool { h, ok := c.Health(srv.ID); return ok && h.Connected })
	if _, ok := c.Conn(srv.ID); !ok {
		t.Fatal("Conn: no connection")
	}
	s2 := startSim(t, 1, start, newScripted(start, pbx.LabConfig(), 0, nil))
	if _, err := srv.Update().SetAmiAddress(s2.Addr()).Save(auth.SystemContext(context.Background())); err != nil {
		t.Fatal(err)
	}
	if err := c.Reload(testCtx(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "moved to the new address", func() bool {
		h, ok := c.Health(srv.ID)
		return ok && h.Connected && h.Addr == s2.Addr() && s1.Stats().Sessions == 0
	})
	if _, err := srv.Update().SetEnabled(false).Save(auth.SystemContext(context.Background())); err != nil {
		t.Fatal(err)
	}
	waitFor(t, o.PollInterval+5*time.Second, "disconnected", func() bool {
		_, ok := c.Health(srv.ID)
		return !ok && s2.Stats().Sessions == 0
	})
}

// TestTakeover: two collectors on one database; only one ingests a server. When it
// stops, the other takes over within seconds and nothing is duplicated.
func TestTakeover(t *testing.T) {
	e := newEnv(t)
	start := time.Now().UTC().Truncate(time.Second)
	names := []string{"queue-hold", "queue-answered-local", "internal-answered", "blind-transfer"}
	const gap = 5 * time.Second
	m := newScripted(start, allScenariosConfig(), gap, names)
	m.pauseAt.Store(start.Add(20 * time.Second).UnixNano())
	s := startSim(t, 0, start, m)
	srv := e.addServer(t, "lab", s.Addr())
	c1 := startCollector(t, e.options(t))
	waitFor(t, 10*time.Second, "first connected", func() bool { h, ok := c1.Health(srv.ID); return ok && h.Connected })
	c2 := startCollector(t, e.options(t))
	time.Sleep(time.Second)
	if h, ok := c2.Health(srv.ID); !ok || h.Connected || !strings.Contains(h.LastError, "standby") {
		t.Fatalf("second collector should stand by: %+v", h)
	}
	if s.Stats().Sessions != 1 {
		t.Fatalf("sessions: %d", s.Stats().Sessions)
	}
	m.open()
	waitFor(t, 20*time.Second, "journaled", func() bool {
		return m.holding() && int64(journalCount(t, e.db, srv.ID, notMarker)) >= m.emitted.Load() && m.emitted.Load() > 0
	})
	if err := c1.Stop(testCtx(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	took := time.Now()
	waitFor(t, 10*time.Second, "second took over", func() bool { h, ok := c2.Health(srv.ID); return ok && h.Connected })
	t.Logf("takeover in %s", time.Since(took).Round(time.Millisecond))
	m.pauseAt.Store(0)
	want := reference(start, allScenariosConfig(), gap, names, baseAssembleConfig(srv))
	waitFor(t, 60*time.Second, "all calls stored", func() bool {
		return count(t, e.db, `SELECT count(*) FROM calls WHERE server_id = $1`, srv.ID) >= len(want)
	})
	time.Sleep(300 * time.Millisecond)
	got := storedCalls(t, e.db, srv.ID)
	may := map[string]bool{}
	for lid := range want {
		may[lid] = true
	}
	compare(t, got, want, may)
}

// TestRebuild: deleting and corrupting the stored calls of a period, Rebuild restores
// exactly what the live path wrote.
func TestRebuild(t *testing.T) {
	e := newEnv(t)
	start := time.Now().UTC().Truncate(time.Second)
	names := scenarioNames()
	const gap = 75 * time.Second
	m := newScripted(start, allScenariosConfig(), gap, names)
	s := startSim(t, 0, start, m)
	srv := e.addServer(t, "lab", s.Addr())
	c := startCollector(t, e.options(t))
	waitFor(t, 10*time.Second, "connected", func() bool { h, ok := c.Health(srv.ID); return ok && h.Connected })
	m.open()
	want := reference(start, allScenariosConfig(), gap, names, baseAssembleConfig(srv))
	waitFor(t, 60*time.Second, "all calls stored", func() bool {
		return count(t, e.db, `SELECT count(*) FROM calls WHERE server_id = $1`, srv.ID) >= len(want)
	})
	if err := c.Stop(testCtx(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	live := storedCalls(t, e.db, srv.ID)
	missed := count(t, e.db, `SELECT count(*) FROM missed_calls WHERE server_id = $1`, srv.ID)
	from, to := start.Add(5*time.Minute), start.Add(20*time.Minute)
	inPeriod := count(t, e.db, `SELECT count(*) FROM calls WHERE server_id = $1 AND start >= $2 AND start < $3`, srv.ID, from, to)
	if inPeriod == 0 {
		t.Fatal("no call in the period")
	}
	if _, err := e.db.Exec(`DELETE FROM calls WHERE id IN (SELECT id FROM calls WHERE server_id = $1 AND start >= $2 AND start < $3 ORDER BY id LIMIT 2)`, srv.ID, from, to); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Exec(`UPDATE calls SET talk_seconds = 9999, status = 'missed' WHERE server_id = $1 AND start >= $2 AND start < $3`, srv.ID, from, to); err != nil {
		t.Fatal(err)
	}
	// What people did with the period's missed calls survives the rebuild.
	marked := count(t, e.db, `WITH m AS (UPDATE missed_calls SET state = 'handled', handled_how = 'manual', comment = 'by hand', handled_at = now()
		WHERE call_id IN (SELECT id FROM calls WHERE server_id = $1 AND start >= $2 AND start < $3) RETURNING 1) SELECT count(*) FROM m`, srv.ID, from, to)
	if marked == 0 {
		t.Fatal("no missed call in the period")
	}
	res, err := Rebuild(testCtx(t, time.Minute), e.db, e.client, from, to, srv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, e.db, `SELECT count(*) FROM missed_calls WHERE server_id = $1`, srv.ID); n != missed {
		t.Errorf("missed calls: %d after the rebuild, %d before", n, missed)
	}
	if n := count(t, e.db, `SELECT count(*) FROM missed_calls WHERE comment = 'by hand' AND handled_how = 'manual'`); n != marked {
		t.Errorf("missed calls handled by hand: %d after the rebuild, %d before", n, marked)
	}
	if res.Written != inPeriod || res.Deleted != inPeriod-2 {
		t.Errorf("rebuild: %+v, want %d written and %d deleted", res, inPeriod, inPeriod-2)
	}
	after := storedCalls(t, e.db, srv.ID)
	if len(after) != len(live) {
		t.Fatalf("calls: %d after the rebuild, %d before", len(after), len(live))
	}
	for lid, l := range live {
		if after[lid] != l {
			t.Errorf("%s: live %+v, rebuilt %+v", lid, l, after[lid])
		}
	}
	t.Logf("rebuild: %+v", res)
}

// blockingSink blocks in Publish until released.
type blockingSink struct {
	release chan struct{}
	got     atomic.Int64
}

func (s *blockingSink) Publish(_ int, _ *ami.Event, outs []assemble.Output) {
	<-s.release
	s.got.Add(int64(len(outs)))
}

// TestSinkNeverBlocksIngestion: a Sink stuck in Publish does not hold up the journal
// or the calls; what does not fit its queue is dropped and counted.
func TestSinkNeverBlocksIngestion(t *testing.T) {
	e := newEnv(t)
	start := time.Now().UTC().Truncate(time.Second)
	names := []string{"queue-answered-pjsip", "internal-answered", "queue-hold"}
	m := newScripted(start, allScenariosConfig(), 10*time.Second, names)
	s := startSim(t, 0, start, m)
	srv := e.addServer(t, "lab", s.Addr())
	sink := &blockingSink{release: make(chan struct{})}
	reg := prometheus.NewRegistry()
	o := e.options(t)
	o.Sink, o.SinkQueue, o.Registerer = sink, 2, reg
	c := startCollector(t, o)
	waitFor(t, 10*time.Second, "connected", func() bool { h, ok := c.Health(srv.ID); return ok && h.Connected })
	m.open()
	want := reference(start, allScenariosConfig(), 10*time.Second, names, baseAssembleConfig(srv))
	waitFor(t, 30*time.Second, "calls stored with the sink stuck", func() bool {
		return count(t, e.db, `SELECT count(*) FROM calls`) >= len(want)
	})
	dropped := metricValue(t, reg, "linkage_collector_sink_dropped_total", srv.ID)
	if dropped == 0 {
		t.Error("nothing counted as dropped for the stuck sink")
	}
	if n := metricValue(t, reg, "linkage_collector_calls_written_total", srv.ID); int(n) != len(want) {
		t.Errorf("calls_written metric %v, want %d", n, len(want))
	}
	// Stop with a short deadline does not hang on the stuck sink.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = c.Stop(ctx)
	close(sink.release)
}

// TestPartitions: partitions are made ahead and dropped after the retention.
func TestPartitions(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t, time.Minute)
	now := time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC)
	old := now.AddDate(0, 0, -100)
	if err := maintainPartitions(ctx, e.db, old, 0, 1000*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := maintainPartitions(ctx, e.db, now, 2, 90*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	parts := func() map[string]bool {
		rows, err := e.db.Query(`SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'ami_journal_blocks'`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]bool{}
		for rows.Next() {
			var n string
			_ = rows.Scan(&n)
			out[n] = true
		}
		return out
	}()
	for _, d := range []string{"20261125", "20261126", "20261127", "20261128"} {
		if !parts["ami_journal_blocks_"+d] {
			t.Errorf("partition %s missing: %v", d, parts)
		}
	}
	if parts["ami_journal_blocks_"+old.Format("20060102")] {
		t.Errorf("partition older than the retention kept: %v", parts)
	}
	if !parts["ami_journal_blocks_default"] {
		t.Error("default partition missing")
	}
}

// metricValue reads a counter of one server from a registry (without importing
// client_model, which go.mod only has as an indirect dependency).
func metricValue(t *testing.T, reg *prometheus.Registry, name string, serverID int) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "server" && l.GetValue() == strconv.Itoa(serverID) {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// TestLockLost: when the session holding a server's advisory lock dies (the database
// killed it, a network cut), that collector stops ingesting the server at once and
// the standby one takes over.
func TestLockLost(t *testing.T) {
	e := newEnv(t)
	start := time.Now().UTC()
	s := startSim(t, 1, start, newScripted(start, pbx.LabConfig(), 0, nil))
	srv := e.addServer(t, "lab", s.Addr())
	c1 := startCollector(t, e.options(t))
	waitFor(t, 10*time.Second, "first connected", func() bool { h, ok := c1.Health(srv.ID); return ok && h.Connected })
	c2 := startCollector(t, e.options(t))
	time.Sleep(500 * time.Millisecond)
	if h, _ := c2.Health(srv.ID); h.Connected {
		t.Fatal("both collectors ingest the server")
	}
	if _, err := e.db.Exec(`SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "second took over", func() bool { h, ok := c2.Health(srv.ID); return ok && h.Connected })
	waitFor(t, 5*time.Second, "first stood down", func() bool { h, _ := c1.Health(srv.ID); return !h.Connected })
	time.Sleep(time.Second)
	if h1, _ := c1.Health(srv.ID); h1.Connected {
		t.Fatal("the first collector reconnected while the second holds the lock")
	}
	if n := s.Stats().Sessions; n != 1 {
		t.Errorf("AMI sessions: %d, want 1", n)
	}
}

func TestFieldsRoundTrip(t *testing.T) {
	for _, m := range []ami.Message{
		{{Key: "Event", Value: "UserEvent"}, {Key: "Foo", Value: "1"}, {Key: "Foo", Value: "2"}, {Key: "Empty", Value: ""},
			{Key: "ChanVariable", Value: "A=b: c"}, {Key: "uniqueid", Value: "1.2"}},
		{},
	} {
		got := fieldsOf(string(appendFields(nil, m)))
		if len(got) != len(m) {
			t.Fatalf("%v -> %v", m, got)
		}
		for i := range m {
			if got[i] != m[i] {
				t.Fatalf("%v -> %v", m, got)
			}
		}
	}
}
