package graph

import (
	"context"

	"github.com/linkage/linkage/auth"
	"github.com/linkage/linkage/internal/report"
)

// reportScope checks that the viewer may run reports of this kind (action is
// auth.ReportsRead or auth.CallsRead) and returns what they may see, applied inside
// the report SQL.
func reportScope(ctx context.Context, action string) (report.Scope, error) {
	if err := auth.Can(ctx, action, "*"); err != nil {
		return report.Scope{}, err
	}
	return ReportScope(auth.ScopeFromContext(ctx)), nil
}

// ReportScope converts the access-control scope into the report package's filter.
func ReportScope(s auth.Scope) report.Scope {
	return report.Scope{All: s.All, QueueIDs: s.QueueIDs, OperatorIDs: s.OperatorIDs}
}
