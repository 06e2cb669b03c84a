package live

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// StatusName is the operator_status_changes.status value of a live status.
func StatusName(s Status) string {
	switch s {
	case StatusFree:
		return "available"
	case StatusRinging:
		return "ringing"
	case StatusOnCallIn:
		return "incall_in"
	case StatusOnCallOut:
		return "incall_out"
	case StatusBusy:
		return "busy"
	case StatusPaused:
		return "paused"
	case StatusUnavailable:
		return "unavailable"
	case StatusLoggedOut:
		return "loggedout"
	}
	return "unknown"
}

// StatusWriterOptions configure a StatusWriter.
type StatusWriterOptions struct {
	// Queue bounds the changes waiting to be written (default 65536); beyond it
	// changes are dropped and counted, never waited for.
	Queue      int
	Registerer prometheus.Registerer
	Logger     *slog.Logger
}

// StatusWriter stores operator status changes as operator_status_changes rows
// (OperatorStatusChange) on its own goroutine, so that status reports add up to the
// day: each change closes the operator's open row (to = At) and opens a new one
// (from = At). Record is State's OnStatus: it never blocks. Operators Linkage does not
// know (id 0) are skipped.
type StatusWriter struct {
	db      *sql.DB
	log     *slog.Logger
	ch      chan StatusChange
	dropped prometheus.Counter
	failed  prometheus.Counter

	mu      sync.Mutex
	started bool
	stopped bool
	stop    chan struct{}
	wg      sync.WaitGroup
}

// NewStatusWriter returns a writer; Start it before the first Record is written
// (Records before Start wait in the queue).
func NewStatusWriter(db *sql.DB, o StatusWriterOptions) *StatusWriter {
	if o.Queue <= 0 {
		o.Queue = 65536
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	w := &StatusWriter{db: db, log: o.Logger, ch: make(chan StatusChange, o.Queue), stop: make(chan struct{}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "linkage_live_status_changes_dropped_total",
			Help: "Operator status changes not stored because the writer's queue was full."}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{Name: "linkage_live_status_write_errors_total",
			Help: "Failed writes of operator status changes."}),
	}
	if o.Registerer != nil {
		_ = o.Registerer.Register(w.dropped)
		_ = o.Registerer.Register(w.failed)
	}
	return w
}

// Record queues a change; it never blocks.
func (w *StatusWriter) Record(c StatusChange) {
	if c.OperatorID == 0 {
		return
	}
	select {
	case w.ch <- c:
	default:
		w.dropped.Inc()
	}
}

// Start starts the writing goroutine.
func (w *StatusWriter) Start() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.started || w.stopped {
		return
	}
	w.started = true
	w.wg.Add(1)
	go w.run()
}

// Stop writes what is queued, then ends the goroutine; safe to call twice. Records
// after Stop are dropped.
func (w *StatusWriter) Stop() {
	w.mu.Lock()
	if w.stopped {
		w.mu.Unlock()
		return
	}
	w.stopped = true
	close(w.stop)
	w.mu.Unlock()
	w.wg.Wait()
}

func (w *StatusWriter) run() {
	defer w.wg.Done()
	for {
		var batch []StatusChange
		select {
		case c := <-w.ch:
			batch = append(batch, c)
		case <-w.stop:
			for {
				select {
				case c := <-w.ch:
					batch = append(batch, c)
					continue
				default:
				}
				break
			}
			if len(batch) > 0 {
				w.write(batch)
			}
			return
		}
	more:
		for len(batch) < 1000 {
			select {
			case c := <-w.ch:
				batch = append(batch, c)
			default:
				break more
			}
		}
		w.write(batch)
	}
}

func (w *StatusWriter) write(batch []StatusChange) {
	ctx := context.Background()
	err := func() error {
		tx, err := w.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		for _, c := range batch {
			if _, err := tx.ExecContext(ctx, `UPDATE operator_status_changes SET "to" = $2 WHERE operator_id = $1 AND "to" IS NULL`,
				c.OperatorID, c.At); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO operator_status_changes (operator_id, status, reason, "from") VALUES ($1, $2, $3, $4)`,
				c.OperatorID, StatusName(c.Status), c.Reason, c.At); err != nil {
				return err
			}
		}
		return tx.Commit()
	}()
	if err != nil {
		w.failed.Inc()
		w.log.Error("live: store operator status changes", "changes", len(batch), "err", fmt.Errorf("live: status writer: %w", err))
	}
}
