package report_test

// Benchmarks over a seeded database (linkage seed); see BENCHMARKS-reports.md.
//
//	LINKAGE_BENCH_DATABASE_URL='host=... dbname=bench' LINKAGE_BENCH_END=2026-11-26 \
//	  go test -run '^$' -bench . -benchtime 10x ./internal/report/
//
// They skip without LINKAGE_BENCH_DATABASE_URL.

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/linkage/linkage/ent"
	"github.com/linkage/linkage/ent/call"
	"github.com/linkage/linkage/graph"
	"github.com/linkage/linkage/internal/httpgzip"
	"github.com/linkage/linkage/internal/report"
)

type benchEnv struct {
	db      *sql.DB
	r       *report.Reports
	client  *ent.Client
	month   report.PeriodInput
	queueID int
}

func benchSetup(b *testing.B) *benchEnv {
	b.Helper()
	url := os.Getenv("LINKAGE_BENCH_DATABASE_URL")
	if url == "" {
		b.Skip("LINKAGE_BENCH_DATABASE_URL is not set (seed a database with `linkage seed`)")
	}
	db, err := sql.Open("postgres", url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	end := time.Now().UTC().Truncate(24 * time.Hour)
	if s := os.Getenv("LINKAGE_BENCH_END"); s != "" {
		if end, err = time.Parse("2006-01-02", s); err != nil {
			b.Fatal(err)
		}
	}
	moscow, _ := time.LoadLocation("Europe/Moscow")
	to := time.Date(end.Year(), end.Month(), end.Day(), 0, 0, 0, 0, moscow)
	from := to.AddDate(0, 0, -30)
	e := &benchEnv{db: db, month: report.PeriodInput{From: &from, To: &to}}
	e.client = ent.NewClient(ent.Driver(entsql.OpenDB("postgres", db)))
	e.r = report.New(db, e.client)
	if err := db.QueryRow(`SELECT id FROM queues ORDER BY id LIMIT 1`).Scan(&e.queueID); err != nil {
		b.Fatal(err)
	}
	return e
}

// timeIt runs fn b.N times and reports the median and the worst.
func timeIt(b *testing.B, fn func() error) {
	b.Helper()
	var ds []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t := time.Now()
		if err := fn(); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(t))
	}
	b.StopTimer()
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(ds[len(ds)-1].Microseconds())/1000, "max-ms")
}

func BenchmarkSummaryMonthByDayAndQueue(b *testing.B) {
	e := benchSetup(b)
	split := report.SplitQueue
	in := report.SummaryInput{Period: e.month, TimeZone: ptr("Europe/Moscow"), SplitBy: &split}
	var rows int
	timeIt(b, func() error {
		rep, err := e.r.Summary(context.Background(), report.AllScope(), in)
		if err == nil {
			rows = len(rep.Rows)
			if !rep.UsedRollup {
				b.Fatal("rollup not used")
			}
		}
		return err
	})
	b.ReportMetric(float64(rows), "rows")
}

// The same summary without the rollup (a half-hour zone forces the raw path).
func BenchmarkSummaryMonthByDayAndQueueRaw(b *testing.B) {
	e := benchSetup(b)
	split := report.SplitQueue
	in := report.SummaryInput{Period: e.month, TimeZone: ptr("Asia/Kolkata"), SplitBy: &split}
	timeIt(b, func() error {
		rep, err := e.r.Summary(context.Background(), report.AllScope(), in)
		if err == nil && rep.UsedRollup {
			b.Fatal("rollup used")
		}
		return err
	})
}

// A working-hours window over a month, split by operator (the widest split).
func BenchmarkSummaryMonthWorkingHoursByOperator(b *testing.B) {
	e := benchSetup(b)
	split := report.SplitOperator
	in := report.SummaryInput{Period: e.month, TimeZone: ptr("Europe/Moscow"), SplitBy: &split,
		WorkingHours: &report.WorkingHoursInput{Days: []int{1, 2, 3, 4, 5}, From: "09:00", To: "18:00"}}
	timeIt(b, func() error {
		_, err := e.r.Summary(context.Background(), report.AllScope(), in)
		return err
	})
}

// A year by day and queue. With LINKAGE_BENCH_YEAR=1 the benchmark first copies the
// seeded month's queue-rollup rows into the eleven months before it (and deletes them
// afterwards), so the summary reads a year's worth of rollup rows.
func BenchmarkSummaryYearByDayAndQueue(b *testing.B) {
	e := benchSetup(b)
	if os.Getenv("LINKAGE_BENCH_YEAR") == "" {
		b.Skip("set LINKAGE_BENCH_YEAR=1 to synthesise a year of rollup rows")
	}
	ctx := context.Background()
	from := e.month.From.AddDate(0, 0, -30*11)
	res, err := e.db.ExecContext(ctx, `INSERT INTO report_queue_hours
		SELECT h.hour - make_interval(days => 30 * n), h.server_id, h.queue_id, h.type, h.calls, h.answered, h.missed, h.abandoned,
		       h.sl_answered, h.wait_sum, h.wait_max, h.talk_sum, h.hold_sum, h.transferred
		FROM report_queue_hours h, generate_series(1, 11) n WHERE h.hour >= $1 AND h.hour < $2`, *e.month.From, *e.month.To)
	if err != nil {
		b.Fatal(err)
	}
	added, _ := res.RowsAffected()
	b.Cleanup(func() {
		e.db.Exec(`DELETE FROM report_queue_hours WHERE hour >= $1 AND hour < $2`, from, *e.month.From)
	})
	e.db.ExecContext(ctx, `ANALYZE report_queue_hours`)
	split := report.SplitQueue
	in := report.SummaryInput{Period: report.PeriodInput{From: &from, To: e.month.To}, TimeZone: ptr("Europe/Moscow"), SplitBy: &split}
	timeIt(b, func() error {
		_, err := e.r.Summary(ctx, report.AllScope(), in)
		return err
	})
	var n int64
	e.db.QueryRow(`SELECT count(*) FROM report_queue_hours`).Scan(&n)
	b.ReportMetric(float64(n), "rollup-rows")
	b.ReportMetric(float64(added), "added-rows")
}

func BenchmarkCallListPageFiltered(b *testing.B) {
	e := benchSetup(b)
	in := report.CallsInput{Period: e.month, Statuses: []call.Status{call.StatusMissed}, WaitMin: ptr(30),
		Filter: &report.ReportFilter{QueueIDs: []int{e.queueID}, Types: []call.Type{call.TypeInbound}}}
	var after *ent.Cursor
	timeIt(b, func() error {
		l, err := e.r.Calls(context.Background(), report.AllScope(), in, ptr(50), after)
		if err == nil && len(l.Edges) != 50 {
			b.Fatalf("page of %d", len(l.Edges))
		}
		if err == nil {
			after = l.PageInfo.EndCursor // walk forward: later pages cost the same
		}
		return err
	})
}

func BenchmarkCallListPageSearch(b *testing.B) {
	e := benchSetup(b)
	in := report.CallsInput{Period: e.month, Search: ptr("1234"), OrderBy: &ent.CallOrder{Field: ent.CallOrderFieldTalkSeconds, Direction: "DESC"}}
	timeIt(b, func() error {
		_, err := e.r.Calls(context.Background(), report.AllScope(), in, ptr(50), nil)
		return err
	})
}

func BenchmarkOperatorReportMonth(b *testing.B) {
	e := benchSetup(b)
	timeIt(b, func() error {
		_, err := e.r.Operators(context.Background(), report.AllScope(), report.OperatorReportInput{Period: e.month})
		return err
	})
}

func BenchmarkQueueReportMonth(b *testing.B) {
	e := benchSetup(b)
	timeIt(b, func() error {
		_, err := e.r.Queues(context.Background(), report.AllScope(), report.QueueReportInput{Period: e.month})
		return err
	})
}

// countingWriter counts bytes and lines of a streamed response.
type countingWriter struct {
	h     http.Header
	bytes atomic.Int64
	rows  atomic.Int64
}

func (w *countingWriter) Header() http.Header { return w.h }
func (w *countingWriter) WriteHeader(int)     {}
func (w *countingWriter) Write(p []byte) (int, error) {
	w.bytes.Add(int64(len(p)))
	w.rows.Add(int64(bytes.Count(p, []byte{'\n'})))
	return len(p), nil
}

// The full month of calls as CSV through the real handler, memory sampled meanwhile.
func BenchmarkExportCallsCSVMonth(b *testing.B) {
	e := benchSetup(b)
	mux := http.NewServeMux()
	report.Register(func(p, _ string, h http.Handler) { mux.Handle(p, h) }, e.r, func(*http.Request) report.Scope { return report.AllScope() }, nil)
	from := *e.month.From
	if d := os.Getenv("LINKAGE_BENCH_EXPORT_DAYS"); d != "" { // a shorter export, for profiling
		n, _ := strconv.Atoi(d)
		from = e.month.To.AddDate(0, 0, -n)
	}
	url := "/export/calls.csv?lang=en&timeZone=Europe/Moscow&from=" + neturl.QueryEscape(from.Format(time.RFC3339)) +
		"&to=" + neturl.QueryEscape(e.month.To.Format(time.RFC3339))
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var peak atomic.Uint64
		done := make(chan struct{})
		go func() {
			var ms runtime.MemStats
			for {
				select {
				case <-done:
					return
				case <-time.After(50 * time.Millisecond):
					runtime.ReadMemStats(&ms)
					if ms.HeapInuse > peak.Load() {
						peak.Store(ms.HeapInuse)
					}
				}
			}
		}()
		w := &countingWriter{h: http.Header{}}
		start := time.Now()
		mux.ServeHTTP(w, httptest.NewRequest("GET", url, nil))
		took := time.Since(start)
		close(done)
		if w.rows.Load() < 2 {
			b.Fatalf("export wrote %d lines", w.rows.Load())
		}
		b.ReportMetric(float64(w.rows.Load()-1), "rows")
		b.ReportMetric(float64(w.rows.Load())/took.Seconds(), "rows/s")
		b.ReportMetric(float64(w.bytes.Load())/float64(w.rows.Load()), "B/row")
		b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
	}
	b.ReportMetric(float64(vmHWM())/1024, "peak-RSS-MiB")
}

func vmHWM() int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			var kb int64
			for _, f := range strings.Fields(l)[1:2] {
				for _, c := range f {
					kb = kb*10 + int64(c-'0')
				}
			}
			return kb
		}
	}
	return 0
}

func gzipLen(p []byte) int {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(p)
	zw.Close()
	return buf.Len()
}

// Bytes per record of the call list over the real GraphQL handler: plain objects
// (every scalar column of Call) against the compact tuples, with and without gzip.
func BenchmarkWireSizeCallList(b *testing.B) {
	e := benchSetup(b)
	h := httpgzip.Handler(graph.NewHandler(&graph.Resolver{Client: e.client, Reports: e.r}, graph.ServerOptions{ComplexityLimit: 1 << 30}))
	const fields = `id serverID linkedid linkedids start answered end type status missedReason callerNumber callerName callerOperatorID
		dialed calleeNumber calleeName answeredByID answeredByNumber answeredByName answeredByDevice trunkID queues missedByOperators
		missedInQueues hangupBy waitSeconds talkSeconds holdSeconds talkWithoutHoldSeconds transferred recordings parentLinkedid
		approximateTimes incomplete incompleteReason`
	vars := map[string]any{"p": map[string]any{"from": e.month.From, "to": e.month.To}}
	post := func(q string, gz bool) []byte {
		body, _ := json.Marshal(map[string]any{"query": q, "variables": vars})
		req := httptest.NewRequest("POST", "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if gz {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		out, _ := io.ReadAll(rec.Body)
		return out
	}
	const n = 1000
	plainQ := `query($p: PeriodInput!) { calls(input: {period: $p}, first: 1000) { edges { node { ` + fields + ` } } } }`
	compactQ := `query($p: PeriodInput!) { callsCompact(input: {period: $p}, first: 1000) { columns rows } }`
	var plain, plainGz, compact, compactGz int
	for i := 0; i < b.N; i++ {
		plain, plainGz = len(post(plainQ, false)), len(post(plainQ, true))
		compact, compactGz = len(post(compactQ, false)), len(post(compactQ, true))
	}
	if plain < 100*n {
		b.Fatalf("plain response too small (%d bytes): %s", plain, post(plainQ, false)[:min(plain, 500)])
	}
	b.ReportMetric(float64(plain)/n, "plain-B/rec")
	b.ReportMetric(float64(plainGz)/n, "plain-gzip-B/rec")
	b.ReportMetric(float64(compact)/n, "compact-B/rec")
	b.ReportMetric(float64(compactGz)/n, "compact-gzip-B/rec")
	b.ReportMetric(float64(plain)/float64(compact), "plain/compact")
	b.ReportMetric(float64(plain)/float64(compactGz), "plain/compact-gzip")
}

// Bytes per record of the operator status history: JSON objects as GraphQL returns
// an OperatorStatusChange (id, operatorID, status, reason, queue, from, to) against
// tuples. There is no list query for the history yet; this measures the encoding.
func BenchmarkWireSizeStatusHistory(b *testing.B) {
	e := benchSetup(b)
	rows, err := e.db.Query(`SELECT id, operator_id, status, coalesce(reason, ''), coalesce(queue, ''), "from", "to"
		FROM operator_status_changes ORDER BY id LIMIT 1000`)
	if err != nil {
		b.Fatal(err)
	}
	type rec struct {
		ID         string     `json:"id"`
		OperatorID string     `json:"operatorID"`
		Status     string     `json:"status"`
		Reason     string     `json:"reason"`
		Queue      string     `json:"queue"`
		From       time.Time  `json:"from"`
		To         *time.Time `json:"to"`
	}
	var objs []rec
	var tuples [][]any
	for rows.Next() {
		var r rec
		var id, op int64
		if err := rows.Scan(&id, &op, &r.Status, &r.Reason, &r.Queue, &r.From, &r.To); err != nil {
			b.Fatal(err)
		}
		r.ID, r.OperatorID = json.Number(itoa(id)).String(), itoa(op)
		objs = append(objs, r)
		var to any
		if r.To != nil {
			to = r.To.Unix()
		}
		tuples = append(tuples, []any{id, op, r.Status, r.Reason, r.Queue, r.From.Unix(), to})
	}
	rows.Close()
	var plain, compact []byte
	for i := 0; i < b.N; i++ {
		plain, _ = json.Marshal(map[string]any{"data": map[string]any{"statusHistory": objs}})
		compact, _ = json.Marshal(map[string]any{"data": map[string]any{"statusHistoryCompact": map[string]any{
			"columns": []string{"id", "operatorID", "status", "reason", "queue", "from", "to"}, "rows": tuples}}})
	}
	n := float64(len(objs))
	b.ReportMetric(float64(len(plain))/n, "plain-B/rec")
	b.ReportMetric(float64(gzipLen(plain))/n, "plain-gzip-B/rec")
	b.ReportMetric(float64(len(compact))/n, "compact-B/rec")
	b.ReportMetric(float64(gzipLen(compact))/n, "compact-gzip-B/rec")
	b.ReportMetric(float64(len(plain))/float64(len(compact)), "plain/compact")
}

func itoa(v int64) string {
	b, _ := json.Marshal(v)
	return string(b)
}
