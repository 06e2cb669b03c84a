package app

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/linkage/linkage/auth"
	"github.com/linkage/linkage/auth/viewer"
	"github.com/linkage/linkage/graph"
	"github.com/linkage/linkage/internal/admin"
	"github.com/linkage/linkage/internal/dbschema"
	"github.com/linkage/linkage/internal/httpgzip"
	"github.com/linkage/linkage/internal/report"
	"github.com/linkage/linkage/web"
)

// routes builds the HTTP surface. Every route is instrumented under its own name.
func (a *App) routes() http.Handler {
	reg := a.Metrics
	m := newHTTPMetrics(reg)

	reports := report.New(a.DB, a.Client)
	gql := a.Auth.Middleware(graph.NewHandler(&graph.Resolver{Client: a.Client, Auth: a.Auth, Version: Version, Reports: reports,
		Live: &graph.Live{Hub: a.Hub, Scope: graph.LiveScope}, Ingest: a.Collector,
		Workplace: a.Workplace,
		Admin:     &admin.Service{Client: a.Client, Hub: a.Hub, Changed: a.configChanged, Logger: a.log.With("component", "admin")}}, graph.ServerOptions{
		OriginPatterns: a.opts.AllowedOrigins,
		WebsocketInit:  a.Auth.WebsocketInit,
		Logger:         a.log.With("component", "graphql"),
	}))
	mux := http.NewServeMux()
	handle := func(pattern, name string, h http.Handler) { mux.Handle(pattern, m.instrument(name, h)) }
	handle("/graphql", "graphql", httpgzip.Handler(gql))
	report.Register(func(p, name string, h http.Handler) {
		handle(p, name, a.Auth.Middleware(exportGate(httpgzip.Handler(h))))
	}, reports,
		func(r *http.Request) report.Scope { return graph.ReportScope(auth.ScopeFromContext(r.Context())) }, a.log.With("component", "export"))
	handle("GET /recordings/{call}/{n}", "recordings", a.Auth.Middleware(http.HandlerFunc(a.serveRecording)))
	handle("GET /graphiql", "graphiql", graph.GraphiQL("/graphql"))
	handle("GET /healthz", "healthz", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}))
	handle("GET /readyz", "readyz", http.HandlerFunc(a.ready))
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	handle("/", "web", web.Handler()) // the web app: every path no other route claims
	return mux
}

// exportGate lets only viewers with the export permission through, and records
// every export in the audit log (who took which data, when, from where).
func exportGate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := auth.Can(r.Context(), viewer.ExportsCreate, "*"); err != nil {
			code := http.StatusForbidden
			if errors.Is(err, auth.ErrUnauthenticated) {
				code = http.StatusUnauthorized
			}
			http.Error(w, http.StatusText(code), code)
			return
		}
		if err := auth.Audit(r.Context(), "export.create", r.URL.Path, map[string]any{"query": r.URL.RawQuery}); err != nil {
			http.Error(w, "export: audit log unavailable", http.StatusServiceUnavailable)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// ready answers 200 only when the database answers and has every migration this
// binary knows, so a load balancer never sends traffic to a half-started process.
func (a *App) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if err := a.DB.PingContext(ctx); err != nil {
		a.log.Warn("readyz: database unreachable", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "database unreachable"})
		return
	}
	pending, err := dbschema.Pending(ctx, a.DB)
	if err != nil {
		a.log.Warn("readyz: migrations", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "migration state unknown"})
		return
	}
	if len(pending) > 0 {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "migrations pending", "pending": pending})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inflight prometheus.Gauge
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "linkage_http_requests_total", Help: "HTTP requests by route, method and status code.",
		}, []string{"handler", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "linkage_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: prometheus.DefBuckets,
		}, []string{"handler", "method"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "linkage_http_requests_in_flight", Help: "HTTP requests being served (WebSockets included).",
		}),
	}
	reg.MustRegister(m.requests, m.duration, m.inflight)
	return m
}

func (m *httpMetrics) instrument(name string, h http.Handler) http.Handler {
	labels := prometheus.Labels{"handler": name}
	return promhttp.InstrumentHandlerInFlight(m.inflight,
		promhttp.InstrumentHandlerCounter(m.requests.MustCurryWith(labels),
			promhttp.InstrumentHandlerDuration(m.duration.MustCurryWith(labels), h)))
}
