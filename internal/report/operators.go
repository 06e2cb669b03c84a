package report

import (
	"context"
	"fmt"
	"time"
)

// OperatorReportInput is the operator report's arguments.
type OperatorReportInput struct {
	Period   PeriodInput   `json:"period"`
	TimeZone *string       `json:"timeZone"`
	Filter   *ReportFilter `json:"filter"`
}

// OperatorReport has one row per tracked operator in scope, and totals.
type OperatorReport struct {
	TimeZone string         `json:"timeZone"`
	From     time.Time      `json:"from"`
	To       time.Time      `json:"to"`
	Rows     []*OperatorRow `json:"rows"`
	Totals   *OperatorRow   `json:"totals"`
}

// OperatorRow is one operator's period. Answered counts the legs the operator
// answered (by answer time); Missed the queue rings they did not answer (no answer,
// busy, rejected); status times are the global status intervals clipped to the
// period. LoggedInSeconds is every status but loggedout; occupancy is talk time over
// logged-in time minus pauses.
type OperatorRow struct {
	OperatorID      *int          `json:"operatorID"`
	Number          string        `json:"number"`
	Name            string        `json:"name"`
	Answered        int           `json:"answered"`
	Missed          int           `json:"missed"`
	TalkSeconds     int64         `json:"talkSeconds"`
	HoldSeconds     int64         `json:"holdSeconds"`
	AverageTalk     *float64      `json:"averageTalk"`
	AverageHold     *float64      `json:"averageHold"`
	LoggedInSeconds int64         `json:"loggedInSeconds"`
	PausedSeconds   int64         `json:"pausedSeconds"`
	Occupancy       *float64      `json:"occupancy"`
	Statuses        []*StatusTime `json:"statuses"`
}

// StatusTime is the time spent in one status (and pause reason).
type StatusTime struct {
	Status  string `json:"status"`
	Reason  string `json:"reason"`
	Seconds int64  `json:"seconds"`
}

// Operators builds the operator report. Queue scopes do not reveal operators'
// personal figures: an operator row needs the operator in scope.
func (r *Reports) Operators(ctx context.Context, scope Scope, in OperatorReportInput) (*OperatorReport, error) {
	f := in.Filter.orEmpty()
	sp, err := r.period(ctx, in.Period, in.TimeZone, f.QueueIDs)
	if err != nil {
		return nil, err
	}
	var c cond
	c.and("o.tracked")
	scopeCond(&c, scope, "", "o.id")
	if len(f.OperatorIDs) > 0 {
		c.and("o.id = ANY(?)", intsArg(f.OperatorIDs))
	}
	if len(f.GroupIDs) > 0 {
		c.and("o.id IN ("+groupMembers+")", intsArg(f.GroupIDs))
	}
	if len(f.ServerIDs) > 0 {
		c.and("o.server_id = ANY(?)", intsArg(f.ServerIDs))
	}
	// Legs and rings count only in the filtered queues, when there are any.
	const queueFilter = " AND (cardinality($3::bigint[]) = 0 OR queue_id = ANY($3::bigint[]))"
	where, cargs := c.render(3)
	// $1, $2: the period; $3: the queue filter.
	q := fmt.Sprintf(`
WITH ops AS (SELECT o.id, o.number, coalesce(o.name, '') AS name FROM operators o WHERE %[1]s),
legs AS (
  SELECT operator_id, count(*) AS answered, sum(talk_seconds) AS talk, sum(hold_seconds) AS hold
  FROM call_legs WHERE operator_id IN (SELECT id FROM ops) AND answer_at >= $1 AND answer_at < $2 %[2]s
  GROUP BY operator_id),
att AS (
  SELECT operator_id, count(*) AS missed FROM queue_attempts
  WHERE operator_id IN (SELECT id FROM ops) AND ring_start >= $1 AND ring_start < $2
    AND result IN ('noanswer', 'busy', 'dump') %[2]s
  GROUP BY operator_id),
st AS (
  SELECT operator_id, status, coalesce(reason, '') AS reason,
    sum(extract(epoch FROM least(coalesce("to", now()), $2) - greatest("from", $1)))::bigint AS secs
  FROM operator_status_changes
  WHERE operator_id IN (SELECT id FROM ops) AND "from" < $2 AND coalesce("to", 'infinity') > $1
    AND coalesce(queue, '') = ''
  GROUP BY operator_id, status, coalesce(reason, ''))
SELECT ops.id, ops.number, ops.name, coalesce(legs.answered, 0), coalesce(att.missed, 0),
  coalesce(legs.talk, 0), coalesce(legs.hold, 0), st.status, st.reason, coalesce(st.secs, 0)
FROM ops LEFT JOIN legs ON legs.operator_id = ops.id LEFT JOIN att ON att.operator_id = ops.id
  LEFT JOIN st ON st.operator_id = ops.id
ORDER BY ops.number, ops.id, st.status, st.reason`, where, queueFilter)
	args := append([]any{sp.from, sp.to, intsArg(append([]int{}, f.QueueIDs...))}, cargs...)
	rows, err := r.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("report: operators: %w", err)
	}
	defer rows.Close()
	rep := &OperatorReport{TimeZone: sp.loc.String(), From: sp.from, To: sp.to, Rows: []*OperatorRow{}}
	tot := &OperatorRow{Name: "total", Statuses: []*StatusTime{}}
	totStatus := map[[2]string]*StatusTime{}
	var cur *OperatorRow
	for rows.Next() {
		var (
			id               int
			number, name     string
			answered, missed int
			talk, hold, secs int64
			status, reason   *string
		)
		if err := rows.Scan(&id, &number, &name, &answered, &missed, &talk, &hold, &status, &reason, &secs); err != nil {
			return nil, fmt.Errorf("report: operators: %w", err)
		}
		if cur == nil || *cur.OperatorID != id {
			cur = &OperatorRow{OperatorID: &id, Number: number, Name: name, Answered: answered, Missed: missed,
				TalkSeconds: talk, HoldSeconds: hold, Statuses: []*StatusTime{}}
			rep.Rows = append(rep.Rows, cur)
			tot.Answered += answered
			tot.Missed += missed
			tot.TalkSeconds += talk
			tot.HoldSeconds += hold
		}
		if status == nil {
			continue
		}
		cur.Statuses = append(cur.Statuses, &StatusTime{Status: *status, Reason: *reason, Seconds: secs})
		k := [2]string{*status, *reason}
		if totStatus[k] == nil {
			totStatus[k] = &StatusTime{Status: *status, Reason: *reason}
			tot.Statuses = append(tot.Statuses, totStatus[k])
		}
		totStatus[k].Seconds += secs
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("report: operators: %w", err)
	}
	for _, row := range append(rep.Rows, tot) {
		row.finish()
	}
	rep.Totals = tot
	return rep, nil
}

func (o *OperatorRow) finish() {
	o.LoggedInSeconds, o.PausedSeconds = 0, 0
	for _, s := range o.Statuses {
		if s.Status != "loggedout" {
			o.LoggedInSeconds += s.Seconds
		}
		if s.Status == "paused" {
			o.PausedSeconds += s.Seconds
		}
	}
	o.AverageTalk = ratio(o.TalkSeconds, int64(o.Answered), 1)
	o.AverageHold = ratio(o.HoldSeconds, int64(o.Answered), 1)
	o.Occupancy = ratio(o.TalkSeconds, o.LoggedInSeconds-o.PausedSeconds, 100)
}
