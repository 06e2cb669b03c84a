package viewer

import (
	"fmt"

	"github.com/lib/pq"
)

// SQLQueueFilter returns a condition restricting column (a queue id) to the scope,
// for raw-SQL readers, with its one argument numbered $arg:
//
//	cond, args := scope.SQLQueueFilter("v.queue_id", 3)
//	q := "... WHERE v.joined_at >= $1 AND v.joined_at < $2 AND " + cond
//
// An unrestricted scope gives "TRUE" and an empty one "FALSE", both without arguments.
func (s Scope) SQLQueueFilter(column string, arg int) (string, []any) {
	return sqlIn(s.All, s.QueueIDs, column, arg)
}

// SQLListenFilter is SQLQueueFilter for the queues whose recordings the viewer may hear.
func (s Scope) SQLListenFilter(column string, arg int) (string, []any) {
	return sqlIn(s.All, s.ListenQueueIDs, column, arg)
}

// SQLOperatorFilter restricts column (an operator id) to the scope's operators.
// Untracked operators are never in a restricted scope; reports over an
// unrestricted one should still leave them out (operators.tracked).
func (s Scope) SQLOperatorFilter(column string, arg int) (string, []any) {
	return sqlIn(s.All, s.OperatorIDs, column, arg)
}

// SQLGroupFilter restricts column (an operator group id) to the scope's groups.
func (s Scope) SQLGroupFilter(column string, arg int) (string, []any) {
	return sqlIn(s.All, s.GroupIDs, column, arg)
}

func sqlIn(all bool, ids []int, column string, arg int) (string, []any) {
	switch {
	case all:
		return "TRUE", nil
	case len(ids) == 0:
		return "FALSE", nil
	}
	a := make([]int64, len(ids))
	for i, id := range ids {
		a[i] = int64(id)
	}
	return fmt.Sprintf("%s = ANY($%d)", column, arg), []any{pq.Array(a)}
}
