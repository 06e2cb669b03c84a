package collector

import (
	"context"
	"errors"
	"fmt"
	"github.com/linkage/linkage/auth"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/linkage/linkage/ami"
	"github.com/linkage/linkage/ent"
	"github.com/linkage/linkage/ent/operator"
	"github.com/linkage/linkage/ent/server"
	"github.com/linkage/linkage/ent/trunk"
	"github.com/linkage/linkage/internal/callstore"
)

// Collector runs the pipelines of every enabled server and keeps them in step with the
// Server table.
type Collector struct {
	o     Options
	log   *slog.Logger
	m     *metrics
	store *callstore.Store

	mu        sync.Mutex
	pipes     map[int]*pipeline
	started   bool
	stopped   bool
	cancel    context.CancelFunc
	reloadReq chan chan error
	done      chan struct{} // closed when the loop ends
	wg        sync.WaitGroup
}

// New returns a collector; Start runs it.
func New(o Options) *Collector {
	o.setDefaults()
	return &Collector{
		o:         o,
		log:       o.Logger.With("component", "collector"),
		m:         newMetrics(o.Registerer),
		store:     callstore.New(o.DB),
		pipes:     map[int]*pipeline{},
		reloadReq: make(chan chan error),
		done:      make(chan struct{}),
	}
}

// Start reads the servers, starts their pipelines and the loop that follows the Server
// table. Every goroutine belongs to the collector; Stop waits for them. ctx only
// bounds the first read of the servers.
func (c *Collector) Start(ctx context.Context) error {
	// The collector acts for the system: it reads every server and writes every call.
	ctx = auth.SystemContext(ctx)
	if err := c.o.validate(); err != nil {
		return err
	}
	c.mu.Lock()
	if c.started {
		c.mu.Unlock()
		return errors.New("collector: Start called twice")
	}
	c.started = true
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c.cancel = cancel
	c.mu.Unlock()
	if err := maintainPartitions(ctx, c.o.DB, time.Now(), 2, c.o.JournalRetention); err != nil {
		c.log.Warn("collector: journal partitions", "err", err)
	}
	if err := c.sync(ctx, rctx); err != nil {
		cancel()
		return err
	}
	c.wg.Add(1)
	go c.loop(rctx)
	return nil
}

// Stop stops every pipeline: each closes its connection, journals and writes what it
// received, saves its checkpoint and releases its lock. Calls still in flight stay in
// flight: the next start replays them from the journal. If ctx ends first the
// pipelines are abandoned without flushing (as a crash would) and ctx's error returned.
func (c *Collector) Stop(ctx context.Context) error {
	c.mu.Lock()
	if c.stopped || !c.started {
		c.stopped = true
		c.mu.Unlock()
		return nil
	}
	c.stopped = true
	c.cancel()
	pipes := make([]*pipeline, 0, len(c.pipes))
	for _, p := range c.pipes {
		pipes = append(pipes, p)
	}
	c.mu.Unlock()
	done := make(chan struct{})
	go func() {
		for _, p := range pipes {
			p.stop()
		}
		c.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		for _, p := range pipes {
			p.abort()
		}
		<-done
		return fmt.Errorf("collector: stop: %w", ctx.Err())
	}
}

// abort ends everything at once without flushing: what a kill -9 leaves behind
// (tests).
func (c *Collector) abort() {
	c.mu.Lock()
	c.stopped = true
	if c.cancel != nil {
		c.cancel()
	}
	pipes := make([]*pipeline, 0, len(c.pipes))
	for _, p := range c.pipes {
		pipes = append(pipes, p)
	}
	c.mu.Unlock()
	for _, p := range pipes {
		p.abort()
	}
	c.wg.Wait()
}

// Reload re-reads the Server table now: added, changed, disabled and removed servers
// take effect before it returns (a changed server's pipeline is restarted).
func (c *Collector) Reload(ctx context.Context) error {
	ctx = auth.SystemContext(ctx)
	c.mu.Lock()
	running := c.started && !c.stopped
	c.mu.Unlock()
	if !running {
		return errors.New("collector: Reload on a collector that is not running")
	}
	reply := make(chan error, 1)
	select {
	case c.reloadReq <- reply:
	case <-ctx.Done():
		return ctx.Err()
	case <-c.done:
		return errors.New("collector: stopped")
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Forget drops the ids the collector cached for a server's queues, operators and
// trunks, so that rows an admin renamed or removed are looked up afresh by the next
// calls instead of being written with a stale (or deleted) id.
func (c *Collector) Forget(serverID int) { c.store.Forget(serverID) }

// Health is the connection health of a server this process ingests; false when the
// server has no pipeline here. A standby pipeline reports Connected false and
// LastError "standby: another process holds the server".
func (c *Collector) Health(serverID int) (ami.Health, bool) {
	c.mu.Lock()
	p := c.pipes[serverID]
	c.mu.Unlock()
	if p == nil {
		return ami.Health{}, false
	}
	return p.health(), true
}

// Conn is the live AMI connection of a server (for operator actions); false when the
// server has none in this process (unknown, disabled, or on standby).
func (c *Collector) Conn(serverID int) (*ami.Conn, bool) {
	c.mu.Lock()
	p := c.pipes[serverID]
	c.mu.Unlock()
	if p == nil {
		return nil, false
	}
	conn := p.currentConn()
	return conn, conn != nil
}

func (c *Collector) loop(ctx context.Context) {
	defer c.wg.Done()
	defer close(c.done)
	poll := time.NewTicker(c.o.PollInterval)
	defer poll.Stop()
	maint := time.NewTicker(time.Hour)
	defer maint.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-poll.C:
			if err := c.sync(ctx, ctx); err != nil && ctx.Err() == nil {
				c.log.Warn("collector: reading servers", "err", err)
			}
		case reply := <-c.reloadReq:
			reply <- c.sync(ctx, ctx)
		case <-maint.C:
			if err := maintainPartitions(ctx, c.o.DB, time.Now(), 2, c.o.JournalRetention); err != nil {
				c.log.Warn("collector: journal partitions", "err", err)
			}
		}
	}
}

// sync starts, restarts and stops pipelines to match the enabled Server rows.
func (c *Collector) sync(ctx, run context.Context) error {
	servers, err := c.o.Client.Server.Query().Where(server.Enabled(true)).All(ctx)
	if err != nil {
		return fmt.Errorf("collector: read servers: %w", err)
	}
	want := make(map[int]*ent.Server, len(servers))
	for _, s := range servers {
		want[s.ID] = s
	}
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return nil
	}
	var stop []*pipeline
	for id, p := range c.pipes {
		if s, ok := want[id]; !ok || configKey(s) != p.key {
			stop = append(stop, p)
			delete(c.pipes, id)
		}
	}
	c.mu.Unlock()
	for _, p := range stop {
		c.log.Info("collector: stopping server pipeline", "server", p.id, "name", p.srv.Name)
		p.stop()
	}
	for _, s := range servers {
		c.mu.Lock()
		_, running := c.pipes[s.ID]
		c.mu.Unlock()
		if running {
			continue
		}
		p := newPipeline(c, s)
		c.mu.Lock()
		if c.stopped {
			c.mu.Unlock()
			return nil
		}
		c.pipes[s.ID] = p
		c.mu.Unlock()
		c.log.Info("collector: starting server pipeline", "server", s.ID, "name", s.Name, "addr", s.AmiAddress)
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			p.run(run)
		}()
	}
	return nil
}

// configKey is what a pipeline depends on: a change restarts it. The secret takes part
// (a new password must be used) but the key is never logged.
func configKey(s *ent.Server) string {
	return strings.Join([]string{s.Name, s.AmiAddress, s.AmiUsername, s.AmiSecret, strconv.FormatBool(s.Enabled),
		strings.Join(s.TrunkContexts, ","), strings.Join(s.TrunkPrefixes, ","), strings.Join(s.CustomVariables, ",")}, "\x00")
}

// assembleInputs reads what the assembler needs to know about a server.
func (c *Collector) assembleInputs(ctx context.Context, s *ent.Server) ([]*ent.Operator, []*ent.Trunk, error) {
	ops, err := c.o.Client.Operator.Query().Where(operator.ServerID(s.ID)).Order(ent.Asc(operator.FieldNumber)).All(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("collector: operators: %w", err)
	}
	trunks, err := c.o.Client.Trunk.Query().Where(trunk.ServerID(s.ID)).Order(ent.Asc(trunk.FieldNumber)).All(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("collector: trunks: %w", err)
	}
	return ops, trunks, nil
}
