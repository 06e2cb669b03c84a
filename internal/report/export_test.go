package report_test

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/linkage/linkage/internal/report"
)

// The export applies the viewer's scope exactly as the reports do.
func TestExportScope(t *testing.T) {
	r, f, _ := setup(t)
	mux := http.NewServeMux()
	scope := report.Scope{QueueIDs: []int{f.QueueVla}}
	report.Register(func(p, _ string, h http.Handler) { mux.Handle(p, h) }, r, func(*http.Request) report.Scope { return scope }, nil)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/export/calls.csv?lang=en&from=2026-03-28&to=2026-03-31&timeZone=Europe/Berlin", nil))
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(rec.Body.Bytes(), []byte("\uFEFF")))).ReadAll()
	if err != nil || rec.Code != 200 {
		t.Fatalf("%d %v", rec.Code, err)
	}
	if len(recs) != 3 || recs[1][0] != strconv.Itoa(f.Calls["v2"]) || recs[2][0] != strconv.Itoa(f.Calls["v1"]) {
		t.Fatalf("scoped calls.csv = %q", recs)
	}
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/export/summary.csv?lang=en&from=2026-03-28&to=2026-03-31&timeZone=Europe/Berlin", nil))
	recs, _ = csv.NewReader(bytes.NewReader(bytes.TrimPrefix(rec.Body.Bytes(), []byte("\uFEFF")))).ReadAll()
	if last := recs[len(recs)-1]; last[0] != "Total" || last[2] != "1" || last[3] != "1" {
		t.Fatalf("scoped summary totals = %q", last)
	}
}
