package seed_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/linkage/linkage/ent"
	"github.com/linkage/linkage/internal/dbschema"
	"github.com/linkage/linkage/internal/report"
	"github.com/linkage/linkage/internal/seed"
	"github.com/linkage/linkage/internal/testdb"
)

func TestMain(m *testing.M) {
	testdb.SetMigrate(func(ctx context.Context, db *sql.DB) error {
		_, err := dbschema.Apply(ctx, db)
		return err
	})
	testdb.Main(m)
}

// A small seed: the counts add up, the rollups rebuilt after the bulk load match the
// calls, and the summary gives the same totals from the rollups as from the calls.
func TestSeedSmall(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	o := seed.Options{Days: 3, CallsPerDay: 600, Servers: 2, QueuesPerServer: 3, OperatorsPerServer: 8, Seed: 7, Workers: 2,
		End: time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)}
	st, err := seed.Run(ctx, db, o)
	if err != nil {
		t.Fatal(err)
	}
	var calls, rollup, queueRollup int64
	db.QueryRow(`SELECT count(*) FROM calls`).Scan(&calls)
	db.QueryRow(`SELECT sum(calls) FROM report_call_hours`).Scan(&rollup)
	db.QueryRow(`SELECT sum(calls) FROM report_queue_hours`).Scan(&queueRollup)
	if calls != st.Calls || rollup != calls || queueRollup != calls || st.Legs == 0 || st.Visits == 0 || st.Attempts == 0 || st.StatusChanges == 0 {
		t.Fatalf("stats %+v; calls %d, rollups %d/%d", st, calls, rollup, queueRollup)
	}
	var inbound, visited int64
	db.QueryRow(`SELECT count(*) FROM calls WHERE type = 'inbound'`).Scan(&inbound)
	db.QueryRow(`SELECT count(DISTINCT call_id) FROM queue_visits`).Scan(&visited)
	if inbound == 0 || visited != inbound {
		t.Errorf("inbound %d, with visits %d", inbound, visited)
	}
	r := report.New(db, ent.NewClient(ent.Driver(entsql.OpenDB("postgres", db))))
	in := report.SummaryInput{Period: report.PeriodInput{From: &st.From, To: &st.To}}
	totals := map[string]*report.SummaryRow{}
	for _, zone := range []string{"UTC", "Asia/Kolkata"} {
		in.TimeZone = &zone
		rep, err := r.Summary(ctx, report.AllScope(), in)
		if err != nil {
			t.Fatal(err)
		}
		totals[zone] = rep.Totals
	}
	a, b := totals["UTC"], totals["Asia/Kolkata"]
	if a.InboundAnswered != b.InboundAnswered || a.InboundMissed != b.InboundMissed || a.Outbound != b.Outbound || a.LongestWait != b.LongestWait ||
		a.AnsweredInSL != b.AnsweredInSL || a.InboundAnswered+a.InboundMissed != int(inbound) {
		t.Errorf("rollup totals %+v, raw totals %+v", *a, *b)
	}
	if _, err := seed.Run(ctx, db, o); err == nil {
		t.Error("seeding the same seed twice should fail on the server names")
	}
}
