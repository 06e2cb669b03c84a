package report

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// PeriodPreset names a period relative to now, resolved in the report's time zone.
type PeriodPreset string

// The presets. Days, weeks (Monday first) and months start at local midnight, so a
// day across a DST change is 23 or 25 hours long.
const (
	PresetToday      PeriodPreset = "TODAY"
	PresetYesterday  PeriodPreset = "YESTERDAY"
	PresetThisWeek   PeriodPreset = "THIS_WEEK"
	PresetThisMonth  PeriodPreset = "THIS_MONTH"
	PresetLast7Days  PeriodPreset = "LAST_7_DAYS"
	PresetLast30Days PeriodPreset = "LAST_30_DAYS"
)

// PeriodInput is a report's period: a preset, or an explicit [from, to). A date-only
// from/to ("2026-03-29") means local midnight in the report's zone.
type PeriodInput struct {
	Preset *PeriodPreset `json:"preset"`
	From   *time.Time    `json:"from"`
	To     *time.Time    `json:"to"`
}

// WorkingHoursInput keeps only what happened on the given ISO weekdays (1 = Monday;
// empty = every day) between From and To ("HH:MM", local time; To is exclusive; To
// before From spans midnight).
type WorkingHoursInput struct {
	Days []int  `json:"days"`
	From string `json:"from"`
	To   string `json:"to"`
}

// window is a parsed working-hours window, minutes after local midnight.
type window struct {
	days     []int
	from, to int
}

func (w *WorkingHoursInput) parse() (*window, error) {
	if w == nil {
		return nil, nil
	}
	from, err := parseClock(w.From)
	if err != nil {
		return nil, err
	}
	to, err := parseClock(w.To)
	if err != nil {
		return nil, err
	}
	for _, d := range w.Days {
		if d < 1 || d > 7 {
			return nil, inputErrorf("working hours: day %d is not an ISO weekday (1 = Monday ... 7 = Sunday)", d)
		}
	}
	if from == to && len(w.Days) == 0 {
		return nil, nil
	}
	return &window{days: w.Days, from: from, to: to}, nil
}

func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || hh < 0 || hh > 24 || mm < 0 || mm > 59 || hh*60+mm > 24*60 {
		return 0, inputErrorf("working hours: %q is not HH:MM", s)
	}
	return hh*60 + mm, nil
}

// wholeHours reports whether the window starts and ends on the hour.
func (w *window) wholeHours() bool { return w == nil || (w.from%60 == 0 && w.to%60 == 0) }

// cond restricts a timestamptz expression to the window in zone (a SQL parameter).
func (w *window) cond(c *cond, ts, zone string) {
	if w == nil {
		return
	}
	local := fmt.Sprintf("(%s AT TIME ZONE %s)", ts, zone)
	if len(w.days) > 0 {
		c.and(fmt.Sprintf("extract(isodow FROM %s)::int = ANY(?)", local), intsArg(w.days))
	}
	mins := fmt.Sprintf("(extract(hour FROM %[1]s)::int * 60 + extract(minute FROM %[1]s)::int)", local)
	switch {
	case w.from == w.to:
	case w.from < w.to:
		c.and(fmt.Sprintf("%[1]s >= ? AND %[1]s < ?", mins), w.from, w.to)
	default:
		c.and(fmt.Sprintf("%[1]s >= ? OR %[1]s < ?", mins), w.from, w.to)
	}
}

// span is a resolved period in one zone.
type span struct {
	loc      *time.Location
	from, to time.Time // UTC, [from, to)
}

// resolve turns a period into [from, to) in loc. Explicit times keep their instant;
// presets count days in loc.
func resolvePeriod(p PeriodInput, loc *time.Location, now time.Time) (span, error) {
	s := span{loc: loc}
	if p.Preset != nil {
		n := now.In(loc)
		today := time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, loc)
		switch *p.Preset {
		case PresetToday:
			s.from, s.to = today, today.AddDate(0, 0, 1)
		case PresetYesterday:
			s.from, s.to = today.AddDate(0, 0, -1), today
		case PresetThisWeek:
			wd := (int(today.Weekday()) + 6) % 7 // days since Monday
			s.from = today.AddDate(0, 0, -wd)
			s.to = s.from.AddDate(0, 0, 7)
		case PresetThisMonth:
			s.from = time.Date(n.Year(), n.Month(), 1, 0, 0, 0, 0, loc)
			s.to = s.from.AddDate(0, 1, 0)
		case PresetLast7Days:
			s.from, s.to = today.AddDate(0, 0, -6), today.AddDate(0, 0, 1)
		case PresetLast30Days:
			s.from, s.to = today.AddDate(0, 0, -29), today.AddDate(0, 0, 1)
		default:
			return s, inputErrorf("unknown period preset %q", *p.Preset)
		}
	} else {
		if p.From == nil || p.To == nil {
			return s, inputErrorf("a period needs a preset or both from and to")
		}
		s.from, s.to = *p.From, *p.To
	}
	s.from, s.to = s.from.UTC(), s.to.UTC()
	if !s.to.After(s.from) {
		return s, inputErrorf("the period ends before it starts")
	}
	if s.to.Sub(s.from) > 3700*24*time.Hour {
		return s, inputErrorf("the period is longer than ten years")
	}
	return s, nil
}

// wholeHourOffsets reports whether loc's UTC offset is a whole number of hours for
// the whole span, so that every UTC hour of the rollup is one local hour.
func (s span) wholeHourOffsets() bool {
	t := s.from.Add(-24 * time.Hour)
	for i := 0; t.Before(s.to.Add(24*time.Hour)) && i < 10000; i++ {
		_, off := t.In(s.loc).Zone()
		if off%3600 != 0 {
			return false
		}
		_, end := t.In(s.loc).ZoneBounds()
		if end.IsZero() {
			break
		}
		t = end
	}
	return true
}

// zone picks the report's zone: the explicit one; else the queue's (or its server's)
// when exactly one queue is selected; else UTC. (The viewer's own zone will slot in
// before UTC once access control provides it.)
func (r *Reports) zone(ctx context.Context, explicit *string, queueIDs []int) (*time.Location, error) {
	name := ""
	if explicit != nil {
		name = strings.TrimSpace(*explicit)
	}
	if name == "" && len(queueIDs) == 1 {
		err := r.db.QueryRowContext(ctx, `SELECT coalesce(nullif(q.timezone, ''), s.timezone)
			FROM queues q JOIN servers s ON s.id = q.server_id WHERE q.id = $1`, queueIDs[0]).Scan(&name)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("report: queue time zone: %w", err)
		}
	}
	if name == "" {
		name = "UTC"
	}
	loc, err := time.LoadLocation(name)
	if err != nil || name == "Local" { // "Local" is Go's, not an IANA name PostgreSQL knows
		return nil, inputErrorf("unknown time zone %q", name)
	}
	return loc, nil
}

// period resolves the zone and the period together.
func (r *Reports) period(ctx context.Context, p PeriodInput, tz *string, queueIDs []int) (span, error) {
	loc, err := r.zone(ctx, tz, queueIDs)
	if err != nil {
		return span{}, err
	}
	return resolvePeriod(p, loc, r.now())
}
