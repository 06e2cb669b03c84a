package live

import (
	"context"
	crand "crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/lib/pq"
	"github.com/prometheus/client_golang/prometheus"
)

// BridgeOptions configure a PGBridge.
type BridgeOptions struct {
	// Channel is the NOTIFY channel (default "linkage_live").
	Channel string
	// MinReconnect and MaxReconnect bound the listener's reconnect delay
	// (defaults 100 ms and 10 s).
	MinReconnect, MaxReconnect time.Duration
	// Registerer receives the bridge's counters; nil registers nothing.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
}

// PGBridge carries hub changes between processes over PostgreSQL LISTEN/NOTIFY, so
// a subscriber on an API process sees what the collector on another process
// ingests.
//
// The publisher side subscribes to the local hub (every topic, coalescing like any
// subscriber, so a slow database never slows ingestion) and sends the changes that
// originated locally as NOTIFY payloads: {"o":origin,"n":seq,"c":[changes]} packed up
// to 7,500 bytes (the limit is 8,000). A change that alone exceeds it is written to
// the unlogged table linkage_live_payloads and announced as {"o","n","ref":id}; the
// receivers fetch it (rows are deleted after a minute). The listener side applies
// other origins' changes to the local hub, marked remote so they are not sent back.
//
// A process that starts (or whose listener reconnects) sends {"hello":true}; every
// bridge answers by sending the current values of the items it originated, so the
// newcomer's snapshot is complete without a table of state.
type PGBridge struct {
	db      *sql.DB
	connStr string
	hub     *Hub
	o       BridgeOptions
	origin  string
	log     *slog.Logger

	sent, received, big prometheus.Counter

	mu      sync.Mutex
	started bool
	stopped bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	lis     *pq.Listener

	hello  chan struct{} // the publisher should send a hello
	resend chan struct{} // the publisher should resend its items
	local  map[string]Topic
	seq    uint64
}

// payloadLimit leaves room below PostgreSQL's 8,000-byte NOTIFY limit.
const payloadLimit = 7500

type bridgeMsg struct {
	Origin string          `json:"o"`
	Seq    uint64          `json:"n"`
	Hello  bool            `json:"hello,omitempty"`
	Ref    int64           `json:"ref,omitempty"`
	Raw    json.RawMessage `json:"c,omitempty"`
}

// NewPGBridge returns a bridge for hub; db is used for NOTIFY and the payload table,
// connStr (lib/pq) for the dedicated LISTEN connection.
func NewPGBridge(db *sql.DB, connStr string, hub *Hub, o BridgeOptions) *PGBridge {
	if o.Channel == "" {
		o.Channel = "linkage_live"
	}
	if o.MinReconnect <= 0 {
		o.MinReconnect = 100 * time.Millisecond
	}
	if o.MaxReconnect <= 0 {
		o.MaxReconnect = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	var rb [6]byte
	_, _ = crand.Read(rb[:])
	b := &PGBridge{db: db, connStr: connStr, hub: hub, o: o, origin: hex.EncodeToString(rb[:]), log: o.Logger,
		hello: make(chan struct{}, 1), resend: make(chan struct{}, 1), local: map[string]Topic{},
		sent: prometheus.NewCounter(prometheus.CounterOpts{Name: "linkage_live_bridge_notifications_sent_total",
			Help: "NOTIFY payloads sent by the live bridge."}),
		received: prometheus.NewCounter(prometheus.CounterOpts{Name: "linkage_live_bridge_changes_received_total",
			Help: "Live changes received from other processes."}),
		big: prometheus.NewCounter(prometheus.CounterOpts{Name: "linkage_live_bridge_large_payloads_total",
			Help: "Changes too large for NOTIFY, passed through linkage_live_payloads."}),
	}
	if o.Registerer != nil {
		for _, c := range []prometheus.Collector{b.sent, b.received, b.big} {
			_ = o.Registerer.Register(c)
		}
	}
	return b
}

// Origin is this bridge's id in payloads.
func (b *PGBridge) Origin() string { return b.origin }

// Start creates the payload table if needed, starts listening (it returns once the
// LISTEN is in place) and starts the publisher; then it says hello.
func (b *PGBridge) Start(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.started || b.stopped {
		return errors.New("live: bridge already started")
	}
	if _, err := b.db.ExecContext(ctx, `CREATE UNLOGGED TABLE IF NOT EXISTS linkage_live_payloads (
		id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), body text NOT NULL)`); err != nil {
		return fmt.Errorf("live: bridge: create payload table: %w", err)
	}
	reconnected := make(chan struct{}, 1)
	b.lis = pq.NewListener(b.connStr, b.o.MinReconnect, b.o.MaxReconnect, func(ev pq.ListenerEventType, err error) {
		if err != nil {
			b.log.Warn("live: bridge listener", "event", ev, "err", err)
		}
		if ev == pq.ListenerEventReconnected {
			select {
			case reconnected <- struct{}{}:
			default:
			}
		}
	})
	if err := b.lis.Listen(b.o.Channel); err != nil {
		_ = b.lis.Close()
		return fmt.Errorf("live: bridge: listen %s: %w", b.o.Channel, err)
	}
	sub, _ := b.hub.Subscribe(0, func(c *Change) bool { return !c.Remote })
	if sub == nil {
		_ = b.lis.Close()
		return errors.New("live: bridge: hub closed")
	}
	rctx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	b.started = true
	b.hello <- struct{}{}
	b.wg.Add(2)
	go func() {
		defer b.wg.Done()
		defer b.hub.Unsubscribe(sub)
		b.publish(rctx, sub)
	}()
	go func() {
		defer b.wg.Done()
		b.listen(rctx, reconnected)
	}()
	return nil
}

// Stop ends both goroutines and closes the listener; safe to call twice.
func (b *PGBridge) Stop() error {
	b.mu.Lock()
	if b.stopped || !b.started {
		b.stopped = true
		b.mu.Unlock()
		return nil
	}
	b.stopped = true
	b.cancel()
	b.mu.Unlock()
	err := b.lis.Close()
	b.wg.Wait()
	return err
}

func (b *PGBridge) publish(ctx context.Context, sub *Subscription) {
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.hub.Done():
			return
		case <-tick.C:
			_, _ = b.db.ExecContext(ctx, `DELETE FROM linkage_live_payloads WHERE at < now() - interval '1 minute'`)
			continue
		case <-b.hello:
			b.send(ctx, []string{b.msg(bridgeMsg{Hello: true})})
			continue
		case <-b.resend:
			var all []Change
			for t := TopicQueue; t < TopicEvent; t++ {
				all = append(all, b.hub.Snapshot(t, func(c *Change) bool { return b.local[c.Key] == c.Topic && !c.Remote })...)
			}
			b.sendChanges(ctx, all)
			continue
		case <-sub.C():
		}
		chs := sub.Take()
		for i := range chs {
			if chs[i].Topic != TopicEvent && chs[i].Topic != TopicReset {
				if chs[i].Removed {
					delete(b.local, chs[i].Key)
				} else {
					b.local[chs[i].Key] = chs[i].Topic
				}
			}
		}
		b.sendChanges(ctx, chs)
	}
}

func (b *PGBridge) msg(m bridgeMsg) string {
	b.seq++
	m.Origin, m.Seq = b.origin, b.seq
	j, _ := json.Marshal(m)
	return string(j)
}

// sendChanges packs changes into payloads under the limit, passing oversized ones
// through the table.
func (b *PGBridge) sendChanges(ctx context.Context, chs []Change) {
	var payloads []string
	var batch []json.RawMessage
	size := 0
	flush := func() {
		if len(batch) == 0 {
			return
		}
		raw, _ := json.Marshal(batch)
		payloads = append(payloads, b.msg(bridgeMsg{Raw: raw}))
		batch, size = batch[:0], 0
	}
	for i := range chs {
		j, err := json.Marshal(&chs[i])
		if err != nil {
			continue
		}
		if len(j)+80 > payloadLimit {
			flush()
			raw, _ := json.Marshal([]json.RawMessage{j})
			var id int64
			if err := b.db.QueryRowContext(ctx, `INSERT INTO linkage_live_payloads (body) VALUES ($1) RETURNING id`, string(raw)).Scan(&id); err != nil {
				b.log.Warn("live: bridge: store large payload", "err", err)
				continue
			}
			b.big.Inc()
			payloads = append(payloads, b.msg(bridgeMsg{Ref: id}))
			continue
		}
		if size+len(j)+80 > payloadLimit {
			flush()
		}
		batch = append(batch, j)
		size += len(j) + 1
	}
	flush()
	b.send(ctx, payloads)
}

// send delivers payloads in order in one statement (one transaction: NOTIFY order
// is kept; the seq makes every payload distinct, so none is folded).
func (b *PGBridge) send(ctx context.Context, payloads []string) {
	if len(payloads) == 0 {
		return
	}
	_, err := b.db.ExecContext(ctx, `SELECT pg_notify($1, p) FROM unnest($2::text[]) WITH ORDINALITY AS t(p, i) ORDER BY i`,
		b.o.Channel, pq.Array(payloads))
	if err != nil {
		if ctx.Err() == nil {
			b.log.Warn("live: bridge: notify", "err", err)
		}
		return
	}
	b.sent.Add(float64(len(payloads)))
}

func (b *PGBridge) listen(ctx context.Context, reconnected <-chan struct{}) {
	ping := time.NewTicker(30 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ping.C:
			_ = b.lis.Ping()
		case <-reconnected:
			// Notifications may have been lost: ask everyone for their items again.
			select {
			case b.hello <- struct{}{}:
			default:
			}
		case n, ok := <-b.lis.NotificationChannel():
			if !ok {
				return
			}
			if n == nil {
				continue // reconnected; handled through the event callback
			}
			b.receive(ctx, n.Extra)
		}
	}
}

func (b *PGBridge) receive(ctx context.Context, payload string) {
	var m bridgeMsg
	if err := json.Unmarshal([]byte(payload), &m); err != nil {
		b.log.Warn("live: bridge: bad payload", "err", err)
		return
	}
	if m.Origin == b.origin {
		return
	}
	if m.Hello {
		select {
		case b.resend <- struct{}{}:
		default:
		}
		return
	}
	raw := []byte(m.Raw)
	if m.Ref != 0 {
		var body string
		if err := b.db.QueryRowContext(ctx, `SELECT body FROM linkage_live_payloads WHERE id = $1`, m.Ref).Scan(&body); err != nil {
			b.log.Warn("live: bridge: fetch large payload", "id", m.Ref, "err", err)
			return
		}
		raw = []byte(body)
	}
	var chs []Change
	if err := json.Unmarshal(raw, &chs); err != nil {
		b.log.Warn("live: bridge: bad changes", "err", err)
		return
	}
	for i := range chs {
		chs[i].Remote = true
	}
	b.received.Add(float64(len(chs)))
	b.hub.Publish(chs...)
}
