package live

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Today is what was stored for the current day before this process started: queue
// counters per (server, queue name) in each queue's zone and operator counters per
// operator id in the State's zone. State.Seed starts from it, so a restart does not
// start the counters from zero.
type Today struct {
	Queues    map[QueueName]DayCounters
	Operators map[int]OperatorDay
}

// QueueName identifies a queue of a server.
type QueueName struct {
	Server int
	Name   string
}

// DayCounters are a queue's counters for Day (YYYY-MM-DD).
type DayCounters struct {
	Day string
	Counters
}

// OperatorDay are an operator's counts for Day.
type OperatorDay struct {
	Day                        string
	Incoming, Outgoing, Missed int
}

// LoadToday reads today's counters from the stored calls: queue_visits and call_legs
// per queue in the queue's own zone (queues.timezone, else loc), and legs, placed calls
// and unanswered queue rings per operator in loc.
func LoadToday(ctx context.Context, db *sql.DB, now time.Time, loc *time.Location) (*Today, error) {
	if loc == nil {
		loc = time.UTC
	}
	t := &Today{Queues: map[QueueName]DayCounters{}, Operators: map[int]OperatorDay{}}
	rows, err := db.QueryContext(ctx, `SELECT id, server_id, number, coalesce(timezone, ''), sl_threshold_seconds FROM queues`)
	if err != nil {
		return nil, fmt.Errorf("live: load queues: %w", err)
	}
	type qrow struct {
		id, server, sl int
		name, tz       string
	}
	var qs []qrow
	for rows.Next() {
		var q qrow
		if err := rows.Scan(&q.id, &q.server, &q.name, &q.tz, &q.sl); err != nil {
			rows.Close()
			return nil, fmt.Errorf("live: load queues: %w", err)
		}
		qs = append(qs, q)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("live: load queues: %w", err)
	}
	for _, q := range qs {
		ql := loc
		if q.tz != "" {
			if l, err := time.LoadLocation(q.tz); err == nil {
				ql = l
			}
		}
		from, to, day := dayBounds(now, ql)
		var c Counters
		err := db.QueryRowContext(ctx, `SELECT count(*),
			count(*) FILTER (WHERE result = 'answered'),
			count(*) FILTER (WHERE result = 'abandoned'),
			count(*) FILTER (WHERE left_at IS NOT NULL),
			count(*) FILTER (WHERE result = 'answered' AND wait_seconds <= $4),
			coalesce(sum(wait_seconds) FILTER (WHERE left_at IS NOT NULL), 0),
			coalesce(max(wait_seconds) FILTER (WHERE left_at IS NOT NULL), 0)
			FROM queue_visits WHERE queue_id = $1 AND joined_at >= $2 AND joined_at < $3`, q.id, from, to, q.sl).
			Scan(&c.Received, &c.Answered, &c.Abandoned, &c.Finished, &c.AnsweredInSL, &c.WaitSum, &c.MaxWait)
		if err != nil {
			return nil, fmt.Errorf("live: load today's visits of queue %d: %w", q.id, err)
		}
		err = db.QueryRowContext(ctx, `SELECT coalesce(sum(talk_seconds), 0), count(*) FROM call_legs
			WHERE queue_id = $1 AND answer_at >= $2 AND answer_at < $3`, q.id, from, to).Scan(&c.TalkSum, &c.TalkCount)
		if err != nil {
			return nil, fmt.Errorf("live: load today's talk of queue %d: %w", q.id, err)
		}
		t.Queues[QueueName{q.server, q.name}] = DayCounters{Day: day, Counters: c}
	}
	from, to, day := dayBounds(now, loc)
	for _, part := range []struct {
		q   string
		add func(*OperatorDay, int)
	}{
		{`SELECT operator_id, count(*) FROM call_legs WHERE operator_id IS NOT NULL AND answer_at >= $1 AND answer_at < $2 GROUP BY 1`,
			func(o *OperatorDay, n int) { o.Incoming = n }},
		{`SELECT caller_operator_id, count(*) FROM calls WHERE caller_operator_id IS NOT NULL AND start >= $1 AND start < $2 GROUP BY 1`,
			func(o *OperatorDay, n int) { o.Outgoing = n }},
		{`SELECT operator_id, count(*) FROM queue_attempts WHERE operator_id IS NOT NULL AND result = 'noanswer'
			AND ring_start >= $1 AND ring_start < $2 GROUP BY 1`,
			func(o *OperatorDay, n int) { o.Missed = n }},
	} {
		rows, err := db.QueryContext(ctx, part.q, from, to)
		if err != nil {
			return nil, fmt.Errorf("live: load today's operator counts: %w", err)
		}
		for rows.Next() {
			var id, n int
			if err := rows.Scan(&id, &n); err != nil {
				rows.Close()
				return nil, fmt.Errorf("live: load today's operator counts: %w", err)
			}
			o := t.Operators[id]
			o.Day = day
			part.add(&o, n)
			t.Operators[id] = o
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("live: load today's operator counts: %w", err)
		}
	}
	return t, nil
}

func dayBounds(now time.Time, loc *time.Location) (from, to time.Time, day string) {
	n := now.In(loc)
	from = time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, loc)
	to = from.AddDate(0, 0, 1)
	return from, to, from.Format(time.DateOnly)
}

// LoadDirectory reads queues (zone, service-level threshold) and operators
// (interface) into a StaticDirectory. Call it again, or Set* on the result, when
// they change.
func LoadDirectory(ctx context.Context, db *sql.DB) (*StaticDirectory, error) {
	d := NewStaticDirectory()
	rows, err := db.QueryContext(ctx, `SELECT id, server_id, number, coalesce(timezone, ''), sl_threshold_seconds FROM queues`)
	if err != nil {
		return nil, fmt.Errorf("live: load queues: %w", err)
	}
	for rows.Next() {
		var id, server, sl int
		var name, tz string
		if err := rows.Scan(&id, &server, &name, &tz, &sl); err != nil {
			rows.Close()
			return nil, fmt.Errorf("live: load queues: %w", err)
		}
		ref := QueueRef{ID: id, SLThreshold: time.Duration(sl) * time.Second}
		if tz != "" {
			if l, err := time.LoadLocation(tz); err == nil {
				ref.Location = l
			}
		}
		d.SetQueue(server, name, ref)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("live: load queues: %w", err)
	}
	rows, err = db.QueryContext(ctx, `SELECT id, server_id, number, coalesce(interface, '') FROM operators`)
	if err != nil {
		return nil, fmt.Errorf("live: load operators: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, server int
		var number, iface string
		if err := rows.Scan(&id, &server, &number, &iface); err != nil {
			return nil, fmt.Errorf("live: load operators: %w", err)
		}
		if iface != "" {
			d.SetOperator(server, iface, id)
		}
	}
	return d, rows.Err()
}

// Seed starts today's counters from what was stored (LoadToday), before the first
// event after a restart. Items seen later pick their seed up when first created.
func (s *State) Seed(t *Today) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seedQ, s.seedOp = t.Queues, t.Operators
	for id, sv := range s.servers {
		for name, q := range sv.queues {
			s.seedQueue(id, q, name)
			sv.dirtyQ[q] = true
		}
		for _, op := range sv.ops {
			s.seedOperator(op)
			sv.dirtyOp[op] = true
		}
		s.flush(sv)
	}
}

func (s *State) seedQueue(server int, q *queueState, name string) {
	if c, ok := s.seedQ[QueueName{server, name}]; ok && c.Day >= q.day {
		q.day, q.c = c.Day, c.Counters
	}
}

func (s *State) seedOperator(op *opState) {
	if op.id == 0 {
		return
	}
	if c, ok := s.seedOp[op.id]; ok && c.Day >= op.day {
		op.day, op.in, op.out, op.missed = c.Day, c.Incoming, c.Outgoing, c.Missed
	}
}
