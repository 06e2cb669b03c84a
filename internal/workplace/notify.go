package workplace

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/lib/pq"

	"github.com/linkage/linkage/graph/model"
	"github.com/linkage/linkage/internal/callstore"
)

// Notifier hears that missed calls changed — the collector's write transaction and
// the workplace's own updates NOTIFY callstore.MissedNotifyChannel, whichever process
// made the change — and wakes this process's missedCallCounts subscriptions, which
// then recount for their own viewer. One LISTEN connection serves them all.
type Notifier struct {
	dsn string
	log *slog.Logger

	mu      sync.Mutex
	wake    chan struct{} // closed and replaced on every change
	started bool
	lis     *pq.Listener
	cancel  context.CancelFunc
	done    chan struct{} // closed when Stop is called
	wg      sync.WaitGroup
}

// NewNotifier returns a notifier listening on the database at dsn (lib/pq syntax).
func NewNotifier(dsn string, log *slog.Logger) *Notifier {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Notifier{dsn: dsn, log: log, wake: make(chan struct{}), done: make(chan struct{})}
}

// Start returns once the LISTEN is in place; its goroutine runs until Stop.
func (n *Notifier) Start(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.started {
		return nil
	}
	lis := pq.NewListener(n.dsn, 100*time.Millisecond, 10*time.Second, func(ev pq.ListenerEventType, err error) {
		if err != nil {
			n.log.Warn("workplace: missed-call listener", "event", ev, "err", err)
		}
	})
	if err := lis.Listen(callstore.MissedNotifyChannel); err != nil {
		_ = lis.Close()
		return fmt.Errorf("workplace: listen %s: %w", callstore.MissedNotifyChannel, err)
	}
	n.lis, n.started = lis, true
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	n.cancel = cancel
	n.wg.Add(1)
	go n.loop(lctx, lis)
	return nil
}

func (n *Notifier) loop(ctx context.Context, lis *pq.Listener) {
	defer n.wg.Done()
	ping := time.NewTicker(90 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-lis.Notify:
			// nil after a reconnect: changes may have been missed, so recount too.
			n.signal()
		case <-ping.C:
			if err := lis.Ping(); err != nil {
				n.log.Warn("workplace: missed-call listener ping", "err", err)
			}
		}
	}
}

func (n *Notifier) signal() {
	n.mu.Lock()
	close(n.wake)
	n.wake = make(chan struct{})
	n.mu.Unlock()
}

// changed is closed at the next change after the call.
func (n *Notifier) changed() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.wake
}

// Stop ends the listener and every subscription waiting on it.
func (n *Notifier) Stop() error {
	n.mu.Lock()
	if !n.started {
		n.mu.Unlock()
		return nil
	}
	n.started = false
	n.cancel()
	close(n.done)
	lis := n.lis
	n.mu.Unlock()
	n.wg.Wait()
	return lis.Close()
}

// WatchMissedCallCounts sends the viewer's counts now, then again whenever they
// changed. The goroutine belongs to the subscription: it ends (closing the channel)
// with ctx or when the notifier stops.
func (s *Service) WatchMissedCallCounts(ctx context.Context, queueIDs []int) (<-chan *model.MissedCallCounts, error) {
	n := s.o.Notifier
	if n == nil {
		return nil, errorf(CodeUnavailable, "missed-call notifications are not enabled on this server")
	}
	wake := n.changed() // before the snapshot: a change during it is not lost
	first, err := s.MissedCallCountsNow(ctx, queueIDs)
	if err != nil {
		return nil, err
	}
	out := make(chan *model.MissedCallCounts, 1)
	go func() {
		defer close(out)
		send := func(c *model.MissedCallCounts) bool {
			select {
			case out <- c:
				return true
			case <-ctx.Done():
				return false
			case <-n.done:
				return false
			}
		}
		last := first
		if !send(first) {
			return
		}
		for {
			select {
			case <-wake:
			case <-ctx.Done():
				return
			case <-n.done:
				return
			}
			wake = n.changed()
			c, err := s.MissedCallCountsNow(ctx, queueIDs)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				s.o.Logger.WarnContext(ctx, "workplace: missed call counts", "err", err)
				continue
			}
			if sameCounts(c, last) {
				continue // another viewer's queues changed
			}
			last = c
			if !send(c) {
				return
			}
		}
	}()
	return out, nil
}

func sameCounts(a, b *model.MissedCallCounts) bool {
	return a.Total == b.Total && slices.EqualFunc(a.Queues, b.Queues, func(x, y *model.MissedCallCount) bool {
		return x.QueueID == y.QueueID && x.Unhandled == y.Unhandled &&
			(x.Oldest == nil) == (y.Oldest == nil) && (x.Oldest == nil || x.Oldest.Equal(*y.Oldest))
	})
}
