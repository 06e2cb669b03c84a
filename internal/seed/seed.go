// Package seed bulk-generates a realistic call-center dataset for benchmarks and
// demos: servers, queues, operators, groups and trunks, then days of calls with
// their legs, queue visits, queue attempts and operators' status history, written
// with COPY. The numbers follow what the field sees: a daily curve that peaks late
// morning, quieter weekends, most calls inbound through queues, about one in ten
// abandoned, waits and talk times with long tails, some holds and transfers.
package seed

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lib/pq"
)

// Options says how much to generate.
type Options struct {
	Days               int       // days of calls, ending yesterday (UTC) unless End is set
	CallsPerDay        int       // average calls per day over all servers
	Servers            int       // Asterisk servers
	QueuesPerServer    int       // queues on each server
	OperatorsPerServer int       // operators on each server
	Seed               uint64    // random seed: the same options give the same data
	End                time.Time // first day after the data (UTC midnight); zero: today
	Workers            int       // days written in parallel
	Log                *slog.Logger
}

// Defaults is one month at 150,000 calls a day on two servers.
func Defaults() Options {
	return Options{Days: 30, CallsPerDay: 150000, Servers: 2, QueuesPerServer: 10, OperatorsPerServer: 300, Seed: 1, Workers: 2}
}

// Stats counts what was written.
type Stats struct {
	Calls, Legs, Visits, Attempts, StatusChanges int64
	From, To                                     time.Time // first call's start, just after the last call's start (UTC)
	Took                                         time.Duration
}

type server struct {
	id     int64
	loc    *time.Location
	queues []queue
	ops    []operator
	trunks []trunk
}

type queue struct {
	id     int64
	number string
}

type operator struct {
	id     int64
	number string
	name   string
}

type trunk struct {
	id     int64
	number string
}

var zones = []string{"Europe/Moscow", "Asia/Vladivostok", "Europe/Berlin", "Asia/Yekaterinburg"}

// Run generates the dataset. The rollup trigger is switched off for the bulk load
// (a session setting) and the rollup rebuilt once for the whole range at the end.
func Run(ctx context.Context, db *sql.DB, o Options) (Stats, error) {
	began := time.Now()
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if o.Days < 1 || o.CallsPerDay < 1 || o.Servers < 1 || o.QueuesPerServer < 1 || o.OperatorsPerServer < 2 {
		return Stats{}, fmt.Errorf("seed: days, calls per day, servers and queues must be positive, operators at least 2")
	}
	if o.Workers < 1 {
		o.Workers = 1
	}
	end := o.End
	if end.IsZero() {
		end = time.Now().UTC().Truncate(24 * time.Hour)
	}
	start := end.AddDate(0, 0, -o.Days)
	st := Stats{From: start, To: end}
	rng := rand.New(rand.NewPCG(o.Seed, 0x5eed))
	servers, err := setup(ctx, db, o, rng)
	if err != nil {
		return st, err
	}
	var base int64
	if err := db.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) + 1 FROM calls`).Scan(&base); err != nil {
		return st, fmt.Errorf("seed: %w", err)
	}
	stride := int64(o.CallsPerDay) * 2
	days := make(chan int)
	errs := make(chan error, o.Workers)
	var wg sync.WaitGroup
	for w := 0; w < o.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range days {
				day := start.AddDate(0, 0, d)
				g := &gen{o: o, rng: rand.New(rand.NewPCG(o.Seed, uint64(d)+1)), servers: servers, nextID: base + int64(d)*stride}
				g.day(day)
				if err := g.write(ctx, db, &st); err != nil {
					errs <- fmt.Errorf("seed: day %s: %w", day.Format("2006-01-02"), err)
					return
				}
				log.Info("seeded day", "day", day.Format("2006-01-02"), "calls", len(g.calls))
			}
		}()
	}
	var ferr error
feed:
	for d := 0; d < o.Days; d++ {
		select {
		case days <- d:
		case ferr = <-errs:
			break feed
		case <-ctx.Done():
			ferr = ctx.Err()
			break feed
		}
	}
	close(days)
	wg.Wait()
	if ferr == nil {
		select {
		case ferr = <-errs:
		default:
		}
	}
	if ferr != nil {
		return st, ferr
	}
	log.Info("rebuilding the report rollup")
	if _, err := db.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('calls', 'id'), (SELECT max(id) FROM calls))`); err != nil {
		return st, fmt.Errorf("seed: %w", err)
	}
	// Days are local to each server, so the calls spill over the UTC days at both ends.
	if err := db.QueryRowContext(ctx, `SELECT min(start), max(start) + interval '1 second' FROM calls WHERE id >= $1`, base).Scan(&st.From, &st.To); err != nil {
		return st, fmt.Errorf("seed: %w", err)
	}
	st.From, st.To = st.From.UTC(), st.To.UTC()
	if _, err := db.ExecContext(ctx, `SELECT report_rollup_rebuild($1, $2)`, st.From, st.To); err != nil {
		return st, fmt.Errorf("seed: rollup: %w", err)
	}
	if _, err := db.ExecContext(ctx, `ANALYZE`); err != nil {
		return st, fmt.Errorf("seed: analyze: %w", err)
	}
	st.Took = time.Since(began)
	return st, nil
}

func setup(ctx context.Context, db *sql.DB, o Options, rng *rand.Rand) ([]*server, error) {
	now := time.Now().UTC()
	var servers []*server
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var groupIDs []int64
	for g := 0; g < 5; g++ {
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO operator_groups (created_at, updated_at, name, virtual) VALUES ($1, $1, $2, false)
			ON CONFLICT (name) DO UPDATE SET updated_at = EXCLUDED.updated_at RETURNING id`, now, fmt.Sprintf("Team %d (seed %d)", g+1, o.Seed)).Scan(&id)
		if err != nil {
			return nil, fmt.Errorf("seed: group: %w", err)
		}
		groupIDs = append(groupIDs, id)
	}
	for s := 0; s < o.Servers; s++ {
		zone := zones[s%len(zones)]
		loc, err := time.LoadLocation(zone)
		if err != nil {
			return nil, err
		}
		srv := &server{loc: loc}
		name := fmt.Sprintf("pbx-%d-seed%d", s+1, o.Seed)
		if err := tx.QueryRowContext(ctx, `INSERT INTO servers (created_at, updated_at, name, ami_address, ami_username, ami_secret, timezone)
			VALUES ($1, $1, $2, $3, 'linkage', 'seed', $4) RETURNING id`, now, name, fmt.Sprintf("10.0.%d.1:5038", s), zone).Scan(&srv.id); err != nil {
			return nil, fmt.Errorf("seed: server %s (seed each database once per --seed): %w", name, err)
		}
		for q := 0; q < o.QueuesPerServer; q++ {
			qu := queue{number: strconv.Itoa(600 + q)}
			threshold := []int{20, 20, 30, 15}[q%4]
			if err := tx.QueryRowContext(ctx, `INSERT INTO queues (created_at, updated_at, server_id, number, display_name, timezone, sl_threshold_seconds)
				VALUES ($1, $1, $2, $3, $4, '', $5) RETURNING id`, now, srv.id, qu.number, fmt.Sprintf("Queue %s", qu.number), threshold).Scan(&qu.id); err != nil {
				return nil, fmt.Errorf("seed: queue: %w", err)
			}
			srv.queues = append(srv.queues, qu)
		}
		for i := 0; i < o.OperatorsPerServer; i++ {
			op := operator{number: strconv.Itoa(1000 + i), name: fmt.Sprintf("%s %s", firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))])}
			if err := tx.QueryRowContext(ctx, `INSERT INTO operators (created_at, updated_at, server_id, number, interface, name, tracked)
				VALUES ($1, $1, $2, $3, $4, $5, true) RETURNING id`, now, srv.id, op.number, "PJSIP/"+op.number, op.name).Scan(&op.id); err != nil {
				return nil, fmt.Errorf("seed: operator: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO operator_group_operators (operator_group_id, operator_id) VALUES ($1, $2)`,
				groupIDs[i%len(groupIDs)], op.id); err != nil {
				return nil, fmt.Errorf("seed: group member: %w", err)
			}
			srv.ops = append(srv.ops, op)
		}
		for t := 0; t < 3; t++ {
			tr := trunk{number: fmt.Sprintf("7495%07d", 1000000*(s+1)+t)}
			if err := tx.QueryRowContext(ctx, `INSERT INTO trunks (created_at, updated_at, server_id, number, name) VALUES ($1, $1, $2, $3, $4) RETURNING id`,
				now, srv.id, tr.number, fmt.Sprintf("DID %d", t+1)).Scan(&tr.id); err != nil {
				return nil, fmt.Errorf("seed: trunk: %w", err)
			}
			srv.trunks = append(srv.trunks, tr)
		}
		servers = append(servers, srv)
	}
	return servers, tx.Commit()
}

var (
	firstNames = []string{"Anna", "Olga", "Irina", "Dmitry", "Sergey", "Elena", "Maria", "Pavel", "Oleg", "Natalia", "Ivan", "Yulia"}
	lastNames  = []string{"Ivanova", "Petrov", "Smirnova", "Kuznetsov", "Popova", "Sokolov", "Lebedeva", "Kozlov", "Novikova", "Morozov"}
	// hourWeights is the weekday curve of call starts over local hours.
	hourWeights = []float64{0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.5, 4, 7, 8, 8, 6.5, 7, 7.5, 7, 6, 4.5, 3, 2, 1.5, 1, 0.6, 0.3}
)

// gen generates one day.
type gen struct {
	o       Options
	rng     *rand.Rand
	servers []*server
	nextID  int64

	calls, legs, visits, attempts, status [][]any
}

func (g *gen) pickHour() int {
	total := 0.0
	for _, w := range hourWeights {
		total += w
	}
	x := g.rng.Float64() * total
	for h, w := range hourWeights {
		if x < w {
			return h
		}
		x -= w
	}
	return 23
}

func (g *gen) exp(mean float64) int { return int(g.rng.ExpFloat64() * mean) }

func (g *gen) lognormal(median, sigma float64, max int) int {
	v := int(median * math.Exp(g.rng.NormFloat64()*sigma))
	if v > max {
		v = max
	}
	if v < 1 {
		v = 1
	}
	return v
}

func jsonList(v []string) any {
	if len(v) == 0 {
		return nil
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func (g *gen) day(day time.Time) {
	for _, s := range g.servers {
		local := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, s.loc)
		weekend := local.Weekday() == time.Saturday || local.Weekday() == time.Sunday
		factor := 1.15
		if weekend {
			factor = 0.6
		}
		n := int(float64(g.o.CallsPerDay) * factor / float64(len(g.servers)))
		for i := 0; i < n; i++ {
			at := local.Add(time.Duration(g.pickHour())*time.Hour + time.Duration(g.rng.IntN(3600_000))*time.Millisecond)
			g.call(s, at)
		}
		g.statuses(s, local, weekend)
	}
}

func (g *gen) call(s *server, at time.Time) {
	id := g.nextID
	g.nextID++
	linkedid := fmt.Sprintf("%d.%d", at.Unix(), id)
	caller := fmt.Sprintf("79%09d", g.rng.IntN(1_000_000_000))
	var (
		typ, status, missedReason, hangup = "inbound", "answered", "", "caller"
		callerOp, answeredBy, trunkID     any
		answeredAt                        any
		dialed, callee, byNumber, byName  string
		wait, talk, hold                  int
		transferred                       bool
		queues, missedOps, missedQueues   []string
		transfers                         any
	)
	x := g.rng.Float64()
	switch {
	case x < 0.65: // inbound through queues
		tr := s.trunks[g.rng.IntN(len(s.trunks))]
		trunkID, dialed = tr.id, tr.number
		// Queues get zipf-like shares: the first queues are the busy ones.
		qi := int(float64(len(s.queues)) * math.Pow(g.rng.Float64(), 1.8))
		q := s.queues[qi]
		visits := []queue{q}
		if g.rng.Float64() < 0.08 {
			visits = append(visits, s.queues[(qi+1)%len(s.queues)])
		}
		outcome := g.rng.Float64()
		switch {
		case outcome < 0.86:
			wait = g.exp(25)
		case outcome < 0.96:
			status, missedReason, wait = "missed", "abandoned", 1+g.exp(50)
		default:
			status, missedReason, wait, hangup = "missed", "timeout", 300, "system"
		}
		if wait > 900 {
			wait = 900
		}
		t := at.Add(time.Duration(2+g.rng.IntN(8)) * time.Second) // IVR before the queue
		for vi, vq := range visits {
			queues = append(queues, vq.number)
			vwait := wait
			last := vi == len(visits)-1
			result := "transferred"
			if !last {
				vwait = wait / 2
			} else if status == "answered" {
				result = "answered"
			} else {
				result = missedReason
				missedQueues = append(missedQueues, vq.number)
			}
			var vAns any
			rings := vwait / 15
			if rings > 6 {
				rings = 6
			}
			ringAt := t
			for r := 0; r < rings; r++ {
				op := s.ops[g.rng.IntN(len(s.ops))]
				res := "noanswer"
				if r == rings-1 && !last {
					res = "cancelled"
				}
				g.attempts = append(g.attempts, []any{id, vq.id, op.id, "PJSIP/" + op.number, ringAt, ringAt.Add(15 * time.Second), res, 15})
				missedOps = append(missedOps, op.number)
				ringAt = ringAt.Add(15 * time.Second)
			}
			if last && status == "answered" {
				op := s.ops[g.rng.IntN(len(s.ops))]
				answeredBy, byNumber, byName, vAns = op.id, op.number, op.name, op.id
				ring := 1 + g.rng.IntN(8)
				g.attempts = append(g.attempts, []any{id, vq.id, op.id, "PJSIP/" + op.number, t.Add(time.Duration(vwait-ring) * time.Second),
					t.Add(time.Duration(vwait) * time.Second), "answered", ring})
			}
			g.visits = append(g.visits, []any{id, vq.id, t, t.Add(time.Duration(vwait) * time.Second), 1 + g.rng.IntN(5), result, vwait, vAns})
			t = t.Add(time.Duration(vwait) * time.Second)
		}
		if status == "answered" {
			callee = byNumber
		}
	case x < 0.90: // outbound
		typ = "outbound"
		op := s.ops[g.rng.IntN(len(s.ops))]
		callerOp, caller, dialed = op.id, op.number, fmt.Sprintf("79%09d", g.rng.IntN(1_000_000_000))
		callee = dialed
		trunkID = s.trunks[0].id
		wait = 3 + g.rng.IntN(25)
		if g.rng.Float64() < 0.3 {
			status, missedReason = "missed", []string{"noanswer", "busy", "noanswer"}[g.rng.IntN(3)]
		}
		hangup = []string{"operator", "callee"}[g.rng.IntN(2)]
	default: // internal
		typ = "internal"
		from, to := s.ops[g.rng.IntN(len(s.ops))], s.ops[g.rng.IntN(len(s.ops))]
		callerOp, caller, dialed, callee = from.id, from.number, to.number, to.number
		wait = 2 + g.rng.IntN(15)
		if g.rng.Float64() < 0.15 {
			status, missedReason = "missed", "noanswer"
		} else {
			answeredBy, byNumber, byName = to.id, to.number, to.name
		}
		hangup = []string{"operator", "callee"}[g.rng.IntN(2)]
	}
	end := at.Add(time.Duration(wait+10) * time.Second)
	if status == "answered" {
		talk = g.lognormal(150, 0.8, 3600)
		if typ == "outbound" {
			talk = g.lognormal(90, 0.9, 3600)
		}
		if g.rng.Float64() < 0.15 {
			hold = 10 + g.rng.IntN(1+min(110, talk/2))
		}
		ans := at.Add(time.Duration(wait+10) * time.Second)
		if typ != "inbound" {
			ans = at.Add(time.Duration(wait) * time.Second)
		}
		answeredAt = ans
		end = ans.Add(time.Duration(talk) * time.Second)
		legOp := answeredBy
		legNum, legName := byNumber, byName
		if typ == "outbound" {
			legOp, legNum, legName = nil, callee, ""
		}
		if typ == "inbound" && g.rng.Float64() < 0.07 {
			transferred = true
			to := s.ops[g.rng.IntN(len(s.ops))]
			first := talk / 3
			g.legs = append(g.legs, []any{id, legOp, nil, legNum, legName, "PJSIP/" + legNum, ans.Add(-5 * time.Second), ans,
				ans.Add(time.Duration(first) * time.Second), 5, first, 0, first, "blind", to.number})
			g.legs = append(g.legs, []any{id, to.id, nil, to.number, to.name, "PJSIP/" + to.number, ans.Add(time.Duration(first) * time.Second),
				ans.Add(time.Duration(first+4) * time.Second), end, 4, talk - first - 4, hold, talk - first - 4 - hold, nil, nil})
			b, _ := json.Marshal([]map[string]any{{"type": "blind", "by": legNum, "to": to.number, "answered": true}})
			transfers = string(b)
		} else {
			g.legs = append(g.legs, []any{id, legOp, nil, legNum, legName, "PJSIP/" + legNum, ans.Add(-time.Duration(min(wait, 8)) * time.Second), ans,
				end, min(wait, 8), talk, hold, talk - hold, nil, nil})
		}
	}
	g.calls = append(g.calls, []any{id, linkedid, at, answeredAt, end, typ, status, nullStr(missedReason), caller, nil, callerOp, dialed,
		nullStr(callee), nil, answeredBy, nullStr(byNumber), nullStr(byName), trunkID, jsonList(queues), jsonList(missedOps),
		jsonList(missedQueues), hangup, wait, talk, hold, talk - hold, transferred, transfers, s.id})
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// statuses writes one day of status intervals per operator: a shift of available
// time with two short breaks and a lunch, logged out around it.
func (g *gen) statuses(s *server, local time.Time, weekend bool) {
	next := local.AddDate(0, 0, 1)
	for i, op := range s.ops {
		if weekend && i%3 != 0 {
			g.status = append(g.status, []any{op.id, "loggedout", nil, local, next})
			continue
		}
		start := local.Add(time.Duration(8+4*(i%2))*time.Hour + time.Duration(g.rng.IntN(20))*time.Minute)
		t := start
		add := func(status, reason string, d time.Duration) {
			g.status = append(g.status, []any{op.id, status, nullStr(reason), t, t.Add(d)})
			t = t.Add(d)
		}
		g.status = append(g.status, []any{op.id, "loggedout", nil, local, start})
		add("available", "", 2*time.Hour)
		add("paused", "break", 10*time.Minute)
		add("available", "", 90*time.Minute)
		add("paused", "lunch", 45*time.Minute)
		add("available", "", 2*time.Hour)
		add("paused", "break", 10*time.Minute)
		add("available", "", 2*time.Hour+time.Duration(g.rng.IntN(30))*time.Minute)
		g.status = append(g.status, []any{op.id, "loggedout", nil, t, next})
	}
}

var (
	callCols = []string{"id", "linkedid", "start", "answered", "end", "type", "status", "missed_reason", "caller_number", "caller_name",
		"caller_operator_id", "dialed", "callee_number", "callee_name", "answered_by_id", "answered_by_number", "answered_by_name",
		"trunk_id", "queues", "missed_by_operators", "missed_in_queues", "hangup_by", "wait_seconds", "talk_seconds", "hold_seconds",
		"talk_without_hold_seconds", "transferred", "transfers", "server_id"}
	legCols = []string{"call_id", "operator_id", "queue_id", "number", "name", "device", "ring_at", "answer_at", "end_at",
		"wait_seconds", "talk_seconds", "hold_seconds", "talk_without_hold_seconds", "transfer_type", "transfer_to"}
	visitCols   = []string{"call_id", "queue_id", "joined_at", "left_at", "position", "result", "wait_seconds", "answered_by_id"}
	attemptCols = []string{"call_id", "queue_id", "operator_id", "interface", "ring_start", "ring_end", "result", "ring_seconds"}
	statusCols  = []string{"operator_id", "status", "reason", "from", "to"}
)

// write copies the day in one transaction, the rollup trigger off for it.
func (g *gen) write(ctx context.Context, db *sql.DB, st *Stats) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SET LOCAL linkage.report_rollup = 'off'`); err != nil {
		return err
	}
	for _, t := range []struct {
		table string
		cols  []string
		rows  [][]any
		n     *int64
	}{
		{"calls", callCols, g.calls, &st.Calls},
		{"call_legs", legCols, g.legs, &st.Legs},
		{"queue_visits", visitCols, g.visits, &st.Visits},
		{"queue_attempts", attemptCols, g.attempts, &st.Attempts},
		{"operator_status_changes", statusCols, g.status, &st.StatusChanges},
	} {
		stmt, err := tx.PrepareContext(ctx, pq.CopyIn(t.table, t.cols...))
		if err != nil {
			return fmt.Errorf("copy %s: %w", t.table, err)
		}
		for _, r := range t.rows {
			if _, err := stmt.ExecContext(ctx, r...); err != nil {
				return fmt.Errorf("copy %s: %w", t.table, err)
			}
		}
		if _, err := stmt.ExecContext(ctx); err != nil {
			return fmt.Errorf("copy %s: %w", t.table, err)
		}
		if err := stmt.Close(); err != nil {
			return err
		}
		atomic.AddInt64(t.n, int64(len(t.rows)))
	}
	return tx.Commit()
}
