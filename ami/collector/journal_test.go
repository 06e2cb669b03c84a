package collector

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/linkage/linkage/ami"
	"github.com/linkage/linkage/ami/amitest"
	"github.com/linkage/linkage/ent/migrate/migrations"
)

// oddEvents are events a block must carry unchanged: bytes PostgreSQL text refuses
// (NUL, invalid UTF-8), a lone CR, ": " in values, repeated and empty keys, no fields,
// a name that differs from the Event field, zero and unstamped times, seq gaps.
func oddEvents() []ami.Event {
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 123456789, time.UTC)
	return []ami.Event{
		{Seq: 7, Received: t0, Time: t0.Add(-time.Millisecond), Stamped: true, Name: "Newchannel",
			Fields: ami.Message{{Key: "Event", Value: "Newchannel"}, {Key: "Privilege", Value: "call,all"}, {Key: "Data", Value: "a\x00b\xff\xfe c\rd"}}},
		{Seq: 8, Received: t0.Add(time.Second), Time: t0.Add(time.Second), Name: "UserEvent",
			Fields: ami.Message{{Key: "Event", Value: "UserEvent"}, {Key: "Foo", Value: "1"}, {Key: "Foo", Value: "2"}, {Key: "Empty", Value: ""},
				{Key: "ChanVariable", Value: "A=b: c"}, {Key: "uniqueid", Value: "1.2"}, {Key: "", Value: "no key"}}},
		{Seq: 9, Received: t0.Add(2 * time.Second), Name: "Renamed event", Fields: ami.Message{{Key: "Event", Value: "Other"}}},
		{Seq: 12, Name: "", Fields: nil},
		{Seq: 13, Received: t0.Add(3 * time.Second), Time: t0.Add(-time.Hour), Name: ami.EventConnected,
			Fields: ami.Message{{Key: "Event", Value: ami.EventConnected}, {Key: "GapStart", Value: t0.Format(time.RFC3339Nano)}}},
	}
}

func sameEvent(t *testing.T, got, want *ami.Event) {
	t.Helper()
	if got.Seq != want.Seq || !got.Received.Equal(want.Received) || !eventTime(got).Equal(eventTime(want)) || got.Stamped != want.Stamped ||
		got.Name != want.Name || len(got.Fields) != len(want.Fields) {
		t.Fatalf("got  %+v\nwant %+v", *got, *want)
	}
	for i := range want.Fields {
		if got.Fields[i] != want.Fields[i] {
			t.Fatalf("seq %d field %d: got %q want %q", want.Seq, i, got.Fields[i], want.Fields[i])
		}
	}
}

func TestBlockRoundTrip(t *testing.T) {
	want := oddEvents()
	for _, codec := range []string{codecRaw, codecGzip, codecZstd, codecS2} {
		var enc blockEncoder
		b, err := enc.encode(want, codec)
		if err != nil {
			t.Fatal(err)
		}
		if b.first != 7 || b.last != 13 || b.events != len(want) || !b.eventTo.Equal(want[2].Received) || !b.eventFrom.IsZero() {
			t.Fatalf("%s: block meta %+v", codec, b)
		}
		text, err := decompress(codec, append([]byte(nil), b.data...))
		if err != nil {
			t.Fatal(err)
		}
		var got []ami.Event
		done, err := decodeBlock(text, func(e *ami.Event) bool { got = append(got, *e); return true })
		if err != nil || !done || len(got) != len(want) {
			t.Fatalf("%s: %d events, done %v, err %v", codec, len(got), done, err)
		}
		for i := range want {
			sameEvent(t, &got[i], &want[i])
		}
	}
}

func TestBlockCorrupt(t *testing.T) {
	var enc blockEncoder
	b, err := enc.encode(oddEvents(), codecRaw)
	if err != nil {
		t.Fatal(err)
	}
	for _, cut := range []int{1, len(b.data) / 3, len(b.data) - 1} {
		_, err := decodeBlock(b.data[:cut], func(*ami.Event) bool { return true })
		if !errors.Is(err, errFrame) {
			t.Errorf("block cut at %d/%d: err %v, want a corrupt-block error", cut, len(b.data), err)
		}
	}
	for _, c := range []string{codecZstd, codecS2, codecGzip, "lz4"} {
		if _, err := decompress(c, []byte("not compressed data")); err == nil {
			t.Errorf("garbage %s data decompressed", c)
		}
	}
}

// writeBlocks journals evs for a server in blocks of per events, each in its own
// transaction, as the writer does.
func writeBlocks(t *testing.T, e *env, serverID int, evs []ami.Event, per int, codec string) {
	t.Helper()
	var enc blockEncoder
	for len(evs) > 0 {
		n := min(per, len(evs))
		b, err := enc.encode(evs[:n], codec)
		if err != nil {
			t.Fatal(err)
		}
		tx, err := e.db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if err := insertBlock(context.Background(), tx, serverID, &b); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		evs = evs[n:]
	}
}

// TestReadJournalFrom: replay from a checkpoint in the middle of a block, over more
// blocks than one query fetches, stops where fn says, and sees every server alone.
func TestReadJournalFrom(t *testing.T) {
	e := newEnv(t)
	srv := e.addServer(t, "a", "127.0.0.1:1")
	other := e.addServer(t, "b", "127.0.0.1:2")
	t0 := time.Now().UTC()
	var evs []ami.Event
	for i := 1; i <= 100; i++ {
		evs = append(evs, ami.Event{Seq: uint64(i), Received: t0.Add(time.Duration(i) * time.Millisecond), Name: "Ping",
			Fields: ami.Message{{Key: "Event", Value: "Ping"}, {Key: "N", Value: strings.Repeat("x", i)}}})
	}
	writeBlocks(t, e, srv.ID, evs, 3, codecZstd) // 34 blocks: more than readBlocks
	writeBlocks(t, e, other.ID, evs[:5], 5, codecGzip)
	writeBlocks(t, e, other.ID, evs[5:10], 5, codecS2)
	maxSeq, _, err := journalState(context.Background(), e.db, srv.ID)
	if err != nil || maxSeq != 100 {
		t.Fatalf("max seq %d, %v", maxSeq, err)
	}
	var got []uint64
	if err := readJournal(context.Background(), e.db, srv.ID, 41, func(ev *ami.Event) bool {
		got = append(got, ev.Seq)
		if len(ev.Fields) != 2 || len(ev.Fields[1].Value) != int(ev.Seq) {
			t.Fatalf("seq %d: fields %q", ev.Seq, ev.Fields)
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 60 || got[0] != 41 || got[59] != 100 {
		t.Fatalf("read from 41: %d events %v", len(got), got)
	}
	for i := 1; i < len(got); i++ {
		if got[i] != got[i-1]+1 {
			t.Fatalf("not in seq order: %v", got)
		}
	}
	n := 0
	if err := readJournal(context.Background(), e.db, srv.ID, 1, func(*ami.Event) bool { n++; return n < 5 }); err != nil || n != 5 {
		t.Fatalf("stop after 5: read %d, %v", n, err)
	}
	if n := journalCount(t, e.db, other.ID, nil); n != 10 {
		t.Fatalf("other server: %d events", n)
	}
	// Rebuild's entry point: the first event in a period.
	seq, ok, err := firstSeqAt(context.Background(), e.db, srv.ID, t0.Add(50*time.Millisecond), t0.Add(time.Second))
	if err != nil || !ok || seq != 50 {
		t.Fatalf("first seq at +50ms: %d %v %v", seq, ok, err)
	}
	if _, ok, err := firstSeqAt(context.Background(), e.db, srv.ID, t0.Add(time.Hour), t0.Add(2*time.Hour)); err != nil || ok {
		t.Fatalf("first seq in an empty period: %v %v", ok, err)
	}
}

// TestJournalMigration: the one-row-per-event journal of before is converted into
// blocks that the replay reads back exactly, into day partitions, and dropped.
func TestJournalMigration(t *testing.T) {
	e := newEnv(t)
	srv := e.addServer(t, "a", "127.0.0.1:1")
	ctx := context.Background()
	// The database as 20261126161000_journal.sql left it, with rows.
	mustExec(t, e, `DROP TABLE ami_journal_blocks`)
	mustExec(t, e, `CREATE TABLE ami_journal (server_id bigint NOT NULL, seq bigint NOT NULL, received_at timestamptz NOT NULL,
		event_time timestamptz NOT NULL, stamped boolean NOT NULL DEFAULT false, name text NOT NULL, fields text NOT NULL) PARTITION BY RANGE (received_at)`)
	mustExec(t, e, `CREATE TABLE ami_journal_default PARTITION OF ami_journal DEFAULT`)
	mustExec(t, e, `CREATE TABLE ami_journal_20261125 PARTITION OF ami_journal FOR VALUES FROM ('2026-11-25 00:00:00+00') TO ('2026-11-26 00:00:00+00')`)
	t0 := time.Date(2026, 11, 25, 23, 59, 59, 500000000, time.UTC)
	var want []ami.Event
	for i := 1; i <= 2500; i++ {
		at := t0.Add(time.Duration(i) * time.Millisecond / 2).Truncate(time.Microsecond) // crosses midnight
		ev := ami.Event{Seq: uint64(i), Received: at, Time: at.Add(-time.Millisecond), Stamped: i%2 == 0, Name: "Hangup",
			Fields: ami.Message{{Key: "Event", Value: "Hangup"}, {Key: "Cause-txt", Value: "Normal: été"}}}
		if i == 1 {
			ev.Name, ev.Fields = ami.EventConnected, ami.Message{{Key: "Event", Value: ami.EventConnected}}
		}
		want = append(want, ev)
		if _, err := e.db.Exec(`INSERT INTO ami_journal VALUES ($1, $2, $3, $4, $5, $6, $7)`, srv.ID, int64(ev.Seq), ev.Received, ev.Time,
			ev.Stamped, ev.Name, string(appendFields(nil, ev.Fields))); err != nil {
			t.Fatal(err)
		}
	}
	sqlText, err := fs.ReadFile(migrations.FS, "20261126190000_journal_blocks.sql")
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, e, string(sqlText))
	if n := count(t, e.db, `SELECT count(*) FROM ami_journal_blocks`); n != 3 {
		t.Errorf("blocks: %d, want 3 of up to 1000 events", n)
	}
	if n := count(t, e.db, `SELECT count(*) FROM ami_journal_blocks_20261125`); n != 1 {
		t.Errorf("blocks in the 2026-11-25 partition: %d, want 1 (the others start on the 26th)", n)
	}
	if n := count(t, e.db, `SELECT count(*) FROM ami_journal_blocks_default`); n != 0 {
		t.Errorf("%d blocks in the default partition", n)
	}
	if n := count(t, e.db, `SELECT count(*) FROM pg_class WHERE relname LIKE 'ami_journal' OR relname LIKE 'ami_journal\_2%'`); n != 0 {
		t.Errorf("the old journal is still there (%d relations)", n)
	}
	got := journalEvents(t, e.db, srv.ID)
	if len(got) != len(want) {
		t.Fatalf("%d events read back, want %d", len(got), len(want))
	}
	for i := range want {
		sameEvent(t, &got[i], &want[i])
	}
	if maxSeq, _, err := journalState(ctx, e.db, srv.ID); err != nil || maxSeq != 2500 {
		t.Fatalf("max seq after the migration: %d %v", maxSeq, err)
	}
}

func mustExec(t *testing.T, e *env, q string) {
	t.Helper()
	if _, err := e.db.Exec(q); err != nil {
		t.Fatalf("%.60s: %v", q, err)
	}
}

// TestRetentionDropsBlocks: a day's blocks go with its partition; newer ones stay
// readable.
func TestRetentionDropsBlocks(t *testing.T) {
	e := newEnv(t)
	srv := e.addServer(t, "a", "127.0.0.1:1")
	ctx := context.Background()
	now := time.Now().UTC()
	old := now.AddDate(0, 0, -10)
	if err := maintainPartitions(ctx, e.db, old, 0, 1000*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := maintainPartitions(ctx, e.db, now, 1, 1000*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	ev := func(seq uint64, at time.Time) ami.Event {
		return ami.Event{Seq: seq, Received: at, Name: "Ping", Fields: ami.Message{{Key: "Event", Value: "Ping"}}}
	}
	writeBlocks(t, e, srv.ID, []ami.Event{ev(1, old), ev(2, old)}, 5, codecZstd)
	writeBlocks(t, e, srv.ID, []ami.Event{ev(3, now), ev(4, now)}, 5, codecZstd)
	if n := journalCount(t, e.db, srv.ID, nil); n != 4 {
		t.Fatalf("%d events before the retention", n)
	}
	if err := maintainPartitions(ctx, e.db, now, 1, 5*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	got := journalEvents(t, e.db, srv.ID)
	if len(got) != 2 || got[0].Seq != 3 || got[1].Seq != 4 {
		t.Fatalf("after the retention: %+v", got)
	}
	if n := count(t, e.db, `SELECT count(*) FROM ami_journal_blocks_default`); n != 0 {
		t.Errorf("%d blocks fell into the default partition", n)
	}
}

// TestMalformedFramesJournaled: a peer that sends broken blocks and values PostgreSQL
// text cannot hold; the collector journals what amigo delivers, byte for byte, and
// stays connected. (With the text journal of before, the NUL made the batch fail and
// retry for ever.)
func TestMalformedFramesJournaled(t *testing.T) {
	e := newEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peerDone := amitest.MalformedPeer(ln, "Data: a\x00b\xffc\rd\r\n")
	srv := e.addServer(t, "raw", ln.Addr().String())
	c := startCollector(t, e.options(t))
	named := func(n string) func(*ami.Event) bool { return func(e *ami.Event) bool { return e.Name == n } }
	waitFor(t, 20*time.Second, "Good2 journaled", func() bool { return journalCount(t, e.db, srv.ID, named("Good2")) == 1 })
	var good1, long *ami.Event
	for _, ev := range journalEvents(t, e.db, srv.ID) {
		switch ev.Name {
		case "Good1":
			good1 = &ev
		case "Long":
			long = &ev
		}
	}
	if good1 == nil || good1.Get("Data") != "a\x00b\xffc\rd" || !good1.Stamped || good1.Time.Unix() != 1795705160 {
		t.Fatalf("Good1 journaled as %+v", good1)
	}
	if long == nil || len(long.Get("Data")) != 200<<10 {
		t.Fatal("the 200 KiB line was not journaled whole")
	}
	if h, _ := c.Health(srv.ID); !h.Connected || h.Reconnects != 0 {
		t.Fatalf("health %+v", h)
	}
	_ = c.Stop(testCtx(t, 10*time.Second))
	<-peerDone
}

// TestCallsWaitForJournal: while journal blocks cannot be written, the calls writer
// commits nothing (no call, no checkpoint move), since a checkpoint past events that
// are not in the journal would lose them on a restart; once blocks can be written
// again, everything is stored, exactly once.
func TestCallsWaitForJournal(t *testing.T) {
	e := newEnv(t)
	start := time.Now().UTC().Truncate(time.Second)
	names := []string{"queue-hold", "queue-answered-local", "internal-answered", "blind-transfer"}
	const gap = 5 * time.Second
	m := newScripted(start, allScenariosConfig(), gap, names)
	s := startSim(t, 0, start, m)
	srv := e.addServer(t, "lab", s.Addr())
	c := startCollector(t, e.options(t))
	waitFor(t, 10*time.Second, "connected", func() bool { h, ok := c.Health(srv.ID); return ok && h.Connected })
	time.Sleep(300 * time.Millisecond) // the connect marker's batch commits
	checkpoint := func() int {
		return count(t, e.db, `SELECT coalesce(max(seq), 0) FROM ami_checkpoints WHERE server_id = $1`, srv.ID)
	}
	// Blocks fail (and are retried) while the table is away.
	mustExec(t, e, `ALTER TABLE ami_journal_blocks RENAME TO ami_journal_blocks_away`)
	renamed := true
	t.Cleanup(func() { // before the collector's Stop (LIFO), which would wait for the journal
		if renamed {
			_, _ = e.db.Exec(`ALTER TABLE ami_journal_blocks_away RENAME TO ami_journal_blocks`)
		}
	})
	cp0 := checkpoint()
	m.open()
	waitFor(t, 20*time.Second, "the simulator done", func() bool { _, more := m.Next(); return !more && m.emitted.Load() > 0 })
	time.Sleep(2 * time.Second) // several flush intervals and retries
	if n := count(t, e.db, `SELECT count(*) FROM calls WHERE server_id = $1`, srv.ID); n != 0 {
		t.Fatalf("%d calls committed while their events could not be journaled", n)
	}
	if cp := checkpoint(); cp != cp0 {
		t.Fatalf("the checkpoint moved from %d to %d while the journal could not be written", cp0, cp)
	}
	mustExec(t, e, `ALTER TABLE ami_journal_blocks_away RENAME TO ami_journal_blocks`)
	renamed = false
	want := reference(start, allScenariosConfig(), gap, names, baseAssembleConfig(srv))
	waitFor(t, 30*time.Second, "all calls stored", func() bool {
		return count(t, e.db, `SELECT count(*) FROM calls WHERE server_id = $1`, srv.ID) >= len(want)
	})
	if err := c.Stop(testCtx(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	compare(t, storedCalls(t, e.db, srv.ID), want, nil)
	if n := journalCount(t, e.db, srv.ID, notMarker); int64(n) < m.emitted.Load() {
		t.Errorf("journal has %d AMI events, the simulator emitted %d", n, m.emitted.Load())
	}
	if cp := checkpoint(); cp <= cp0 {
		t.Errorf("the checkpoint did not move on: %d", cp)
	}
}
