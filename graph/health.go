package graph

import (
	"context"

	"github.com/linkage/linkage/ami"
	"github.com/linkage/linkage/graph/model"
)

// Ingest is what the API knows of this process's collector.
type Ingest interface {
	Health(serverID int) (ami.Health, bool)
	Conn(serverID int) (*ami.Conn, bool)
	// Reload makes the collector re-read the servers now.
	Reload(ctx context.Context) error
}

// serverHealth maps the collector's view of one server; nil when no pipeline for it
// runs in this process.
func serverHealth(in Ingest, serverID int) *model.ServerHealth {
	if in == nil {
		return nil
	}
	h, ok := in.Health(serverID)
	if !ok {
		return nil
	}
	_, active := in.Conn(serverID)
	out := &model.ServerHealth{
		Active: active, Connected: h.Connected, EventsReceived: int(h.EventsReceived),
		Reconnects: h.Reconnects, Overflows: int(h.Overflows),
	}
	if !h.Since.IsZero() {
		out.Since = &h.Since
	}
	if h.Greeting != "" {
		out.Greeting = &h.Greeting
	}
	if !h.LastEvent.IsZero() {
		out.LastEventAt = &h.LastEvent
	}
	if h.Lag > 0 {
		lag := h.Lag.Seconds()
		out.LagSeconds = &lag
	}
	if h.LastError != "" {
		out.LastError = &h.LastError
	}
	return out
}
