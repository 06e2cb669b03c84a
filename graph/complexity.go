package graph

import (
	"entgo.io/contrib/entgql"

	"github.com/linkage/linkage/ent"
	"github.com/linkage/linkage/graph/generated"
	"github.com/linkage/linkage/internal/report"
)

// Costs used by the complexity limit. A connection costs its page size times what
// each node asks for; an unpaged list is priced as if it returned listCost items.
const (
	defaultPage = 100
	listCost    = 50
)

type cursor = *entgql.Cursor[int]

func pageCost(child int, first, last *int) int {
	n := defaultPage
	switch {
	case first != nil:
		n = *first
	case last != nil:
		n = *last
	}
	if n < 1 {
		n = 1
	}
	return 1 + n*child
}

func listCostFn(child int) int { return 1 + listCost*child }

// complexity prices every list field, so that one query cannot fan out into millions
// of rows through nested edges. gqlgen's default counts each field once.
func complexity() generated.ComplexityRoot {
	var c generated.ComplexityRoot
	c.Query.Servers = func(ch int, _ cursor, first *int, _ cursor, last *int, _ *ent.ServerOrder, _ *ent.ServerWhereInput) int {
		return pageCost(ch, first, last)
	}
	c.Query.Queues = func(ch int, _ cursor, first *int, _ cursor, last *int, _ *ent.QueueOrder, _ *ent.QueueWhereInput) int {
		return pageCost(ch, first, last)
	}
	c.Query.Operators = func(ch int, _ cursor, first *int, _ cursor, last *int, _ *ent.OperatorOrder, _ *ent.OperatorWhereInput) int {
		return pageCost(ch, first, last)
	}
	c.Query.OperatorGroups = func(ch int, _ cursor, first *int, _ cursor, last *int, _ *ent.OperatorGroupOrder, _ *ent.OperatorGroupWhereInput) int {
		return pageCost(ch, first, last)
	}
	c.Query.Trunks = func(ch int, _ cursor, first *int, _ cursor, last *int, _ *ent.TrunkOrder, _ *ent.TrunkWhereInput) int {
		return pageCost(ch, first, last)
	}
	c.Query.Users = func(ch int, _ cursor, first *int, _ cursor, last *int, _ *ent.UserOrder, _ *ent.UserWhereInput) int {
		return pageCost(ch, first, last)
	}
	c.Query.AuditLog = func(ch int, _ cursor, first *int, _ cursor, last *int, _ *ent.AuditLogOrder, _ *ent.AuditLogWhereInput) int {
		return pageCost(ch, first, last)
	}
	c.Query.APITokens = func(ch int, _ *int) int { return listCostFn(ch) }
	c.Query.Nodes = func(ch int, ids []int) int { return 1 + len(ids)*ch }
	c.Query.Calls = func(ch int, _ report.CallsInput, first *int, _ cursor) int { return pageCost(ch, first, nil) }
	// A compact row is one value per column, however many columns: price it as one field.
	c.Query.CallsCompact = func(_ int, _ report.CallsInput, first *int, _ cursor) int { return pageCost(1, first, nil) }
	c.Server.Queues = func(ch int, _ cursor, first *int, _ cursor, last *int, _ *ent.QueueOrder, _ *ent.QueueWhereInput) int {
		return pageCost(ch, first, last)
	}
	c.Server.Operators = func(ch int, _ cursor, first *int, _ cursor, last *int, _ *ent.OperatorOrder, _ *ent.OperatorWhereInput) int {
		return pageCost(ch, first, last)
	}
	c.Server.Trunks = func(ch int, _ cursor, first *int, _ cursor, last *int, _ *ent.TrunkOrder, _ *ent.TrunkWhereInput) int {
		return pageCost(ch, first, last)
	}
	c.Operator.Groups = listCostFn
	c.OperatorGroup.Operators = listCostFn
	return c
}
