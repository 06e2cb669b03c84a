package report_test

import (
	"context"
	"database/sql"
	"github.com/linkage/linkage/auth"
	"math"
	"testing"
	"time"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/linkage/linkage/ent"
	"github.com/linkage/linkage/ent/call"
	"github.com/linkage/linkage/internal/dbschema"
	"github.com/linkage/linkage/internal/report"
	"github.com/linkage/linkage/internal/report/reporttest"
	"github.com/linkage/linkage/internal/testdb"
)

func TestMain(m *testing.M) {
	testdb.SetMigrate(func(ctx context.Context, db *sql.DB) error {
		_, err := dbschema.Apply(ctx, db)
		return err
	})
	testdb.Main(m)
}

func setup(t *testing.T) (*report.Reports, *reporttest.Fixture, *sql.DB) {
	t.Helper()
	db := testdb.New(t)
	f := reporttest.Insert(t, db)
	client := ent.NewClient(ent.Driver(entsql.OpenDB("postgres", db)))
	return report.New(db, client), f, db
}

func ptr[T any](v T) *T { return &v }

func period(t *testing.T, from, to string) report.PeriodInput {
	return report.PeriodInput{From: ptr(reporttest.T(t, from)), To: ptr(reporttest.T(t, to))}
}

// berlin3 is 2026-03-28 .. 2026-03-30 in Berlin: the middle day is 23 hours long.
func berlin3(t *testing.T) report.PeriodInput {
	return period(t, "2026-03-28T00:00:00+01:00", "2026-03-31T00:00:00+02:00")
}

func near(a *float64, want float64) bool {
	return a != nil && math.Abs(*a-want) < 0.005
}

type sumWant struct {
	bucket                             string
	inAns, inMiss, abandoned, out, int int
	sl, avgWait                        float64
	maxWait                            int
	avgTalk, abandonRate               float64
}

func checkRow(t *testing.T, got *report.SummaryRow, w sumWant) {
	t.Helper()
	if got.Bucket != w.bucket || got.InboundAnswered != w.inAns || got.InboundMissed != w.inMiss || got.Abandoned != w.abandoned ||
		got.Outbound != w.out || got.Internal != w.int || got.LongestWait != w.maxWait {
		t.Errorf("row %s: got %+v, want %+v", w.bucket, *got, w)
		return
	}
	for _, c := range []struct {
		name string
		v    *float64
		want float64
	}{{"sl", got.ServiceLevel, w.sl}, {"avgWait", got.AverageWait, w.avgWait}, {"avgTalk", got.AverageTalk, w.avgTalk}, {"abandonRate", got.AbandonRate, w.abandonRate}} {
		if c.want < 0 {
			if c.v != nil {
				t.Errorf("row %s: %s = %v, want none", w.bucket, c.name, *c.v)
			}
			continue
		}
		if !near(c.v, c.want) {
			t.Errorf("row %s: %s = %v, want %v", w.bucket, c.name, deref(c.v), c.want)
		}
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestSummaryByDayAcrossDST(t *testing.T) {
	r, _, _ := setup(t)
	ctx := auth.SystemContext(context.Background())
	rep, err := r.Summary(ctx, report.AllScope(), report.SummaryInput{Period: berlin3(t), TimeZone: ptr("Europe/Berlin")})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.UsedRollup || len(rep.Rows) != 3 {
		t.Fatalf("rollup %v, rows %d", rep.UsedRollup, len(rep.Rows))
	}
	checkRow(t, rep.Rows[0], sumWant{"2026-03-28", 1, 0, 0, 0, 0, 100, 10, 10, 100, 0})
	checkRow(t, rep.Rows[1], sumWant{"2026-03-29", 3, 2, 2, 1, 0, 40, 34, 70, 560.0 / 3, 40})
	checkRow(t, rep.Rows[2], sumWant{"2026-03-30", 1, 1, 0, 0, 1, 50, 157.5, 300, 120, 0})
	checkRow(t, rep.Totals, sumWant{"total", 5, 3, 2, 1, 1, 50, 61.875, 300, 156, 25})
	if got := rep.Rows[1].BucketStart.UTC(); !got.Equal(reporttest.T(t, "2026-03-28T23:00:00Z")) {
		t.Errorf("2026-03-29 starts at %v", got)
	}
	if rep.Rows[1].Transferred != 1 {
		t.Errorf("transferred on 03-29 = %d", rep.Rows[1].Transferred)
	}

	// Hours on the DST day: 00:30 CET and 03:15 CEST are an hour apart in UTC.
	hour := report.BucketHour
	rep, err = r.Summary(ctx, report.AllScope(), report.SummaryInput{Period: period(t, "2026-03-28T23:00:00Z", "2026-03-29T02:00:00Z"),
		TimeZone: ptr("Europe/Berlin"), Bucket: &hour})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 2 || rep.Rows[0].Bucket != "2026-03-29 00:00" || rep.Rows[1].Bucket != "2026-03-29 03:00" ||
		!rep.Rows[1].BucketStart.Equal(reporttest.T(t, "2026-03-29T01:00:00Z")) {
		for _, r := range rep.Rows {
			t.Logf("%s %v", r.Bucket, r.BucketStart)
		}
		t.Fatalf("hour buckets across DST wrong")
	}
}

func TestSummaryRawEdgesAndNonHourZones(t *testing.T) {
	r, _, _ := setup(t)
	ctx := auth.SystemContext(context.Background())
	// Partial hours at both ends: c7 (07:05:30) and c8 (16:30) come from the raw rows.
	in := report.SummaryInput{Period: period(t, "2026-03-30T07:05:00Z", "2026-03-30T16:45:00Z"), TimeZone: ptr("Europe/Berlin")}
	rep, err := r.Summary(ctx, report.AllScope(), in)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.UsedRollup {
		t.Error("rollup not used for the whole hours")
	}
	checkRow(t, rep.Totals, sumWant{"total", 1, 1, 0, 0, 0, 50, 157.5, 300, 120, 0})
	// A half-hour zone cannot use UTC hours: everything comes from the calls, same totals.
	rep, err = r.Summary(ctx, report.AllScope(), report.SummaryInput{Period: berlin3(t), TimeZone: ptr("Asia/Kolkata")})
	if err != nil {
		t.Fatal(err)
	}
	if rep.UsedRollup {
		t.Error("rollup used for Asia/Kolkata")
	}
	checkRow(t, rep.Totals, sumWant{"total", 5, 3, 2, 1, 1, 50, 61.875, 300, 156, 25})
}

func TestSummaryWorkingHours(t *testing.T) {
	r, _, _ := setup(t)
	for _, hours := range []string{"09:00", "09:05"} { // whole hours use the rollup; 09:05 does not
		rep, err := r.Summary(auth.SystemContext(context.Background()), report.AllScope(), report.SummaryInput{Period: berlin3(t), TimeZone: ptr("Europe/Berlin"),
			WorkingHours: &report.WorkingHoursInput{Days: []int{1, 2, 3, 4, 5}, From: hours, To: "18:00"}})
		if err != nil {
			t.Fatal(err)
		}
		// Only Monday 03-30 09:00-18:00: c7 (09:05:30); c6 (00:10) and c8 (18:30) are outside.
		if len(rep.Rows) != 1 {
			t.Fatalf("%s: rows = %d", hours, len(rep.Rows))
		}
		checkRow(t, rep.Rows[0], sumWant{"2026-03-30", 1, 0, 0, 0, 0, 100, 15, 15, 120, 0})
		if rep.UsedRollup != (hours == "09:00") {
			t.Errorf("%s: used rollup = %v", hours, rep.UsedRollup)
		}
	}
}

func TestSummaryQueueZoneToday(t *testing.T) {
	r, f, _ := setup(t)
	ctx := auth.SystemContext(context.Background())
	// 15:00 UTC on 03-29 is 18:00 in Moscow but already 01:00 on 03-30 in Vladivostok.
	r = r.WithClock(func() time.Time { return reporttest.T(t, "2026-03-29T15:00:00Z") })
	today := report.PresetToday
	in := report.SummaryInput{Period: report.PeriodInput{Preset: &today}, Filter: &report.ReportFilter{QueueIDs: []int{f.QueueVla}}}
	rep, err := r.Summary(ctx, report.AllScope(), in)
	if err != nil {
		t.Fatal(err)
	}
	if rep.TimeZone != "Asia/Vladivostok" || !rep.From.Equal(reporttest.T(t, "2026-03-29T14:00:00Z")) {
		t.Fatalf("zone %s from %v", rep.TimeZone, rep.From)
	}
	checkRow(t, rep.Totals, sumWant{"total", 0, 1, 1, 0, 0, 0, 70, 70, -1, 100})
	in.TimeZone = ptr("Europe/Moscow")
	rep, err = r.Summary(ctx, report.AllScope(), in)
	if err != nil {
		t.Fatal(err)
	}
	checkRow(t, rep.Totals, sumWant{"total", 1, 1, 1, 0, 0, 50, 47.5, 70, 300, 50})
}

func TestSummarySplits(t *testing.T) {
	r, f, _ := setup(t)
	ctx := auth.SystemContext(context.Background())
	split := report.SplitQueue
	rep, err := r.Summary(ctx, report.AllScope(), report.SummaryInput{Period: berlin3(t), TimeZone: ptr("Europe/Berlin"), SplitBy: &split})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*report.SummaryRow{}
	for _, row := range rep.Rows {
		name := "none"
		if row.SplitName != nil {
			name = *row.SplitName
		}
		got[row.Bucket+"/"+name] = row
	}
	if r := got["2026-03-29/Berlin support"]; r == nil || r.InboundAnswered != 2 || r.InboundMissed != 1 || *r.SplitID != f.QueueBerlin {
		t.Errorf("Berlin 03-29 = %+v", r)
	}
	if r := got["2026-03-29/Vladivostok sales"]; r == nil || r.InboundAnswered != 1 || r.InboundMissed != 1 || !near(r.ServiceLevel, 50) {
		t.Errorf("Vladivostok 03-29 = %+v", r)
	}
	if r := got["2026-03-29/none"]; r == nil || r.Outbound != 1 {
		t.Errorf("no queue 03-29 = %+v", r)
	}
	// Groups: the totals stay the period's, not the sum of group rows.
	split = report.SplitGroup
	rep, err = r.Summary(ctx, report.AllScope(), report.SummaryInput{Period: berlin3(t), TimeZone: ptr("Europe/Berlin"), SplitBy: &split})
	if err != nil {
		t.Fatal(err)
	}
	checkRow(t, rep.Totals, sumWant{"total", 5, 3, 2, 1, 1, 50, 61.875, 300, 156, 25})
	n := 0
	for _, row := range rep.Rows {
		if row.SplitName == nil || *row.SplitName != "Day shift" {
			t.Errorf("group row %+v", row)
		}
		n += row.InboundAnswered + row.Outbound + row.Internal
	}
	// Day shift = Anna and Boris: c1, c2 (A), c4, v1 (B) answered; c5 placed by A; c6 answered by B.
	if n != 6 {
		t.Errorf("group rows count %d calls, want 6", n)
	}
	split = report.SplitType
	rep, err = r.Summary(ctx, report.AllScope(), report.SummaryInput{Period: berlin3(t), TimeZone: ptr("Europe/Berlin"), SplitBy: &split,
		Bucket: ptr(report.BucketMonth)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 3 || rep.Rows[0].Bucket != "2026-03" {
		t.Errorf("month by type: %d rows", len(rep.Rows))
	}
	for _, b := range []report.SummaryBucket{report.BucketWeek, report.BucketDayOfWeek, report.BucketHourOfDay} {
		rep, err = r.Summary(ctx, report.AllScope(), report.SummaryInput{Period: berlin3(t), TimeZone: ptr("Europe/Berlin"), Bucket: &b})
		if err != nil {
			t.Fatal(b, err)
		}
		sum := 0
		for _, row := range rep.Rows {
			sum += row.InboundAnswered + row.InboundMissed
		}
		if sum != 8 {
			t.Errorf("%s: %d incoming calls over the rows, want 8", b, sum)
		}
	}
	// Day of week: Saturday 03-28 is 6, Sunday 7, Monday 1.
	rep, _ = r.Summary(ctx, report.AllScope(), report.SummaryInput{Period: berlin3(t), TimeZone: ptr("Europe/Berlin"), Bucket: ptr(report.BucketDayOfWeek)})
	if len(rep.Rows) != 3 || rep.Rows[0].Bucket != "1" || rep.Rows[0].InboundMissed != 1 || rep.Rows[2].Bucket != "7" {
		t.Errorf("day of week rows: %+v", rep.Rows)
	}
}

func TestSummaryRollupFollowsUpdatesAndDeletes(t *testing.T) {
	r, f, db := setup(t)
	ctx := auth.SystemContext(context.Background())
	in := report.SummaryInput{Period: berlin3(t), TimeZone: ptr("Europe/Berlin")}
	// Deleting c8 (the longest wait of its hour) must recompute the maximum.
	if _, err := db.Exec(`DELETE FROM calls WHERE id = $1`, f.Calls["c8"]); err != nil {
		t.Fatal(err)
	}
	// An ON CONFLICT-style rewrite: c3 turns out to be answered by A after 40 s.
	if _, err := db.Exec(`UPDATE calls SET status = 'answered', missed_reason = NULL, answered_by_id = $2, talk_seconds = 30 WHERE id = $1`,
		f.Calls["c3"], f.OpA); err != nil {
		t.Fatal(err)
	}
	rep, err := r.Summary(ctx, report.AllScope(), in)
	if err != nil {
		t.Fatal(err)
	}
	checkRow(t, rep.Rows[2], sumWant{"2026-03-30", 1, 0, 0, 0, 1, 100, 15, 15, 120, 0})
	checkRow(t, rep.Rows[1], sumWant{"2026-03-29", 4, 1, 1, 1, 0, 40, 34, 70, 590.0 / 4, 20})
	// Both rollups agree with a rebuild from the calls.
	snapshot := func() string {
		var s string
		db.QueryRow(`SELECT (SELECT string_agg(format('%s/%s/%s/%s/%s:%s,%s,%s,%s', hour, server_id, queue_id, operator_id, type, calls, answered,
			wait_sum, wait_max), ' ' ORDER BY hour, server_id, queue_id, operator_id, trunk_id, type) FROM report_call_hours) || ' | ' || (SELECT string_agg(format('%s/%s/%s:%s,%s,%s,%s', hour, queue_id, type,
			calls, missed, wait_sum, wait_max), ' ' ORDER BY hour, server_id, queue_id, type) FROM report_queue_hours)`).Scan(&s)
		return s
	}
	before := snapshot()
	if _, err := db.Exec(`SELECT report_rollup_rebuild('2026-03-01', '2026-04-01')`); err != nil {
		t.Fatal(err)
	}
	if after := snapshot(); after != before {
		t.Errorf("rollups after the trigger:\n%s\nrebuilt:\n%s", before, after)
	}
	// The queue rollup serves a split by operator's absence: by operator the fine one.
	for _, sp := range []report.SummarySplit{report.SplitNone, report.SplitOperator} {
		in.SplitBy = &sp
		rep, err := r.Summary(ctx, report.AllScope(), in)
		if err != nil {
			t.Fatal(err)
		}
		checkRow(t, rep.Totals, sumWant{"total", 6, 1, 1, 1, 1, 4.0 / 7 * 100, 195.0 / 7, 70, 135, 100.0 / 7})
	}
}

func TestScope(t *testing.T) {
	r, f, _ := setup(t)
	ctx := auth.SystemContext(context.Background())
	in := report.SummaryInput{Period: berlin3(t), TimeZone: ptr("Europe/Berlin")}
	rep, err := r.Summary(ctx, report.Scope{QueueIDs: []int{f.QueueVla}}, in)
	if err != nil {
		t.Fatal(err)
	}
	checkRow(t, rep.Totals, sumWant{"total", 1, 1, 1, 0, 0, 50, 47.5, 70, 300, 50})
	rep, _ = r.Summary(ctx, report.Scope{}, in)
	if rep.Totals.InboundAnswered+rep.Totals.InboundMissed+rep.Totals.Outbound+rep.Totals.Internal != 0 {
		t.Errorf("the empty scope sees %+v", rep.Totals)
	}
	// Operator scope: Clara answered c7; c4 was answered by Boris and only transferred to her.
	list, err := r.Calls(ctx, report.Scope{OperatorIDs: []int{f.OpC}}, report.CallsInput{Period: berlin3(t)}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Edges) != 1 || list.Edges[0].Node.ID != f.Calls["c7"] {
		t.Errorf("Clara's calls: %d", len(list.Edges))
	}
	if j, err := r.Call(ctx, report.Scope{QueueIDs: []int{f.QueueVla}}, f.Calls["c1"]); err != nil || j != nil {
		t.Errorf("out-of-scope call = %v, %v", j, err)
	}
	if j, err := r.Call(ctx, report.Scope{QueueIDs: []int{f.QueueVla}}, f.Calls["v1"]); err != nil || j == nil {
		t.Errorf("in-scope call = %v, %v", j, err)
	}
	ops, err := r.Operators(ctx, report.Scope{OperatorIDs: []int{f.OpB}}, report.OperatorReportInput{Period: berlin3(t)})
	if err != nil || len(ops.Rows) != 1 || *ops.Rows[0].OperatorID != f.OpB {
		t.Errorf("operator scope: %v %+v", err, ops)
	}
	qs, err := r.Queues(ctx, report.Scope{QueueIDs: []int{f.QueueBerlin}}, report.QueueReportInput{Period: berlin3(t)})
	if err != nil || len(qs.Rows) != 1 || qs.Totals.Received != 6 {
		t.Errorf("queue scope: %v %+v", err, qs)
	}
}

func TestCallList(t *testing.T) {
	r, f, _ := setup(t)
	ctx := auth.SystemContext(context.Background())
	all := report.CallsInput{Period: berlin3(t)}
	var ids []int
	var after *ent.Cursor
	for page := 0; ; page++ {
		list, err := r.Calls(ctx, report.AllScope(), all, ptr(3), after)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range list.Edges {
			ids = append(ids, e.Node.ID)
		}
		if !list.PageInfo.HasNextPage {
			n, err := list.TotalCount(ctx)
			if err != nil || n != 10 {
				t.Errorf("total = %d, %v", n, err)
			}
			break
		}
		after = list.PageInfo.EndCursor
		if page > 5 {
			t.Fatal("pagination does not end")
		}
	}
	want := []string{"c8", "c7", "c6", "c5", "v2", "v1", "c4", "c3", "c2", "c1"}
	if len(ids) != len(want) {
		t.Fatalf("ids %v", ids)
	}
	for i, name := range want {
		if ids[i] != f.Calls[name] {
			t.Errorf("position %d: got %d, want %s", i, ids[i], name)
		}
	}
	cases := []struct {
		name string
		in   report.CallsInput
		want []string
	}{
		{"missed", report.CallsInput{Statuses: []call.Status{call.StatusMissed}}, []string{"c8", "v2", "c3"}},
		{"transferred", report.CallsInput{Transferred: ptr(true)}, []string{"c4"}},
		{"number 1002", report.CallsInput{Search: ptr("1002")}, []string{"c6", "v1", "c4"}},
		{"wait >= 30 by wait", report.CallsInput{WaitMin: ptr(30), OrderBy: &ent.CallOrder{Field: ent.CallOrderFieldWaitSeconds, Direction: "ASC"}},
			[]string{"c2", "c3", "v2", "c8"}},
		{"talk 50..120", report.CallsInput{TalkMin: ptr(50), TalkMax: ptr(120)}, []string{"c7", "c5", "c4", "c1"}},
		{"hung up by system", report.CallsInput{HangupBy: []call.HangupBy{call.HangupBySystem}}, []string{"c8"}},
		{"Vladivostok queue", report.CallsInput{Filter: &report.ReportFilter{QueueIDs: []int{f.QueueVla}}}, []string{"v2", "v1"}},
		{"group Day shift", report.CallsInput{Filter: &report.ReportFilter{GroupIDs: []int{f.Group}}}, []string{"c6", "c5", "v1", "c4", "c2", "c1"}},
		{"internal", report.CallsInput{Filter: &report.ReportFilter{Types: []call.Type{call.TypeInternal}}}, []string{"c6"}},
	}
	for _, tc := range cases {
		tc.in.Period = berlin3(t)
		tc.in.TimeZone = ptr("Europe/Berlin")
		list, err := r.Calls(ctx, report.AllScope(), tc.in, ptr(50), nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var got []int
		for _, e := range list.Edges {
			got = append(got, e.Node.ID)
		}
		ok := len(got) == len(tc.want)
		for i := 0; ok && i < len(got); i++ {
			ok = got[i] == f.Calls[tc.want[i]]
		}
		if !ok {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
	// The compact form pages the same way.
	c, err := r.CallsCompact(ctx, report.AllScope(), all, ptr(4), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Rows) != 4 || !c.PageInfo.HasNextPage || c.Columns[0] != "id" || c.Rows[0][0] != int64(f.Calls["c8"]) || len(c.Rows[0]) != len(c.Columns) {
		t.Fatalf("compact page 1: %+v", c)
	}
	c, err = r.CallsCompact(ctx, report.AllScope(), all, ptr(4), c.PageInfo.EndCursor)
	if err != nil || len(c.Rows) != 4 || c.Rows[0][0] != int64(f.Calls["v2"]) || c.Rows[3][0] != int64(f.Calls["c3"]) {
		t.Fatalf("compact page 2: %v %+v", err, c)
	}
}

func TestCallJourney(t *testing.T) {
	r, f, _ := setup(t)
	j, err := r.Call(auth.SystemContext(context.Background()), report.AllScope(), f.Calls["c4"])
	if err != nil || j == nil {
		t.Fatal(err)
	}
	if len(j.Legs) != 2 || *j.Legs[0].OperatorID != f.OpB || j.Legs[0].TransferTo != "1003" || *j.Legs[1].OperatorID != f.OpC {
		t.Errorf("legs: %+v", j.Legs)
	}
	if len(j.Visits) != 1 || j.Visits[0].QueueID != f.QueueBerlin || len(j.Transfers) != 1 || j.Transfers[0].To != "1003" {
		t.Errorf("visits %+v transfers %+v", j.Visits, j.Transfers)
	}
	j, _ = r.Call(auth.SystemContext(context.Background()), report.AllScope(), f.Calls["c3"])
	if len(j.Attempts) != 2 || j.Attempts[0].Result != "noanswer" || j.Attempts[1].Result != "cancelled" {
		t.Errorf("attempts: %+v", j.Attempts)
	}
	if j, err := r.Call(auth.SystemContext(context.Background()), report.AllScope(), 1<<40); j != nil || err != nil {
		t.Errorf("missing call: %v %v", j, err)
	}
}

func TestOperatorReport(t *testing.T) {
	r, f, _ := setup(t)
	ctx := auth.SystemContext(context.Background())
	// Berlin's 2026-03-29: 23 hours.
	rep, err := r.Operators(ctx, report.AllScope(), report.OperatorReportInput{Period: period(t, "2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00")})
	if err != nil {
		t.Fatal(err)
	}
	rows := map[int]*report.OperatorRow{}
	for _, row := range rep.Rows {
		rows[*row.OperatorID] = row
	}
	a := rows[f.OpA]
	if a == nil || a.Answered != 1 || a.TalkSeconds != 200 || a.Missed != 2 {
		t.Fatalf("Anna: %+v", a)
	}
	if a.LoggedInSeconds != 32400 || a.PausedSeconds != 2400 || !near(a.Occupancy, 200.0/30000*100) {
		t.Errorf("Anna's time: logged in %d, paused %d, occupancy %v", a.LoggedInSeconds, a.PausedSeconds, deref(a.Occupancy))
	}
	var total int64
	want := map[string]int64{"available/": 30000, "paused/lunch": 1800, "paused/break": 600, "loggedout/": 28800 + 21600}
	for _, s := range a.Statuses {
		total += s.Seconds
		if want[s.Status+"/"+s.Reason] != s.Seconds {
			t.Errorf("Anna %s/%s = %d", s.Status, s.Reason, s.Seconds)
		}
	}
	if total != 23*3600 {
		t.Errorf("Anna's statuses cover %d s, want the 23-hour day", total)
	}
	// Three days: answered and talk from legs, missed from rings not answered.
	rep, err = r.Operators(ctx, report.AllScope(), report.OperatorReportInput{Period: berlin3(t)})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []struct {
		id, answered, missed int
		talk, hold           int64
	}{{f.OpA, 2, 2, 300, 0}, {f.OpB, 3, 1, 340, 0}, {f.OpC, 2, 2, 160, 10}} {
		var row *report.OperatorRow
		for _, x := range rep.Rows {
			if *x.OperatorID == w.id {
				row = x
			}
		}
		if row == nil || row.Answered != w.answered || row.Missed != w.missed || row.TalkSeconds != w.talk || row.HoldSeconds != w.hold {
			t.Errorf("operator %d: %+v, want %+v", w.id, row, w)
		}
	}
	if rep.Totals.Answered != 7 || rep.Totals.Missed != 5 || rep.Totals.TalkSeconds != 800 {
		t.Errorf("totals %+v", rep.Totals)
	}
	rep, _ = r.Operators(ctx, report.AllScope(), report.OperatorReportInput{Period: berlin3(t), Filter: &report.ReportFilter{GroupIDs: []int{f.Group}}})
	if len(rep.Rows) != 2 {
		t.Errorf("group filter: %d operators", len(rep.Rows))
	}
}

func TestQueueReport(t *testing.T) {
	r, f, _ := setup(t)
	rep, err := r.Queues(auth.SystemContext(context.Background()), report.AllScope(), report.QueueReportInput{Period: berlin3(t)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 2 {
		t.Fatalf("rows %d", len(rep.Rows))
	}
	b, v := rep.Rows[0], rep.Rows[1]
	if *b.QueueID != f.QueueBerlin || b.Received != 6 || b.Answered != 4 || b.Abandoned != 1 || b.Unanswered != 1 || b.AnsweredInSL != 3 ||
		!near(b.ServiceLevel, 50) || !near(b.AverageSpeedOfAnswer, 15) || !near(b.AverageWait, 400.0/6) || b.LongestWait != 300 {
		t.Errorf("Berlin: %+v", b)
	}
	dist := func(row *report.QueueRow) [][3]int {
		var out [][3]int
		for _, w := range row.WaitDistribution {
			out = append(out, [3]int{w.Answered, w.Abandoned, w.Unanswered})
		}
		return out
	}
	wantB := [][3]int{{1, 0, 0}, {2, 0, 0}, {0, 0, 0}, {1, 1, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 1}}
	if got := dist(b); len(got) != 7 || got[0] != wantB[0] || got[1] != wantB[1] || got[3] != wantB[3] || got[6] != wantB[6] || got[2] != wantB[2] {
		t.Errorf("Berlin distribution %v, want %v", got, wantB)
	}
	if v.Received != 2 || v.Answered != 1 || v.Abandoned != 1 || !near(v.ServiceLevel, 50) || !near(v.AverageSpeedOfAnswer, 25) {
		t.Errorf("Vladivostok: %+v", v)
	}
	if got := dist(v); got[2] != [3]int{1, 0, 0} || got[4] != [3]int{0, 1, 0} {
		t.Errorf("Vladivostok distribution %v", got)
	}
	tot := rep.Totals
	if tot.Received != 8 || tot.Answered != 5 || tot.Abandoned != 2 || !near(tot.ServiceLevel, 50) || !near(tot.AverageSpeedOfAnswer, 17) {
		t.Errorf("totals: %+v", tot)
	}
	if d := dist(tot); d[3] != [3]int{1, 1, 0} || d[6] != [3]int{0, 0, 1} {
		t.Errorf("totals distribution %v", d)
	}
}

func TestInputErrors(t *testing.T) {
	r, _, _ := setup(t)
	ctx := auth.SystemContext(context.Background())
	for name, in := range map[string]report.SummaryInput{
		"no period":    {},
		"backwards":    {Period: period(t, "2026-03-30T00:00:00Z", "2026-03-29T00:00:00Z")},
		"bad zone":     {Period: berlin3(t), TimeZone: ptr("Mars/Olympus")},
		"bad hours":    {Period: berlin3(t), WorkingHours: &report.WorkingHoursInput{From: "9", To: "18:00"}},
		"bad weekday":  {Period: berlin3(t), WorkingHours: &report.WorkingHoursInput{Days: []int{8}, From: "09:00", To: "18:00"}},
		"bad bucket":   {Period: berlin3(t), Bucket: ptr(report.SummaryBucket("FORTNIGHT"))},
		"bad split by": {Period: berlin3(t), SplitBy: ptr(report.SummarySplit("COLOUR"))},
	} {
		if _, err := r.Summary(ctx, report.AllScope(), in); !report.IsInputError(err) {
			t.Errorf("%s: %v, want an input error", name, err)
		}
	}
}
