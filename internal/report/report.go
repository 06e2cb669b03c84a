// Package report builds Linkage's reports — the calls summary, the call list and a
// call's journey, the operator and queue reports — and their CSV and XLSX exports.
//
// Everything is aggregated in PostgreSQL at query time. The summary reads the hourly
// rollup (report_call_hours, kept exact by a trigger on calls) for whole hours and the
// raw calls for the partial hours at the edges of a period, so any window is exact.
// Every entry point takes a Scope, applied inside the SQL it builds (scopeCond), so
// what a viewer may see is decided in one place.
package report

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/lib/pq"

	"github.com/linkage/linkage/ent"
	"github.com/linkage/linkage/ent/call"
)

// Reports builds reports over one database.
type Reports struct {
	db     *sql.DB
	client *ent.Client
	now    func() time.Time
}

// New returns Reports over db; client is the ent client on the same database (the
// call list returns ent Calls so GraphQL can follow their edges).
func New(db *sql.DB, client *ent.Client) *Reports {
	return &Reports{db: db, client: client, now: time.Now}
}

// WithClock returns a copy whose presets (today, this week ...) resolve against now().
func (r *Reports) WithClock(now func() time.Time) *Reports {
	c := *r
	c.now = now
	return &c
}

// Scope is what a viewer may see. Access control fills it from the viewer
// (auth.ScopeFromContext); a row is visible when All is set, or its queue is in
// QueueIDs, or its operator is in OperatorIDs. The zero Scope sees nothing.
type Scope struct {
	All         bool
	QueueIDs    []int
	OperatorIDs []int
}

// AllScope sees everything (admins, internal jobs).
func AllScope() Scope { return Scope{All: true} }

// InputError is a mistake in a report's arguments, worded for the user.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

func inputErrorf(format string, args ...any) error {
	return &InputError{Msg: fmt.Sprintf(format, args...)}
}

// IsInputError reports whether err is the caller's mistake rather than ours.
func IsInputError(err error) bool {
	var ie *InputError
	return errors.As(err, &ie)
}

// cond is a conjunction of SQL predicates with "?" placeholders. It renders to
// PostgreSQL's $n either on its own (raw queries) or into an ent selector (the call
// list), so one builder serves both.
type cond struct {
	parts []string
	args  []any
}

// and adds a predicate; each "?" in it takes the next arg.
func (c *cond) and(pred string, args ...any) {
	if strings.Count(pred, "?") != len(args) {
		panic("report: placeholder count mismatch in " + pred)
	}
	c.parts = append(c.parts, pred)
	c.args = append(c.args, args...)
}

func (c *cond) sql() string {
	if len(c.parts) == 0 {
		return "TRUE"
	}
	return "(" + strings.Join(c.parts, ") AND (") + ")"
}

// render returns the predicate with placeholders numbered from $start+1, and its args.
func (c *cond) render(start int) (string, []any) {
	var b strings.Builder
	n := start
	for _, r := range c.sql() {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String(), c.args
}

// predicate renders the conjunction into an ent selector.
func (c *cond) predicate() *entsql.Predicate {
	return entsql.P(func(b *entsql.Builder) {
		segs := strings.Split(c.sql(), "?")
		for i, s := range segs {
			b.WriteString(s)
			if i < len(segs)-1 {
				b.Arg(c.args[i])
			}
		}
	})
}

// scopeCond is the one place a Scope becomes SQL. queueCol and operatorCols name the
// columns (or EXISTS subqueries with "%s" for the id list) that make a row visible;
// an empty queueCol means queue scopes do not reveal this kind of row.
func scopeCond(c *cond, s Scope, queueCol string, operatorCols ...string) {
	if s.All {
		return
	}
	var ors []string
	var args []any
	if queueCol != "" && len(s.QueueIDs) > 0 {
		ors = append(ors, anyOf(queueCol))
		args = append(args, pq.Array(s.QueueIDs))
	}
	if len(s.OperatorIDs) > 0 {
		for _, col := range operatorCols {
			ors = append(ors, anyOf(col))
			args = append(args, pq.Array(s.OperatorIDs))
		}
	}
	if len(ors) == 0 {
		c.and("FALSE")
		return
	}
	c.and(strings.Join(ors, " OR "), args...)
}

// anyOf turns a column into "col = ANY(?)", or fills a subquery template's %s.
func anyOf(col string) string {
	if strings.Contains(col, "%s") {
		return fmt.Sprintf(col, "ANY(?)")
	}
	return col + " = ANY(?)"
}

// ReportFilter narrows a report to queues, operators (directly or by group),
// servers, trunks and call types. Empty lists mean "all".
type ReportFilter struct {
	QueueIDs    []int       `json:"queueIDs"`
	OperatorIDs []int       `json:"operatorIDs"`
	GroupIDs    []int       `json:"groupIDs"`
	ServerIDs   []int       `json:"serverIDs"`
	TrunkIDs    []int       `json:"trunkIDs"`
	Types       []call.Type `json:"types"`
}

func (f *ReportFilter) orEmpty() ReportFilter {
	if f == nil {
		return ReportFilter{}
	}
	return *f
}

const groupMembers = "SELECT operator_id FROM operator_group_operators WHERE operator_group_id = ANY(?)"

func intsArg(v []int) any       { return pq.Array(v) }
func stringsArg(v []string) any { return pq.Array(v) }

func ratio(num, den int64, scale float64) *float64 {
	if den == 0 {
		return nil
	}
	v := float64(num) / float64(den) * scale
	return &v
}

// rowsTx is a result set read inside its own read-only transaction.
type rowsTx struct {
	*sql.Rows
	tx *sql.Tx
}

// Close closes the rows and ends the transaction.
func (r *rowsTx) Close() error {
	err := r.Rows.Close()
	if cerr := r.tx.Commit(); err == nil {
		err = cerr
	}
	return err
}

// query runs a report query in a read-only transaction with JIT compilation off
// (it triggers on the estimated cost of a year's aggregation and can spend longer
// compiling than the query runs) and more sort/hash memory than the 4 MB default, so
// a year of rollup rows is joined and grouped in memory instead of merge-sorted on disk.
func (r *Reports) query(ctx context.Context, q string, args ...any) (*rowsTx, error) {
	tx, err := r.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, "SET LOCAL jit = off; SET LOCAL work_mem = '64MB'"); err != nil {
		tx.Rollback()
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		tx.Rollback()
		return nil, err
	}
	return &rowsTx{Rows: rows, tx: tx}, nil
}
