// Package sim is the Asterisk simulator: a real AMI TCP server in front of the
// call-center model of package pbx. It speaks the manager protocol the way Asterisk 20
// does (shared/asterisk-ami-reference.md §1, lab transcript p1): greeting, Login with
// an event mask, Ping, Events, Command, Logoff, per-session class filtering, and the
// slow-reader disconnect that Asterisk's writetimeout causes. One clock per server
// drives the model at a speed factor and broadcasts its events to every session.
package sim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/linkage/linkage/ami"
	"github.com/linkage/linkage/ami/sim/pbx"
)

// Model is what the server drives: the call-center model of package pbx, or a
// scripted/test model. Calls are serialised by the server; a Model need not be safe
// for concurrent use.
type Model interface {
	// Advance runs the model to simulated time t and returns the events produced.
	// Fields start with "Event: X", "Privilege: c,all" and carry no Timestamp.
	Advance(t time.Time) []ami.Event
	// Action answers an AMI action at simulated time t: the response, then any list
	// items and the Complete event. Nil means the model does not know the action.
	// Side-effect events come out of the next Advance.
	Action(t time.Time, action ami.Message) []ami.Message
	// Next is the simulated time of the next scheduled model event.
	Next() (time.Time, bool)
}

// Options configure one simulated Asterisk server. Defaults are filled by
// (*Options).setDefaults; zero values are usable.
type Options struct {
	// Listen is the TCP address ("127.0.0.1:5038"; "127.0.0.1:0" in tests).
	Listen string
	// Username and Secret are the only manager account.
	Username, Secret string
	// Greeting is the first line sent on connect (default "Asterisk Call Manager/9.0.0").
	Greeting string
	// TimestampEvents adds "Timestamp: <epoch>.<usec>" to async events, as
	// manager.conf timestampevents=yes does.
	TimestampEvents bool
	// Speed is simulated seconds per wall second: 1 real time, 60 one simulated hour
	// per minute. Zero or negative runs as fast as the sessions read: the clock then
	// waits for every session's queue to drain below half instead of disconnecting.
	Speed float64
	// Start is the simulated time the clock starts at (default: now, UTC).
	Start time.Time
	// PBX configures the default model (pbx.New(PBX, Start)).
	PBX pbx.Config
	// Model, when set, replaces the pbx model (scripted scenarios, tests).
	Model func(start time.Time) Model
	// Servers is how many servers Run starts, on consecutive ports (the CLI's --servers).
	Servers int
	// RecordingsDir, when set, receives a short synthetic WAV for every recording the
	// model starts, under the file name the events carry.
	RecordingsDir string

	// AuthFailDelay is the pause before "Authentication failed" (Asterisk: 1 s).
	AuthFailDelay time.Duration
	// AuthTimeout drops sessions that do not log in (Asterisk authtimeout: 30 s).
	AuthTimeout time.Duration
	// WriteTimeout is how long one socket write may block before the session is
	// dropped (Asterisk writetimeout: 100 ms).
	WriteTimeout time.Duration
	// MaxPending bounds the bytes queued for one session; a session whose reader falls
	// further behind is disconnected, never waited for (default 4 MiB).
	MaxPending int
}

// DefaultGreeting is what Asterisk 20 sends (AMI version 9.0.0).
const DefaultGreeting = "Asterisk Call Manager/9.0.0"

func (o *Options) setDefaults() {
	if o.Listen == "" {
		o.Listen = "127.0.0.1:5038"
	}
	if o.Greeting == "" {
		o.Greeting = DefaultGreeting
	}
	if o.Start.IsZero() {
		o.Start = time.Now().UTC()
	}
	if o.AuthFailDelay == 0 {
		o.AuthFailDelay = time.Second
	}
	if o.AuthTimeout == 0 {
		o.AuthTimeout = 30 * time.Second
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = 100 * time.Millisecond
	}
	if o.MaxPending == 0 {
		o.MaxPending = 4 << 20
	}
	if o.Servers == 0 {
		o.Servers = 1
	}
}

// Server is one simulated Asterisk: a listener, its sessions, a model and its clock.
type Server struct {
	opts Options
	log  *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // accept loops, clock, sessions, restarts

	mu       sync.Mutex
	ln       net.Listener
	addr     string
	sessions map[*session]struct{}
	closed   bool

	modelMu   sync.Mutex // serialises Model calls and the simulated clock
	model     Model
	startWall time.Time
	simLast   time.Time // latest simulated time handed to the model

	slowDrops atomic.Uint64

	nudge   chan struct{} // wakes the clock after an action
	drained chan struct{} // a session's queue fell below half (ASAP back-pressure)
}

// New returns a server; Start binds it.
func New(opts Options, logger *slog.Logger) *Server {
	opts.setDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		opts:     opts,
		log:      logger,
		sessions: map[*session]struct{}{},
		nudge:    make(chan struct{}, 1),
		drained:  make(chan struct{}, 1),
	}
	if opts.Model != nil {
		s.model = opts.Model(opts.Start)
	} else {
		s.model = pbx.New(opts.PBX, opts.Start)
	}
	return s
}

// Start binds the listener and starts the accept loop and the clock. The goroutines
// stop when ctx ends or Close is called.
func (s *Server) Start(ctx context.Context) error {
	if err := checkRecordingsDir(s.opts.RecordingsDir); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", s.opts.Listen)
	if err != nil {
		return fmt.Errorf("sim: listen %s: %w", s.opts.Listen, err)
	}
	s.ctx, s.cancel = context.WithCancel(ctx)
	s.mu.Lock()
	s.ln = ln
	s.addr = ln.Addr().String()
	s.mu.Unlock()
	s.modelMu.Lock()
	s.startWall = time.Now()
	s.simLast = s.opts.Start
	s.modelMu.Unlock()
	s.wg.Add(3)
	go s.acceptLoop(ln)
	go s.clock()
	go func() { // the parent ctx ending closes sockets like Close does
		defer s.wg.Done()
		<-s.ctx.Done()
		s.shutdown()
	}()
	return nil
}

// Stats is what a test or the CLI may want to know about a running server.
type Stats struct {
	Sessions        int    // connected sockets, logged in or not
	SlowDisconnects uint64 // sessions dropped because they read too slowly
}

// Stats returns current counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{Sessions: len(s.sessions), SlowDisconnects: s.slowDrops.Load()}
}

// Addr is the bound address ("127.0.0.1:41234"); stable across Restart.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Close stops accepting, drops every session and waits for all goroutines.
func (s *Server) Close() error {
	if s.cancel == nil {
		return nil
	}
	s.cancel()
	s.shutdown()
	s.wg.Wait()
	return nil
}

func (s *Server) shutdown() {
	s.mu.Lock()
	s.closed = true
	ln := s.ln
	s.ln = nil
	sessions := make([]*session, 0, len(s.sessions))
	for ss := range s.sessions {
		sessions = append(sessions, ss)
	}
	s.mu.Unlock()
	if ln != nil {
		_ = ln.Close()
	}
	for _, ss := range sessions {
		ss.kill("server closed")
	}
}

// DropConnections closes every client socket at once, as a network cut or an Asterisk
// crash would: no Shutdown event, just a TCP close. The listener stays open.
func (s *Server) DropConnections() {
	s.mu.Lock()
	sessions := make([]*session, 0, len(s.sessions))
	for ss := range s.sessions {
		sessions = append(sessions, ss)
	}
	s.mu.Unlock()
	for _, ss := range sessions {
		ss.kill("dropped")
	}
}

// Restart behaves like "core restart now": sessions that may read the system class
// get Event: Shutdown (Shutdown: Cleanly, Restart: True), every socket closes, the
// port refuses connections for down, then the server listens on the same address
// again. The model keeps running (its calls go on while nobody is connected).
func (s *Server) Restart(down time.Duration) {
	s.broadcast([]ami.Event{{Name: "Shutdown", Fields: ami.Message{
		{Key: "Event", Value: "Shutdown"}, {Key: "Privilege", Value: "system,all"},
		{Key: "Shutdown", Value: "Cleanly"}, {Key: "Restart", Value: "True"},
	}}}, s.currentSimTime())
	s.mu.Lock()
	if s.closed || s.ln == nil {
		s.mu.Unlock()
		return
	}
	ln := s.ln
	s.ln = nil
	addr := s.addr
	sessions := make([]*session, 0, len(s.sessions))
	for ss := range s.sessions {
		sessions = append(sessions, ss)
	}
	s.mu.Unlock()
	_ = ln.Close()
	for _, ss := range sessions {
		ss.closeAfterFlush()
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTimer(down)
		defer t.Stop()
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		for {
			ln, err := net.Listen("tcp", addr)
			if err == nil {
				s.mu.Lock()
				if s.closed {
					s.mu.Unlock()
					_ = ln.Close()
					return
				}
				s.ln = ln
				s.mu.Unlock()
				s.wg.Add(1)
				go s.acceptLoop(ln)
				return
			}
			s.log.Warn("sim: relisten failed, retrying", "addr", addr, "err", err)
			select {
			case <-s.ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
}

func (s *Server) acceptLoop(ln net.Listener) {
	defer s.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			s.log.Warn("sim: accept", "err", err)
			select {
			case <-s.ctx.Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		ss := newSession(s, c)
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = c.Close()
			continue
		}
		s.sessions[ss] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(2)
		go ss.readLoop()
		go ss.writeLoop()
	}
}

func (s *Server) removeSession(ss *session) {
	s.mu.Lock()
	delete(s.sessions, ss)
	s.mu.Unlock()
}

// simTimeLocked maps the wall clock to simulated time; never goes backwards.
func (s *Server) simTimeLocked() time.Time {
	if s.opts.Speed <= 0 {
		return s.simLast
	}
	t := s.opts.Start.Add(time.Duration(float64(time.Since(s.startWall)) * s.opts.Speed))
	if t.Before(s.simLast) {
		return s.simLast
	}
	return t
}

func (s *Server) currentSimTime() time.Time {
	s.modelMu.Lock()
	defer s.modelMu.Unlock()
	return s.simTimeLocked()
}

// clock is the one goroutine that advances the model. In timed mode it sleeps until
// the next model event (at most 200 ms, so actions' side effects come out promptly);
// in as-fast-as-possible mode it jumps from event to event, held back only by
// sessions whose queues are more than half full.
func (s *Server) clock() {
	defer s.wg.Done()
	const maxSleep = 200 * time.Millisecond
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if s.ctx.Err() != nil {
			return
		}
		var wait time.Duration
		if s.opts.Speed > 0 {
			s.modelMu.Lock()
			now := s.simTimeLocked()
			s.simLast = now
			evs := s.model.Advance(now)
			next, ok := s.model.Next()
			s.modelMu.Unlock()
			s.broadcast(evs, now)
			wait = maxSleep
			if ok {
				if d := time.Duration(float64(next.Sub(now)) / s.opts.Speed); d < wait {
					wait = max(d, time.Millisecond)
				}
			}
		} else {
			if !s.waitBackPressure() {
				return
			}
			// Collect a batch (up to 512 events) so one broadcast carries many events,
			// but never so many that a single batch overruns a session's queue.
			s.modelMu.Lock()
			var evs []ami.Event
			now := s.simLast
			ok := false
			for len(evs) < 512 {
				next, more := s.model.Next()
				if !more {
					break
				}
				ok = true
				if next.After(now) {
					now = next
				}
				s.simLast = now
				evs = append(evs, s.model.Advance(now)...)
			}
			s.modelMu.Unlock()
			if ok {
				s.broadcast(evs, now)
				continue
			}
			wait = maxSleep
		}
		timer.Reset(wait)
		select {
		case <-s.ctx.Done():
			return
		case <-s.nudge:
			if !timer.Stop() {
				<-timer.C
			}
		case <-timer.C:
		}
	}
}

// waitBackPressure blocks (ASAP mode only) while any session has more than half of
// MaxPending queued. A stuck session is dropped by its write timeout, so this never
// waits forever.
func (s *Server) waitBackPressure() bool {
	for {
		busy := false
		s.mu.Lock()
		for ss := range s.sessions {
			if ss.pendingLen() > s.opts.MaxPending/2 {
				busy = true
				break
			}
		}
		s.mu.Unlock()
		if !busy {
			return true
		}
		select {
		case <-s.ctx.Done():
			return false
		case <-s.drained:
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func (s *Server) wake() {
	select {
	case s.nudge <- struct{}{}:
	default:
	}
}

// broadcast renders each event once and queues it for every logged-in session whose
// event mask covers all of the event's classes. It never blocks: a session that
// cannot take more is disconnected (Asterisk's writetimeout behaviour).
func (s *Server) broadcast(evs []ami.Event, now time.Time) {
	if len(evs) == 0 {
		return
	}
	s.writeRecordings(evs)
	s.mu.Lock()
	sessions := make([]*session, 0, len(s.sessions))
	for ss := range s.sessions {
		sessions = append(sessions, ss)
	}
	s.mu.Unlock()
	if len(sessions) == 0 {
		return
	}
	type rendered struct {
		b    []byte
		mask classMask
	}
	out := make([]rendered, len(evs))
	for i := range evs {
		m := evs[i].Fields
		t := evs[i].Time
		if t.IsZero() {
			t = now
		}
		out[i] = rendered{b: s.renderEvent(m, t), mask: parsePrivilege(m.Get("Privilege"))}
	}
	var batch []byte
	for _, ss := range sessions {
		mask, ok := ss.eventMask()
		if !ok {
			continue
		}
		batch = batch[:0]
		for _, r := range out {
			if r.mask&^mask == 0 {
				batch = append(batch, r.b...)
			}
		}
		if len(batch) > 0 {
			ss.enqueue(batch)
		}
	}
}

// renderEvent writes an async event in wire form, adding Timestamp after Privilege
// when timestampevents is on (manager.c puts it right there).
func (s *Server) renderEvent(m ami.Message, t time.Time) []byte {
	var b strings.Builder
	b.Grow(len(m) * 24)
	after := -1 // index of the field the Timestamp follows
	if s.opts.TimestampEvents {
		after = 0
		for i, f := range m {
			if strings.EqualFold(f.Key, "Privilege") {
				after = i
				break
			}
		}
	}
	for i, f := range m {
		if after >= 0 && strings.EqualFold(f.Key, "Timestamp") {
			continue
		}
		b.WriteString(f.Key)
		b.WriteString(": ")
		b.WriteString(f.Value)
		b.WriteString("\r\n")
		if i == after {
			b.WriteString("Timestamp: ")
			b.WriteString(formatStamp(t))
			b.WriteString("\r\n")
		}
	}
	b.WriteString("\r\n")
	return []byte(b.String())
}

func formatStamp(t time.Time) string {
	return fmt.Sprintf("%d.%06d", t.Unix(), t.Nanosecond()/1000)
}
