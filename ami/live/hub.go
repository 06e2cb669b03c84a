package live

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Topic is a kind of live item.
type Topic uint8

// Topics. Queue, Operator and Call items are keyed state (the latest value wins);
// Event items are a stream (each one is delivered, or dropped and counted).
const (
	TopicQueue Topic = iota + 1
	TopicOperator
	TopicCall
	TopicEvent
	// TopicReset (Key: the server id) says a new State took the server over: its
	// calls are removed (subscribers see them end) and its queues and operators
	// dropped until the resync publishes them again.
	TopicReset
)

var topicNames = [...]string{"", "queue", "operator", "call", "event", "reset"}

func (t Topic) String() string {
	if int(t) < len(topicNames) {
		return topicNames[t]
	}
	return "unknown"
}

// Change is one item's new value (or its removal, for calls). Values are never
// modified after publishing: readers share them.
type Change struct {
	Topic    Topic          `json:"tp"`
	Key      string         `json:"k,omitempty"` // server/name; empty for events
	Removed  bool           `json:"rm,omitempty"`
	Queue    *QueueStats    `json:"q,omitempty"`
	Operator *OperatorState `json:"o,omitempty"`
	Call     *ActiveCall    `json:"c,omitempty"`
	Event    *CallEvent     `json:"e,omitempty"`
	// Remote marks changes that came from another process (PGBridge), so they are
	// not sent back.
	Remote bool `json:"-"`
	// Seq is the hub's version stamp: the fan-out goroutine numbers every change it
	// records, in order, so two subscribers holding the same Seq hold the same value.
	// Shared rendering (Keyed) keys on it; a Seq set by the publisher is overwritten.
	Seq uint64 `json:"-"`
}

// Server is the server the change belongs to.
func (c *Change) Server() int {
	switch {
	case c.Queue != nil:
		return c.Queue.Server
	case c.Operator != nil:
		return c.Operator.Server
	case c.Call != nil:
		return c.Call.Server
	case c.Event != nil:
		return c.Event.Server
	}
	s, _, _ := strings.Cut(c.Key, "/")
	return atoi(s)
}

// HubOptions configure a Hub.
type HubOptions struct {
	// Registerer receives the hub's metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// MaxEvents bounds the call events waiting for one subscriber (default 1024);
	// beyond it new events are dropped for that subscriber and counted.
	MaxEvents int
	// MaxBacklog bounds the call events waiting for the fan-out goroutine (default
	// 65536); beyond it they are dropped and counted.
	MaxBacklog int
	// BoardInterval is the tick of board subscriptions (queues, operators, calls;
	// default 100 ms; negative: none): one sends at most once per tick, ticks are
	// multiples of BoardInterval on the wall clock (the same for every subscriber,
	// so they share rendered payloads), and changes in between coalesce. A busy
	// queue costs each subscriber at most 1/BoardInterval messages a second. Call
	// events are never held back.
	BoardInterval time.Duration
}

// Hub keeps the latest value of every live item and fans changes out to
// subscribers. Publish never blocks on a subscriber: each subscriber has a pending
// set where a newer value of an item replaces the older one (counted as coalesced)
// and a one-slot wake-up channel.
type Hub struct {
	opts HubOptions

	// Input side: Publish only appends here (coalescing keyed items), so its cost
	// does not grow with the number of subscribers.
	inMu    sync.Mutex
	in      []Change
	inKeys  map[string]int // topic+key -> index in in
	inEv    int
	pubGen  uint64
	doneGen uint64
	synced  *sync.Cond // on inMu: doneGen moved
	wake    chan struct{}

	// Fan-out side, owned by the fan-out goroutine: the store and the subscribers.
	mu     sync.Mutex
	seq    uint64                        // last Change.Seq given out
	items  [TopicEvent]map[string]Change // by topic-1; events are not kept
	subs   [TopicEvent + 1]map[*Subscription]struct{}
	closed bool
	done   chan struct{}
	wg     sync.WaitGroup

	published   *prometheus.CounterVec
	byTopic     [TopicReset + 1]prometheus.Counter
	coalesced   prometheus.Counter
	dropped     prometheus.Counter
	subscribers prometheus.Gauge
}

// NewHub returns an empty hub.
func NewHub(o HubOptions) *Hub {
	if o.MaxEvents <= 0 {
		o.MaxEvents = 1024
	}
	if o.MaxBacklog <= 0 {
		o.MaxBacklog = 65536
	}
	if o.BoardInterval == 0 {
		o.BoardInterval = 100 * time.Millisecond
	}
	h := &Hub{opts: o, done: make(chan struct{}), wake: make(chan struct{}, 1), inKeys: map[string]int{},
		published: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "linkage_live_changes_published_total",
			Help: "Live changes published to the hub, by topic."}, []string{"topic"}),
		coalesced: prometheus.NewCounter(prometheus.CounterOpts{Name: "linkage_live_changes_coalesced_total",
			Help: "Live changes replaced by a newer value before a slow subscriber took them."}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "linkage_live_events_dropped_total",
			Help: "Call events dropped because a subscriber's queue was full."}),
		subscribers: prometheus.NewGauge(prometheus.GaugeOpts{Name: "linkage_live_subscribers",
			Help: "Live subscribers attached to the hub."}),
	}
	for i := range h.items {
		h.items[i] = map[string]Change{}
	}
	for i := range h.subs {
		h.subs[i] = map[*Subscription]struct{}{}
	}
	if o.Registerer != nil {
		for _, c := range []prometheus.Collector{h.published, h.coalesced, h.dropped, h.subscribers} {
			// A second hub on one registry (tests) keeps its counters unregistered.
			_ = o.Registerer.Register(c)
		}
	}
	for t := range h.byTopic {
		h.byTopic[t] = h.published.WithLabelValues(Topic(t).String())
	}
	h.synced = sync.NewCond(&h.inMu)
	h.wg.Add(1)
	go h.fanout()
	return h
}

// Publish hands changes to the hub. It never blocks on subscribers and its cost
// does not depend on how many there are: a fan-out goroutine records the changes
// and offers them to the subscribers, and a newer value of an item waiting for it
// replaces the older one. After Close it does nothing.
func (h *Hub) Publish(chs ...Change) {
	h.inMu.Lock()
	defer h.inMu.Unlock()
	if h.closedIn() {
		return
	}
	for i := range chs {
		ch := chs[i]
		if int(ch.Topic) < len(h.byTopic) {
			h.byTopic[ch.Topic].Inc()
		}
		switch {
		case ch.Topic == TopicEvent:
			if h.inEv >= h.opts.MaxBacklog {
				h.dropped.Inc()
				continue
			}
			h.inEv++
			h.in = append(h.in, ch)
		case ch.Topic == TopicReset:
			h.in = append(h.in, ch)
			clear(h.inKeys) // later values must follow the reset
		default:
			k := string(rune('0'+ch.Topic)) + ch.Key
			if j, ok := h.inKeys[k]; ok {
				h.in[j] = ch
				h.coalesced.Inc()
				continue
			}
			h.inKeys[k] = len(h.in)
			h.in = append(h.in, ch)
		}
	}
	h.pubGen++
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

func (h *Hub) closedIn() bool {
	select {
	case <-h.done:
		return true
	default:
		return false
	}
}

func (h *Hub) fanout() {
	defer h.wg.Done()
	for {
		select {
		case <-h.done:
			h.inMu.Lock()
			h.doneGen = h.pubGen
			h.synced.Broadcast()
			h.inMu.Unlock()
			return
		case <-h.wake:
		}
		h.inMu.Lock()
		batch, gen := h.in, h.pubGen
		h.in, h.inEv = nil, 0
		clear(h.inKeys)
		h.inMu.Unlock()
		h.mu.Lock()
		for i := range batch {
			h.applyLocked(&batch[i])
		}
		h.mu.Unlock()
		h.inMu.Lock()
		h.doneGen = gen
		h.synced.Broadcast()
		h.inMu.Unlock()
	}
}

// Sync waits until everything published before the call is in the store and
// offered to the subscribers.
func (h *Hub) Sync() {
	h.inMu.Lock()
	defer h.inMu.Unlock()
	want := h.pubGen
	for h.doneGen < want && !h.closedIn() {
		h.synced.Wait()
	}
}

func (h *Hub) applyLocked(ch *Change) {
	if ch.Topic == TopicReset {
		h.resetLocked(ch)
		return
	}
	if ch.Topic < TopicQueue || ch.Topic > TopicEvent {
		return
	}
	h.seq++
	ch.Seq = h.seq
	if ch.Topic != TopicEvent {
		if ch.Removed {
			delete(h.items[ch.Topic-1], ch.Key)
		} else {
			h.items[ch.Topic-1][ch.Key] = *ch
		}
	}
	for s := range h.subs[ch.Topic] {
		s.offer(h, ch)
	}
	for s := range h.subs[0] { // every topic (bridges)
		s.offer(h, ch)
	}
}

func (h *Hub) resetLocked(ch *Change) {
	server := atoi(ch.Key)
	for t := TopicQueue; t < TopicEvent; t++ {
		for k, it := range h.items[t-1] {
			if it.Server() != server {
				continue
			}
			delete(h.items[t-1], k)
			if t == TopicCall {
				h.seq++
				rm := Change{Topic: TopicCall, Key: k, Removed: true, Call: it.Call, Remote: ch.Remote, Seq: h.seq}
				for s := range h.subs[TopicCall] {
					s.offer(h, &rm)
				}
			}
		}
	}
	for s := range h.subs[0] {
		s.offer(h, ch)
	}
}

// Snapshot returns the current items of topic that pass filter (nil: all), by key,
// including everything published before the call.
func (h *Hub) Snapshot(topic Topic, filter func(*Change) bool) []Change {
	h.Sync()
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.snapshotLocked(topic, filter)
}

func (h *Hub) snapshotLocked(topic Topic, filter func(*Change) bool) []Change {
	if topic < TopicQueue || topic >= TopicEvent {
		return nil
	}
	out := make([]Change, 0, len(h.items[topic-1]))
	for _, ch := range h.items[topic-1] {
		if filter == nil || filter(&ch) {
			out = append(out, ch)
		}
	}
	slices.SortFunc(out, func(a, b Change) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// Subscription is one subscriber's pending changes. Wait on C, then Take.
type Subscription struct {
	topic  Topic
	filter func(*Change) bool
	signal chan struct{}

	mu      sync.Mutex
	pending map[string]int // key -> index in batch
	batch   []Change
	events  int
	closed  bool
}

// Subscribe registers a subscriber for topic (0: every topic) and returns it with the
// snapshot of that topic taken atomically with the registration: no change is lost
// or seen twice. The caller must Unsubscribe. It returns nil after Close.
func (h *Hub) Subscribe(topic Topic, filter func(*Change) bool) (*Subscription, []Change) {
	s := &Subscription{topic: topic, filter: filter, signal: make(chan struct{}, 1), pending: map[string]int{}}
	h.Sync() // what was published before is in the snapshot, not in the first change
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, nil
	}
	h.subs[topic][s] = struct{}{}
	h.subscribers.Inc()
	if topic == 0 {
		var all []Change
		for t := TopicQueue; t < TopicEvent; t++ {
			all = append(all, h.snapshotLocked(t, filter)...)
		}
		return s, all
	}
	return s, h.snapshotLocked(topic, filter)
}

// Unsubscribe removes s; safe to call more than once and concurrently with Publish.
func (h *Hub) Unsubscribe(s *Subscription) {
	if s == nil {
		return
	}
	h.mu.Lock()
	if _, ok := h.subs[s.topic][s]; ok {
		delete(h.subs[s.topic], s)
		h.subscribers.Dec()
	}
	h.mu.Unlock()
	s.mu.Lock()
	s.closed = true
	s.batch, s.pending = nil, nil
	s.mu.Unlock()
}

// C is signalled (one slot, never blocking the publisher) when changes are pending.
func (s *Subscription) C() <-chan struct{} { return s.signal }

// Take returns the pending changes in first-offered order and clears them.
func (s *Subscription) Take() []Change {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.batch
	s.batch = nil
	clear(s.pending)
	s.events = 0
	return b
}

func (s *Subscription) offer(h *Hub, ch *Change) {
	if s.filter != nil && !s.filter(ch) {
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	if ch.Topic == TopicEvent {
		if s.events >= h.opts.MaxEvents {
			s.mu.Unlock()
			h.dropped.Inc()
			return
		}
		s.events++
		s.batch = append(s.batch, *ch)
	} else if i, ok := s.pending[ch.Key]; ok {
		s.batch[i] = *ch
		s.mu.Unlock()
		h.coalesced.Inc()
		return
	} else {
		s.pending[ch.Key] = len(s.batch)
		s.batch = append(s.batch, *ch)
	}
	s.mu.Unlock()
	select {
	case s.signal <- struct{}{}:
	default:
	}
}

// Done is closed when the hub closes.
func (h *Hub) Done() <-chan struct{} { return h.done }

// Close stops every Watch goroutine and waits for them; Publish and Subscribe do
// nothing afterwards. Safe to call twice.
func (h *Hub) Close() {
	h.inMu.Lock()
	h.mu.Lock()
	if !h.closed {
		h.closed = true
		close(h.done)
	}
	h.mu.Unlock()
	h.synced.Broadcast()
	h.inMu.Unlock()
	h.wg.Wait()
}

// Watch subscribes to topic and returns a channel that yields conv(snapshot, true)
// first, then conv(changes, false) for each batch of pending changes (an empty
// result sends nothing). A goroutine owned by the hub feeds it; it unsubscribes and
// closes the channel when ctx ends or the hub closes. While the reader is slow,
// changes coalesce in the subscription, never in the publisher.
func Watch[T any](ctx context.Context, h *Hub, topic Topic, filter func(*Change) bool, conv func(chs []Change, snapshot bool) []T) <-chan T {
	out := make(chan T, 1)
	h.mu.Lock()
	closed := h.closed
	if !closed {
		h.wg.Add(1)
	}
	h.mu.Unlock()
	if closed {
		close(out)
		return out
	}
	s, snap := h.Subscribe(topic, filter)
	if s == nil { // closed in between
		h.wg.Done()
		close(out)
		return out
	}
	go func() {
		defer h.wg.Done()
		defer close(out)
		defer h.Unsubscribe(s)
		send := func(chs []Change, snapshot bool) bool {
			for _, v := range conv(chs, snapshot) {
				select {
				case out <- v:
				case <-ctx.Done():
					return false
				case <-h.done:
					return false
				}
			}
			return true
		}
		if !send(snap, true) {
			return
		}
		var hold *time.Timer
		if topic != TopicEvent && h.opts.BoardInterval > 0 {
			hold = time.NewTimer(untilNextTick(time.Now(), h.opts.BoardInterval))
			defer hold.Stop()
		}
		for {
			select {
			case <-s.C():
			case <-ctx.Done():
				return
			case <-h.done:
				return
			}
			if b := s.Take(); len(b) > 0 && !send(b, false) {
				return
			}
			if hold != nil { // let the next changes coalesce
				hold.Reset(untilNextTick(time.Now(), h.opts.BoardInterval))
				select {
				case <-hold.C:
				case <-ctx.Done():
					return
				case <-h.done:
					return
				}
			}
		}
	}()
	return out
}

// untilNextTick is the time from now to the next multiple of iv on the wall clock.
// Board subscriptions wait for these shared ticks rather than for iv after their
// own last send, so subscribers of one board take their pending changes at the same
// moments, hold the same versions (Change.Seq) and can share one rendered payload
// (graph's subscription sharing). A subscription still sends at most once per tick.
func untilNextTick(now time.Time, iv time.Duration) time.Duration {
	return iv - time.Duration(now.UnixNano()%int64(iv))
}
