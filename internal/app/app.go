// Package app wires Linkage together: the database (private cluster or external),
// migrations, the ent client, the HTTP server with GraphQL, health and metrics.
// It has New/Start/Stop, runs its cleanups in reverse order under a deadline, and
// exposes the bound address so tests can listen on 127.0.0.1:0.
package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	entsql "entgo.io/ent/dialect/sql"
	_ "github.com/lib/pq" // PostgreSQL driver for database/sql

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/linkage/linkage/ami/collector"
	"github.com/linkage/linkage/ami/live"
	"github.com/linkage/linkage/auth"
	"github.com/linkage/linkage/ent"
	"github.com/linkage/linkage/internal/config"
	"github.com/linkage/linkage/internal/dbschema"
	"github.com/linkage/linkage/internal/pgcluster"
	"github.com/linkage/linkage/internal/workplace"
)

// Version is the build's version, set by the linker (-X) in release builds.
var Version = "dev"

// App is one running Linkage server process.
type App struct {
	opts config.Options
	log  *slog.Logger

	DB     *sql.DB
	Client *ent.Client
	// Auth is access control: sessions, tokens, roles and scopes, the audit log.
	Auth  *auth.Service
	dbURL string
	// Hub fans live state out to subscribers; the PG bridge carries it between
	// processes, so any API process serves subscriptions for every server.
	Hub    *live.Hub
	bridge *live.PGBridge
	// Collector ingests the configured Asterisk servers (nil until Start).
	Collector *collector.Collector
	// Workplace is the operator workplace: AMI actions through Collector, missed
	// calls (nil until Start).
	Workplace *workplace.Service
	// liveDir and liveState are the live state's directory and state, refreshed at
	// once after administrative changes (configChanged).
	liveDir   *liveDirectory
	liveState *live.State
	// Metrics is the process's Prometheus registry (/metrics).
	Metrics *prometheus.Registry

	listener net.Listener
	http     *http.Server
	serveErr chan error

	mu       sync.Mutex
	cleanups []cleanup // run in reverse order by Stop
	stopped  bool
}

type cleanup struct {
	name string
	fn   func(ctx context.Context) error
}

// New returns an App for validated options.
func New(opts config.Options, log *slog.Logger) *App {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &App{opts: opts, log: log, Metrics: reg}
}

func (a *App) onStop(name string, fn func(ctx context.Context) error) {
	a.mu.Lock()
	a.cleanups = append(a.cleanups, cleanup{name, fn})
	a.mu.Unlock()
}

// Start opens the database, applies migrations and starts serving HTTP. On error,
// whatever was started is stopped again.
func (a *App) Start(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.opts.ShutdownTimeout)
			defer cancel()
			_ = a.Stop(stopCtx)
		}
	}()
	if err := a.openCore(ctx, a.opts.DatabaseURL); err != nil {
		return err
	}
	if err := a.startLive(ctx); err != nil {
		return err
	}
	if err := a.startIngest(ctx); err != nil {
		return err
	}
	if err := a.startWorkplace(ctx); err != nil {
		return err
	}
	return a.startHTTP()
}

// openCore opens the database at url (the private cluster when empty), applies
// migrations and builds the ent client and access control: everything but HTTP.
func (a *App) openCore(ctx context.Context, url string) error {
	if err := a.openDatabaseURL(ctx, url); err != nil {
		return err
	}
	applied, err := dbschema.Apply(ctx, a.DB)
	if err != nil {
		return fmt.Errorf("app: migrate: %w", err)
	}
	for _, m := range applied {
		a.log.Info("migration applied", "migration", m)
	}
	a.Client = ent.NewClient(ent.Driver(entsql.OpenDB("postgres", a.DB)))
	en, err := auth.NewEnforcer(a.Client, a.dbURL, a.log.With("component", "authz"))
	if err != nil {
		return err
	}
	a.onStop("authz", func(context.Context) error { return en.Close() })
	a.Auth = auth.NewService(a.Client, en, auth.Options{
		SessionIdle: a.opts.SessionIdle,
		SessionMax:  a.opts.SessionMax,
		Logger:      a.log.With("component", "auth"),
	})
	return nil
}

// startLive starts the hub and its bridge to the other processes on the database.
func (a *App) startLive(ctx context.Context) error {
	a.Hub = live.NewHub(live.HubOptions{Registerer: a.Metrics})
	a.onStop("live hub", func(context.Context) error { a.Hub.Close(); return nil })
	a.bridge = live.NewPGBridge(a.DB, a.dbURL, a.Hub, live.BridgeOptions{})
	if err := a.bridge.Start(ctx); err != nil {
		return fmt.Errorf("app: live bridge: %w", err)
	}
	a.onStop("live bridge", func(context.Context) error { return a.bridge.Stop() })
	return nil
}

// startWorkplace starts the operator workplace and its missed-call listener.
func (a *App) startWorkplace(ctx context.Context) error {
	n := workplace.NewNotifier(a.dbURL, a.log.With("component", "workplace"))
	if err := n.Start(ctx); err != nil {
		return fmt.Errorf("app: workplace: %w", err)
	}
	a.onStop("workplace notifier", func(context.Context) error { return n.Stop() })
	a.Workplace = workplace.New(workplace.Options{Client: a.Client, DB: a.DB, Hub: a.Hub, Conns: a.Collector, Notifier: n,
		Logger: a.log.With("component", "workplace")})
	return nil
}

// OpenForCommand prepares the database, the ent client and access control without
// serving anything, for administrative commands (`linkage user add`, `server add`).
// It connects to DATABASE_URL, else to the private cluster of a `linkage serve`
// running on the same data directory, else it starts the private cluster itself
// for the duration of the command. Stop releases everything.
func (a *App) OpenForCommand(ctx context.Context) error {
	url := a.opts.DatabaseURL
	if url == "" {
		u, err := pgcluster.AttachURL(filepath.Join(a.opts.DataDir, "postgres"), "linkage")
		if err == nil {
			url = u
		} else if !errors.Is(err, pgcluster.ErrNotRunning) {
			return fmt.Errorf("app: %w", err)
		}
	}
	if err := a.openCore(ctx, url); err != nil {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.opts.ShutdownTimeout)
		defer cancel()
		_ = a.Stop(stopCtx)
		return err
	}
	return nil
}

// openDatabaseURL connects to url, or starts the private cluster when url is empty.
func (a *App) openDatabaseURL(ctx context.Context, url string) error {
	if url == "" {
		cluster, err := pgcluster.Start(ctx, pgcluster.Options{
			Dir:    filepath.Join(a.opts.DataDir, "postgres"),
			Logger: a.log.With("component", "postgres"),
		})
		if err != nil {
			return fmt.Errorf("app: private PostgreSQL: %w", err)
		}
		a.onStop("postgres", cluster.Stop)
		url = cluster.URL()
		a.log.Info("private PostgreSQL started", "dir", cluster.Dir(), "port", cluster.Port())
	}
	db, err := sql.Open("postgres", url)
	if err != nil {
		return fmt.Errorf("app: open database: %w", err)
	}
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(10)
	db.SetConnMaxIdleTime(5 * time.Minute)
	a.onStop("database", func(context.Context) error { return db.Close() })
	pingCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		return fmt.Errorf("app: connect to database: %w", err)
	}
	a.DB = db
	a.dbURL = url
	return nil
}

func (a *App) startHTTP() error {
	ln, err := net.Listen("tcp", a.opts.Listen)
	if err != nil {
		return fmt.Errorf("app: listen %s: %w", a.opts.Listen, err)
	}
	a.listener = ln
	a.http = &http.Server{
		Handler:           a.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	a.serveErr = make(chan error, 1)
	go func() {
		err := a.http.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		a.serveErr <- err
	}()
	// HTTP stops first: no new requests while the rest shuts down beneath it.
	a.onStop("http", func(ctx context.Context) error {
		err := a.http.Shutdown(ctx)
		if serr := <-a.serveErr; serr != nil && err == nil {
			err = serr
		}
		return err
	})
	a.log.Info("listening", "addr", ln.Addr().String())
	return nil
}

// Addr is the bound HTTP address (useful with port 0).
func (a *App) Addr() string {
	if a.listener == nil {
		return ""
	}
	return a.listener.Addr().String()
}

// Stop runs the cleanups in reverse order of registration within ctx's deadline.
// It is safe to call more than once.
func (a *App) Stop(ctx context.Context) error {
	a.mu.Lock()
	if a.stopped {
		a.mu.Unlock()
		return nil
	}
	a.stopped = true
	cs := a.cleanups
	a.mu.Unlock()
	var errs []error
	for i := len(cs) - 1; i >= 0; i-- {
		c := cs[i]
		start := time.Now()
		if err := c.fn(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop %s: %w", c.name, err))
		}
		a.log.Debug("stopped", "component", c.name, "took", time.Since(start))
	}
	return errors.Join(errs...)
}

// Run starts the app, waits for ctx to end, and stops it within the shutdown timeout.
func (a *App) Run(ctx context.Context) error {
	if err := a.Start(ctx); err != nil {
		return err
	}
	return a.Wait(ctx)
}

// Wait blocks until ctx ends or the HTTP server fails, then stops the app within the
// shutdown timeout.
func (a *App) Wait(ctx context.Context) error {
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-a.serveErr:
		a.serveErr <- runErr // Stop's http cleanup reads it again
	}
	a.log.Info("shutting down")
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.opts.ShutdownTimeout)
	defer cancel()
	return errors.Join(runErr, a.Stop(stopCtx))
}

// Migrate opens the database, applies pending migrations and closes everything.
func (a *App) Migrate(ctx context.Context) ([]string, error) {
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.opts.ShutdownTimeout)
		defer cancel()
		_ = a.Stop(stopCtx)
	}()
	if err := a.openDatabaseURL(ctx, a.opts.DatabaseURL); err != nil {
		return nil, err
	}
	applied, err := dbschema.Apply(ctx, a.DB)
	if err != nil {
		return applied, fmt.Errorf("app: migrate: %w", err)
	}
	return applied, nil
}
