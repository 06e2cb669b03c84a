package ami

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Config describes one Asterisk server and how to talk to it. Zero durations take the
// defaults listed on each field.
type Config struct {
	// ServerID is Linkage's id of the server; it goes into logs and marker events.
	ServerID int
	// Name is a human name for logs ("main", "branch-2").
	Name string
	// Addr is host:port of the manager interface (Asterisk: 5038).
	Addr string
	// Username and Secret are the manager.conf account. The secret is never logged.
	Username, Secret string
	// Logger receives connection events; nil discards.
	Logger *slog.Logger
	// QueueSize bounds the events waiting in Events() (default 65536). When the
	// consumer falls behind, events are dropped and counted, never waited for, and a
	// LinkageGap marker plus a resync follow once there is room again.
	QueueSize int
	// DialTimeout bounds the TCP connect (default 5 s).
	DialTimeout time.Duration
	// LoginTimeout bounds greeting + Login (default 10 s).
	LoginTimeout time.Duration
	// ActionTimeout applies to single-response actions when ctx has no earlier
	// deadline (default 10 s); ListTimeout to list actions (default 30 s).
	ActionTimeout, ListTimeout time.Duration
	// PingInterval is the keepalive period; a Ping unanswered within ActionTimeout
	// drops the connection (Asterisk sends no keepalives of its own). Default 20 s;
	// negative disables.
	PingInterval time.Duration
	// MinBackoff and MaxBackoff bound the exponential reconnect delay
	// (defaults 500 ms and 30 s; ±20 % jitter).
	MinBackoff, MaxBackoff time.Duration
	// NoResync skips QueueStatus + CoreShowChannels after (re)connects and gaps.
	NoResync bool
}

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.QueueSize <= 0 {
		c.QueueSize = 65536
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = 5 * time.Second
	}
	if c.LoginTimeout <= 0 {
		c.LoginTimeout = 10 * time.Second
	}
	if c.ActionTimeout <= 0 {
		c.ActionTimeout = 10 * time.Second
	}
	if c.ListTimeout <= 0 {
		c.ListTimeout = 30 * time.Second
	}
	if c.PingInterval == 0 {
		c.PingInterval = 20 * time.Second
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = 500 * time.Millisecond
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 30 * time.Second
	}
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = c.MinBackoff
	}
}

// Names of the marker events this package puts into the stream. Both carry GapStart,
// GapEnd (RFC 3339, UTC), GapSeconds, Reason, Dropped and Server.
const (
	// EventConnected is emitted on every successful login, before any event of the
	// new connection and before the resync results. On the first connect the gap
	// starts at Start (Reason "start"); on a reconnect it is the time the link was
	// lost (Reason: why). Greeting is the server's first line. The next event is
	// usually Asterisk's FullyBooted: an Uptime shorter than GapSeconds means
	// Asterisk restarted in the gap and every call open before it is over.
	EventConnected = "LinkageConnected"
	// EventGap is emitted when events were dropped inside a connection (the consumer
	// was too slow); a resync follows it.
	EventGap = "LinkageGap"
	// ResyncField marks list items (and their Complete event) that a resync put into
	// the stream: "LinkageResync: 1". They keep their ActionID.
	ResyncField = "LinkageResync"
)

// markerReserve is room kept in the events channel beyond QueueSize for markers, so
// a marker fits even when ordinary events are being dropped.
const markerReserve = 8

// Conn is the connection to one Asterisk server: it logs in, reconnects with backoff,
// resynchronises, delivers events in order through a bounded queue, and runs actions
// with ActionID correlation. See conn_amigo.go for how amigo is used underneath.
type Conn struct {
	cfg      Config
	log      *slog.Logger
	idPrefix string
	nextID   atomic.Uint64

	events   chan Event
	emu      sync.Mutex // serialises Seq assignment and sends on events
	seq      uint64
	gap      *gapState
	evClosed bool

	hmu       sync.Mutex
	health    Health
	lastStamp time.Time

	smu sync.Mutex
	cur *session

	resyncReq chan struct{}
	runMu     sync.Mutex
	started   bool
	closed    bool
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

type gapState struct {
	name    string // EventConnected or EventGap
	start   time.Time
	end     time.Time // zero while dropping continues
	reason  string
	dropped uint64
	extra   Message
}

// NewConn returns a connection that does nothing until Start.
func NewConn(cfg Config) *Conn {
	cfg.setDefaults()
	var rb [3]byte
	_, _ = crand.Read(rb[:])
	c := &Conn{
		cfg:       cfg,
		log:       cfg.Logger.With("server", cfg.ServerID, "name", cfg.Name, "addr", cfg.Addr),
		idPrefix:  fmt.Sprintf("lk%d-%s-", cfg.ServerID, hex.EncodeToString(rb[:])),
		events:    make(chan Event, cfg.QueueSize+markerReserve),
		resyncReq: make(chan struct{}, 1),
	}
	c.health = Health{ServerID: cfg.ServerID, Name: cfg.Name, Addr: cfg.Addr}
	return c
}

// Connect starts a connection and waits for the first successful login. If ctx ends
// first, the connection is closed and the last error returned. The connection lives
// until Close (ctx only bounds the wait). (Not named Dial: ami.Dial is the generated
// type of the Asterisk 1.8 Dial event.)
func Connect(ctx context.Context, cfg Config) (*Conn, error) {
	c := NewConn(cfg)
	if err := c.Start(context.Background()); err != nil {
		return nil, err
	}
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		if h := c.Health(); h.Connected {
			return c, nil
		}
		select {
		case <-ctx.Done():
			h := c.Health()
			c.Close()
			if h.LastError != "" {
				return nil, fmt.Errorf("ami: connect %s: %w (last error: %s)", cfg.Addr, ctx.Err(), h.LastError)
			}
			return nil, fmt.Errorf("ami: connect %s: %w", cfg.Addr, ctx.Err())
		case <-t.C:
		}
	}
}

// Start runs the connect/reconnect loop until ctx ends or Close is called.
func (c *Conn) Start(ctx context.Context) error {
	c.runMu.Lock()
	defer c.runMu.Unlock()
	if c.closed {
		return errors.New("ami: Start after Close")
	}
	if c.started {
		return errors.New("ami: Start called twice")
	}
	if c.cfg.Addr == "" {
		return errors.New("ami: Config.Addr is empty")
	}
	c.started = true
	ctx, c.cancel = context.WithCancel(ctx)
	c.hmu.Lock()
	c.health.Since = time.Now().UTC()
	c.hmu.Unlock()
	c.wg.Add(1)
	go c.loop(ctx)
	return nil
}

// Close stops the connection, waits for the goroutines this package started and for
// amigo's reader and dispatcher, and closes the Events channel. amigo's connection
// goroutine ends up to 1 s later (it sleeps uninterruptibly; see conn_amigo.go, 4.).
func (c *Conn) Close() error {
	c.runMu.Lock()
	if c.closed {
		c.runMu.Unlock()
		return nil
	}
	c.closed = true
	cancel := c.cancel
	c.runMu.Unlock()
	if cancel != nil {
		cancel()
	}
	c.wg.Wait()
	c.emu.Lock()
	c.evClosed = true
	close(c.events)
	c.emu.Unlock()
	return nil
}

// Events is the ordered event stream of this server, markers and resync results
// included. It is closed by Close.
func (c *Conn) Events() <-chan Event { return c.events }

// loop owns the reconnect policy: exponential backoff with jitter, reset after a
// successful login. amigo's own reconnect (a fixed interval) is never used.
func (c *Conn) loop(ctx context.Context) {
	defer c.wg.Done()
	backoff := c.cfg.MinBackoff
	lostAt := time.Now().UTC()
	reason := "start"
	for {
		connected, err := c.runSession(ctx, lostAt, reason)
		if connected {
			// The next marker reports this loss, not the failed attempts after it.
			lostAt = time.Now().UTC()
			backoff = c.cfg.MinBackoff
			reason = "connection lost"
			if err != nil {
				reason = err.Error()
			}
		}
		if ctx.Err() != nil {
			return
		}
		c.setDisconnected(err, connected)
		delay := time.Duration(float64(backoff) * (0.8 + 0.4*rand.Float64()))
		c.log.Info("ami: reconnecting", "in", delay.Round(time.Millisecond), "err", err)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if !connected {
			backoff = min(2*backoff, c.cfg.MaxBackoff)
		}
	}
}

func (c *Conn) current() *session {
	c.smu.Lock()
	defer c.smu.Unlock()
	return c.cur
}

func (c *Conn) setCurrent(s *session) {
	c.smu.Lock()
	c.cur = s
	c.smu.Unlock()
}

func (c *Conn) clearCurrent(s *session) {
	c.smu.Lock()
	if c.cur == s {
		c.cur = nil
	}
	c.smu.Unlock()
}

// push delivers one event; it never blocks. When the queue is full the event is
// dropped and counted, and a gap opens: the marker goes out (and a resync is asked
// for) once the queue is at most half full again.
func (c *Conn) push(ev Event) {
	c.emu.Lock()
	defer c.emu.Unlock()
	if c.evClosed {
		return
	}
	if c.gap != nil && !c.flushGapLocked(ev.Received) {
		c.gap.dropped++
		c.countOverflow()
		return
	}
	if len(c.events) >= c.cfg.QueueSize {
		c.gap = &gapState{name: EventGap, start: ev.Received, reason: "overflow: consumer too slow", dropped: 1}
		c.countOverflow()
		c.log.Warn("ami: event queue full, dropping events until it drains", "queue", c.cfg.QueueSize)
		return
	}
	c.sendLocked(ev)
}

func (c *Conn) countOverflow() {
	c.hmu.Lock()
	c.health.Overflows++
	c.hmu.Unlock()
}

func (c *Conn) sendLocked(ev Event) {
	c.seq++
	ev.Seq = c.seq
	select {
	case c.events <- ev:
	default: // cannot happen: capacity is checked under emu, the consumer only removes
		c.seq--
		c.countOverflow()
		return
	}
	if ev.Name == EventConnected || ev.Name == EventGap {
		return
	}
	c.hmu.Lock()
	c.health.EventsReceived++
	c.health.LastEvent = ev.Received
	if ev.Stamped {
		c.lastStamp = ev.Time
	}
	c.hmu.Unlock()
}

// flushGapLocked emits the pending marker if there is room (hysteresis: half the
// queue, so a consumer at the edge does not produce a marker per event).
func (c *Conn) flushGapLocked(now time.Time) bool {
	if len(c.events) > c.cfg.QueueSize/2 {
		return false
	}
	g := c.gap
	c.gap = nil
	if g.end.IsZero() {
		g.end = now
	}
	c.sendLocked(c.marker(g))
	if g.dropped > 0 {
		c.log.Warn("ami: events were dropped; resynchronising", "dropped", g.dropped)
		c.requestResync()
	}
	return true
}

// pushMarker emits a connect marker now, merging any open overflow gap into it.
func (c *Conn) pushMarker(g *gapState) {
	c.emu.Lock()
	defer c.emu.Unlock()
	if c.evClosed {
		return
	}
	if c.gap != nil {
		if c.gap.start.Before(g.start) {
			g.start = c.gap.start
		}
		g.dropped += c.gap.dropped
		c.gap = nil
	}
	if len(c.events) < cap(c.events) {
		c.sendLocked(c.marker(g))
		return
	}
	c.gap = g // sent (late) by the next push that finds room; a resync follows then
}

func (c *Conn) marker(g *gapState) Event {
	now := time.Now().UTC()
	m := Message{
		{"Event", g.name},
		{"Server", strconv.Itoa(c.cfg.ServerID)},
		{"GapStart", g.start.UTC().Format(time.RFC3339Nano)},
		{"GapEnd", g.end.UTC().Format(time.RFC3339Nano)},
		{"GapSeconds", strconv.FormatFloat(g.end.Sub(g.start).Seconds(), 'f', 3, 64)},
		{"Reason", g.reason},
		{"Dropped", strconv.FormatUint(g.dropped, 10)},
	}
	m = append(m, g.extra...)
	return Event{Received: now, Time: g.end.UTC(), Name: g.name, Fields: m}
}

func (c *Conn) requestResync() {
	select {
	case c.resyncReq <- struct{}{}:
	default:
	}
}
