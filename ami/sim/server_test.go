package sim_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/linkage/linkage/ami"
	"github.com/linkage/linkage/ami/sim"
	"github.com/linkage/linkage/ami/sim/pbx"
)

// TestMain fails the run when a goroutine of ours (server, client, or amigo under the
// client) outlives the tests: every goroutine must have an owner that stops it.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := waitLeaks(5 * time.Second); leaked != "" {
			fmt.Fprintf(os.Stderr, "goroutine leak:\n%s\n", leaked)
			code = 1
		}
	}
	os.Exit(code)
}

func waitLeaks(d time.Duration) string {
	deadline := time.Now().Add(d)
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var leaked []string
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "waitLeaks") {
				continue
			}
			if strings.Contains(g, "github.com/linkage/linkage/ami") || strings.Contains(g, "ivahaev/amigo") {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 {
			return ""
		}
		if time.Now().After(deadline) {
			return strings.Join(leaked, "\n\n")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// guard fails the test instead of hanging when a deadlock happens.
func guard(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	done := make(chan struct{})
	t.Cleanup(func() { close(done); cancel() })
	go func() {
		select {
		case <-done:
		case <-time.After(d + 5*time.Second):
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			fmt.Fprintf(os.Stderr, "test %s timed out; goroutines:\n%s\n", t.Name(), buf)
			os.Exit(2)
		}
	}()
	return ctx
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("test", t.Name())
	}
	return slog.New(slog.DiscardHandler)
}

func startServer(t *testing.T, ctx context.Context, mod func(*sim.Options)) *sim.Server {
	t.Helper()
	o := sim.Options{
		Listen: "127.0.0.1:0", Username: "admin", Secret: "s3cret", TimestampEvents: true,
		Speed: 1, AuthFailDelay: 50 * time.Millisecond, WriteTimeout: 2 * time.Second,
		Model: newFixture(0, ""),
	}
	if mod != nil {
		mod(&o)
	}
	s := sim.New(o, testLogger(t))
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

type rawClient struct {
	t *testing.T
	c net.Conn
	r *ami.Reader
}

func dialRaw(t *testing.T, addr string) *rawClient {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	rc := &rawClient{t: t, c: c, r: ami.NewReader(c)}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	return rc
}

func (rc *rawClient) send(raw string) {
	rc.t.Helper()
	if _, err := io.WriteString(rc.c, raw); err != nil {
		rc.t.Fatal(err)
	}
}

func (rc *rawClient) read() ami.Message {
	rc.t.Helper()
	_ = rc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	m, err := rc.r.ReadMessage()
	if err != nil {
		rc.t.Fatalf("read: %v (got %v)", err, m)
	}
	return m
}

// readResponse skips async events until a Response arrives.
func (rc *rawClient) readResponse() ami.Message {
	rc.t.Helper()
	for {
		m := rc.read()
		if m.Has("Response") {
			return m
		}
	}
}

func expect(t *testing.T, m ami.Message, kv ...string) {
	t.Helper()
	for i := 0; i+1 < len(kv); i += 2 {
		if got, ok := m.Lookup(kv[i]); !ok || got != kv[i+1] {
			t.Fatalf("%s = %q, want %q in\n%s", kv[i], got, kv[i+1], m)
		}
	}
}

func TestServerBeforeLoginAndBadSecret(t *testing.T) {
	ctx := guard(t, 20*time.Second)
	s := startServer(t, ctx, nil)
	rc := dialRaw(t, s.Addr())
	rc.send("Action: Ping\r\nActionID: 1\r\n\r\n")
	m := rc.read()
	if rc.r.Greeting() != "Asterisk Call Manager/9.0.0" {
		t.Fatalf("greeting %q", rc.r.Greeting())
	}
	expect(t, m, "Response", "Error", "ActionID", "1", "Message", "Permission denied")
	if m[1].Key != "ActionID" {
		t.Fatalf("ActionID is not the second line:\n%s", m)
	}
	rc.send("Action: Login\r\nActionID: 2\r\nUsername: admin\r\nSecret: wrong\r\n\r\n")
	start := time.Now()
	m = rc.read()
	expect(t, m, "Response", "Error", "ActionID", "2", "Message", "Authentication failed")
	if time.Since(start) < 40*time.Millisecond {
		t.Fatalf("no delay before Authentication failed")
	}
	rc.send("Action: Ping\r\n\r\n")
	_ = rc.c.SetReadDeadline(time.Now().Add(3 * time.Second))
	if m, err := rc.r.ReadMessage(); err == nil {
		t.Fatalf("connection still open after failed login: %s", m)
	}
}

func TestServerTranscript(t *testing.T) {
	ctx := guard(t, 20*time.Second)
	s := startServer(t, ctx, nil)
	rc := dialRaw(t, s.Addr())
	rc.send("action: login\r\nactionid: a1\r\nusername: admin\r\nSECRET: s3cret\r\nevents: off\r\n\r\n")
	expect(t, rc.read(), "Response", "Success", "ActionID", "a1", "Message", "Authentication accepted")
	rc.send("Action: Ping\r\nActionID: a2\r\n\r\n")
	m := rc.read()
	expect(t, m, "Response", "Success", "ActionID", "a2", "Ping", "Pong")
	if !m.Has("Timestamp") {
		t.Fatalf("Ping without Timestamp: %s", m)
	}
	rc.send("Action: Command\r\nActionID: a3\r\nCommand: core show uptime\r\n\r\n")
	m = rc.read()
	expect(t, m, "Response", "Success", "Message", "Command output follows")
	if out := m.GetAll("Output"); len(out) != 2 || !strings.HasPrefix(out[0], "System uptime: ") || !strings.HasPrefix(out[1], "Last reload: ") {
		t.Fatalf("uptime output: %q", out)
	}
	rc.send("Action: Command\r\nActionID: a3b\r\nCommand: no such cli command\r\n\r\n")
	m = rc.read()
	expect(t, m, "Response", "Error", "ActionID", "a3b", "Message", "Command output follows",
		"Output", "No such command 'no such cli command' (type 'core show help no such' for other possible commands)")
	rc.send("Action: FooBar\r\nActionID: a4\r\n\r\n")
	expect(t, rc.read(), "Response", "Error", "ActionID", "a4",
		"Message", "Invalid/unknown command: FooBar. Use Action: ListCommands to show available commands.")
	rc.send("ActionID: a5\r\nFoo: bar\r\n\r\n")
	expect(t, rc.read(), "Response", "Error", "ActionID", "a5", "Message", "Missing action in request")
	rc.send("action: ping\r\nactionid: a6\r\n\r\n")
	m = rc.read()
	expect(t, m, "Response", "Success", "ActionID", "a6", "Ping", "Pong")
	if m[1].Key != "ActionID" {
		t.Fatalf("ActionID casing/position: %s", m)
	}
	rc.send("Action: Events\r\nActionID: a7\r\nEventMask: call,agent\r\n\r\n")
	expect(t, rc.read(), "Response", "Success", "ActionID", "a7", "Events", "On")
	rc.send("Action: Events\r\nActionID: a8\r\nEventMask: off\r\n\r\n")
	expect(t, rc.read(), "Response", "Success", "ActionID", "a8", "Events", "Off")
	rc.send("Action: UserEvent\r\nActionID: a10\r\nUserEvent: Test\r\nFoo: 1\r\nFoo: 2\r\n\r\n")
	expect(t, rc.read(), "Response", "Success", "ActionID", "a10", "Message", "Event Sent")
	rc.send("Action: Logoff\r\nActionID: a11\r\n\r\n")
	expect(t, rc.read(), "Response", "Goodbye", "ActionID", "a11", "Message", "Thanks for all the fish.")
	_ = rc.c.SetReadDeadline(time.Now().Add(3 * time.Second))
	if m, err := rc.r.ReadMessage(); err == nil {
		t.Fatalf("connection open after Logoff: %s", m)
	}
}

func TestServerLoginEventsAndMask(t *testing.T) {
	ctx := guard(t, 20*time.Second)
	s := startServer(t, ctx, func(o *sim.Options) { o.Model = newFixture(100*time.Millisecond, ""); o.Speed = 1 })
	rc := dialRaw(t, s.Addr())
	rc.send("Action: Login\r\nUsername: admin\r\nSecret: s3cret\r\n\r\n")
	expect(t, rc.read(), "Response", "Success", "Message", "Authentication accepted")
	fb := rc.read()
	expect(t, fb, "Event", "FullyBooted", "Privilege", "system,all", "Status", "Fully Booted")
	if fb.Has("Timestamp") {
		t.Fatalf("FullyBooted must not carry a Timestamp: %s", fb)
	}
	sa := rc.read()
	expect(t, sa, "Event", "SuccessfulAuth", "Privilege", "security,all")
	if sa[2].Key != "Timestamp" {
		t.Fatalf("Timestamp is not the third line: %s", sa)
	}
	// A session that logs in with Events: agent gets only agent-class events.
	ag := dialRaw(t, s.Addr())
	ag.send("Action: Login\r\nUsername: admin\r\nSecret: s3cret\r\nEvents: agent\r\n\r\n")
	expect(t, ag.read(), "Response", "Success")
	for range 5 {
		if m := ag.read(); m.Get("Privilege") != "agent,all" {
			t.Fatalf("event outside the agent mask: %s", m)
		}
	}
	// Events: off stops events once what was queued before it is out.
	ag.send("Action: Events\r\nActionID: off\r\nEventMask: off\r\n\r\n")
	expect(t, ag.readResponse(), "ActionID", "off", "Events", "Off")
	ag.send("Action: Ping\r\nActionID: p\r\n\r\n")
	expect(t, ag.readResponse(), "ActionID", "p")
	_ = ag.c.SetReadDeadline(time.Now().Add(400 * time.Millisecond))
	if m, err := ag.r.ReadMessage(); err == nil {
		t.Fatalf("event after Events: off: %s", m)
	}
}

func TestServerSlowReaderDisconnected(t *testing.T) {
	ctx := guard(t, 30*time.Second)
	s := startServer(t, ctx, func(o *sim.Options) {
		o.Model = newFixture(time.Millisecond, "")
		o.Speed = 0
		o.MaxPending = 256 << 10
		o.WriteTimeout = 100 * time.Millisecond
	})
	slow := dialRaw(t, s.Addr())
	_ = slow.c.(*net.TCPConn).SetReadBuffer(8 << 10)
	slow.send("Action: Login\r\nUsername: admin\r\nSecret: s3cret\r\n\r\n")
	expect(t, slow.read(), "Response", "Success")
	fast := dialRaw(t, s.Addr())
	fast.send("Action: Login\r\nUsername: admin\r\nSecret: s3cret\r\n\r\n")
	expect(t, fast.readResponse(), "Response", "Success")
	// The fast reader keeps getting events while the slow one reads nothing, until
	// the slow one is dropped.
	got := 0
	deadline := time.Now().Add(15 * time.Second)
	for s.Stats().SlowDisconnects == 0 && time.Now().Before(deadline) {
		fast.read()
		got++
	}
	st := s.Stats()
	if st.SlowDisconnects != 1 || st.Sessions != 1 {
		t.Fatalf("after %d events, stats %+v: want the slow session dropped and the fast one kept", got, st)
	}
	for range 5000 {
		fast.read()
	}
	t.Logf("slow session dropped after the fast one read %d events", got)
}

func TestServerRestartSamePort(t *testing.T) {
	ctx := guard(t, 20*time.Second)
	s := startServer(t, ctx, nil)
	addr := s.Addr()
	rc := dialRaw(t, addr)
	rc.send("Action: Login\r\nUsername: admin\r\nSecret: s3cret\r\n\r\n")
	expect(t, rc.readResponse(), "Response", "Success")
	s.Restart(300 * time.Millisecond)
	sawShutdown := false
	for {
		_ = rc.c.SetReadDeadline(time.Now().Add(3 * time.Second))
		m, err := rc.r.ReadMessage()
		if err != nil {
			break
		}
		if m.EventName() == "Shutdown" {
			sawShutdown = true
		}
	}
	if !sawShutdown {
		t.Fatal("no Shutdown event before the restart")
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatal("port accepts during the restart")
	}
	time.Sleep(500 * time.Millisecond)
	if s.Addr() != addr {
		t.Fatalf("address changed: %s -> %s", addr, s.Addr())
	}
	rc2 := dialRaw(t, addr)
	rc2.send("Action: Login\r\nUsername: admin\r\nSecret: s3cret\r\n\r\n")
	expect(t, rc2.readResponse(), "Response", "Success")
}

// With the real call model (ami/sim/pbx), every async event has Event first,
// Privilege second and Timestamp third, and the list actions answer in the shape the
// client expects. On a tree without the model this runs against whatever pbx is
// linked in and checks only what arrives.
func TestServerDefaultModelSmoke(t *testing.T) {
	ctx := guard(t, 20*time.Second)
	s := startServer(t, ctx, func(o *sim.Options) {
		o.Model = nil
		o.PBX = pbx.DefaultConfig()
		o.Speed = 600
	})
	rc := dialRaw(t, s.Addr())
	rc.send("Action: Login\r\nUsername: admin\r\nSecret: s3cret\r\nEvents: call,agent,dialplan\r\n\r\n")
	expect(t, rc.readResponse(), "Response", "Success")
	rc.send("Action: QueueStatus\r\nActionID: qs\r\n\r\n")
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		_ = rc.c.SetReadDeadline(deadline)
		m, err := rc.r.ReadMessage()
		if err != nil {
			break
		}
		if m.Get("ActionID") == "qs" || m.Has("Response") {
			continue
		}
		if len(m) < 3 || m[0].Key != "Event" || m[1].Key != "Privilege" || m[2].Key != "Timestamp" {
			t.Fatalf("event layout:\n%s", m)
		}
	}
}

// The CLI entry: flags into Options, two servers on consecutive ports, both stopped
// when the context ends.
func TestRunFlagsTwoServers(t *testing.T) {
	ctx := guard(t, 20*time.Second)
	var port int
	for range 20 { // find two free consecutive ports
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if ln2, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port+1)); err == nil {
			ln2.Close()
			break
		}
	}
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	opts := sim.RegisterFlags(fs)
	if err := fs.Parse([]string{"--listen", fmt.Sprintf("127.0.0.1:%d", port), "--servers", "2",
		"--secret", "pw", "--speed", "60", "--seed", "7", "--calls-per-hour", "120"}); err != nil {
		t.Fatal(err)
	}
	if opts.PBX.Seed != 7 || opts.PBX.CallsPerHour != 120 || opts.Speed != 60 || !opts.TimestampEvents {
		t.Fatalf("options %+v", opts)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- sim.Run(rctx, *opts, testLogger(t)) }()
	for i := range 2 {
		var c net.Conn
		var err error
		for range 100 {
			if c, err = net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port+i)); err == nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err != nil {
			t.Fatal(err)
		}
		rc := &rawClient{t: t, c: c, r: ami.NewReader(c)}
		rc.send("Action: Login\r\nUsername: admin\r\nSecret: pw\r\n\r\n")
		expect(t, rc.readResponse(), "Response", "Success")
		c.Close()
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sim.Usage, "--servers") {
		t.Fatal("Usage does not describe --servers")
	}
}
