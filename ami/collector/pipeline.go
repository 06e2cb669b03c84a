package collector

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/linkage/linkage/ami"
	"github.com/linkage/linkage/ami/assemble"
	"github.com/linkage/linkage/ent"
)

// pipeline ingests one server: standby until it holds the server's lock, then replay,
// connect, work, write.
type pipeline struct {
	c   *Collector
	srv *ent.Server
	id  int
	key string
	log *slog.Logger
	lbl string

	cancel  context.CancelFunc // graceful: flush and stop
	killCtx context.Context    // ends on abort: stop at once, write nothing more
	kill    context.CancelFunc
	done    chan struct{}
	started atomic.Bool

	mu      sync.Mutex
	conn    *ami.Conn
	standby bool
	lastErr string
}

func newPipeline(c *Collector, s *ent.Server) *pipeline {
	kctx, kill := context.WithCancel(context.Background())
	return &pipeline{
		c: c, srv: s, id: s.ID, key: configKey(s),
		log:     c.log.With("server", s.ID, "name", s.Name),
		lbl:     strconv.Itoa(s.ID),
		killCtx: kctx, kill: kill,
		done:    make(chan struct{}),
		standby: true,
	}
}

func (p *pipeline) run(parent context.Context) {
	ctx, cancel := context.WithCancel(parent)
	p.mu.Lock()
	p.cancel = cancel
	p.mu.Unlock()
	p.started.Store(true)
	defer close(p.done)
	defer cancel()
	m := p.c.m
	for {
		lock, err := p.tryLock(ctx)
		if err == nil && lock != nil {
			m.active.WithLabelValues(p.lbl).Set(1)
			p.setStandby(false, "")
			err = p.active(ctx, lock)
			p.unlock(lock)
			m.active.WithLabelValues(p.lbl).Set(0)
			p.setStandby(true, "")
			if err != nil && ctx.Err() == nil && p.killCtx.Err() == nil {
				p.log.Warn("collector: pipeline stopped", "err", err)
				p.setStandby(true, err.Error())
			}
		} else if err != nil && ctx.Err() == nil {
			p.log.Warn("collector: advisory lock", "err", err)
			p.setStandby(true, err.Error())
		} else if lock == nil && err == nil {
			p.setStandby(true, "standby: another process holds the server")
		}
		if ctx.Err() != nil || p.killCtx.Err() != nil {
			return
		}
		t := time.NewTimer(p.c.o.LockRetry)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-p.killCtx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// stop ends the pipeline gracefully and waits for it.
func (p *pipeline) stop() {
	p.mu.Lock()
	cancel := p.cancel
	p.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	if p.started.Load() {
		<-p.done
	}
}

// abort ends the pipeline without writing anything more. It does not wait.
func (p *pipeline) abort() {
	p.kill()
	p.mu.Lock()
	cancel := p.cancel
	p.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

func (p *pipeline) setStandby(on bool, why string) {
	p.mu.Lock()
	p.standby = on
	if why != "" || !on {
		p.lastErr = why
	}
	p.mu.Unlock()
}

func (p *pipeline) currentConn() *ami.Conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.conn
}

func (p *pipeline) health() ami.Health {
	p.mu.Lock()
	conn, standby, why := p.conn, p.standby, p.lastErr
	p.mu.Unlock()
	if conn != nil {
		return conn.Health()
	}
	h := ami.Health{ServerID: p.id, Name: p.srv.Name, Addr: p.srv.AmiAddress}
	if standby {
		h.LastError = why
	}
	return h
}

// tryLock takes the server's advisory lock on a dedicated connection; nil, nil when
// another session holds it.
func (p *pipeline) tryLock(ctx context.Context) (*sql.Conn, error) {
	conn, err := p.c.o.DB.Conn(ctx)
	if err != nil {
		return nil, err
	}
	var ok bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, lockKey(p.id)).Scan(&ok); err != nil {
		conn.Close()
		return nil, err
	}
	if !ok {
		conn.Close()
		return nil, nil
	}
	return conn, nil
}

func (p *pipeline) unlock(conn *sql.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if p.killCtx.Err() == nil {
		_, _ = conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, lockKey(p.id))
	} else {
		// A kill leaves the session to die with the process: drop the connection
		// instead of returning it to the pool with the lock held.
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	conn.Close()
}

// batch is one unit of writing: journal events, calls and status changes, and the
// checkpoint that they make safe.
type batch struct {
	events     []ami.Event
	calls      []*assemble.Call
	notes      []assemble.Notification
	checkpoint uint64
	last       uint64
	journaled  chan struct{} // closed by the journal writer once the block committed
}

func (b *batch) empty() bool { return len(b.events) == 0 && len(b.calls) == 0 && len(b.notes) == 0 }

// active runs the pipeline while this process holds the lock.
func (p *pipeline) active(ctx context.Context, lock *sql.Conn) error {
	o := &p.c.o
	m := p.c.m
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	// wctx ends writing: on abort, or when the lock is lost.
	wctx, wcancel := context.WithCancel(p.killCtx)
	defer wcancel()

	lostLock := make(chan struct{})
	var watch sync.WaitGroup
	watch.Add(1)
	go func() { // the lock lives as long as its session: check that it is alive
		defer watch.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-actx.Done():
				return
			case <-wctx.Done():
				return
			case <-t.C:
				pctx, pc := context.WithTimeout(actx, 5*time.Second)
				err := lock.PingContext(pctx)
				pc()
				if err != nil && actx.Err() == nil {
					p.log.Error("collector: lost the server lock; stopping without writing", "err", err)
					close(lostLock)
					wcancel()
					cancel()
					return
				}
			}
		}
	}()
	defer watch.Wait()
	defer cancel()

	ops, trunks, err := p.c.assembleInputs(actx, p.srv)
	if err != nil {
		return err
	}
	asm := assemble.New(o.AssembleConfig(p.srv, ops, trunks))
	maxSeq, cp, err := journalState(actx, o.DB, p.id)
	if err != nil {
		return err
	}

	// Two writers on two connections: the journal writer renders, compresses and
	// commits each batch's block, and hands the batch on at once to the calls writer,
	// which writes the calls and status intervals meanwhile and commits them with the
	// checkpoint only after that block committed (see doc.go, guarantee 1).
	batches := make(chan *batch, 2)
	toCalls := make(chan *batch, 2)
	journalDead := make(chan struct{}) // closed when the journal writer gave up
	var wg sync.WaitGroup
	var werr atomic.Value
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := p.journalWriter(wctx, batches, toCalls); err != nil {
			werr.Store(err)
			close(journalDead)
			cancel()
		}
	}()
	go func() {
		defer wg.Done()
		// errJournalDead only follows the journal writer's own error, which is kept.
		if err := p.writer(wctx, toCalls, journalDead); err != nil && !errors.Is(err, errJournalDead) {
			werr.Store(err)
			cancel()
		}
	}()
	sink := p.startSink()

	w := &worker{p: p, asm: asm, batches: batches, sink: sink, cp: cp, last: maxSeq, cur: &batch{},
		received: m.received.WithLabelValues(p.lbl)}
	if cp == 0 {
		w.cp = maxSeq + 1
	}
	// Replay: the calls in flight at the checkpoint, through the events journaled since.
	if cp > 0 && cp <= maxSeq {
		start := time.Now()
		n := 0
		err := readJournal(actx, o.DB, p.id, cp, func(e *ami.Event) bool {
			n++
			w.handle(e, false)
			if w.full() {
				w.cut(actx)
			}
			return actx.Err() == nil
		})
		if err != nil {
			w.finish(false)
			wg.Wait()
			return err
		}
		w.cut(actx)
		p.log.Info("collector: replayed the journal", "from", cp, "events", n, "in_flight", asm.InFlight(), "took", time.Since(start).Round(time.Millisecond))
	}

	cfg := o.connConfig(p.srv)
	conn := ami.NewConn(cfg)
	if err := conn.Start(actx); err != nil {
		w.finish(false)
		wg.Wait()
		return err
	}
	p.mu.Lock()
	p.conn = conn
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.conn = nil
		p.mu.Unlock()
	}()

	base := maxSeq
	tick := time.NewTicker(o.FlushInterval)
	defer tick.Stop()
	events := conn.Events()
	graceful := true
loop:
	for {
		select {
		case e, ok := <-events:
			if !ok {
				break loop
			}
			e.Seq += base
			w.handle(&e, true)
			if w.full() {
				w.cut(actx)
			}
		case <-tick.C:
			h := conn.Health()
			p.c.m.overflows.WithLabelValues(p.lbl).Set(float64(h.Overflows))
			p.c.m.lag.WithLabelValues(p.lbl).Set(h.Lag.Seconds())
			p.c.m.inFlight.WithLabelValues(p.lbl).Set(float64(asm.InFlight()))
			w.cut(actx)
		case <-actx.Done():
			graceful = p.killCtx.Err() == nil && wctx.Err() == nil
			break loop
		}
	}
	conn.Close()
	if graceful {
		// Everything the connection delivered is journaled and assembled.
		for e := range events {
			e.Seq += base
			w.handle(&e, true)
			if w.full() {
				w.cut(wctx)
			}
		}
	}
	w.finish(graceful)
	wg.Wait()
	if e, _ := werr.Load().(error); e != nil {
		return e
	}
	select {
	case <-lostLock:
		return errors.New("collector: lost the server's advisory lock")
	default:
	}
	return nil
}

// worker is the ordered, single-goroutine part of an active pipeline.
type worker struct {
	p       *pipeline
	asm     *assemble.Assembler
	batches chan<- *batch
	sink    *sinkQueue
	cp      uint64 // checkpoint of the last cut batch
	last    uint64 // last seq fed
	cur     *batch

	received prometheus.Counter
}

// handle journals (live events only: replayed ones are in the journal already) and
// assembles one event.
func (w *worker) handle(e *ami.Event, live bool) {
	if live {
		w.cur.events = append(w.cur.events, *e)
		w.received.Inc()
	}
	if e.Seq > w.last {
		w.last = e.Seq
	}
	outs := feed(w.asm, e)
	if w.sink != nil && live {
		w.sink.push(e, outs)
	}
	for _, o := range outs {
		if o.Call != nil {
			w.cur.calls = append(w.cur.calls, o.Call)
		} else if o.Note != nil && o.Note.Kind == assemble.OperatorStatus {
			w.cur.notes = append(w.cur.notes, *o.Note)
		}
	}
}

func (w *worker) full() bool {
	n := w.p.c.o.BatchSize
	return len(w.cur.events) >= n || len(w.cur.calls) >= n
}

// cut hands the current batch to the writer with its checkpoint. It blocks while two
// batches are waiting: the back-pressure that, past the Conn's queue, becomes a gap.
func (w *worker) cut(ctx context.Context) {
	cp := checkpointAfter(w.asm, w.last, w.cp)
	if w.cur.empty() && cp == w.cp {
		return
	}
	b := w.cur
	b.checkpoint, b.last = cp, w.last
	select {
	case w.batches <- b:
		w.cp = cp
		w.cur = &batch{events: make([]ami.Event, 0, len(b.events))}
	case <-ctx.Done():
		// Not handed over: the batch stays current and goes with the next cut (the
		// graceful flush), so no journal row or call is skipped by a later checkpoint.
	case <-w.p.killCtx.Done():
	}
}

// finish flushes (when graceful) and closes the writer's channel.
func (w *worker) finish(graceful bool) {
	if graceful {
		w.cut(w.p.killCtx)
	}
	close(w.batches)
	if w.sink != nil {
		w.sink.close()
	}
}

// journalWriter commits the journal block of each batch in order, on its own
// connection, and passes every batch on to the calls writer as soon as it has it, so
// that both work at the same time. A failed block is retried until it commits or
// writing ends: the worker waits meanwhile and the connection's queue absorbs it.
func (p *pipeline) journalWriter(ctx context.Context, in <-chan *batch, out chan<- *batch) error {
	defer close(out)
	drain := func() {
		for range in { // so the worker never blocks on a dead writer
		}
	}
	var enc blockEncoder
	m := p.c.m
	for b := range in {
		b.journaled = make(chan struct{})
		select {
		case out <- b:
		case <-ctx.Done():
			drain()
			return nil
		}
		if len(b.events) == 0 {
			close(b.journaled)
			continue
		}
		// Rendered and compressed here, next to the calls writer's work rather
		// than in the worker's.
		blk, err := enc.encode(b.events, journalCodec)
		if err != nil {
			drain()
			return err
		}
		backoff := 100 * time.Millisecond
		for {
			if ctx.Err() != nil {
				drain()
				return nil
			}
			err := insertBlock(ctx, p.c.o.DB, p.id, &blk)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				continue
			}
			p.log.Warn("collector: journal write failed; retrying", "err", err, "events", len(b.events))
			backoff = pause(ctx, backoff)
		}
		m.journaled.WithLabelValues(p.lbl).Add(float64(len(b.events)))
		close(b.journaled)
	}
	return nil
}

// writer commits the calls, status intervals and checkpoint of each batch in order,
// each batch in one transaction that commits only after the batch's journal block
// did. A failed batch is retried until it commits or writing ends.
func (p *pipeline) writer(ctx context.Context, batches <-chan *batch, journalDead <-chan struct{}) error {
	for b := range batches {
		backoff := 100 * time.Millisecond
		for {
			if ctx.Err() != nil {
				for range batches { // drain so the journal writer never blocks on a dead writer
				}
				return nil
			}
			err := p.write(ctx, b, journalDead)
			if err == nil {
				break
			}
			if errors.Is(err, errJournalDead) {
				for range batches {
				}
				return err
			}
			if ctx.Err() != nil {
				continue
			}
			p.log.Warn("collector: batch write failed; retrying", "err", err, "events", len(b.events), "calls", len(b.calls))
			backoff = pause(ctx, backoff)
		}
	}
	return nil
}

var errJournalDead = errors.New("collector: the journal writer stopped")

func (p *pipeline) write(ctx context.Context, b *batch, journalDead <-chan struct{}) error {
	start := time.Now()
	db := p.c.o.DB
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("collector: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	ids, err := p.c.store.WriteIDs(ctx, tx, p.id, b.calls)
	if err != nil {
		return err
	}
	n := len(ids)
	tc := time.Now()
	if err := p.c.store.WriteStatus(ctx, tx, p.id, b.notes); err != nil {
		return err
	}
	ts := time.Now()
	if err := saveCheckpoint(ctx, tx, p.id, b.checkpoint); err != nil {
		return err
	}
	// The checkpoint may pass these events only once they are in the journal.
	select {
	case <-b.journaled:
	case <-journalDead:
		return errJournalDead
	case <-ctx.Done():
		return ctx.Err()
	}
	tj := time.Now()
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("collector: commit: %w", err)
	}
	p.log.Debug("collector: batch", "events", len(b.events), "calls", len(b.calls), "notes", len(b.notes),
		"calls_took", tc.Sub(start), "status", ts.Sub(tc), "journal_wait", tj.Sub(ts), "commit", time.Since(tj))
	if sn, ok := p.c.o.Sink.(StoredSink); ok && len(ids) > 0 {
		sn.Stored(p.id, ids, time.Now().UTC())
	}
	m := p.c.m
	m.calls.WithLabelValues(p.lbl).Add(float64(n))
	m.batchTime.WithLabelValues(p.lbl).Observe(time.Since(start).Seconds())
	return nil
}

// sinkQueue decouples the Sink from ingestion: a bounded queue and one goroutine.
type sinkQueue struct {
	p    *pipeline
	ch   chan sinkItem
	done chan struct{}
}

type sinkItem struct {
	e    ami.Event
	outs []assemble.Output
}

func (p *pipeline) startSink() *sinkQueue {
	if p.c.o.Sink == nil {
		return nil
	}
	q := &sinkQueue{p: p, ch: make(chan sinkItem, p.c.o.SinkQueue), done: make(chan struct{})}
	go func() {
		defer close(q.done)
		for it := range q.ch {
			p.c.o.Sink.Publish(p.id, &it.e, it.outs)
		}
	}()
	return q
}

func (q *sinkQueue) push(e *ami.Event, outs []assemble.Output) {
	var cp []assemble.Output
	if len(outs) > 0 {
		cp = append(cp, outs...) // Feed reuses its slice
	}
	select {
	case q.ch <- sinkItem{e: *e, outs: cp}:
	default:
		q.p.c.m.sinkDropped.WithLabelValues(q.p.lbl).Inc()
	}
}

// close ends the queue and waits for the Sink to take what is left, unless the
// pipeline is aborted (Stop's deadline): a Sink stuck in Publish cannot hold Stop.
func (q *sinkQueue) close() {
	close(q.ch)
	select {
	case <-q.done:
	case <-q.p.killCtx.Done():
	}
}

// pause waits d (or until ctx ends) before a write is retried and returns the next,
// doubled wait, capped at 5 s.
func pause(ctx context.Context, d time.Duration) time.Duration {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
	return min(2*d, 5*time.Second)
}
