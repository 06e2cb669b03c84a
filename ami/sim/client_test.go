package sim_test

// End-to-end tests of the client (package ami, on amigo) against this simulator over
// real TCP. They live here because ami cannot import ami/sim in its own tests.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linkage/linkage/ami"
	"github.com/linkage/linkage/ami/amitest"
	"github.com/linkage/linkage/ami/sim"
	"github.com/linkage/linkage/ami/sim/pbx"
)

func clientConfig(t *testing.T, addr string, mod func(*ami.Config)) ami.Config {
	cfg := ami.Config{
		ServerID: 1, Name: "test", Addr: addr, Username: "admin", Secret: "s3cret",
		Logger: testLogger(t), MinBackoff: 50 * time.Millisecond, MaxBackoff: time.Second,
		ActionTimeout: 5 * time.Second, ListTimeout: 5 * time.Second, LoginTimeout: 5 * time.Second,
	}
	if mod != nil {
		mod(&cfg)
	}
	return cfg
}

func dialClient(t *testing.T, ctx context.Context, cfg ami.Config) *ami.Conn {
	t.Helper()
	c, err := ami.Connect(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// stream reads events and checks that Seq only grows.
type stream struct {
	t    *testing.T
	c    *ami.Conn
	last uint64
	seen []ami.Event
}

func (s *stream) next(ctx context.Context) ami.Event {
	s.t.Helper()
	select {
	case ev, ok := <-s.c.Events():
		if !ok {
			s.t.Fatal("events closed")
		}
		if ev.Seq <= s.last {
			s.t.Fatalf("Seq went from %d to %d (%s)", s.last, ev.Seq, ev.Name)
		}
		s.last = ev.Seq
		s.seen = append(s.seen, ev)
		return ev
	case <-ctx.Done():
		s.t.Fatalf("no event: %v", ctx.Err())
	}
	return ami.Event{}
}

func (s *stream) until(ctx context.Context, pred func(ami.Event) bool) ami.Event {
	s.t.Helper()
	for {
		if ev := s.next(ctx); pred(ev) {
			return ev
		}
	}
}

func named(name string) func(ami.Event) bool {
	return func(ev ami.Event) bool { return ev.Name == name }
}

func TestClientLoginMarkerAndResync(t *testing.T) {
	ctx := guard(t, 20*time.Second)
	srv := startServer(t, ctx, func(o *sim.Options) { o.Model = newFixture(50*time.Millisecond, "") })
	c := dialClient(t, ctx, clientConfig(t, srv.Addr(), nil))
	st := &stream{t: t, c: c}
	m := st.next(ctx)
	if m.Name != ami.EventConnected || m.Get("Reason") != "start" || m.Get("Greeting") != sim.DefaultGreeting {
		t.Fatalf("first event %s %v", m.Name, m.Fields)
	}
	// FullyBooted survives amigo's login (the relay holds it back for amigo's reader).
	fb := st.next(ctx)
	if fb.Name != "FullyBooted" || fb.Stamped {
		t.Fatalf("second event %s stamped=%v %v", fb.Name, fb.Stamped, fb.Fields)
	}
	ev := st.until(ctx, func(ev ami.Event) bool { return ev.Get(ami.ResyncField) == "1" })
	if ev.Name != "QueueParams" || !strings.HasPrefix(ev.Get("ActionID"), "lk1-") {
		t.Fatalf("first resync item %s %v", ev.Name, ev.Fields)
	}
	st.until(ctx, func(ev ami.Event) bool { return ev.Name == "QueueStatusComplete" && ev.Get(ami.ResyncField) == "1" })
	st.until(ctx, func(ev ami.Event) bool {
		return ev.Name == "CoreShowChannelsComplete" && ev.Get(ami.ResyncField) == "1"
	})
	live := st.until(ctx, named("Newchannel"))
	if !live.Stamped || live.Time.IsZero() || live.Received.IsZero() || live.Get("#") != "" || live.Get("TimeReceived") != "" {
		t.Fatalf("live event %+v", live)
	}
	h := c.Health()
	if !h.Connected || h.EventsReceived == 0 || h.LastError != "" || h.Greeting != sim.DefaultGreeting {
		t.Fatalf("health %+v", h)
	}
	for _, e := range st.seen {
		if e.Fields.Has("Response") {
			t.Fatalf("a response reached the event stream: %v", e.Fields)
		}
	}
}

func TestClientWrongSecret(t *testing.T) {
	ctx := guard(t, 20*time.Second)
	srv := startServer(t, ctx, nil)
	var logs bytes.Buffer
	var lmu sync.Mutex
	cfg := clientConfig(t, srv.Addr(), func(c *ami.Config) {
		c.Secret = "not-the-secret-xyzzy"
		c.MinBackoff = 100 * time.Millisecond
		c.Logger = slog.New(slog.NewTextHandler(lockedWriter{&lmu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	c := ami.NewConn(cfg)
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	h := c.Health()
	_ = c.Close()
	if h.Connected || !strings.Contains(h.LastError, "authentication failed") {
		t.Fatalf("health %+v", h)
	}
	// 50 ms server delay + backoff 100, 200, 400, 800 ms: a handful of attempts, not a loop.
	if h.Failures < 2 || h.Failures > 6 {
		t.Fatalf("%d attempts in 1.5 s", h.Failures)
	}
	lmu.Lock()
	defer lmu.Unlock()
	if strings.Contains(logs.String(), "xyzzy") || strings.Contains(h.LastError, "xyzzy") {
		t.Fatal("the secret leaked into logs or health")
	}
	// Connect gives up with the reason.
	dctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	cfg.Logger = nil
	if _, err := ami.Connect(dctx, cfg); err == nil || !strings.Contains(err.Error(), "authentication failed") {
		t.Fatalf("Connect: %v", err)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestClientListActionsWhileEventsFlow(t *testing.T) {
	ctx := guard(t, 30*time.Second)
	srv := startServer(t, ctx, func(o *sim.Options) { o.Model = newFixture(2*time.Millisecond, ""); o.Speed = 1 })
	c := dialClient(t, ctx, clientConfig(t, srv.Addr(), nil))
	st := &stream{t: t, c: c}
	stop := make(chan struct{})
	var drained sync.WaitGroup
	drained.Add(1)
	var leaked []string
	go func() { // consume concurrently; nothing but events and resync items may arrive
		defer drained.Done()
		for {
			select {
			case ev := <-c.Events():
				if ev.Fields.Has("Response") || (ev.Fields.Has("ActionID") && ev.Get(ami.ResyncField) == "") {
					leaked = append(leaked, ev.Name)
				}
			case <-stop:
				return
			}
		}
	}()
	_ = st
	var wg sync.WaitGroup
	errs := make(chan error, 60)
	for i := 0; i < 20; i++ {
		wg.Add(3)
		go func() {
			defer wg.Done()
			r, err := c.QueueStatus(ctx, "", "")
			if err == nil && (len(r.Params) != 1 || len(r.Members) != 2 || len(r.Entries) != 1) {
				err = errors.New("QueueStatus: wrong items")
			}
			errs <- err
		}()
		go func() {
			defer wg.Done()
			s, err := c.QueueSummary(ctx, "support")
			if err == nil && (len(s) != 1 || s[0].Get("Queue") != "support") {
				err = errors.New("QueueSummary: wrong items")
			}
			errs <- err
		}()
		go func() {
			defer wg.Done()
			ch, err := c.CoreShowChannels(ctx)
			if err == nil && (len(ch) != 2 || ch[0].Get("Event") != "CoreShowChannel") {
				err = errors.New("CoreShowChannels: wrong items")
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	r, err := c.QueueStatus(ctx, "support", "PJSIP/1002")
	if err != nil || len(r.Members) != 1 || r.Members[0].Get("Location") != "PJSIP/1002" {
		t.Fatalf("filtered QueueStatus: %v %+v", err, r)
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	close(stop)
	drained.Wait()
	if len(leaked) > 0 {
		t.Fatalf("action traffic in the event stream: %v", leaked)
	}
	if c.Health().EventsReceived < 10 {
		t.Fatalf("events did not flow: %+v", c.Health())
	}
}

func TestClientQueueActions(t *testing.T) {
	ctx := guard(t, 20*time.Second)
	srv := startServer(t, ctx, nil)
	c := dialClient(t, ctx, clientConfig(t, srv.Addr(), nil))
	st := &stream{t: t, c: c}
	if err := c.QueuePause(ctx, "support", "PJSIP/1001", true, "Lunch"); err != nil {
		t.Fatal(err)
	}
	ev := st.until(ctx, named("QueueMemberPause"))
	if ev.Get("Interface") != "PJSIP/1001" || ev.Get("Paused") != "1" || ev.Get("PausedReason") != "Lunch" {
		t.Fatalf("QueueMemberPause %v", ev.Fields)
	}
	err := c.QueueAdd(ctx, "support", "PJSIP/1001", "Anna", "", 0, false)
	var ae *ami.ActionError
	if !errors.As(err, &ae) || ae.Action != "QueueAdd" || ae.Message != "Unable to add interface: Already there" {
		t.Fatalf("QueueAdd of an existing member: %v", err)
	}
	if err := c.QueueAdd(ctx, "support", "PJSIP/1003", "Clara", "PJSIP/1003", 1, false); err != nil {
		t.Fatal(err)
	}
	if ev := st.until(ctx, named("QueueMemberAdded")); ev.Get("MemberName") != "Clara" || ev.Get("Penalty") != "1" {
		t.Fatalf("QueueMemberAdded %v", ev.Fields)
	}
	if err := c.QueueRemove(ctx, "support", "PJSIP/1003"); err != nil {
		t.Fatal(err)
	}
	st.until(ctx, named("QueueMemberRemoved"))
	if err := c.QueueRemove(ctx, "support", "PJSIP/1003"); !errors.As(err, &ae) {
		t.Fatalf("second QueueRemove: %v", err)
	}
	if err := c.Originate(ctx, ami.OriginateRequest{Channel: "PJSIP/1001", Exten: "5551000", Context: "agents",
		Variables: []string{"CRM_ID=42", "LANG=ru"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Hangup(ctx, "PJSIP/none-0001", 16); !errors.As(err, &ae) || ae.Message != "No such channel" {
		t.Fatalf("Hangup: %v", err)
	}
	if _, err := c.Action(ctx, ami.Message{{Key: "Action", Value: "FooBar"}}); !errors.As(err, &ae) ||
		!strings.HasPrefix(ae.Message, "Invalid/unknown command: FooBar.") {
		t.Fatalf("unknown action: %v", err)
	}
	resp, err := c.Action(ctx, ami.Message{{Key: "Action", Value: "Command"}, {Key: "Command", Value: "core show uptime"}})
	if err != nil || !strings.HasPrefix(resp.Get("Output"), "System uptime") {
		t.Fatalf("Command: %v %v", err, resp)
	}
}

func TestClientReconnect(t *testing.T) {
	ctx := guard(t, 30*time.Second)
	srv := startServer(t, ctx, func(o *sim.Options) { o.Model = newFixture(20*time.Millisecond, "") })
	c := dialClient(t, ctx, clientConfig(t, srv.Addr(), nil))
	st := &stream{t: t, c: c}
	st.until(ctx, named("CoreShowChannelsComplete"))
	st.until(ctx, named("Newchannel"))

	srv.DropConnections()
	m := st.until(ctx, named(ami.EventConnected))
	if m.Get("Reason") == "" || m.Get("Reason") == "start" {
		t.Fatalf("reconnect marker without a reason: %v", m.Fields)
	}
	gs, _ := strconv.ParseFloat(m.Get("GapSeconds"), 64)
	if gs <= 0 || gs > 5 {
		t.Fatalf("GapSeconds %v", m.Get("GapSeconds"))
	}
	if ev := st.next(ctx); ev.Name != "FullyBooted" {
		t.Fatalf("after the marker: %s", ev.Name)
	}
	st.until(ctx, func(ev ami.Event) bool { return ev.Name == "QueueParams" && ev.Get(ami.ResyncField) == "1" })
	st.until(ctx, func(ev ami.Event) bool { return ev.Name == "CoreShowChannel" && ev.Get(ami.ResyncField) == "1" })

	// Restart on the same port: Shutdown, a refused period, then a gap of at least
	// that long.
	srv.Restart(800 * time.Millisecond)
	st.until(ctx, named("Shutdown"))
	m = st.until(ctx, named(ami.EventConnected))
	if !strings.Contains(m.Get("Reason"), "connection lost") {
		t.Fatalf("restart marker reason %q, want the loss, not the refused redials", m.Get("Reason"))
	}
	gs, _ = strconv.ParseFloat(m.Get("GapSeconds"), 64)
	if gs < 0.7 {
		t.Fatalf("restart gap %v s, want >= 0.8", gs)
	}
	start, err1 := time.Parse(time.RFC3339Nano, m.Get("GapStart"))
	end, err2 := time.Parse(time.RFC3339Nano, m.Get("GapEnd"))
	if err1 != nil || err2 != nil || !end.After(start) {
		t.Fatalf("GapStart/GapEnd %q %q", m.Get("GapStart"), m.Get("GapEnd"))
	}
	st.until(ctx, func(ev ami.Event) bool { return ev.Name == "QueueStatusComplete" && ev.Get(ami.ResyncField) == "1" })
	st.until(ctx, named("Newchannel"))
	if h := c.Health(); h.Reconnects != 2 || !h.Connected {
		t.Fatalf("health %+v", h)
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestClientTwoServers(t *testing.T) {
	ctx := guard(t, 20*time.Second)
	srvA := startServer(t, ctx, func(o *sim.Options) { o.Model = newFixture(20*time.Millisecond, "a-") })
	srvB := startServer(t, ctx, func(o *sim.Options) { o.Model = newFixture(20*time.Millisecond, "b-") })
	a := dialClient(t, ctx, clientConfig(t, srvA.Addr(), func(c *ami.Config) { c.ServerID = 1; c.Name = "a" }))
	b := dialClient(t, ctx, clientConfig(t, srvB.Addr(), func(c *ami.Config) { c.ServerID = 2; c.Name = "b" }))
	sa, sb := &stream{t: t, c: a}, &stream{t: t, c: b}
	// Same queue and interface names on both; the pause goes to A only.
	if err := a.QueuePause(ctx, "support", "PJSIP/1001", true, "Break"); err != nil {
		t.Fatal(err)
	}
	if err := b.QueuePause(ctx, "support", "PJSIP/1001", false, ""); err != nil {
		t.Fatal(err)
	}
	if ev := sa.until(ctx, named("QueueMemberPause")); ev.Get("Paused") != "1" {
		t.Fatalf("A: %v", ev.Fields)
	}
	if ev := sb.until(ctx, named("QueueMemberPause")); ev.Get("Paused") != "0" {
		t.Fatalf("B: %v", ev.Fields)
	}
	for range 5 {
		if ev := sa.until(ctx, named("Newchannel")); !strings.HasPrefix(ev.Get("Uniqueid"), "a-") {
			t.Fatalf("A got %v", ev.Fields)
		}
		if ev := sb.until(ctx, named("Newchannel")); !strings.HasPrefix(ev.Get("Uniqueid"), "b-") {
			t.Fatalf("B got %v", ev.Fields)
		}
	}
	if m := sb.seen[0]; m.Name != ami.EventConnected || m.Get("Server") != "2" {
		t.Fatalf("B marker %v", m.Fields)
	}
}

func TestClientSlowConsumer(t *testing.T) {
	ctx := guard(t, 30*time.Second)
	srv := startServer(t, ctx, func(o *sim.Options) {
		o.Model = newFixture(time.Millisecond, "")
		o.Speed = 0 // as fast as we read
		o.WriteTimeout = 100 * time.Millisecond
	})
	c := dialClient(t, ctx, clientConfig(t, srv.Addr(), func(c *ami.Config) { c.QueueSize = 200 }))
	// Read nothing until well past the queue size; the socket reader must keep going
	// (or the server would drop us for a slow read).
	deadline := time.Now().Add(10 * time.Second)
	for c.Health().Overflows < 5000 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	h := c.Health()
	if h.Overflows < 5000 || !h.Connected || h.Reconnects != 0 {
		t.Fatalf("health %+v", h)
	}
	if st := srv.Stats(); st.SlowDisconnects != 0 {
		t.Fatalf("server dropped us: %+v", st)
	}
	st := &stream{t: t, c: c}
	gap := st.until(ctx, named(ami.EventGap))
	if n, _ := strconv.Atoi(gap.Get("Dropped")); n == 0 || !strings.HasPrefix(gap.Get("Reason"), "overflow") {
		t.Fatalf("gap marker %v", gap.Fields)
	}
	st.until(ctx, func(ev ami.Event) bool { return ev.Get(ami.ResyncField) == "1" })
}

// A raw TCP peer that logs the client in and then sends broken blocks between good
// ones; the client must deliver the good ones and stay connected.
func TestClientMalformedFrames(t *testing.T) {
	ctx := guard(t, 20*time.Second)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peerDone := amitest.MalformedPeer(ln, "")
	c := dialClient(t, ctx, clientConfig(t, ln.Addr().String(), nil))
	st := &stream{t: t, c: c}
	g1 := st.until(ctx, named("Good1"))
	if !g1.Stamped || g1.Time.Unix() != 1795705160 || g1.Time.Nanosecond() != 299134000 {
		t.Fatalf("Good1 time %v stamped=%v", g1.Time, g1.Stamped)
	}
	st.until(ctx, named("Long"))
	st.until(ctx, named("Good2"))
	if err := c.Ping(ctx); err == nil {
		t.Fatal("the fake peer refuses every action")
	}
	if h := c.Health(); !h.Connected || h.Reconnects != 0 {
		t.Fatalf("health %+v", h)
	}
	c.Close()
	ln.Close()
	<-peerDone
}

// BenchmarkClientEvents measures events per second from the simulator (as fast as
// possible) through amigo and the client to a consumer, with the fixture model (four
// small events per synthetic call).
func BenchmarkClientEvents(b *testing.B) {
	benchEvents(b, sim.Options{Model: newFixture(time.Millisecond, "")})
}

// BenchmarkClientEventsPBX is the same with the real call model at a high call rate
// (full channel snapshots, ~25 fields per event). Skipped without the model.
func BenchmarkClientEventsPBX(b *testing.B) {
	cfg := pbx.DefaultConfig()
	cfg.CallsPerHour = 100000
	benchEvents(b, sim.Options{PBX: cfg})
}

func benchEvents(b *testing.B, o sim.Options) {
	ctx := context.Background()
	o.Listen, o.Username, o.Secret, o.TimestampEvents, o.Speed = "127.0.0.1:0", "admin", "s3cret", true, 0
	srv := sim.New(o, nil)
	if err := srv.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := ami.Connect(dctx, ami.Config{Addr: srv.Addr(), Username: "admin", Secret: "s3cret", NoResync: true, QueueSize: 1 << 16})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	for range 1000 { // warm up; the stub model sends nothing
		select {
		case <-c.Events():
		case <-time.After(2 * time.Second):
			b.Skip("no events from the model")
		}
	}
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		<-c.Events()
	}
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/el.Seconds(), "events/s")
	if h := c.Health(); h.Overflows > 0 || h.Reconnects > 0 {
		b.Logf("overflows %d, reconnects %d", h.Overflows, h.Reconnects)
	}
}

// The client against the real call model (ami/sim/pbx) at 600x: list actions while
// calls generate events, a pause observed on the stream, a refused QueueAdd. Skipped
// when the linked pbx does not answer actions (a stub on a tree without the model).
func TestClientAgainstPBXModel(t *testing.T) {
	ctx := guard(t, 30*time.Second)
	srv := startServer(t, ctx, func(o *sim.Options) {
		o.Model = nil
		o.PBX = pbx.DefaultConfig()
		o.PBX.CallsPerHour = 3000
		o.Speed = 600
	})
	c := dialClient(t, ctx, clientConfig(t, srv.Addr(), nil))
	st := &stream{t: t, c: c}
	r, err := c.QueueStatus(ctx, "support", "")
	var ae *ami.ActionError
	if errors.As(err, &ae) && strings.HasPrefix(ae.Message, "Invalid/unknown command") {
		t.Skip("the linked pbx model answers no actions")
	}
	if err != nil || len(r.Params) != 1 || len(r.Members) == 0 {
		t.Fatalf("QueueStatus: %v %+v", err, r)
	}
	iface := r.Members[0].Get("Location")
	if err := c.QueuePause(ctx, "support", iface, true, "Lunch"); err != nil {
		t.Fatal(err)
	}
	ev := st.until(ctx, func(ev ami.Event) bool { return ev.Name == "QueueMemberPause" && ev.Get("Interface") == iface })
	if ev.Get("Paused") != "1" || ev.Get("PausedReason") != "Lunch" || !ev.Stamped {
		t.Fatalf("QueueMemberPause %v", ev.Fields)
	}
	if err := c.QueueAdd(ctx, "support", iface, "Again", "", 0, false); !errors.As(err, &ae) {
		t.Fatalf("QueueAdd of an existing member: %v", err)
	}
	t.Logf("QueueAdd refused: %q", ae.Message)
	if _, err := c.CoreShowChannels(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.QueueSummary(ctx, ""); err != nil {
		t.Fatal(err)
	}
	st.until(ctx, named("Newchannel"))
}

// A server that accepts and never speaks must not hold Close for the login timeout.
func TestClientCloseDuringLogin(t *testing.T) {
	ctx := guard(t, 20*time.Second)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	c := ami.NewConn(clientConfig(t, ln.Addr().String(), func(c *ami.Config) { c.LoginTimeout = 30 * time.Second }))
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	peer := <-accepted
	defer peer.Close()
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	c.Close()
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Close took %v", d)
	}
	if _, ok := <-c.Events(); ok {
		t.Fatal("Events not closed")
	}
}
