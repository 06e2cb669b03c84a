package report

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/linkage/linkage/ent"
	"github.com/linkage/linkage/ent/call"
)

// ScopeFunc tells the export handler what the requesting viewer may see.
type ScopeFunc func(*http.Request) Scope

// Register adds the export routes (GET /export/{report}.csv and .xlsx; report is
// summary, calls, operators or queues) through handle, the app's route helper.
func Register(handle func(pattern, name string, h http.Handler), r *Reports, scope ScopeFunc, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	handle("GET /export/{file}", "export", &exporter{r: r, scope: scope, log: log})
}

type exporter struct {
	r     *Reports
	scope ScopeFunc
	log   *slog.Logger
}

// sheet is one export's output: a header, then rows.
type sheet interface {
	row(vals []any) error
	close() error
}

func (e *exporter) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	name, format, _ := strings.Cut(req.PathValue("file"), ".")
	if format != "csv" && format != "xlsx" {
		http.Error(w, "export: want /export/{summary|calls|operators|queues}.{csv|xlsx}", http.StatusNotFound)
		return
	}
	q := req.URL.Query()
	lang := ParseLang(q.Get("lang"))
	scope := e.scope(req)
	ctx := req.Context()
	// Reports that fit in memory are built first, so input errors are still a 400.
	var (
		header []string
		rows   func(add func([]any) error) error
		err    error
	)
	switch name {
	case "summary":
		header, rows, err = e.summary(ctx, scope, q, lang)
	case "operators":
		header, rows, err = e.operators(ctx, scope, q, lang)
	case "queues":
		header, rows, err = e.queues(ctx, scope, q, lang)
	case "calls":
		header, rows, err = e.calls(ctx, scope, q, lang)
	default:
		http.Error(w, "export: unknown report "+strconv.Quote(name), http.StatusNotFound)
		return
	}
	if err != nil {
		if IsInputError(err) {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		e.log.ErrorContext(ctx, "export failed", "report", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	filename := fmt.Sprintf("%s-%s.%s", name, time.Now().UTC().Format("20060102-150405"), format)
	w.Header().Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	w.Header().Set("Cache-Control", "no-store")
	var out sheet
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		out = newCSVSheet(w, lang)
		// CSV formats values itself, without allocating per field.
		err = out.row(stringsAny(header))
		if err == nil {
			err = rows(out.row)
		}
		if err == nil {
			err = out.close()
		}
		if err != nil {
			e.log.ErrorContext(ctx, "export aborted", "report", name, "err", err)
			panic(http.ErrAbortHandler)
		}
		return
	} else {
		w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		if out, err = newXLSXSheet(w); err != nil {
			e.log.ErrorContext(ctx, "export failed", "report", name, "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
	}
	err = out.row(stringsAny(header))
	if err == nil {
		err = rows(func(v []any) error { return out.row(formatRow(v, lang)) })
	}
	if err == nil {
		err = out.close()
	}
	if err != nil {
		// The response has begun: cut the connection so the client sees a broken
		// download instead of a short file that looks whole.
		e.log.ErrorContext(ctx, "export aborted", "report", name, "err", err)
		panic(http.ErrAbortHandler)
	}
}

func stringsAny(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}

// localTime marks a time to print in the report's zone.
type localTime struct {
	t   time.Time
	loc *time.Location
}

// formatRow turns values into what a spreadsheet shows: times in the report's zone,
// ratios with two decimals, booleans as words, nil as empty.
func formatRow(v []any, lang Lang) []any {
	out := make([]any, len(v))
	for i, x := range v {
		switch x := x.(type) {
		case nil:
			out[i] = ""
		case localTime:
			out[i] = x.t.In(x.loc).Format("2006-01-02 15:04:05")
		case *float64:
			if x == nil {
				out[i] = ""
			} else {
				out[i] = roundFloat(*x)
			}
		case float64:
			out[i] = roundFloat(x)
		case []string:
			out[i] = strings.Join(x, ", ")
		case bool:
			if x {
				out[i] = T(lang, "yes")
			} else {
				out[i] = T(lang, "no")
			}
		case *int:
			if x == nil {
				out[i] = ""
			} else {
				out[i] = *x
			}
		default:
			out[i] = x
		}
	}
	return out
}

func roundFloat(f float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'f', 2, 64), 64)
	return v
}

type csvSheet struct {
	bw      *bufio.Writer
	comma   byte
	lang    Lang
	scratch []byte
}

// newCSVSheet writes UTF-8 with a byte-order mark (so Excel reads Cyrillic right);
// Russian files use ";" as Excel in a Russian locale expects. Quoting follows RFC 4180.
func newCSVSheet(w io.Writer, lang Lang) *csvSheet {
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString("\uFEFF")
	s := &csvSheet{bw: bw, comma: ',', lang: lang}
	if lang == LangRU {
		s.comma = ';'
	}
	return s
}

// row writes raw values (see formatRow for what each becomes).
func (s *csvSheet) row(vals []any) error {
	for i, v := range vals {
		if i > 0 {
			s.bw.WriteByte(s.comma)
		}
		b := s.scratch[:0]
		switch v := v.(type) {
		case nil:
		case string:
			b = append(b, v...)
		case int64:
			b = strconv.AppendInt(b, v, 10)
		case int:
			b = strconv.AppendInt(b, int64(v), 10)
		case float64:
			b = strconv.AppendFloat(b, roundFloat(v), 'f', -1, 64)
		case *float64:
			if v != nil {
				b = strconv.AppendFloat(b, roundFloat(*v), 'f', -1, 64)
			}
		case *int:
			if v != nil {
				b = strconv.AppendInt(b, int64(*v), 10)
			}
		case bool:
			if v {
				b = append(b, T(s.lang, "yes")...)
			} else {
				b = append(b, T(s.lang, "no")...)
			}
		case localTime:
			b = v.t.In(v.loc).AppendFormat(b, "2006-01-02 15:04:05")
		case []string:
			for j, x := range v {
				if j > 0 {
					b = append(b, ", "...)
				}
				b = append(b, x...)
			}
		default:
			b = fmt.Append(b, v)
		}
		s.field(b)
		s.scratch = b
	}
	_, err := s.bw.WriteString("\r\n")
	return err
}

func (s *csvSheet) field(b []byte) {
	quote := len(b) > 0 && (b[0] == ' ' || b[0] == '\t')
	for _, c := range b {
		if c == s.comma || c == '"' || c == '\n' || c == '\r' {
			quote = true
			break
		}
	}
	if !quote {
		s.bw.Write(b)
		return
	}
	s.bw.WriteByte('"')
	for _, c := range b {
		if c == '"' {
			s.bw.WriteByte('"')
		}
		s.bw.WriteByte(c)
	}
	s.bw.WriteByte('"')
}

func (s *csvSheet) close() error { return s.bw.Flush() }

// xlsxSheet streams rows through excelize's StreamWriter, which keeps at most a
// small buffer in memory and spills the rest to a temporary file until Write.
type xlsxSheet struct {
	w  io.Writer
	f  *excelize.File
	sw *excelize.StreamWriter
	n  int
}

func newXLSXSheet(w io.Writer) (*xlsxSheet, error) {
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		f.Close()
		return nil, err
	}
	return &xlsxSheet{w: w, f: f, sw: sw}, nil
}

func (s *xlsxSheet) row(vals []any) error {
	s.n++
	cell, err := excelize.CoordinatesToCellName(1, s.n)
	if err != nil {
		return err
	}
	return s.sw.SetRow(cell, vals)
}

func (s *xlsxSheet) close() error {
	defer s.f.Close()
	if err := s.sw.Flush(); err != nil {
		return err
	}
	return s.f.Write(s.w)
}

func headerOf(lang Lang, keys ...string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = T(lang, k)
	}
	return out
}

func (e *exporter) summary(ctx context.Context, scope Scope, q url.Values, lang Lang) ([]string, func(func([]any) error) error, error) {
	in, err := SummaryInputFromQuery(q)
	if err != nil {
		return nil, nil, err
	}
	rep, err := e.r.Summary(ctx, scope, in)
	if err != nil {
		return nil, nil, err
	}
	h := headerOf(lang, "bucket", "split", "inbound_answered", "inbound_missed", "abandoned", "outbound", "internal",
		"transferred", "service_level", "average_wait", "longest_wait", "average_talk", "abandon_rate")
	return h, func(add func([]any) error) error {
		for _, r := range append(rep.Rows, rep.Totals) {
			bucket := r.Bucket
			if r == rep.Totals {
				bucket = T(lang, "total")
			}
			split := ""
			if r.SplitName != nil {
				split = *r.SplitName
			}
			if err := add([]any{bucket, split, r.InboundAnswered, r.InboundMissed, r.Abandoned, r.Outbound, r.Internal,
				r.Transferred, r.ServiceLevel, r.AverageWait, r.LongestWait, r.AverageTalk, r.AbandonRate}); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

func (e *exporter) operators(ctx context.Context, scope Scope, q url.Values, lang Lang) ([]string, func(func([]any) error) error, error) {
	in := OperatorReportInput{}
	var err error
	if in.Period, in.TimeZone, in.Filter, err = commonFromQuery(q); err != nil {
		return nil, nil, err
	}
	rep, err := e.r.Operators(ctx, scope, in)
	if err != nil {
		return nil, nil, err
	}
	h := headerOf(lang, "number", "name", "op_answered", "op_missed", "talk_total", "hold_total", "average_talk",
		"average_hold", "logged_in", "paused", "occupancy")
	return h, func(add func([]any) error) error {
		for _, r := range append(rep.Rows, rep.Totals) {
			name := r.Name
			if r == rep.Totals {
				name = T(lang, "total")
			}
			if err := add([]any{r.Number, name, r.Answered, r.Missed, r.TalkSeconds, r.HoldSeconds, r.AverageTalk,
				r.AverageHold, r.LoggedInSeconds, r.PausedSeconds, r.Occupancy}); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

func (e *exporter) queues(ctx context.Context, scope Scope, q url.Values, lang Lang) ([]string, func(func([]any) error) error, error) {
	in := QueueReportInput{}
	var err error
	if in.Period, in.TimeZone, in.Filter, err = commonFromQuery(q); err != nil {
		return nil, nil, err
	}
	if in.WaitBuckets, err = intsParam(q, "waitBuckets"); err != nil {
		return nil, nil, err
	}
	rep, err := e.r.Queues(ctx, scope, in)
	if err != nil {
		return nil, nil, err
	}
	h := headerOf(lang, "number", "name", "sl_threshold", "received", "q_answered", "abandoned", "unanswered",
		"service_level", "asa", "average_wait", "longest_wait", "abandon_rate")
	for _, b := range rep.Totals.WaitDistribution {
		r := fmt.Sprintf("%d–", b.FromSeconds)
		if b.ToSeconds != nil {
			r += strconv.Itoa(*b.ToSeconds)
		}
		h = append(h, fmt.Sprintf(T(lang, "wait_bucket"), r))
	}
	return h, func(add func([]any) error) error {
		for _, r := range append(rep.Rows, rep.Totals) {
			name := r.Name
			if r == rep.Totals {
				name = T(lang, "total")
			}
			v := []any{r.Number, name, r.SLThresholdSeconds, r.Received, r.Answered, r.Abandoned, r.Unanswered,
				r.ServiceLevel, r.AverageSpeedOfAnswer, r.AverageWait, r.LongestWait, r.AbandonRate}
			for _, b := range r.WaitDistribution {
				v = append(v, fmt.Sprintf("%d/%d", b.Answered, b.Abandoned))
			}
			if err := add(v); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

// calls streams the call list straight from the database cursor: one row in memory
// at a time, however long the period.
func (e *exporter) calls(ctx context.Context, scope Scope, q url.Values, lang Lang) ([]string, func(func([]any) error) error, error) {
	in, err := CallsInputFromQuery(q)
	if err != nil {
		return nil, nil, err
	}
	// Resolve the period now so that bad input is a 400, not a cut download.
	if _, _, err := e.r.callCond(ctx, scope, in); err != nil {
		return nil, nil, err
	}
	loc, err := e.r.zone(ctx, in.TimeZone, in.Filter.orEmpty().QueueIDs)
	if err != nil {
		return nil, nil, err
	}
	h := headerOf(lang, callColumnKeys()...)
	return h, func(add func([]any) error) error {
		_, err := e.r.eachCall(ctx, scope, in, nil, 0, func(v []any) error {
			row := v[:len(callColumns)]
			for i, x := range row {
				if t, ok := x.(time.Time); ok {
					row[i] = localTime{t, loc}
				}
			}
			return add(row)
		})
		return err
	}, nil
}

// ---- URL parameters: the GraphQL arguments, flattened.

func commonFromQuery(q url.Values) (PeriodInput, *string, *ReportFilter, error) {
	var p PeriodInput
	var tz *string
	loc := time.UTC
	if s := q.Get("timeZone"); s != "" {
		tz = &s
		l, err := time.LoadLocation(s)
		if err != nil {
			return p, nil, nil, inputErrorf("unknown time zone %q", s)
		}
		loc = l
	}
	if s := q.Get("preset"); s != "" {
		pp := PeriodPreset(strings.ToUpper(s))
		if err := pp.UnmarshalGQL(string(pp)); err != nil {
			return p, nil, nil, inputErrorf("unknown preset %q", s)
		}
		p.Preset = &pp
	}
	for _, x := range []struct {
		key string
		dst **time.Time
	}{{"from", &p.From}, {"to", &p.To}} {
		s := q.Get(x.key)
		if s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			// A date alone is local midnight in the given zone (UTC without one).
			if t, err = time.ParseInLocation("2006-01-02", s, loc); err != nil {
				return p, nil, nil, inputErrorf("%s: want RFC 3339 or YYYY-MM-DD, got %q", x.key, s)
			}
		}
		*x.dst = &t
	}
	f := &ReportFilter{}
	var err error
	for _, x := range []struct {
		key string
		dst *[]int
	}{{"queue", &f.QueueIDs}, {"operator", &f.OperatorIDs}, {"group", &f.GroupIDs}, {"server", &f.ServerIDs}, {"trunk", &f.TrunkIDs}} {
		if *x.dst, err = intsParam(q, x.key); err != nil {
			return p, nil, nil, err
		}
	}
	for _, s := range listParam(q, "type") {
		t := call.Type(s)
		if call.TypeValidator(t) != nil {
			return p, nil, nil, inputErrorf("unknown call type %q", s)
		}
		f.Types = append(f.Types, t)
	}
	return p, tz, f, nil
}

// listParam reads a repeated or comma-separated parameter.
func listParam(q url.Values, key string) []string {
	var out []string
	for _, v := range q[key] {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

func intsParam(q url.Values, key string) ([]int, error) {
	var out []int
	for _, s := range listParam(q, key) {
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, inputErrorf("%s: %q is not a number", key, s)
		}
		out = append(out, n)
	}
	return out, nil
}

func intParam(q url.Values, key string) (*int, error) {
	s := q.Get(key)
	if s == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return nil, inputErrorf("%s: %q is not a number", key, s)
	}
	return &n, nil
}

// SummaryInputFromQuery reads the summary's URL parameters: the common ones (from,
// to, preset, timeZone, queue, operator, group, server, trunk, type) plus bucket,
// split, days (1..7) and hours (09:00-18:00).
func SummaryInputFromQuery(q url.Values) (SummaryInput, error) {
	var in SummaryInput
	var err error
	if in.Period, in.TimeZone, in.Filter, err = commonFromQuery(q); err != nil {
		return in, err
	}
	if s := q.Get("bucket"); s != "" {
		b := SummaryBucket(strings.ToUpper(s))
		if err := b.UnmarshalGQL(string(b)); err != nil {
			return in, inputErrorf("unknown bucket %q", s)
		}
		in.Bucket = &b
	}
	if s := q.Get("split"); s != "" {
		sp := SummarySplit(strings.ToUpper(s))
		if err := sp.UnmarshalGQL(string(sp)); err != nil {
			return in, inputErrorf("unknown split %q", s)
		}
		in.SplitBy = &sp
	}
	days, err := intsParam(q, "days")
	if err != nil {
		return in, err
	}
	if h := q.Get("hours"); h != "" || len(days) > 0 {
		from, to, _ := strings.Cut(h, "-")
		if h == "" {
			from, to = "00:00", "00:00"
		}
		in.WorkingHours = &WorkingHoursInput{Days: days, From: from, To: to}
	}
	return in, nil
}

// CallsInputFromQuery reads the call list's URL parameters: the common ones plus
// search, status, hangupBy, transferred, waitMin, waitMax, talkMin, talkMax, orderBy
// (START, END, WAIT, TALK) and direction (ASC, DESC).
func CallsInputFromQuery(q url.Values) (CallsInput, error) {
	var in CallsInput
	var err error
	if in.Period, in.TimeZone, in.Filter, err = commonFromQuery(q); err != nil {
		return in, err
	}
	if s := q.Get("search"); s != "" {
		in.Search = &s
	}
	for _, s := range listParam(q, "status") {
		if call.StatusValidator(call.Status(s)) != nil {
			return in, inputErrorf("unknown status %q", s)
		}
		in.Statuses = append(in.Statuses, call.Status(s))
	}
	for _, s := range listParam(q, "hangupBy") {
		if call.HangupByValidator(call.HangupBy(s)) != nil {
			return in, inputErrorf("unknown hangupBy %q", s)
		}
		in.HangupBy = append(in.HangupBy, call.HangupBy(s))
	}
	if s := q.Get("transferred"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return in, inputErrorf("transferred: want true or false")
		}
		in.Transferred = &b
	}
	for _, x := range []struct {
		key string
		dst **int
	}{{"waitMin", &in.WaitMin}, {"waitMax", &in.WaitMax}, {"talkMin", &in.TalkMin}, {"talkMax", &in.TalkMax}} {
		if *x.dst, err = intParam(q, x.key); err != nil {
			return in, err
		}
	}
	if s := q.Get("orderBy"); s != "" {
		o := &ent.CallOrder{Direction: "DESC"}
		switch strings.ToUpper(s) {
		case "START":
			o.Field = ent.CallOrderFieldStart
		case "END":
			o.Field = ent.CallOrderFieldEnd
		case "WAIT":
			o.Field = ent.CallOrderFieldWaitSeconds
		case "TALK":
			o.Field = ent.CallOrderFieldTalkSeconds
		default:
			return in, inputErrorf("unknown orderBy %q", s)
		}
		if strings.EqualFold(q.Get("direction"), "ASC") {
			o.Direction = "ASC"
		}
		in.OrderBy = o
	}
	return in, nil
}
