package app

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/linkage/linkage/ami"
	"github.com/linkage/linkage/ami/assemble"
	"github.com/linkage/linkage/ami/collector"
	"github.com/linkage/linkage/ami/live"
	"github.com/linkage/linkage/auth"
	"github.com/linkage/linkage/ent/server"
)

// directoryRefresh is how often live state re-reads queue and operator ids, so that
// what the collector discovers gets its Linkage id (and its viewers) within a minute.
const directoryRefresh = 30 * time.Second

// startIngest runs the collector (one pipeline per enabled server this process wins
// the lock for) and feeds its events into the live state.
func (a *App) startIngest(ctx context.Context) error {
	// The live state keeps one zone for operators' "today" (queues use their own);
	// take the first enabled server's. Servers in several zones need per-server state.
	loc := time.UTC
	if s, err := a.Client.Server.Query().Where(server.Enabled(true)).First(auth.SystemContext(ctx)); err == nil {
		if l, err := time.LoadLocation(s.Timezone); err == nil {
			loc = l
		}
	}
	dir := &liveDirectory{}
	if err := dir.load(ctx, a); err != nil {
		return err
	}
	state := live.NewState(live.Options{Hub: a.Hub, Directory: dir, Location: loc, Logger: a.log.With("component", "live")})
	a.liveDir, a.liveState = dir, state
	today, err := live.LoadToday(ctx, a.DB, time.Now(), loc)
	if err != nil {
		return fmt.Errorf("app: live state of today: %w", err)
	}
	state.Seed(today)

	a.Collector = collector.New(collector.Options{
		DB: a.DB, Client: a.Client, Logger: a.log.With("component", "collector"),
		Registerer: a.Metrics, Sink: liveSink{state},
	})
	if err := a.Collector.Start(auth.SystemContext(ctx)); err != nil {
		return fmt.Errorf("app: collector: %w", err)
	}
	a.onStop("collector", a.Collector.Stop)

	// The directory refresh and the midnight tick of the live counters.
	tickCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(directoryRefresh)
		defer t.Stop()
		for {
			select {
			case <-tickCtx.Done():
				return
			case now := <-t.C:
				if err := dir.load(tickCtx, a); err != nil && tickCtx.Err() == nil {
					a.log.Warn("live: directory refresh", "err", err)
				}
				state.Tick(now)
			}
		}
	}()
	a.onStop("live ticker", func(context.Context) error { cancel(); wg.Wait(); return nil })
	return nil
}

// configChanged makes this process's collector and live state see an admin's change
// of a server's queues, operators or trunks now, not at the next directory refresh:
// the collector forgets its cached ids of the server, the directory is reloaded and
// the live state re-resolves what it shows.
func (a *App) configChanged(ctx context.Context, serverID int) error {
	if a.Collector != nil {
		a.Collector.Forget(serverID)
	}
	if a.liveDir == nil {
		return nil
	}
	if err := a.liveDir.load(ctx, a); err != nil {
		return err
	}
	a.liveState.Reresolve()
	return nil
}

// liveSink hands every live event to the live state, on the collector's sink
// goroutine for that server (never on the ingestion path).
type liveSink struct{ state *live.State }

func (s liveSink) Publish(serverID int, e *ami.Event, outs []assemble.Output) {
	s.state.Apply(serverID, e, outs)
}

// Stored tells live subscribers (CRMs on callEvents) the stored id of each finished call.
func (s liveSink) Stored(serverID int, ids map[string]int64, at time.Time) {
	for linkedid, id := range ids {
		s.state.CallStored(serverID, linkedid, int(id), at)
	}
}

// liveDirectory is a live.Directory whose contents are swapped in whole on refresh.
type liveDirectory struct {
	cur atomic.Pointer[live.StaticDirectory]
}

func (d *liveDirectory) load(ctx context.Context, a *App) error {
	sd, err := live.LoadDirectory(ctx, a.DB)
	if err != nil {
		return fmt.Errorf("app: live directory: %w", err)
	}
	d.cur.Store(sd)
	return nil
}

func (d *liveDirectory) Queue(server int, name string) (live.QueueRef, bool) {
	return d.cur.Load().Queue(server, name)
}

func (d *liveDirectory) OperatorID(server int, iface string) (int, bool) {
	return d.cur.Load().OperatorID(server, iface)
}
