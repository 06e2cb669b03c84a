package report

import (
	"context"
	"fmt"
	"time"
)

// SummaryBucket is the summary's time bucket.
type SummaryBucket string

// Buckets. DAY_OF_WEEK and HOUR_OF_DAY fold the period onto a week or a day.
const (
	BucketHour      SummaryBucket = "HOUR"
	BucketDay       SummaryBucket = "DAY"
	BucketWeek      SummaryBucket = "WEEK"
	BucketMonth     SummaryBucket = "MONTH"
	BucketDayOfWeek SummaryBucket = "DAY_OF_WEEK"
	BucketHourOfDay SummaryBucket = "HOUR_OF_DAY"
)

// SummarySplit splits each bucket into rows by one dimension.
type SummarySplit string

// Splits.
const (
	SplitNone     SummarySplit = "NONE"
	SplitQueue    SummarySplit = "QUEUE"
	SplitOperator SummarySplit = "OPERATOR"
	SplitGroup    SummarySplit = "GROUP"
	SplitType     SummarySplit = "TYPE"
	SplitTrunk    SummarySplit = "TRUNK"
	SplitServer   SummarySplit = "SERVER"
)

// SummaryInput is the summary report's arguments.
type SummaryInput struct {
	Period       PeriodInput        `json:"period"`
	TimeZone     *string            `json:"timeZone"`
	WorkingHours *WorkingHoursInput `json:"workingHours"`
	Bucket       *SummaryBucket     `json:"bucket"`
	SplitBy      *SummarySplit      `json:"splitBy"`
	Filter       *ReportFilter      `json:"filter"`
}

// SummaryReport is the calls summary: one row per bucket (and split value), and a
// totals row over the whole period.
type SummaryReport struct {
	TimeZone string        `json:"timeZone"`
	From     time.Time     `json:"from"`
	To       time.Time     `json:"to"`
	Rows     []*SummaryRow `json:"rows"`
	Totals   *SummaryRow   `json:"totals"`
	// UsedRollup tells whether whole hours came from the hourly rollup.
	UsedRollup bool `json:"usedRollup"`
}

// SummaryRow is one line of the summary. A call counts in the bucket of its start,
// for the last queue it visited and the operator who answered or placed it. Waits,
// talk, service level and abandon rate are over external incoming calls.
type SummaryRow struct {
	Bucket      string     `json:"bucket"`
	BucketStart *time.Time `json:"bucketStart"`
	SplitID     *int       `json:"splitID"`
	SplitName   *string    `json:"splitName"`
	// InboundAnswered and InboundMissed are external incoming calls.
	InboundAnswered int   `json:"inboundAnswered"`
	InboundMissed   int   `json:"inboundMissed"`
	Abandoned       int   `json:"abandoned"`
	Outbound        int   `json:"outbound"`
	Internal        int   `json:"internal"`
	Transferred     int   `json:"transferred"`
	AnsweredInSL    int   `json:"answeredInSL"`
	TalkSeconds     int64 `json:"talkSeconds"`
	// ServiceLevel is the percentage of incoming calls answered within their
	// queue's threshold; nil when there were none.
	ServiceLevel *float64 `json:"serviceLevel"`
	AverageWait  *float64 `json:"averageWait"`
	LongestWait  int      `json:"longestWait"`
	AverageTalk  *float64 `json:"averageTalk"`
	// AbandonRate is the percentage of incoming calls the caller abandoned.
	AbandonRate *float64 `json:"abandonRate"`
}

// bucketExprs returns the label, start and grouping expressions of a bucket over the
// local timestamp lt (ts AT TIME ZONE zone). Hours group by local hour and UTC offset,
// so the repeated hour of a DST fall-back stays two rows.
func bucketExprs(b SummaryBucket, ts, zone string) (label, start string, err error) {
	lt := fmt.Sprintf("(%s AT TIME ZONE %s)", ts, zone)
	switch b {
	case BucketHour:
		off := fmt.Sprintf("(%s - (%s AT TIME ZONE 'UTC'))", lt, ts)
		return fmt.Sprintf("to_char(date_trunc('hour', %s), 'YYYY-MM-DD HH24:00')", lt),
			fmt.Sprintf("((date_trunc('hour', %s) - %s) AT TIME ZONE 'UTC')", lt, off), nil
	case BucketDay, "":
		return fmt.Sprintf("to_char(%s, 'YYYY-MM-DD')", lt),
			fmt.Sprintf("(date_trunc('day', %s) AT TIME ZONE %s)", lt, zone), nil
	case BucketWeek:
		return fmt.Sprintf("to_char(%s, 'IYYY-\"W\"IW')", lt),
			fmt.Sprintf("(date_trunc('week', %s) AT TIME ZONE %s)", lt, zone), nil
	case BucketMonth:
		return fmt.Sprintf("to_char(%s, 'YYYY-MM')", lt),
			fmt.Sprintf("(date_trunc('month', %s) AT TIME ZONE %s)", lt, zone), nil
	case BucketDayOfWeek:
		return fmt.Sprintf("extract(isodow FROM %s)::text", lt), "NULL::timestamptz", nil
	case BucketHourOfDay:
		return fmt.Sprintf("to_char(%s, 'HH24')", lt), "NULL::timestamptz", nil
	}
	return "", "", inputErrorf("unknown bucket %q", b)
}

// splitExprs returns the split key over the source row s, the extra join it needs,
// and the name lookup over the aggregated key k.
func splitExprs(sp SummarySplit) (key, join, name string, err error) {
	switch sp {
	case SplitNone, "":
		return "NULL::bigint", "", "NULL::text", nil
	case SplitQueue:
		return "s.queue_id", "", "(SELECT coalesce(nullif(display_name, ''), number) FROM queues WHERE id = a.k)", nil
	case SplitOperator:
		return "s.operator_id", "", "(SELECT coalesce(nullif(name, ''), number) FROM operators WHERE id = a.k)", nil
	case SplitGroup:
		return "g.operator_group_id", "JOIN operator_group_operators g ON g.operator_id = s.operator_id",
			"(SELECT name FROM operator_groups WHERE id = a.k)", nil
	case SplitTrunk:
		return "s.trunk_id", "", "(SELECT coalesce(nullif(name, ''), number) FROM trunks WHERE id = a.k)", nil
	case SplitServer:
		return "s.server_id", "", "(SELECT name FROM servers WHERE id = a.k)", nil
	case SplitType:
		return "NULL::bigint", "", "a.t", nil
	}
	return "", "", "", inputErrorf("unknown split %q", sp)
}

// Summary builds the calls summary.
func (r *Reports) Summary(ctx context.Context, scope Scope, in SummaryInput) (*SummaryReport, error) {
	f := in.Filter.orEmpty()
	sp, err := r.period(ctx, in.Period, in.TimeZone, f.QueueIDs)
	if err != nil {
		return nil, err
	}
	win, err := in.WorkingHours.parse()
	if err != nil {
		return nil, err
	}
	bucket := BucketDay
	if in.Bucket != nil {
		bucket = *in.Bucket
	}
	split := SplitNone
	if in.SplitBy != nil {
		split = *in.SplitBy
	}
	rep := &SummaryReport{TimeZone: sp.loc.String(), From: sp.from, To: sp.to}

	// Whole UTC hours inside the period come from the rollup, the edges from calls.
	// That is exact when every UTC hour is one local hour that the window takes whole.
	r1, r2 := sp.to, sp.to
	hourly := win.wholeHours() && sp.wholeHourOffsets()
	if hourly {
		h1 := sp.from.Truncate(time.Hour)
		if h1.Before(sp.from) {
			h1 = h1.Add(time.Hour)
		}
		h2 := sp.to.Truncate(time.Hour)
		if h1.Before(h2) {
			r1, r2 = h1, h2
			rep.UsedRollup = true
		}
	}
	rows, totals, err := r.summaryQuery(ctx, scope, f, sp, win, bucket, split, r1, r2, hourly)
	if err != nil {
		return nil, err
	}
	if split == SplitGroup {
		// An operator in two groups counts in both rows, but once in the totals.
		_, totals, err = r.summaryQuery(ctx, scope, f, sp, win, bucket, SplitNone, r1, r2, hourly)
		if err != nil {
			return nil, err
		}
	}
	rep.Rows, rep.Totals = rows, totals
	return rep, nil
}

func (r *Reports) summaryQuery(ctx context.Context, scope Scope, f ReportFilter, sp span, win *window,
	bucket SummaryBucket, split SummarySplit, r1, r2 time.Time, hourly bool) ([]*SummaryRow, *SummaryRow, error) {
	var c cond
	const zone = "$1::text"
	// When every UTC hour is one local hour that the window takes whole, the bucket and
	// the window are worked out once per hour of the period (a few hundred rows) and
	// joined, instead of converting every row's time.
	var hours, hoursJoin string
	var hargs []any
	ts := "s.ts"
	if hourly {
		ts = "hh"
	}
	label, start, err := bucketExprs(bucket, ts, zone)
	if err != nil {
		return nil, nil, err
	}
	if hourly {
		var wc cond
		win.cond(&wc, "hh", zone)
		var wsql string
		wsql, hargs = wc.render(5)
		hours = fmt.Sprintf(`hrs AS (
  SELECT hh, %s AS label, %s AS bstart
  FROM generate_series(date_trunc('hour', $2::timestamptz, 'UTC'), $3::timestamptz, interval '1 hour') hh WHERE %s
), `, label, start, wsql)
		hoursJoin = "JOIN hrs ON hrs.hh = date_trunc('hour', s.ts, 'UTC')"
		label, start = "hrs.label", "hrs.bstart"
	}
	key, join, name, err := splitExprs(split)
	if err != nil {
		return nil, nil, err
	}
	if !hourly {
		win.cond(&c, "s.ts", zone)
	}
	scopeCond(&c, scope, "s.queue_id", "s.operator_id")
	if len(f.QueueIDs) > 0 {
		c.and("s.queue_id = ANY(?)", intsArg(f.QueueIDs))
	}
	if len(f.OperatorIDs) > 0 {
		c.and("s.operator_id = ANY(?)", intsArg(f.OperatorIDs))
	}
	if len(f.GroupIDs) > 0 {
		c.and("s.operator_id IN ("+groupMembers+")", intsArg(f.GroupIDs))
	}
	if len(f.ServerIDs) > 0 {
		c.and("s.server_id = ANY(?)", intsArg(f.ServerIDs))
	}
	if len(f.TrunkIDs) > 0 {
		c.and("s.trunk_id = ANY(?)", intsArg(f.TrunkIDs))
	}
	if len(f.Types) > 0 {
		c.and("s.type = ANY(?)", stringsArg(enumStrings(f.Types)))
	}
	where, cargs := c.render(5 + len(hargs))
	// The queue rollup has no operator or trunk: it serves whatever does not need them.
	rollup := `SELECT h.hour AS ts, h.server_id, h.queue_id, h.operator_id, h.trunk_id, h.type, h.calls, h.answered, h.missed,
         h.abandoned, h.sl_answered, h.wait_sum, h.wait_max, h.talk_sum, h.transferred
  FROM report_call_hours h WHERE h.hour >= $4 AND h.hour < $5`
	if (split == SplitNone || split == SplitQueue || split == SplitType || split == SplitServer) &&
		len(f.OperatorIDs) == 0 && len(f.GroupIDs) == 0 && len(f.TrunkIDs) == 0 && (scope.All || len(scope.OperatorIDs) == 0) {
		rollup = `SELECT h.hour AS ts, h.server_id, h.queue_id, 0::bigint AS operator_id, 0::bigint AS trunk_id, h.type, h.calls,
         h.answered, h.missed, h.abandoned, h.sl_answered, h.wait_sum, h.wait_max, h.talk_sum, h.transferred
  FROM report_queue_hours h WHERE h.hour >= $4 AND h.hour < $5`
	}
	typeKey := "NULL::text"
	if split == SplitType {
		typeKey = "s.type"
	}
	q := fmt.Sprintf(`
WITH %[9]ss AS (
  %[8]s
  UNION ALL
  SELECT c.start, f.server_id, f.queue_id, f.operator_id, f.trunk_id, f.type, f.calls, f.answered, f.missed,
         f.abandoned, f.sl_answered, f.wait_sum, f.wait_max, f.talk_sum, f.transferred
  FROM calls c, LATERAL report_call_facts(c.start, c.server_id, c.queues, c.answered_by_id, c.caller_operator_id,
    c.trunk_id, c.type, c.status, c.missed_reason, c.wait_seconds, c.talk_seconds, c.hold_seconds, c.transferred) f
  WHERE (c.start >= $2 AND c.start < $4) OR (c.start >= $5 AND c.start < $3)
), a AS (
  SELECT %[1]s AS label, %[2]s AS bstart, %[3]s AS k, %[6]s AS t, grouping(%[1]s) AS total,
    coalesce(sum(s.answered) FILTER (WHERE s.type = 'inbound'), 0) AS in_answered,
    coalesce(sum(s.missed) FILTER (WHERE s.type = 'inbound'), 0) AS in_missed,
    coalesce(sum(s.abandoned) FILTER (WHERE s.type = 'inbound'), 0) AS abandoned,
    coalesce(sum(s.calls) FILTER (WHERE s.type = 'outbound'), 0) AS outbound,
    coalesce(sum(s.calls) FILTER (WHERE s.type = 'internal'), 0) AS internal,
    coalesce(sum(s.transferred), 0) AS transferred,
    coalesce(sum(s.sl_answered) FILTER (WHERE s.type = 'inbound'), 0) AS sl,
    coalesce(sum(s.wait_sum) FILTER (WHERE s.type = 'inbound'), 0) AS wait_sum,
    coalesce(max(s.wait_max) FILTER (WHERE s.type = 'inbound'), 0) AS wait_max,
    coalesce(sum(s.talk_sum) FILTER (WHERE s.type = 'inbound'), 0) AS talk_sum
  FROM s %[10]s %[4]s
  WHERE s.ts >= $2 AND s.ts < $3 AND %[5]s
  GROUP BY GROUPING SETS ((%[1]s, %[2]s, %[3]s, %[6]s), ())
)
SELECT a.total, a.label, a.bstart, nullif(a.k, 0), %[7]s, a.in_answered, a.in_missed, a.abandoned, a.outbound,
       a.internal, a.transferred, a.sl, a.wait_sum, a.wait_max, a.talk_sum
FROM a ORDER BY a.total, a.bstart NULLS LAST, a.label, 5`, label, start, key, join, where, typeKey, name, rollup, hours, hoursJoin)
	args := append(append([]any{sp.loc.String(), sp.from, sp.to, r1, r2}, hargs...), cargs...)
	rows, err := r.query(ctx, q, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("report: summary: %w", err)
	}
	defer rows.Close()
	var out []*SummaryRow
	totals := &SummaryRow{Bucket: "total"}
	for rows.Next() {
		var (
			total                                          int
			lbl                                            *string
			row                                            SummaryRow
			inAns, inMiss, ab, outb, intl, tr, sl, wsum, w int64
			tsum                                           int64
		)
		if err := rows.Scan(&total, &lbl, &row.BucketStart, &row.SplitID, &row.SplitName, &inAns, &inMiss, &ab, &outb,
			&intl, &tr, &sl, &wsum, &w, &tsum); err != nil {
			return nil, nil, fmt.Errorf("report: summary: %w", err)
		}
		row.InboundAnswered, row.InboundMissed, row.Abandoned = int(inAns), int(inMiss), int(ab)
		row.Outbound, row.Internal, row.Transferred, row.AnsweredInSL = int(outb), int(intl), int(tr), int(sl)
		row.LongestWait, row.TalkSeconds = int(w), tsum
		in := inAns + inMiss
		row.ServiceLevel = ratio(sl, in, 100)
		row.AverageWait = ratio(wsum, in, 1)
		row.AverageTalk = ratio(tsum, inAns, 1)
		row.AbandonRate = ratio(ab, in, 100)
		if total == 1 {
			row.Bucket = "total"
			row.BucketStart, row.SplitID, row.SplitName = nil, nil, nil
			totals = &row
			continue
		}
		if lbl != nil {
			row.Bucket = *lbl
		}
		if row.BucketStart != nil {
			t := row.BucketStart.UTC()
			row.BucketStart = &t
		}
		out = append(out, &row)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("report: summary: %w", err)
	}
	return out, totals, nil
}
