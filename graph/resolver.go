// Package graph serves Linkage's GraphQL API: the resolvers (short; the logic lives
// in the packages that own the data) and the HTTP server assembly.
package graph

import (
	"github.com/linkage/linkage/auth"
	"github.com/linkage/linkage/ent"
	"github.com/linkage/linkage/internal/admin"
	"github.com/linkage/linkage/internal/report"
	"github.com/linkage/linkage/internal/workplace"
)

// Resolver is the root resolver; it holds the dependencies every resolver may use.
type Resolver struct {
	Client  *ent.Client
	Auth    *auth.Service
	Version string
	Reports *report.Reports
	// Live serves the live-monitoring queries and subscriptions (graph/live.go);
	// nil answers them with an error.
	Live *Live
	// Ingest is this process's collector (server health); nil when none runs here.
	Ingest Ingest
	// Workplace is the operator workplace (workplace.graphqls); nil answers it with
	// an error.
	Workplace *workplace.Service
	// Admin is configuration administration (queues, operators, discovery ...).
	Admin *admin.Service
}

// workplace returns the workplace service or the error saying it is not wired.
func (r *Resolver) workplace() (*workplace.Service, error) {
	if r.Workplace == nil {
		return nil, &UserError{Code: "UNAVAILABLE", Message: "the operator workplace is not enabled on this server"}
	}
	return r.Workplace, nil
}
