package report

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// QueueReportInput is the queue report's arguments. WaitBuckets are the upper
// bounds (seconds) of the wait-time distribution; default 10, 20, 30, 60, 120, 300.
type QueueReportInput struct {
	Period      PeriodInput   `json:"period"`
	TimeZone    *string       `json:"timeZone"`
	Filter      *ReportFilter `json:"filter"`
	WaitBuckets []int         `json:"waitBuckets"`
}

// QueueReport has one row per queue that received callers, and totals.
type QueueReport struct {
	TimeZone string      `json:"timeZone"`
	From     time.Time   `json:"from"`
	To       time.Time   `json:"to"`
	Rows     []*QueueRow `json:"rows"`
	Totals   *QueueRow   `json:"totals"`
}

// QueueRow counts queue visits (a caller's stint in a queue) that began in the
// period. Unanswered are visits that ended otherwise than answered or abandoned
// (timeout, empty, full, transferred out). ServiceLevel is the percentage of visits
// answered within the queue's threshold; AverageSpeedOfAnswer is the mean wait of
// answered visits.
type QueueRow struct {
	QueueID              *int          `json:"queueID"`
	Number               string        `json:"number"`
	Name                 string        `json:"name"`
	SLThresholdSeconds   *int          `json:"slThresholdSeconds"`
	Received             int           `json:"received"`
	Answered             int           `json:"answered"`
	Abandoned            int           `json:"abandoned"`
	Unanswered           int           `json:"unanswered"`
	AnsweredInSL         int           `json:"answeredInSL"`
	ServiceLevel         *float64      `json:"serviceLevel"`
	AverageSpeedOfAnswer *float64      `json:"averageSpeedOfAnswer"`
	AverageWait          *float64      `json:"averageWait"`
	LongestWait          int           `json:"longestWait"`
	AbandonRate          *float64      `json:"abandonRate"`
	WaitDistribution     []*WaitBucket `json:"waitDistribution"`
}

// WaitBucket counts visits whose wait was in [FromSeconds, ToSeconds).
type WaitBucket struct {
	FromSeconds int  `json:"fromSeconds"`
	ToSeconds   *int `json:"toSeconds"`
	Answered    int  `json:"answered"`
	Abandoned   int  `json:"abandoned"`
	Unanswered  int  `json:"unanswered"`
}

// DefaultWaitBuckets are the distribution's bounds when none are given.
var DefaultWaitBuckets = []int{10, 20, 30, 60, 120, 300}

// Queues builds the queue report.
func (r *Reports) Queues(ctx context.Context, scope Scope, in QueueReportInput) (*QueueReport, error) {
	f := in.Filter.orEmpty()
	sp, err := r.period(ctx, in.Period, in.TimeZone, f.QueueIDs)
	if err != nil {
		return nil, err
	}
	edges := in.WaitBuckets
	if len(edges) == 0 {
		edges = DefaultWaitBuckets
	}
	if !sort.IntsAreSorted(edges) || edges[0] <= 0 || len(edges) > 50 {
		return nil, inputErrorf("waitBuckets must be increasing positive seconds (at most 50)")
	}
	var c cond
	scopeCond(&c, scope, "v.queue_id", "v.answered_by_id")
	if len(f.QueueIDs) > 0 {
		c.and("v.queue_id = ANY(?)", intsArg(f.QueueIDs))
	}
	if len(f.OperatorIDs) > 0 {
		c.and("v.answered_by_id = ANY(?)", intsArg(f.OperatorIDs))
	}
	if len(f.GroupIDs) > 0 {
		c.and("v.answered_by_id IN ("+groupMembers+")", intsArg(f.GroupIDs))
	}
	if len(f.ServerIDs) > 0 {
		c.and("q.server_id = ANY(?)", intsArg(f.ServerIDs))
	}
	where, cargs := c.render(3)
	q := fmt.Sprintf(`
SELECT grouping(v.queue_id) AS total, grouping(width_bucket(v.wait_seconds, $3::int[])) AS whole,
  v.queue_id, min(q.number), min(coalesce(nullif(q.display_name, ''), q.number)), min(q.sl_threshold_seconds),
  width_bucket(v.wait_seconds, $3::int[]) AS b,
  count(*), count(*) FILTER (WHERE v.result = 'answered'), count(*) FILTER (WHERE v.result = 'abandoned'),
  count(*) FILTER (WHERE v.result = 'answered' AND v.wait_seconds <= q.sl_threshold_seconds),
  coalesce(sum(v.wait_seconds) FILTER (WHERE v.result = 'answered'), 0), coalesce(sum(v.wait_seconds), 0),
  coalesce(max(v.wait_seconds), 0)
FROM queue_visits v JOIN queues q ON q.id = v.queue_id
WHERE v.joined_at >= $1 AND v.joined_at < $2 AND %s
GROUP BY GROUPING SETS ((v.queue_id, b), (v.queue_id), (b), ())
ORDER BY total, 4, v.queue_id, whole DESC, b`, where)
	args := append([]any{sp.from, sp.to, intsArg(edges)}, cargs...)
	rows, err := r.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("report: queues: %w", err)
	}
	defer rows.Close()
	rep := &QueueReport{TimeZone: sp.loc.String(), From: sp.from, To: sp.to, Rows: []*QueueRow{}}
	tot := &QueueRow{Name: "total"}
	byQueue := map[int]*QueueRow{}
	for rows.Next() {
		var (
			total, whole      int
			qid, threshold, b *int
			number, name      *string
			n, ans, ab, insl  int
			ansWait, wait     int64
			longest           int
		)
		if err := rows.Scan(&total, &whole, &qid, &number, &name, &threshold, &b, &n, &ans, &ab, &insl, &ansWait, &wait, &longest); err != nil {
			return nil, fmt.Errorf("report: queues: %w", err)
		}
		row := tot
		if total == 0 {
			row = byQueue[*qid]
			if row == nil {
				row = &QueueRow{QueueID: qid, Number: *number, Name: *name, SLThresholdSeconds: threshold}
				byQueue[*qid] = row
				rep.Rows = append(rep.Rows, row)
			}
		}
		if whole == 0 {
			wb := &WaitBucket{Answered: ans, Abandoned: ab, Unanswered: n - ans - ab}
			if i := *b; i > 0 {
				wb.FromSeconds = edges[i-1]
			}
			if i := *b; i < len(edges) {
				to := edges[i]
				wb.ToSeconds = &to
			}
			row.WaitDistribution = append(row.WaitDistribution, wb)
			continue
		}
		row.Received, row.Answered, row.Abandoned, row.Unanswered, row.AnsweredInSL = n, ans, ab, n-ans-ab, insl
		row.LongestWait = longest
		row.ServiceLevel = ratio(int64(insl), int64(n), 100)
		row.AverageSpeedOfAnswer = ratio(ansWait, int64(ans), 1)
		row.AverageWait = ratio(wait, int64(n), 1)
		row.AbandonRate = ratio(int64(ab), int64(n), 100)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("report: queues: %w", err)
	}
	for _, row := range append(rep.Rows, tot) {
		row.WaitDistribution = fillBuckets(row.WaitDistribution, edges)
	}
	rep.Totals = tot
	return rep, nil
}

// fillBuckets returns every bucket of the distribution, empty ones included.
func fillBuckets(have []*WaitBucket, edges []int) []*WaitBucket {
	out := make([]*WaitBucket, len(edges)+1)
	for i := range out {
		out[i] = &WaitBucket{}
		if i > 0 {
			out[i].FromSeconds = edges[i-1]
		}
		if i < len(edges) {
			to := edges[i]
			out[i].ToSeconds = &to
		}
	}
	for _, b := range have {
		i := 0
		for i < len(edges) && b.FromSeconds >= edges[i] {
			i++
		}
		out[i] = b
	}
	return out
}
