package collector

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/linkage/linkage/ami"
	"github.com/linkage/linkage/ami/assemble"
	"github.com/linkage/linkage/ami/sim/pbx"
	"github.com/linkage/linkage/ent"
)

// bigCenter is a large call center: n operators (PJSIP/1001...) split over three
// rrmemory/leastrecent queues, the default traffic mix, callsPerDay inbound calls
// spread over the default daily curve (flat when flat is set, at callsPerDay/24 per
// hour).
func bigCenter(n int, callsPerDay float64, flat bool) pbx.Config {
	c := pbx.DefaultConfig()
	c.Operators = nil
	c.Queues = []pbx.Queue{
		{Name: "support", Strategy: pbx.RRMemory, Timeout: 15 * time.Second, Retry: 2 * time.Second, Wrapup: 5 * time.Second, MusicClass: "default"},
		{Name: "sales", Strategy: pbx.LeastRecent, Timeout: 15 * time.Second, Retry: 2 * time.Second, Wrapup: 5 * time.Second, MusicClass: "default"},
		{Name: "vip", Strategy: pbx.RRMemory, Timeout: 20 * time.Second, Retry: 2 * time.Second, Wrapup: 5 * time.Second, MusicClass: "default"},
	}
	for i := 0; i < n; i++ {
		ext := strconv.Itoa(1001 + i)
		c.Operators = append(c.Operators, pbx.Operator{Endpoint: ext, Name: "Op " + ext, AnswerProb: 0.8, AnswerDelay: 5 * time.Second,
			BusyProb: 0.02, PauseReasons: []string{"Lunch", "Break"}, PausesPerHour: 0.3, MeanPause: 10 * time.Minute})
		q := &c.Queues[i%3]
		iface := "PJSIP/" + ext
		if i%5 == 4 {
			iface = "Local/" + ext + "@agents/n"
		}
		q.Members = append(q.Members, pbx.Member{Interface: iface, Name: "Op " + ext, StateInterface: "PJSIP/" + ext})
	}
	c.Operators = append(c.Operators, pbx.Operator{Endpoint: "2000", Name: "Supervisor", AnswerProb: 1, AnswerDelay: 4 * time.Second})
	sum := 0.0
	for _, f := range c.HourlyCurve {
		sum += f
	}
	if flat {
		for i := range c.HourlyCurve {
			c.HourlyCurve[i] = 1
		}
		sum = 24
	}
	c.CallsPerHour = callsPerDay / sum
	c.OutboundPerHour = c.CallsPerHour / 10
	c.InternalPerHour = c.CallsPerHour / 50
	c.Location = time.UTC
	return c
}

type ingestResult struct {
	events, journaled, calls int
	overflows                uint64
	slowDrops                uint64
	reconnects               int
	took                     time.Duration
	cpuSelf, cpuPG           float64 // CPU seconds over took: this process, PostgreSQL
}

// source is what feeds a benchmark's collector over TCP.
type source interface {
	Addr() string
	open()                   // start producing
	exhausted() bool         // everything was produced and written to the socket
	produced() int64         // events produced so far
	slowDisconnects() uint64 // sessions dropped for reading too slowly
}

// simSource is the simulator in this process, as fast as the collector reads: the
// model generates and the server renders while the collector runs, on the same cores.
type simSource struct {
	m *scripted
	s interface {
		Addr() string
	}
	slow func() uint64
}

func newSimSource(b *testing.B, cfg pbx.Config, start time.Time, d time.Duration) *simSource {
	m := newScripted(start, cfg, 0, nil)
	m.end = start.Add(d)
	s := startSim(b, 0, start, m)
	return &simSource{m: m, s: s, slow: func() uint64 { return s.Stats().SlowDisconnects }}
}

func (s *simSource) Addr() string            { return s.s.Addr() }
func (s *simSource) open()                   { s.m.open() }
func (s *simSource) exhausted() bool         { _, more := s.m.Next(); return !more }
func (s *simSource) produced() int64         { return s.m.emitted.Load() }
func (s *simSource) slowDisconnects() uint64 { return s.slow() }

// ingest runs a source and a collector into a fresh database, and returns when every
// event the source produced is journaled and the calls are written.
func ingest(b *testing.B, src source) ingestResult {
	e := newEnv(b)
	srv := e.addServer(b, "bench", src.Addr())
	// LINKAGE_BENCH_NO_ROLLUP=1 measures without the report rollup triggers on calls
	// (their share of PostgreSQL's CPU; not a configuration Linkage runs in).
	if os.Getenv("LINKAGE_BENCH_NO_ROLLUP") != "" {
		if _, err := e.db.Exec(`ALTER TABLE calls DISABLE TRIGGER USER`); err != nil {
			b.Fatal(err)
		}
	}
	o := e.options(b)
	o.FlushInterval = 200 * time.Millisecond
	// A deep connection queue: the simulator (as fast as possible) is throttled only
	// by amigo's reading, so the figure is the collector's sustained throughput
	// rather than how much it drops. LINKAGE_BENCH_QUEUE=65536 measures the default.
	qs := envInt("LINKAGE_BENCH_QUEUE", 1<<19)
	cc := o.ConnConfig
	o.ConnConfig = func(s *ent.Server) ami.Config { c := cc(s); c.QueueSize = qs; return c }
	c := New(o)
	if err := c.Start(testCtx(b, time.Minute)); err != nil {
		b.Fatal(err)
	}
	defer c.Stop(context.Background())
	waitFor(b, 10*time.Second, "connected", func() bool { h, ok := c.Health(srv.ID); return ok && h.Connected })
	time.Sleep(200 * time.Millisecond) // the resync goes by
	if p, ok := src.(interface{ pace(func() bool) }); ok && os.Getenv("LINKAGE_BENCH_OPEN_LOOP") == "" {
		p.pace(func() bool { h, _ := c.Health(srv.ID); return h.Queued > qs/4 })
	}
	// Journaled events are summed from the blocks' counts: decoding the journal at
	// every poll would load the machine being measured. Markers and resync items are
	// in it (a handful, and the resync lists).
	const journaledQ = `SELECT coalesce(sum(events), 0) FROM ami_journal_blocks`
	base := count(b, e.db, journaledQ)
	meter := newCPUMeter(b, e.db)
	self0, pg0 := meter.read()
	var selfAt, pgAt float64
	t0 := time.Now()
	src.open()
	var journaled, last int
	stable := 0
	lastGrowth := time.Now()
	for {
		time.Sleep(250 * time.Millisecond)
		done := src.exhausted()
		h, _ := c.Health(srv.ID)
		journaled = count(b, e.db, journaledQ) - base
		if journaled == last {
			stable++
		} else {
			stable = 0
			lastGrowth = time.Now()
			selfAt, pgAt = meter.read()
		}
		last = journaled
		if time.Since(t0).Truncate(time.Second)%(10*time.Second) == 0 && stable == 0 {
			b.Logf("%s: %d produced, %d journaled, queued %d, overflows %d", time.Since(t0).Round(time.Second), src.produced(), journaled, h.Queued, h.Overflows)
		}
		// Done: the source is past the end, nothing waits in the connection, and the
		// journal stopped growing (events the session's mask filters never arrive).
		if done && h.Queued == 0 && stable >= 4 {
			break
		}
	}
	took := lastGrowth.Sub(t0) // to the last poll that saw the journal grow (±250 ms)
	h, _ := c.Health(srv.ID)
	return ingestResult{events: int(src.produced()), journaled: journaled, took: took, overflows: h.Overflows,
		slowDrops: src.slowDisconnects(), reconnects: h.Reconnects, cpuSelf: selfAt - self0, cpuPG: pgAt - pg0,
		calls: count(b, e.db, `SELECT count(*) FROM calls`)}
}

func report(b *testing.B, r ingestResult) {
	// The rate is what was committed: events lost to an overflow or a slow-reader
	// disconnect are not counted as done.
	b.ReportMetric(float64(r.journaled)/r.took.Seconds(), "events/s")
	b.ReportMetric(float64(r.calls)/r.took.Seconds(), "calls/s")
	b.ReportMetric(float64(r.events), "events")
	b.ReportMetric(float64(r.calls), "calls")
	b.ReportMetric(float64(r.overflows), "overflows")
	b.ReportMetric(r.took.Seconds(), "s")
	if cpu := r.cpuSelf + r.cpuPG; cpu > 0 {
		// Independent of the neighbours: what two dedicated cores would sustain is
		// at most 2 x this (less whatever the source itself costs).
		b.ReportMetric(float64(r.journaled)/cpu, "events/cpu-s")
		b.Logf("CPU over the run: linkage process %.1f s, PostgreSQL %.1f s; %.0f events per CPU-second, %.2f cores busy",
			r.cpuSelf, r.cpuPG, float64(r.journaled)/cpu, cpu/r.took.Seconds())
	}
	b.Logf("%d events (%d journaled), %d calls in %s: %.0f events/s, %.0f calls/s, %d overflows, %d slow-reader disconnects, %d reconnects",
		r.events, r.journaled, r.calls, r.took.Round(time.Millisecond), float64(r.journaled)/r.took.Seconds(), float64(r.calls)/r.took.Seconds(),
		r.overflows, r.slowDrops, r.reconnects)
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkEndToEnd: AMI over TCP -> collector (journal + assembly) -> PostgreSQL,
// one simulated hour of a flat 240,000-calls-a-day load (10,000 calls). Run with
// -benchtime 1x. The source is the simulator's traffic pre-rendered before the clock
// starts and written as fast as the collector takes it (streamSource, paced by the
// collector's queue), so the figure is the collector's sustained rate without loss;
// LINKAGE_BENCH_OPEN_LOOP=1 writes as fast as amigo reads (the excess overflows), and
// LINKAGE_BENCH_SOURCE=sim runs the simulator in this process while it is measured,
// as before issue #4.
func BenchmarkEndToEnd(b *testing.B) {
	calls := envInt("LINKAGE_BENCH_CALLS_PER_HOUR", 10000)
	for i := 0; i < b.N; i++ {
		start := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
		var src source
		if os.Getenv("LINKAGE_BENCH_SOURCE") == "sim" {
			src = newSimSource(b, bigCenter(600, float64(calls*24), true), start, time.Hour)
		} else {
			src = newStreamSource(b, bigCenter(600, float64(calls*24), true), start, time.Hour)
		}
		report(b, ingest(b, src))
	}
}

// BenchmarkDay: a simulated day of LINKAGE_BENCH_CALLS_PER_DAY (150,000) inbound calls
// on the daily curve, plus outbound and internal calls. Run with -benchtime 1x; the
// sources are those of BenchmarkEndToEnd (the pre-rendered day is spooled to a
// temporary file, ~7 GB).
func BenchmarkDay(b *testing.B) {
	calls := envInt("LINKAGE_BENCH_CALLS_PER_DAY", 150000)
	for i := 0; i < b.N; i++ {
		start := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
		var src source
		if os.Getenv("LINKAGE_BENCH_SOURCE") == "sim" {
			src = newSimSource(b, bigCenter(600, float64(calls), false), start, 24*time.Hour)
		} else {
			src = newStreamSource(b, bigCenter(600, float64(calls), false), start, 24*time.Hour)
		}
		report(b, ingest(b, src))
	}
}

// dayEvents produces d of simulated traffic offline.
func dayEvents(cfg pbx.Config, start time.Time, d time.Duration) []ami.Event {
	p := pbx.New(cfg, start)
	var evs []ami.Event
	for t := start; t.Before(start.Add(d)); t = t.Add(time.Minute) {
		evs = append(evs, p.Advance(t)...)
	}
	for i := range evs {
		evs[i].Seq = uint64(i + 1)
		evs[i].Received = time.Now().UTC()
		evs[i].Stamped = true
	}
	return evs
}

// BenchmarkJournal: the journal write alone, batches of 5000 events of the pbx mix,
// rendered as a block, compressed by each codec and inserted, one transaction each.
// It is the writer's whole journal cost (render + compress + INSERT + commit).
func BenchmarkJournal(b *testing.B) {
	e := newEnv(b)
	srv := e.addServer(b, "bench", "127.0.0.1:1")
	if err := maintainPartitions(context.Background(), e.db, time.Now(), 1, 24*time.Hour); err != nil {
		b.Fatal(err)
	}
	evs := dayEvents(bigCenter(100, 100000, true), time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC), 10*time.Minute)
	const batch = 5000
	if len(evs) < batch {
		b.Fatalf("only %d events", len(evs))
	}
	seq := uint64(0)
	for _, codec := range []string{codecRaw, codecGzip, codecZstd, codecS2} {
		b.Run(codec, func(b *testing.B) {
			var enc blockEncoder
			chunk := make([]ami.Event, batch)
			var stored, raw int
			for i := 0; i < b.N; i++ {
				copy(chunk, evs[:batch])
				for j := range chunk {
					seq++
					chunk[j].Seq = seq
				}
				blk, err := enc.encode(chunk, codec)
				if err != nil {
					b.Fatal(err)
				}
				stored, raw = stored+len(blk.data), raw+blk.rawBytes
				tx, err := e.db.Begin()
				if err != nil {
					b.Fatal(err)
				}
				if err := insertBlock(context.Background(), tx, srv.ID, &blk); err != nil {
					b.Fatal(err)
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			el := b.Elapsed().Seconds()
			b.ReportMetric(float64(b.N*batch)/el, "events/s")
			b.ReportMetric(float64(raw)/float64(b.N*batch), "rawbytes/event")
			b.ReportMetric(float64(stored)/float64(b.N*batch), "bytes/event")
		})
	}
}

// BenchmarkJournalRead: replay speed, decompress + decode of the blocks written by
// each codec (what a restart's replay and Rebuild do before the assembler).
func BenchmarkJournalRead(b *testing.B) {
	evs := dayEvents(bigCenter(100, 100000, true), time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC), 10*time.Minute)
	const batch = 5000
	for _, codec := range []string{codecRaw, codecGzip, codecZstd, codecS2} {
		b.Run(codec, func(b *testing.B) {
			var enc blockEncoder
			blk, err := enc.encode(evs[:batch], codec)
			if err != nil {
				b.Fatal(err)
			}
			data := append([]byte(nil), blk.data...)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				text, err := decompress(codec, data)
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				if _, err := decodeBlock(text, func(*ami.Event) bool { n++; return true }); err != nil || n != batch {
					b.Fatal(n, err)
				}
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkInFlightMemory: heap held per call in flight by a server's assembler as the
// collector runs it (feed), on the large center's traffic cut off mid-day.
func BenchmarkInFlightMemory(b *testing.B) {
	for i := 0; i < b.N; i++ {
		start := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
		cfg := bigCenter(600, 400000, true)
		p := pbx.New(cfg, start)
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		a := assemble.New(AssembleConfig(&entServerLab, nil, nil))
		seq := uint64(0)
		for t := start; t.Before(start.Add(20 * time.Minute)); t = t.Add(10 * time.Second) {
			evs := p.Advance(t)
			for j := range evs {
				seq++
				evs[j].Seq, evs[j].Stamped = seq, true
				feed(a, &evs[j])
			}
		}
		// The model keeps its own state; measure it alone and take it away.
		runtime.GC()
		runtime.ReadMemStats(&m1)
		withBoth := int64(m1.HeapAlloc) - int64(m0.HeapAlloc)
		n := a.InFlight()
		a = nil
		runtime.GC()
		var m2 runtime.MemStats
		runtime.ReadMemStats(&m2)
		asm := int64(m1.HeapAlloc) - int64(m2.HeapAlloc)
		runtime.KeepAlive(p)
		b.ReportMetric(float64(asm)/float64(n), "B/call")
		b.ReportMetric(float64(n), "in-flight")
		b.Logf("%d calls in flight after %d events: assembler %d KiB (%.0f B/call); assembler+model %d KiB", n, seq, asm>>10, float64(asm)/float64(n), withBoth>>10)
	}
}

var entServerLab = ent.Server{Name: "bench", TrunkContexts: []string{"from-trunk"}, TrunkPrefixes: []string{"PJSIP/trunk"}}

// BenchmarkJournalEncode: rendering and compressing one 5,000-event block, per codec,
// without the database (MB/s of block text).
func BenchmarkJournalEncode(b *testing.B) {
	evs := dayEvents(bigCenter(100, 100000, true), time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC), 10*time.Minute)[:5000]
	for _, codec := range []string{codecRaw, codecGzip, codecZstd, codecS2} {
		b.Run(codec, func(b *testing.B) {
			var enc blockEncoder
			var blk block
			for b.Loop() {
				var err error
				if blk, err = enc.encode(evs, codec); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(blk.rawBytes))
			b.ReportMetric(float64(len(blk.data))/float64(len(evs)), "bytes/event")
		})
	}
}
