package live_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/linkage/linkage/ami"
	"github.com/linkage/linkage/ami/assemble"
	"github.com/linkage/linkage/ami/live"
	"github.com/linkage/linkage/graph"
	"github.com/linkage/linkage/internal/livetest"
)

// memberEvent is a QueueMemberStatus of member i of queue support, busy or idle.
func memberEvent(i int, busy bool) *ami.Event {
	st := "1"
	if busy {
		st = "2"
	}
	iface := "PJSIP/" + strconv.Itoa(2000+i)
	return &ami.Event{Name: "QueueMemberStatus", Time: time.Now(), Fields: ami.Message{
		{Key: "Event", Value: "QueueMemberStatus"}, {Key: "Queue", Value: "support"}, {Key: "MemberName", Value: "Agent " + strconv.Itoa(i)},
		{Key: "Interface", Value: iface}, {Key: "StateInterface", Value: iface}, {Key: "Status", Value: st},
		{Key: "Paused", Value: "0"}, {Key: "InCall", Value: "0"}}}
}

func ringing(seq int) []assemble.Output {
	return []assemble.Output{{Note: &assemble.Notification{Kind: assemble.Ringing, Time: time.Now(), Linkedid: "L" + strconv.Itoa(seq),
		Caller: assemble.Party{Number: "0612345678"}, Party: assemble.Party{Number: "1002", Device: "PJSIP/1002"}, Queue: "support"}}}
}

func ended(seq int) []assemble.Output {
	return []assemble.Output{{Note: &assemble.Notification{Kind: assemble.Ended, Time: time.Now(), Linkedid: "L" + strconv.Itoa(seq)}}}
}

const members = 10

// BenchmarkApply is the ingestion cost per event (a member status change that moves
// a queue and an operator) with no subscribers, with 1,000 subscribers that read,
// and with 1,000 that never read: Publish does not depend on them.
func BenchmarkApply(b *testing.B) {
	for _, mode := range []string{"none", "1000-reading", "1000-stalled"} {
		b.Run(mode, func(b *testing.B) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			hub := live.NewHub(live.HubOptions{})
			defer hub.Close()
			st := live.NewState(live.Options{Hub: hub, Directory: labDirectory()})
			var wg sync.WaitGroup
			if mode != "none" {
				for range 1000 {
					ch := live.Watch(ctx, hub, live.TopicQueue, nil, live.ToQueues)
					if mode == "1000-reading" {
						wg.Add(1)
						go func() {
							defer wg.Done()
							for range ch {
							}
						}()
					}
				}
			}
			evs := make([]*ami.Event, 2*members)
			for i := range evs {
				evs[i] = memberEvent(i%members, i >= members)
			}
			b.ResetTimer()
			for i := range b.N {
				st.Apply(1, evs[i%len(evs)], nil)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "applies/s")
			cancel()
			hub.Close()
			wg.Wait()
		})
	}
}

// TestLoadSubscribers: N WebSocket subscribers on loopback (half callEvents, half
// queueStats) while member changes flow and calls ring; reports the latency from
// Apply to receipt of each call event, and the Apply throughput with the clients
// reading and with them stalled. N is 100 by default; LINKAGE_LIVE_LOAD=1 runs the
// 1,000-subscriber figures of BENCHMARKS-live.md.
//
// LINKAGE_LIVE_CLIENTS=process runs the clients in a child process
// (internal/livetest/cmd/loadclient), so the process CPU and the profile are the
// server's alone; LINKAGE_LIVE_SHARE=0 turns subscription sharing off.
func TestLoadSubscribers(t *testing.T) {
	n, dur, bgRate, callRate := 100, 2*time.Second, 500, 20
	if os.Getenv("LINKAGE_LIVE_LOAD") != "" {
		n, dur = 1000, 10*time.Second
	}
	// LINKAGE_LIVE_MIX=events: every subscriber on callEvents (the CRM case);
	// default: half on callEvents, half on queueStats boards.
	boards := os.Getenv("LINKAGE_LIVE_MIX") != "events"
	if v, err := strconv.Atoi(os.Getenv("LINKAGE_LIVE_CALLS")); err == nil && v > 0 && v <= 100 {
		callRate = v // calls rung per second (each also ends: two events per call)
	}
	outOfProcess := os.Getenv("LINKAGE_LIVE_CLIENTS") == "process"
	unshared := os.Getenv("LINKAGE_LIVE_SHARE") == "0"
	if testing.Short() {
		t.Skip("load test")
	}
	livetest.CheckLeaks(t)
	ctx := guard(t, 5*time.Minute)
	hub := live.NewHub(live.HubOptions{})
	defer hub.Close()
	st := live.NewState(live.Options{Hub: hub, Directory: labDirectory()})
	for i := range members {
		st.Apply(1, memberEvent(i, false), nil)
	}
	reg := prometheus.NewRegistry()
	h := graph.NewHandler(&graph.Resolver{Live: &graph.Live{Hub: hub, Unshared: unshared}}, graph.ServerOptions{Registerer: reg})
	srv := httptest.NewServer(asSystem(h))
	defer srv.Close()

	var sent sync.Map // linkedid -> time.Time of Apply
	var latMu sync.Mutex
	var ls []time.Duration
	var received atomic.Int64
	ringingAt := func(lid string, at time.Time) {
		if t0, ok := sent.Load(lid); ok {
			received.Add(1)
			latMu.Lock()
			ls = append(ls, at.Sub(t0.(time.Time)))
			latMu.Unlock()
		}
	}
	const boardQuery = `subscription { queueStats { snapshot queues { name received members { interface status since } } } }`
	var clients loadClients
	if outOfProcess {
		clients = startProcessClients(t, ctx, srv.URL, n, boards, boardQuery, ringingAt)
	} else {
		clients = startInProcessClients(t, ctx, srv.URL, n, boards, boardQuery, ringingAt)
	}
	time.Sleep(500 * time.Millisecond) // let every subscription register

	cpu0, ccpu0 := cpuTime(), clients.cpu()
	shared0, own0 := sharedCounts(t, reg)
	// Flow: background member changes at bgRate/s and a ringing call at callRate/s.
	stop := make(chan struct{})
	var iwg sync.WaitGroup
	iwg.Add(1)
	var seq atomic.Int64
	go func() {
		defer iwg.Done()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		k := 0
		for tn := 0; ; tn++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			for range bgRate / 100 {
				st.Apply(1, memberEvent(k%members, k/members%2 == 0), nil)
				k++
			}
			if tn%(100/callRate) == 0 {
				n := int(seq.Add(1))
				sent.Store("L"+strconv.Itoa(n), time.Now())
				st.Apply(1, nil, ringing(n))
				if n > 5 {
					st.Apply(1, nil, ended(n-5))
				}
			}
		}
	}()
	time.Sleep(dur)
	close(stop)
	iwg.Wait()
	evSubs := n
	if boards {
		evSubs = n / 2
	}
	want := seq.Load() * int64(evSubs)
	for deadline := time.Now().Add(10 * time.Second); received.Load() < want && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond) // let the last bursts arrive (slow under -race)
	}
	cpu, ccpu := cpuTime()-cpu0, clients.cpu()-ccpu0
	latMu.Lock()
	sorted := slices.Clone(ls)
	latMu.Unlock()
	slices.Sort(sorted)
	pct := func(p float64) time.Duration {
		if len(sorted) == 0 {
			return 0
		}
		return sorted[min(len(sorted)-1, int(float64(len(sorted))*p))]
	}
	mode := "in-process clients"
	if outOfProcess {
		mode = "out-of-process clients"
	}
	t.Logf("%d subscribers (%d callEvents, %d queueStats), %s, sharing %v, %v, %d member changes/s, %d calls/s: %d calls rung, %d/%d RINGING deliveries",
		n, evSubs, n-evSubs, mode, !unshared, dur, bgRate, callRate, seq.Load(), received.Load(), want)
	t.Logf("Apply -> client latency: p50 %v  p99 %v  max %v", pct(0.50), pct(0.99), pct(1))
	sharedMsgs, ownMsgs := sharedCounts(t, reg)
	sharedMsgs, ownMsgs = sharedMsgs-shared0, ownMsgs-own0
	msgs := sharedMsgs + ownMsgs // live messages the server sent over the run (RINGING, ENDED, boards)
	t.Logf("server sent %.0f messages over the run: %.0f rendered, %.0f shared", msgs, ownMsgs, sharedMsgs)
	if outOfProcess {
		t.Logf("CPU over the run: server process %v (%.2f cores, %.0f µs per message sent), client process %v (%.2f cores)",
			cpu.Round(time.Millisecond), cpu.Seconds()/(dur.Seconds()+1), float64(cpu.Microseconds())/max(msgs, 1),
			ccpu.Round(time.Millisecond), ccpu.Seconds()/(dur.Seconds()+1))
	} else {
		t.Logf("CPU over the run: process (server and clients) %v (%.2f cores, %.0f µs per message sent)",
			cpu.Round(time.Millisecond), cpu.Seconds()/(dur.Seconds()+1), float64(cpu.Microseconds())/max(msgs, 1))
	}
	if len(sorted) == 0 || received.Load() < want*95/100 {
		t.Errorf("only %d of %d call events arrived", received.Load(), want)
	}
	if p := pct(0.99); p > 100*time.Millisecond {
		t.Logf("WARNING: p99 %v is above the 100 ms target", p)
	}

	// Ingestion with the clients reading, then with every client stalled.
	rate := func() float64 {
		start, k := time.Now(), 0
		for time.Since(start) < time.Second {
			for range 100 {
				st.Apply(1, memberEvent(k%members, k/members%2 == 0), nil)
				k++
			}
		}
		return float64(k) / time.Since(start).Seconds()
	}
	reading := rate()
	clients.stall()
	time.Sleep(200 * time.Millisecond)
	stalledRate := rate()
	all, boardMsgs := clients.stop()
	hub.Close()
	t.Logf("clients received %d messages (%d board updates); Apply throughput: %.0f/s with %d clients reading, %.0f/s with them stalled",
		all, boardMsgs, reading, n, stalledRate)
	fmt.Fprintf(os.Stderr, "LOAD clients=%s share=%v boards=%v n=%d calls=%d p50=%v p99=%v max=%v applies_reading=%.0f applies_stalled=%.0f delivered=%d/%d\n",
		map[bool]string{false: "in", true: "process"}[outOfProcess], !unshared, boards, n, callRate, pct(0.5), pct(0.99), pct(1), reading, stalledRate, received.Load(), want)
}

// loadClients are TestLoadSubscribers' subscribers, in this process or another.
type loadClients interface {
	cpu() time.Duration        // CPU the clients used so far (0 in process: it is in cpuTime)
	stall()                    // every client stops reading
	stop() (all, boards int64) // close them; messages received, board updates among them
}

// inProcessClients share the server's process (and its CPU and GC).
type inProcessClients struct {
	clients        []*livetest.WSClient
	wg             sync.WaitGroup
	stalled        chan struct{}
	cancel         context.CancelFunc
	all, boardMsgs atomic.Int64
}

func startInProcessClients(t *testing.T, ctx context.Context, url string, n int, boards bool, boardQuery string, ringingAt func(string, time.Time)) *inProcessClients {
	c := &inProcessClients{stalled: make(chan struct{})}
	cctx, cancel := context.WithCancel(ctx)
	c.cancel = cancel
	for i := range n {
		cl, err := livetest.Dial(cctx, url, map[string]any{}, nil)
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		c.clients = append(c.clients, cl)
		board := boards && i%2 == 1
		q := callEventsQuery
		if board {
			q = boardQuery
		}
		ch, err := cl.Subscribe(cctx, q, nil, 16)
		if err != nil {
			t.Fatal(err)
		}
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			for {
				select {
				case raw, ok := <-ch:
					if !ok {
						return
					}
					now := time.Now()
					c.all.Add(1)
					if board {
						c.boardMsgs.Add(1)
						continue
					}
					// cheap extraction: the clients share the server's CPU here
					if field(raw, "kind") == "RINGING" {
						ringingAt(field(raw, "linkedid"), now)
					}
				case <-c.stalled: // the clients stop reading: the server must not care
					<-cctx.Done()
					return
				case <-cctx.Done():
					return
				}
			}
		}()
	}
	return c
}

func (c *inProcessClients) cpu() time.Duration { return 0 }
func (c *inProcessClients) stall()             { close(c.stalled) }
func (c *inProcessClients) stop() (int64, int64) {
	c.cancel()
	for _, cl := range c.clients {
		_ = cl.Close()
	}
	c.wg.Wait()
	return c.all.Load(), c.boardMsgs.Load()
}

// processClients run internal/livetest/cmd/loadclient in a child process.
type processClients struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	cpus    chan time.Duration
	total   chan [2]int64
	readerD chan struct{}
}

func startProcessClients(t *testing.T, ctx context.Context, url string, n int, boards bool, boardQuery string, ringingAt func(string, time.Time)) *processClients {
	bin := filepath.Join(t.TempDir(), "loadclient")
	build := exec.CommandContext(ctx, filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, "github.com/linkage/linkage/internal/livetest/cmd/loadclient")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build loadclient: %v\n%s", err, out)
	}
	every := 0
	if boards {
		every = 2
	}
	c := &processClients{cpus: make(chan time.Duration, 1), total: make(chan [2]int64, 1), readerD: make(chan struct{})}
	c.cmd = exec.CommandContext(ctx, bin, "-url", url, "-n", strconv.Itoa(n), "-query", callEventsQuery, "-board", boardQuery, "-every", strconv.Itoa(every))
	c.cmd.Stderr = os.Stderr
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start loadclient: %v", err)
	}
	ready := make(chan struct{})
	// The reader goroutine ends when the child closes its stdout (it exits).
	go func() {
		defer close(c.readerD)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			switch {
			case len(f) == 3 && f[0] == "R":
				ns, _ := strconv.ParseInt(f[2], 10, 64)
				ringingAt(f[1], time.Unix(0, ns))
			case len(f) == 1 && f[0] == "READY":
				close(ready)
			case len(f) == 2 && f[0] == "CPU":
				ns, _ := strconv.ParseInt(f[1], 10, 64)
				c.cpus <- time.Duration(ns)
			case len(f) == 3 && f[0] == "TOTAL":
				a, _ := strconv.ParseInt(f[1], 10, 64)
				b, _ := strconv.ParseInt(f[2], 10, 64)
				c.total <- [2]int64{a, b}
			}
		}
	}()
	select {
	case <-ready:
	case <-c.readerD:
		t.Fatal("loadclient exited before it was ready")
	case <-ctx.Done():
		t.Fatal("loadclient not ready in time")
	}
	t.Cleanup(func() { // if the test failed before stop
		_ = c.stdin.Close()
		<-c.readerD
		_ = c.cmd.Wait()
	})
	return c
}

func (c *processClients) cpu() time.Duration {
	if _, err := io.WriteString(c.stdin, "CPU\n"); err != nil {
		return 0
	}
	return <-c.cpus
}
func (c *processClients) stall() { _, _ = io.WriteString(c.stdin, "STALL\n") }
func (c *processClients) stop() (int64, int64) {
	_ = c.stdin.Close()
	tot := <-c.total
	<-c.readerD
	_ = c.cmd.Wait()
	return tot[0], tot[1]
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// field returns the string value of "name" in a flat JSON payload, without decoding it.
func field(raw []byte, name string) string {
	k := []byte(`"` + name + `":"`)
	i := bytes.Index(raw, k)
	if i < 0 {
		return ""
	}
	rest := raw[i+len(k):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}

// The out-of-process clients of TestLoadSubscribers report what they receive: every
// RINGING of the callEvents clients with its receipt time, and the totals.
func TestLoadClientProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a child process")
	}
	ctx := guard(t, 2*time.Minute)
	hub := live.NewHub(live.HubOptions{BoardInterval: -1})
	defer hub.Close()
	h := graph.NewHandler(&graph.Resolver{Live: &graph.Live{Hub: hub}}, graph.ServerOptions{})
	srv := httptest.NewServer(asSystem(h))
	defer srv.Close()
	var mu sync.Mutex
	got := map[string]int{}
	before := time.Now()
	cl := startProcessClients(t, ctx, srv.URL, 4, true, `subscription { queueStats { snapshot } }`, func(lid string, at time.Time) {
		mu.Lock()
		defer mu.Unlock()
		if at.Before(before) || at.After(time.Now()) {
			t.Errorf("receipt time %v outside the test", at)
		}
		got[lid]++
	})
	time.Sleep(200 * time.Millisecond) // the subscriptions register
	hub.Publish(live.Change{Topic: live.TopicEvent, Event: &live.CallEvent{Kind: live.EventRinging, Linkedid: "L1"}},
		live.Change{Topic: live.TopicEvent, Event: &live.CallEvent{Kind: live.EventEnded, Linkedid: "L1"}})
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n := got["L1"]
		mu.Unlock()
		if n == 2 {
			break
		}
	}
	if c := cl.cpu(); c <= 0 {
		t.Errorf("client CPU %v", c)
	}
	cl.stall()
	all, boards := cl.stop()
	mu.Lock()
	defer mu.Unlock()
	if got["L1"] != 2 || len(got) != 1 {
		t.Errorf("RINGING receipts %v, want L1 twice (two callEvents clients)", got)
	}
	if all != 6 || boards != 2 { // 2 × (RINGING, ENDED) + 2 board snapshots
		t.Errorf("clients received %d messages (%d board), want 6 (2)", all, boards)
	}
}
