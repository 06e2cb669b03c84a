package app

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/linkage/linkage/auth"
	"github.com/linkage/linkage/internal/report"
	"github.com/linkage/linkage/internal/report/reporttest"
)

const berlinArgs = "from=2026-03-28&to=2026-03-31&timeZone=Europe/Berlin"

func fetch(t *testing.T, a *App, path string, gz bool) (*http.Response, []byte) {
	t.Helper()
	return fetchAs(t, adminClient(t, a), path, gz)
}

// fetchAs GETs path with c's session (nil: anonymous) without transparent
// decompression, so the test sees the Content-Encoding the server chose.
func fetchAs(t *testing.T, c *client, path string, gz bool) (*http.Response, []byte) {
	t.Helper()
	a := c.a
	req, _ := http.NewRequest("GET", "http://"+a.Addr()+path, nil)
	for _, ck := range c.http.Jar.Cookies(req.URL) {
		req.AddCookie(ck)
	}
	if gz {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	resp, err := http.DefaultTransport.RoundTrip(req) // no transparent decompression
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func readCSV(t *testing.T, b []byte, comma rune) [][]string {
	t.Helper()
	b = bytes.TrimPrefix(b, []byte("\uFEFF"))
	r := csv.NewReader(bytes.NewReader(b))
	r.Comma = comma
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("csv: %v", err)
	}
	return recs
}

func readXLSX(t *testing.T, b []byte) [][]string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("xlsx: %v", err)
	}
	defer f.Close()
	rows, err := f.GetRows("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func fmtF(p *float64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatFloat(*p, 'f', -1, 64)
}

func TestExportsMatchReports(t *testing.T) {
	a, _ := startApp(t)
	f := reporttest.Insert(t, a.DB)
	ctx := context.Background()
	reports := report.New(a.DB, a.Client)

	// Summary, CSV in English, gzip-compressed, against the report itself.
	in, err := report.SummaryInputFromQuery(mustQuery(berlinArgs))
	if err != nil {
		t.Fatal(err)
	}
	want, err := reports.Summary(ctx, report.AllScope(), in)
	if err != nil {
		t.Fatal(err)
	}
	resp, b := fetch(t, a, "/export/summary.csv?lang=en&"+berlinArgs, true)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(resp.Header.Get("Content-Disposition"), "summary-") {
		t.Fatalf("summary.csv: %d %v", resp.StatusCode, resp.Header)
	}
	recs := readCSV(t, b, ',')
	if len(recs) != 5 || recs[0][0] != "Period" || recs[0][2] != "External incoming: answered" || recs[4][0] != "Total" {
		t.Fatalf("summary.csv = %q", recs)
	}
	for i, row := range append(want.Rows, want.Totals) {
		got := recs[i+1]
		if got[2] != strconv.Itoa(row.InboundAnswered) || got[3] != strconv.Itoa(row.InboundMissed) ||
			got[10] != strconv.Itoa(row.LongestWait) || got[8] != fmtF(roundP(row.ServiceLevel)) || got[11] != fmtF(roundP(row.AverageTalk)) {
			t.Errorf("summary.csv row %d = %q, report %+v", i+1, got, *row)
		}
	}

	// Summary XLSX in Russian.
	_, b = fetch(t, a, "/export/summary.xlsx?lang=ru&bucket=day&"+berlinArgs, false)
	rows := readXLSX(t, b)
	if len(rows) != 5 || rows[0][0] != "Период" || rows[2][0] != "2026-03-29" || rows[2][2] != "3" || rows[4][0] != "Итого" {
		t.Fatalf("summary.xlsx = %q", rows)
	}

	// Calls, CSV in Russian (";"), every row in the list's order, times in Berlin time.
	resp, b = fetch(t, a, "/export/calls.csv?lang=ru&"+berlinArgs, true)
	recs = readCSV(t, b, ';')
	if resp.StatusCode != 200 || len(recs) != 11 || recs[0][1] != "Дата" || recs[0][len(recs[0])-1] != "Время приблизительно" {
		t.Fatalf("calls.csv: %d rows, header %q", len(recs), recs[0])
	}
	order := []string{"c8", "c7", "c6", "c5", "v2", "v1", "c4", "c3", "c2", "c1"}
	for i, name := range order {
		if recs[i+1][0] != strconv.Itoa(f.Calls[name]) {
			t.Errorf("calls.csv row %d = %s, want %s", i+1, recs[i+1][0], name)
		}
	}
	if recs[2][1] != "2026-03-30 09:05:30" { // c7 at 07:05:30Z, CEST
		t.Errorf("c7 start = %q", recs[2][1])
	}
	// Calls XLSX with filters: missed calls, longest wait first.
	_, b = fetch(t, a, "/export/calls.xlsx?lang=en&status=missed&orderBy=WAIT&"+berlinArgs, false)
	rows = readXLSX(t, b)
	if len(rows) != 4 || rows[1][0] != strconv.Itoa(f.Calls["c8"]) || rows[1][14] != "300" || rows[0][14] != "Wait time" {
		t.Fatalf("calls.xlsx = %q", rows)
	}

	// Operators and queues.
	ops, _ := reports.Operators(ctx, report.AllScope(), report.OperatorReportInput{Period: in.Period, TimeZone: in.TimeZone})
	_, b = fetch(t, a, "/export/operators.csv?lang=en&"+berlinArgs, false)
	recs = readCSV(t, b, ',')
	if len(recs) != len(ops.Rows)+2 {
		t.Fatalf("operators.csv: %d rows", len(recs))
	}
	for i, row := range append(ops.Rows, ops.Totals) {
		got := recs[i+1]
		if got[2] != strconv.Itoa(row.Answered) || got[3] != strconv.Itoa(row.Missed) || got[4] != strconv.FormatInt(row.TalkSeconds, 10) {
			t.Errorf("operators.csv row %d = %q, report %+v", i+1, got, *row)
		}
	}
	qs, _ := reports.Queues(ctx, report.AllScope(), report.QueueReportInput{Period: in.Period, TimeZone: in.TimeZone})
	_, b = fetch(t, a, "/export/queues.xlsx?lang=en&"+berlinArgs, false)
	rows = readXLSX(t, b)
	if len(rows) != len(qs.Rows)+2 || rows[1][0] != "600" || rows[1][3] != strconv.Itoa(qs.Rows[0].Received) || rows[1][7] != fmtF(roundP(qs.Rows[0].ServiceLevel)) ||
		rows[3][3] != "8" || rows[0][12] != "Wait 0–10: answered/abandoned" || rows[1][12] != "1/0" {
		t.Fatalf("queues.xlsx = %q", rows)
	}

	// Bad input is a 400 before anything streams; unknown reports are 404.
	if resp, b := fetch(t, a, "/export/calls.csv?from=yesterday&to=2026-03-31", false); resp.StatusCode != 400 || !strings.Contains(string(b), "from") {
		t.Errorf("bad from: %d %s", resp.StatusCode, b)
	}
	if resp, _ := fetch(t, a, "/export/everything.csv?"+berlinArgs, false); resp.StatusCode != 404 {
		t.Errorf("unknown report: %d", resp.StatusCode)
	}
	if resp, _ := fetch(t, a, "/export/calls.pdf?"+berlinArgs, false); resp.StatusCode != 404 {
		t.Errorf("unknown format: %d", resp.StatusCode)
	}
}

func roundP(p *float64) *float64 {
	if p == nil {
		return nil
	}
	v, _ := strconv.ParseFloat(strconv.FormatFloat(*p, 'f', 2, 64), 64)
	return &v
}

func mustQuery(s string) map[string][]string {
	out := map[string][]string{}
	for _, kv := range strings.Split(s, "&") {
		k, v, _ := strings.Cut(kv, "=")
		out[k] = append(out[k], v)
	}
	return out
}

func TestReportsOverGraphQL(t *testing.T) {
	a, _ := startApp(t)
	f := reporttest.Insert(t, a.DB)
	period := map[string]any{"from": "2026-03-28T00:00:00+01:00", "to": "2026-03-31T00:00:00+02:00"}

	_, r := gql(t, a, `query($p: PeriodInput!) { summaryReport(input: {period: $p, timeZone: "Europe/Berlin", bucket: DAY, splitBy: NONE}) {
		timeZone usedRollup rows { bucket bucketStart inboundAnswered serviceLevel } totals { inboundAnswered inboundMissed serviceLevel averageWait longestWait abandonRate } } }`,
		map[string]any{"p": period})
	if len(r.Errors) > 0 {
		t.Fatalf("summary: %+v", r.Errors)
	}
	var s struct {
		SummaryReport struct {
			TimeZone   string
			UsedRollup bool
			Rows       []struct{ Bucket string }
			Totals     struct {
				InboundAnswered, InboundMissed, LongestWait int
				ServiceLevel, AverageWait, AbandonRate      float64
			}
		}
	}
	json.Unmarshal(r.Data, &s)
	if tot := s.SummaryReport.Totals; tot.InboundAnswered != 5 || tot.InboundMissed != 3 || tot.ServiceLevel != 50 || tot.AverageWait != 61.875 ||
		tot.LongestWait != 300 || tot.AbandonRate != 25 || len(s.SummaryReport.Rows) != 3 {
		t.Fatalf("summary over GraphQL: %s", r.Data)
	}

	_, r = gql(t, a, `query($p: PeriodInput!, $after: Cursor) { calls(input: {period: $p, statuses: [missed]}, first: 2, after: $after) {
		totalCount pageInfo { hasNextPage endCursor } edges { node { id linkedid waitSeconds missedInQueues server { name } } } } }`,
		map[string]any{"p": period})
	if len(r.Errors) > 0 {
		t.Fatalf("calls: %+v", r.Errors)
	}
	var c struct {
		Calls struct {
			TotalCount int
			PageInfo   struct {
				HasNextPage bool
				EndCursor   string
			}
			Edges []struct{ Node struct{ ID string } }
		}
	}
	json.Unmarshal(r.Data, &c)
	if c.Calls.TotalCount != 3 || len(c.Calls.Edges) != 2 || !c.Calls.PageInfo.HasNextPage || c.Calls.Edges[0].Node.ID != strconv.Itoa(f.Calls["c8"]) {
		t.Fatalf("calls page 1: %s", r.Data)
	}
	_, r = gql(t, a, `query($p: PeriodInput!, $after: Cursor) { calls(input: {period: $p, statuses: [missed]}, first: 2, after: $after) {
		pageInfo { hasNextPage } edges { node { id } } } }`, map[string]any{"p": period, "after": c.Calls.PageInfo.EndCursor})
	if !strings.Contains(string(r.Data), fmt.Sprintf(`"id":"%d"`, f.Calls["c3"])) || !strings.Contains(string(r.Data), `"hasNextPage":false`) {
		t.Fatalf("calls page 2: %s %+v", r.Data, r.Errors)
	}

	_, r = gql(t, a, `query($id: ID!) { call(id: $id) { call { linkedid transferred } legs { number talkSeconds transferTo operator { name } }
		visits { queue { number } result waitSeconds } attempts { result } transfers { type to } } }`, map[string]any{"id": f.Calls["c4"]})
	if got := string(r.Data); len(r.Errors) > 0 || !strings.Contains(got, `"transferTo":"1003"`) || !strings.Contains(got, `"name":"Clara"`) ||
		!strings.Contains(got, `"transfers":[{"type":"blind","to":"1003"}]`) || !strings.Contains(got, `"number":"600"`) {
		t.Fatalf("call journey: %s %+v", got, r.Errors)
	}

	_, r = gql(t, a, `query($p: PeriodInput!) { operatorReport(input: {period: $p, timeZone: "Europe/Berlin"}) { totals { answered missed talkSeconds } }
		queueReport(input: {period: $p}) { totals { received answered abandoned serviceLevel averageSpeedOfAnswer waitDistribution { fromSeconds toSeconds answered } } } }`,
		map[string]any{"p": period})
	if got := string(r.Data); len(r.Errors) > 0 || !strings.Contains(got, `"totals":{"answered":7,"missed":5,"talkSeconds":800}`) ||
		!strings.Contains(got, `"received":8,"answered":5,"abandoned":2,"serviceLevel":50,"averageSpeedOfAnswer":17`) {
		t.Fatalf("operator/queue reports: %s %+v", got, r.Errors)
	}

	_, r = gql(t, a, `query($p: PeriodInput!) { callsCompact(input: {period: $p}, first: 3) { columns rows pageInfo { hasNextPage } } }`, map[string]any{"p": period})
	if got := string(r.Data); len(r.Errors) > 0 || !strings.Contains(got, `"columns":["id","start"`) || !strings.Contains(got, fmt.Sprintf(`[%d,1774888200,`, f.Calls["c8"])) {
		t.Fatalf("compact: %s %+v", got, r.Errors)
	}

	_, r = gql(t, a, `{ summaryReport(input: {period: {preset: TODAY}, timeZone: "Nowhere/City"}) { timeZone } }`, nil)
	if len(r.Errors) == 0 || r.Errors[0].Message != `unknown time zone "Nowhere/City"` || r.Errors[0].Extensions["code"] != "GRAPHQL_VALIDATION_FAILED" {
		t.Fatalf("bad zone: %+v", r.Errors)
	}
}

func TestGraphQLIsGzipped(t *testing.T) {
	a, _ := startApp(t)
	body := strings.NewReader(`{"query":"{ buildInfo { version } }"}`)
	req, _ := http.NewRequest("POST", "http://"+a.Addr()+"/graphql", body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	zr, err := gzip.NewReader(resp.Body)
	if err != nil || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("not gzip: %v %v", err, resp.Header)
	}
	b, _ := io.ReadAll(zr)
	if !strings.Contains(string(b), "buildInfo") {
		t.Fatalf("body %s", b)
	}
}

// TestExportAccess: exports need a session with the export permission, see only the
// viewer's queues, and land in the audit log.
func TestExportAccess(t *testing.T) {
	a, _ := startApp(t)
	f := reporttest.Insert(t, a.DB)
	if resp, _ := fetchAs(t, anon(a), "/export/calls.csv?"+berlinArgs, false); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous export: %d, want 401", resp.StatusCode)
	}
	op := signIn(t, a, "op1", []string{auth.RoleOperator}, auth.Grant{})
	if resp, _ := fetchAs(t, op, "/export/summary.csv?"+berlinArgs, false); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("operator export: %d, want 403", resp.StatusCode)
	}
	if _, r := op.gql(t, `{ summaryReport(input: {period: {preset: TODAY}}) { timeZone } }`, nil); len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "FORBIDDEN" {
		t.Fatalf("operator summaryReport: %+v", r.Errors)
	}
	// A supervisor of one queue exports only that queue's calls.
	all, allBody := fetch(t, a, "/export/calls.csv?lang=en&"+berlinArgs, false)
	if all.StatusCode != 200 {
		t.Fatalf("admin export: %d", all.StatusCode)
	}
	sup := signIn(t, a, "sup1", []string{auth.RoleSupervisor}, auth.Grant{Queues: []auth.QueueGrant{{QueueID: f.QueueBerlin}}})
	resp, supBody := fetchAs(t, sup, "/export/calls.csv?lang=en&"+berlinArgs, false)
	if resp.StatusCode != 200 {
		t.Fatalf("supervisor export: %d", resp.StatusCode)
	}
	if n, m := len(readCSV(t, supBody, ',')), len(readCSV(t, allBody, ',')); n >= m || n < 2 {
		t.Fatalf("supervisor of one queue exported %d rows, admin %d: the scope did not filter", n, m)
	}
	var audited int
	if err := a.DB.QueryRow(`SELECT count(*) FROM audit_logs WHERE action = 'export.create'`).Scan(&audited); err != nil || audited != 2 {
		t.Fatalf("audited exports = %d (%v), want 2 (admin and supervisor)", audited, err)
	}
}
