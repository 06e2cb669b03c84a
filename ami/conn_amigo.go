package ami

// How this package uses github.com/ivahaev/amigo v0.1.11, and what it works around.
//
// amigo logs in. It would also read the socket and parse each block into a map that it
// delivers on an event channel, but since issue #4 it sees only the greeting and the
// Login reply: every block after the login is read by our own frame reader (Reader,
// in session.pump, on the relay's goroutine) and goes straight to onMessage. amigo's
// map per event was a third of the collector's CPU and most of its garbage. Its event
// channel is still drained (onMessage via fromAmigo) but gets nothing after the login.
// The notes below are the properties of v0.1.11 this works around; 1. and 6. now
// matter only for what amigo itself would deliver:
//
//  1. It keeps one value per key (map[string]string). Repeated keys are lost:
//     ChanVariable lines, Output lines of Command (amigo keeps the first as
//     "RealOutput" and the last as "Output"; we turn both back into Output fields),
//     and duplicated UserEvent headers. Field order is lost too: a Message from
//     this package has Event/Response first, then Privilege, Timestamp, the other
//     keys in alphabetical order, ActionID last. What we keep instead: configure
//     Asterisk so nothing we need arrives as a repeated key. For channel variables,
//     do not use manager.conf channelvars (it appends ChanVariable lines to every
//     snapshot event); Set() the variable in the dialplan and read the VarSet
//     events (class dialplan), which arrive one per variable with Channel, Uniqueid,
//     Linkedid, Variable and Value. For UserEvent, give every header its own name.
//  2. Its event channel (8192) blocks its reader when full; Asterisk drops a manager
//     session that reads too slowly. Our drainer goroutine never blocks: it copies
//     into our own bounded queue (Config.QueueSize), counts what it must drop
//     (Health.Overflows) and opens a gap; the LinkageGap marker and a resync follow
//     once the consumer catches up. The channel we give amigo holds more than amigo's
//     own queue, so amigo's dispatcher cannot block on it either.
//  3. It reconnects at a fixed interval, forever. We run one amigo instance per
//     connection attempt and never let it reconnect: our loop decides when, with
//     exponential backoff (Config.MinBackoff..MaxBackoff) and jitter.
//  4. Its Close leaks goroutines: closing while connected leaves its socket reader
//     blocked forever on an unbuffered channel (and the connection goroutine may be in
//     a read with no deadline). amigo offers no way to close its socket, so amigo does
//     not dial Asterisk: it dials a loopback relay that this package owns (one
//     listener per attempt, closed after amigo's single connection is accepted). We
//     dial Asterisk ourselves. To stop amigo we close its socket from our side, wait
//     until amigo reports the read error (it is then past the point where Close
//     leaks), let the blocks it already read reach us, and only then call Close,
//     within its (uninterruptible) 1 s reconnect sleep: after that sleep amigo reads
//     its reconnect flag without synchronisation against Close (a data race the race
//     detector reports). Its connection goroutine therefore ends up to 1 s after our
//     Close returns; every other goroutine has ended when Close returns.
//  5. Login swallows bytes: it reads the reply with a private bufio.Reader that is
//     thrown away, losing FullyBooted and whatever arrived with the reply. The relay
//     passes amigo exactly the greeting and the Login reply, holds everything after
//     it until amigo reports "connect" (its reader starts right after), then streams
//     the rest. Nothing is lost, and we learn the login result first-hand.
//  6. It adds "#" and "TimeReceived" to every message: we strip both (TimeReceived
//     becomes Event.Received).
//  7. It sends responses into the event stream, 8. serialises Action calls with a
//     mutex held until the response (or a 3 s timeout), and 9. returns only the first
//     response of a list action (the items go to the event stream). We never call
//     amigo.Action: actions are written by us to the Asterisk socket (a write mutex
//     per block, any number in flight), with ActionIDs of our own prefix. Our handler
//     routes every message carrying such an ActionID to the waiting caller: the
//     response and, for list actions, the items up to the ...Complete event.
//     Responses never reach Events(); list items do only when they belong to a
//     resync (marked LinkageResync: 1).
//  10. Its keepalive uses a fixed ActionID and can block its reader; we turn it off
//     and ping ourselves (Config.PingInterval).
//  11. Its login check is `Response != "Success" && Message != "Authentication
//     accepted"`, it sends no Events mask and no ActionID, and it has no deadline on
//     the greeting or the reply. The relay reads the greeting and the reply itself,
//     under Config.LoginTimeout, and a refusal becomes ErrAuth in Health.LastError.
//
// amigo's prepareSettings replaces an empty Username/Secret with "admin"/"amp111";
// configure both.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ivahaev/amigo"
)

// ErrNotConnected is returned by actions while there is no logged-in connection.
var ErrNotConnected = errors.New("ami: not connected")

// ErrDisconnected is returned by actions whose connection was lost before the answer.
var ErrDisconnected = errors.New("ami: connection lost before the response")

// amigoSleep is amigo's ReconnectInterval; see runSession.
const amigoSleep = time.Second

// session is one connection attempt: our socket to Asterisk, amigo's socket to the
// relay, and the actions in flight on it.
type session struct {
	c    *Conn
	up   net.Conn // to Asterisk; we write actions here
	down net.Conn // amigo's connection, accepted from the relay listener
	wmu  sync.Mutex

	pmu     sync.Mutex
	pending map[string]*pendingAction
	dead    atomic.Bool

	done     chan struct{}
	failOnce sync.Once
	failErr  error

	amigoUp   chan struct{} // closed on amigo's "connect"
	upOnce    sync.Once
	amigoErrs chan string
	resyncing atomic.Bool
	wg        sync.WaitGroup
	evQueued  func() int    // blocks amigo passed us that onMessage has not finished
	pumpDone  chan struct{} // closed when pump returns; nil before the login
	handling  atomic.Int32  // 1 while onMessage runs
	orders    keyOrders     // onMessage's key-order cache (the drainer goroutine's only)
}

type pendingAction struct {
	list, resync bool
	resp         Message
	items        []Message
	complete     Message
	done         chan struct{}
	finished     bool
}

func (s *session) fail(err error) {
	s.failOnce.Do(func() {
		s.failErr = err
		close(s.done)
	})
}

// runSession makes one connection attempt and runs it until it fails. connected
// reports whether the login succeeded.
func (c *Conn) runSession(ctx context.Context, lostAt time.Time, lostReason string) (connected bool, err error) {
	s := &session{
		c:         c,
		pending:   map[string]*pendingAction{},
		done:      make(chan struct{}),
		amigoUp:   make(chan struct{}),
		amigoErrs: make(chan string, 64),
	}
	d := net.Dialer{Timeout: c.cfg.DialTimeout}
	up, err := d.DialContext(ctx, "tcp", c.cfg.Addr)
	if err != nil {
		return false, fmt.Errorf("ami: dial: %w", err)
	}
	s.up = up
	defer up.Close()
	// Reads during login have deadlines but do not watch ctx: closing the socket
	// makes Close prompt even when the server accepts and then says nothing.
	stopWatch := context.AfterFunc(ctx, func() { _ = up.Close() })
	defer stopWatch()
	_ = up.SetReadDeadline(time.Now().Add(c.cfg.LoginTimeout))
	// Sized for NewReader, which then reads from br itself (no second buffer).
	br := bufio.NewReaderSize(up, MaxLineLength+2)
	greeting, err := readLine(br)
	if err != nil {
		return false, fmt.Errorf("ami: reading greeting: %w", err)
	}
	if !strings.HasPrefix(greeting, "Asterisk Call Manager/") {
		return false, fmt.Errorf("ami: unexpected greeting %q", greeting[:min(len(greeting), 80)])
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return false, fmt.Errorf("ami: relay listen: %w", err)
	}
	var lnOnce sync.Once
	closeLn := func() { lnOnce.Do(func() { _ = ln.Close() }) }
	defer closeLn()
	stopLnWatch := context.AfterFunc(ctx, closeLn)
	defer stopLnWatch()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	am := amigo.New(&amigo.Settings{
		Username: c.cfg.Username, Password: c.cfg.Secret,
		Host: "127.0.0.1", Port: port,
		ActionTimeout: c.cfg.ActionTimeout, DialTimeout: 2 * time.Second,
		// amigo sleeps this long (uninterruptibly) after a failure before it looks at
		// its stop channel again; we must Close it within that window, because after
		// it amigo reads its reconnect flag unsynchronised with Close's write (a data
		// race in v0.1.11). Its connection goroutine ends this long after Close.
		ReconnectInterval: amigoSleep,
		Keepalive:         false,
	})
	// amigo calls a default handler only for blocks with an Event key; its event
	// channel gets everything, responses included. It sends to it blocking, so the
	// channel is big enough for all amigo can still hold after its reader stopped
	// (its own 8192-slot queue plus one), and our drainer never blocks.
	evCh := make(chan map[string]string, 8192+64)
	am.SetEventChannel(evCh)
	s.evQueued = func() int { return len(evCh) + int(s.handling.Load()) }
	drainStop, drainDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(drainDone)
		for {
			select {
			case m := <-evCh:
				s.handling.Store(1)
				msg, received := fromAmigoInto(m, &s.orders)
				s.onMessage(msg, received)
				s.handling.Store(0)
			case <-drainStop:
				for {
					select {
					case <-evCh:
					default:
						return
					}
				}
			}
		}
	}()
	am.On("connect", func(string) { s.upOnce.Do(func() { close(s.amigoUp) }) })
	am.On("error", func(msg string) {
		select {
		case s.amigoErrs <- msg:
		default:
		}
	})
	am.Connect()
	defer s.stopAmigo(am, closeLn, drainStop, drainDone)

	_ = ln.(*net.TCPListener).SetDeadline(time.Now().Add(c.cfg.LoginTimeout))
	down, err := ln.Accept()
	closeLn()
	if err != nil {
		return false, fmt.Errorf("ami: relay accept: %w", err)
	}
	s.down = down
	_ = down.SetWriteDeadline(time.Now().Add(c.cfg.LoginTimeout))
	if _, err := io.WriteString(down, greeting+"\r\n"); err != nil {
		return false, fmt.Errorf("ami: relay: %w", err)
	}
	// amigo -> Asterisk: after the Login, amigo writes nothing (keepalive off, we never
	// call amigo.Action), but keep the direction open and in whole writes.
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		buf := make([]byte, 4096)
		for {
			n, err := down.Read(buf)
			if n > 0 {
				s.wmu.Lock()
				_ = up.SetWriteDeadline(time.Now().Add(c.cfg.ActionTimeout))
				_, werr := up.Write(buf[:n])
				s.wmu.Unlock()
				if werr != nil {
					s.fail(fmt.Errorf("ami: write: %w", werr))
					return
				}
			}
			if err != nil {
				s.fail(errors.New("ami: amigo closed its connection"))
				return
			}
		}
	}()
	// The Login reply, and nothing more, goes to amigo's private reader.
	block, reply, err := readBlock(br)
	if err != nil {
		s.fail(err)
		return false, fmt.Errorf("ami: reading login reply: %w", err)
	}
	if _, err := down.Write(block); err != nil {
		return false, fmt.Errorf("ami: relay: %w", err)
	}
	if !strings.EqualFold(reply.Get("Response"), "Success") {
		msg := reply.Get("Message")
		c.log.Warn("ami: login refused", "user", c.cfg.Username, "message", msg)
		return false, fmt.Errorf("%w: %s", ErrAuth, msg)
	}
	select {
	case <-s.amigoUp:
	case msg := <-s.amigoErrs:
		return false, fmt.Errorf("ami: amigo login: %s", msg)
	case <-s.done:
		return false, s.failErr
	case <-ctx.Done():
		return false, ctx.Err()
	case <-time.After(c.cfg.LoginTimeout):
		return false, errors.New("ami: amigo did not report the login")
	}
	_ = up.SetReadDeadline(time.Time{})
	_ = down.SetWriteDeadline(time.Time{})

	// Connected. The marker goes out before any event of this connection: those are
	// still held in br until the pump below starts.
	now := time.Now().UTC()
	c.pushMarker(&gapState{name: EventConnected, start: lostAt, end: now, reason: lostReason,
		extra: Message{{"Greeting", greeting}}})
	c.setConnected(greeting)
	c.setCurrent(s)
	defer c.clearCurrent(s)
	c.log.Info("ami: connected", "greeting", greeting, "gap", now.Sub(lostAt).Round(time.Millisecond))
	// After the login amigo needs nothing more from the stream (we never call
	// amigo.Action, its keepalive is off): every block from here on is read by our
	// own frame reader, on this goroutine, and handed to onMessage directly.
	s.pumpDone = make(chan struct{})
	s.wg.Add(1)
	go s.pump(br)
	if !c.cfg.NoResync {
		s.startResync(ctx)
	}

	var tick <-chan time.Time
	if c.cfg.PingInterval > 0 {
		t := time.NewTicker(c.cfg.PingInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			s.fail(errors.New("ami: closed"))
		case <-s.done:
			return true, s.failErr
		case <-c.resyncReq:
			if !c.cfg.NoResync {
				s.startResync(ctx)
			}
		case <-tick:
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				pctx, cancel := context.WithTimeout(ctx, c.cfg.ActionTimeout)
				defer cancel()
				if _, _, err := s.do(pctx, Message{{"Action", "Ping"}}, false, false); err != nil && ctx.Err() == nil {
					s.fail(fmt.Errorf("ami: keepalive: %w", err))
				}
			}()
		}
	}
}

// stopAmigo tears the session down in the only order that lets amigo v0.1.11 exit
// cleanly and deliver what it already read: half-close its socket (it reads the rest,
// then EOF), wait until it reports the read error (it is then past the point where
// Close leaks), let its queues run dry into our handler, and only then Close it.
func (s *session) stopAmigo(am *amigo.Amigo, closeLn func(), drainStop, drainDone chan struct{}) {
	s.fail(ErrDisconnected)
	closeLn()
	_ = s.up.Close()
	if s.down != nil {
		if tc, ok := s.down.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		} else {
			_ = s.down.Close()
		}
	}
	t := time.NewTimer(3 * time.Second)
	defer t.Stop()
	for waiting := true; waiting; {
		select {
		case msg := <-s.amigoErrs:
			// Every amigo state after a cut ends in one of these; "events chan is
			// full" is the only non-terminal error it reports.
			waiting = strings.Contains(msg, "events chan is full")
		case <-t.C:
			s.c.log.Warn("ami: amigo did not report the cut; closing it anyway")
			waiting = false
		}
	}
	// amigo's reader has handed every block to its queue; wait for its dispatcher and
	// our drainer to empty both queues (checked twice: the dispatcher may hold one
	// block between the two).
	for quiet, deadline := 0, time.Now().Add(amigoSleep/2); quiet < 2 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
		if am.EventsChanLength() == 0 && s.evQueued() == 0 {
			quiet++
		} else {
			quiet = 0
		}
	}
	// Our pump reads what is still buffered, then fails on the closed socket.
	if s.pumpDone != nil {
		select {
		case <-s.pumpDone:
		case <-time.After(amigoSleep / 2):
			s.c.log.Warn("ami: event reader did not stop")
		}
	}
	s.dead.Store(true)
	close(drainStop)
	<-drainDone
	am.Close()
	if s.down != nil {
		_ = s.down.Close()
	}
	s.wg.Wait()
}

func (s *session) startResync(ctx context.Context) {
	if !s.resyncing.CompareAndSwap(false, true) {
		s.c.requestResync() // one is running; run again after it
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.resyncing.Store(false)
		for _, a := range []Message{{{"Action", "QueueStatus"}}, {{"Action", "CoreShowChannels"}}} {
			rctx, cancel := context.WithTimeout(ctx, s.c.cfg.ListTimeout)
			_, _, err := s.do(rctx, a, true, true)
			cancel()
			if err != nil {
				if ctx.Err() == nil && !errors.Is(err, ErrDisconnected) {
					s.c.log.Warn("ami: resync action failed", "action", a.Get("Action"), "err", err)
				}
				return
			}
		}
	}()
}

// do writes one action and waits for its answer (and list items).
func (s *session) do(ctx context.Context, a Message, list, resync bool) (Message, []Message, error) {
	c := s.c
	name := a.Get("Action")
	id := c.idPrefix + strconv.FormatUint(c.nextID.Add(1), 10)
	req := make(Message, 0, len(a)+1)
	req = append(req, Field{"Action", name}, Field{"ActionID", id})
	for _, f := range a {
		if strings.EqualFold(f.Key, "Action") || strings.EqualFold(f.Key, "ActionID") {
			continue
		}
		req = append(req, f)
	}
	p := &pendingAction{list: list, resync: resync, done: make(chan struct{})}
	s.pmu.Lock()
	select {
	case <-s.done:
		s.pmu.Unlock()
		return nil, nil, fmt.Errorf("ami: %s: %w", name, ErrDisconnected)
	default:
	}
	s.pending[id] = p
	s.pmu.Unlock()
	defer func() {
		s.pmu.Lock()
		delete(s.pending, id)
		s.pmu.Unlock()
	}()
	timeout := c.cfg.ActionTimeout
	if list {
		timeout = c.cfg.ListTimeout
	}
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	s.wmu.Lock()
	_ = s.up.SetWriteDeadline(time.Now().Add(c.cfg.ActionTimeout))
	err := WriteMessage(s.up, req)
	s.wmu.Unlock()
	if err != nil {
		s.fail(fmt.Errorf("ami: write: %w", err))
		return nil, nil, fmt.Errorf("ami: %s: %w", name, ErrDisconnected)
	}
	select {
	case <-p.done:
	case <-s.done:
		return nil, nil, fmt.Errorf("ami: %s: %w", name, ErrDisconnected)
	case <-tctx.Done():
		return nil, nil, fmt.Errorf("ami: %s (ActionID %s): %w", name, id, tctx.Err())
	}
	if strings.EqualFold(p.resp.Get("Response"), "Error") {
		return p.resp, p.items, &ActionError{Action: name, Message: p.resp.Get("Message"), Response: p.resp}
	}
	return p.resp, p.items, nil
}

// pump reads every block after the login from the socket to Asterisk with our own
// frame reader and hands it to onMessage, in wire order. It never blocks on the
// consumer (push drops and opens a gap instead), so Asterisk never sees a slow reader.
// A malformed block is logged and skipped; the fields read before the damage are
// still delivered when they make an event.
func (s *session) pump(br *bufio.Reader) {
	defer s.wg.Done()
	defer close(s.pumpDone)
	r := newLongLineReader(br)
	for {
		msg, err := r.ReadMessage()
		if msg != nil {
			s.onMessage(msg, time.Now().UTC())
		}
		if err != nil {
			if errors.Is(err, ErrFrame) {
				s.c.log.Debug("ami: malformed block skipped", "err", err)
				continue
			}
			s.fail(fmt.Errorf("ami: connection lost: %w", err))
			return
		}
	}
}

// onMessage handles every block, in wire order: from pump, and from amigo's event
// channel (which gets nothing after the login; kept for safety). It must never block
// (see 2. above).
func (s *session) onMessage(msg Message, received time.Time) {
	if s.dead.Load() {
		return
	}
	c := s.c
	isResponse := msg.Has("Response") && !msg.Has("Event")
	if id := msg.Get("ActionID"); strings.HasPrefix(id, c.idPrefix) {
		s.pmu.Lock()
		p := s.pending[id]
		if p != nil && !p.finished {
			s.routeLocked(p, msg, isResponse, received)
			s.pmu.Unlock()
			return
		}
		s.pmu.Unlock()
		if isResponse {
			return // late answer to an action that timed out
		}
		// Our ActionID on an event nobody waits for: OriginateResponse, late list
		// items. Those are part of the stream.
	}
	if isResponse {
		c.log.Debug("ami: response to an action we did not send", "actionid", msg.Get("ActionID"))
		return
	}
	name := msg.Get("Event")
	if name == "" {
		c.log.Debug("ami: block without Event or Response skipped", "fields", len(msg))
		return
	}
	c.push(toEvent(name, msg, received))
}

func (s *session) routeLocked(p *pendingAction, msg Message, isResponse bool, received time.Time) {
	if isResponse {
		p.resp = msg
		if !p.list || !strings.EqualFold(msg.Get("Response"), "Success") || !strings.EqualFold(msg.Get("EventList"), "start") {
			p.finished = true
			close(p.done)
		}
		return
	}
	complete := strings.EqualFold(msg.Get("EventList"), "Complete")
	if p.resync {
		// Emitted in wire order, so the snapshot sits exactly where Asterisk took it
		// relative to live events. (push takes emu, not pmu: no lock cycle.)
		ev := toEvent(msg.Get("Event"), append(msg[:len(msg):len(msg)], Field{ResyncField, "1"}), received)
		s.c.push(ev)
	}
	if complete {
		p.complete = msg
		p.finished = true
		close(p.done)
		return
	}
	p.items = append(p.items, msg)
}

func toEvent(name string, msg Message, received time.Time) Event {
	ev := Event{Name: name, Fields: msg}
	ev.Stamp(received)
	return ev
}

// fromAmigo turns amigo's map back into a Message (see 1. and 6. above).
func fromAmigo(m map[string]string) (Message, time.Time) {
	return fromAmigoInto(m, nil)
}

// keyOrders remembers, per Event (or Response) name, the field order of the last
// few blocks of that name, so that the next block with the same keys is rebuilt by
// looking its keys up in that order instead of walking and sorting the map: events
// of one kind nearly always carry the same keys. One per session (the drainer
// goroutine's only); bounded.
type keyOrders struct {
	byName map[string][][]string
}

const (
	keyOrderNames    = 1024 // names remembered; past it, new names are not cached
	keyOrderVariants = 4    // key sets remembered per name (most recent first)
)

// fromAmigoInto is fromAmigo with the session's key-order cache (nil: none). It runs
// for every event, so it avoids what the first version cost there: on a cache hit,
// one lookup per key and no sort; on a miss, each value is taken during the map walk
// (no second lookup per key), only the keys of ordinary rank are sorted, by key
// alone, in place in the Message, which is the only allocation.
func fromAmigoInto(m map[string]string, ko *keyOrders) (Message, time.Time) {
	received := time.Now().UTC()
	extra := 0 // amigo's own keys, not part of the block
	if tr, ok := m["TimeReceived"]; ok {
		extra++
		if t, err := time.Parse(time.RFC3339Nano, tr); err == nil {
			received = t.UTC()
		}
	}
	if _, ok := m["#"]; ok {
		extra++
	}
	name, ok := m["Event"]
	if !ok {
		name = m["Response"]
	}
	if ko != nil {
		if msg := ko.lookup(name, m, len(m)-extra); msg != nil {
			return msg, received
		}
	}
	type rk struct {
		f Field
		r int
	}
	sp := make([]rk, 0, 8) // Event/Response, Privilege, Timestamp, Output, ActionID: a handful
	msg := make(Message, 0, len(m)-extra)
	for k, v := range m {
		if k == "#" || k == "TimeReceived" {
			continue
		}
		if r := keyRank(k); r != rankOther {
			sp = append(sp, rk{Field{k, v}, r})
			continue
		}
		msg = append(msg, Field{k, v})
	}
	// Insertion sort by (rank, key): the order the generic sort gave.
	for i := 1; i < len(sp); i++ {
		for j := i; j > 0 && (sp[j].r < sp[j-1].r || sp[j].r == sp[j-1].r && sp[j].f.Key < sp[j-1].f.Key); j-- {
			sp[j], sp[j-1] = sp[j-1], sp[j]
		}
	}
	slices.SortFunc(msg, func(a, b Field) int { return strings.Compare(a.Key, b.Key) })
	// Put the ranked keys around the sorted ones: before them those of rank <
	// rankOther, after them the rest.
	nBefore := 0
	for nBefore < len(sp) && sp[nBefore].r < rankOther {
		nBefore++
	}
	nOther := len(msg)
	msg = msg[:nOther+len(sp)]
	copy(msg[nBefore:], msg[:nOther])
	for i := 0; i < nBefore; i++ {
		msg[i] = sp[i].f
	}
	for i := nBefore; i < len(sp); i++ {
		msg[nOther+i] = sp[i].f
	}
	if ko != nil {
		ko.remember(name, msg)
	}
	for i := range msg {
		if msg[i].Key == "RealOutput" {
			msg[i].Key = "Output"
		}
	}
	return msg, received
}

// lookup rebuilds the block from a remembered order with exactly m's keys (n of
// them besides amigo's own), or returns nil.
func (ko *keyOrders) lookup(name string, m map[string]string, n int) Message {
	for _, keys := range ko.byName[name] {
		if len(keys) != n {
			continue
		}
		msg := make(Message, n)
		hit := true
		for i, k := range keys {
			v, ok := m[k]
			if !ok {
				hit = false
				break
			}
			if k == "RealOutput" {
				k = "Output"
			}
			msg[i] = Field{k, v}
		}
		// Same count and every remembered key present: the same key set.
		if hit {
			return msg
		}
	}
	return nil
}

// remember records the order of msg's keys (before RealOutput is renamed) as the
// most recent variant of name.
func (ko *keyOrders) remember(name string, msg Message) {
	if ko.byName == nil {
		ko.byName = map[string][][]string{}
	}
	vs, known := ko.byName[name]
	if !known && len(ko.byName) >= keyOrderNames {
		return
	}
	keys := make([]string, len(msg))
	for i, f := range msg {
		keys[i] = f.Key
	}
	if len(vs) < keyOrderVariants {
		vs = append(vs, nil)
	}
	copy(vs[1:], vs[:len(vs)-1])
	vs[0] = keys
	ko.byName[name] = vs
}

// rankOther is the rank of the keys that are ordered alphabetically.
const rankOther = 5

// keyRank orders the keys of a block rebuilt from amigo's map (see 1. above). The
// exact spellings are tried before the case-insensitive comparisons: it runs for
// every key of every event.
func keyRank(k string) int {
	switch k {
	case "Event", "Response":
		return 0
	case "Privilege":
		return 1
	case "Timestamp":
		return 2
	case "RealOutput":
		return 3
	case "Output":
		return 4
	case "ActionID":
		return 6
	}
	switch len(k) {
	case 5:
		if strings.EqualFold(k, "Event") {
			return 0
		}
	case 8:
		if strings.EqualFold(k, "Response") {
			return 0
		}
		if strings.EqualFold(k, "ActionID") {
			return 6
		}
	case 9:
		if strings.EqualFold(k, "Privilege") {
			return 1
		}
		if strings.EqualFold(k, "Timestamp") {
			return 2
		}
	case 6:
		if strings.EqualFold(k, "Output") {
			return 4
		}
	}
	return rankOther
}

// readLine reads one line (CRLF or LF) of at most 4 KiB, for the greeting and the
// login reply, which we read before amigo does.
func readLine(br *bufio.Reader) (string, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) || len(line) > 4096 {
			return "", errors.New("line too long")
		}
		return "", err
	}
	if len(line) > 4096 {
		return "", errors.New("line too long")
	}
	return strings.TrimRight(string(line), "\r\n"), nil
}

// readBlock reads one block up to its blank line and returns its bytes (to forward)
// and its fields.
func readBlock(br *bufio.Reader) ([]byte, Message, error) {
	var raw []byte
	var msg Message
	for len(msg) < 256 {
		line, err := readLine(br)
		if err != nil {
			return nil, nil, err
		}
		raw = append(raw, line...)
		raw = append(raw, '\r', '\n')
		if line == "" {
			if len(msg) == 0 {
				raw = raw[:0]
				continue
			}
			return raw, msg, nil
		}
		// The raw bytes are forwarded to amigo, so this reads lines itself rather than
		// through Reader; the split is Asterisk's: key up to the first colon, value
		// after it without leading blanks.
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) != "" {
			msg = append(msg, Field{strings.TrimSpace(k), strings.TrimLeft(v, " \t")})
		}
	}
	return nil, nil, errors.New("login reply too long")
}
