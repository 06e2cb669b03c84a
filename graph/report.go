package graph

import (
	"context"

	"github.com/linkage/linkage/internal/report"
)

// scope is what the viewer may see in reports. Until access control provides the
// viewer (auth.ScopeFromContext), every viewer sees everything; wiring it is this
// one function.
func (r *Resolver) scope(ctx context.Context) report.Scope {
	return report.AllScope()
}
