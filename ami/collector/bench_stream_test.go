package collector

import (
	"bufio"
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/linkage/linkage/ami"
	"github.com/linkage/linkage/ami/sim/pbx"
)

// streamSource is a minimal Asterisk for benchmarks: the simulator's traffic is
// generated and rendered (as the simulator renders it, timestampevents=yes) into a
// file before the clock starts; the source logs the client in, answers its actions
// (empty resync lists, Success for anything else) and, once opened, writes the file
// to the socket as fast as the collector reads it. While the collector is measured
// the source costs read and write syscalls only, so the figure is the collector's.
//
// Unlike Asterisk (and the simulator) it never drops a slow reader: a collector that
// reads slowly is measured as slow, not as lossy. The stream is sent once, on the
// first session; a later session (a reconnect) only gets answers to its actions.
type streamSource struct {
	ln     net.Listener
	path   string
	events int64

	gate     chan struct{}
	stop     chan struct{}
	streamed atomic.Bool
	sent     atomic.Int64 // bytes written to the socket
	size     int64
	first    sync.Once
	wg       sync.WaitGroup

	mu    sync.Mutex
	conns []net.Conn
	hold  func() bool // set by pace: true while the source should wait
}

// pace makes the source wait before each chunk while hold returns true. The
// benchmarks hold it while the collector's event queue is more than a quarter full:
// a closed loop, as a TCP window would be if the collector read only as fast as it
// processes. Without it the source outruns the collector and the excess is dropped
// (counted and reported as a gap, by design), so what is measured is how much is
// lost rather than how fast events are ingested.
func (s *streamSource) pace(hold func() bool) {
	s.mu.Lock()
	s.hold = hold
	s.mu.Unlock()
}

func newStreamSource(b *testing.B, cfg pbx.Config, start time.Time, d time.Duration) *streamSource {
	b.Helper()
	t0 := time.Now()
	path := filepath.Join(b.TempDir(), "stream.ami")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	m := newScripted(start, cfg, 0, nil)
	m.end = start.Add(d)
	m.open()
	var buf []byte
	n := int64(0)
	for {
		next, ok := m.Next()
		if !ok {
			break
		}
		evs := m.Advance(next)
		for i := range evs {
			at := evs[i].Time
			if at.IsZero() {
				at = next
			}
			buf = renderStamped(buf[:0], evs[i].Fields, at)
			if _, err := w.Write(buf); err != nil {
				b.Fatal(err)
			}
		}
		n += int64(len(evs))
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	size, _ := f.Seek(0, io.SeekCurrent)
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	b.Logf("stream source: %d events, %d MB rendered in %s", n, size>>20, time.Since(t0).Round(time.Millisecond))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	s := &streamSource{ln: ln, path: path, events: n, size: size, gate: make(chan struct{}), stop: make(chan struct{})}
	s.wg.Add(1)
	go s.accept()
	b.Cleanup(s.close)
	return s
}

// renderStamped is the simulator's rendering of an event (sim.Server.renderEvent)
// with Timestamp after Privilege.
func renderStamped(b []byte, m ami.Message, t time.Time) []byte {
	after := 0
	for i, f := range m {
		if strings.EqualFold(f.Key, "Privilege") {
			after = i
			break
		}
	}
	for i, f := range m {
		if strings.EqualFold(f.Key, "Timestamp") {
			continue
		}
		b = append(b, f.Key...)
		b = append(b, ": "...)
		b = append(b, f.Value...)
		b = append(b, "\r\n"...)
		if i == after {
			b = append(b, "Timestamp: "...)
			b = strconv.AppendInt(b, t.Unix(), 10)
			b = append(b, '.')
			b = append(b, fmt.Sprintf("%06d", t.Nanosecond()/1000)...)
			b = append(b, "\r\n"...)
		}
	}
	return append(b, "\r\n"...)
}

func (s *streamSource) Addr() string            { return s.ln.Addr().String() }
func (s *streamSource) open()                   { close(s.gate) }
func (s *streamSource) exhausted() bool         { return s.streamed.Load() }
func (s *streamSource) slowDisconnects() uint64 { return 0 }

// produced is the events written so far, pro rata of the bytes (exact at the end).
func (s *streamSource) produced() int64 {
	if s.streamed.Load() || s.size == 0 {
		return s.events
	}
	return s.events * s.sent.Load() / s.size
}

func (s *streamSource) close() {
	close(s.stop)
	_ = s.ln.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *streamSource) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns = append(s.conns, c)
		s.mu.Unlock()
		s.wg.Add(1)
		go s.serve(c)
	}
}

// serve runs one session until the connection or the source closes.
func (s *streamSource) serve(c net.Conn) {
	defer s.wg.Done()
	defer c.Close()
	var wmu sync.Mutex // one block at a time on the socket: stream chunks and answers
	write := func(b []byte) error {
		wmu.Lock()
		defer wmu.Unlock()
		_, err := c.Write(b)
		return err
	}
	r := ami.NewReader(c)
	if write([]byte("Asterisk Call Manager/9.0.0\r\n")) != nil {
		return
	}
	login, err := r.ReadMessage()
	if err != nil {
		return
	}
	if write([]byte("Response: Success\r\nActionID: "+login.Get("ActionID")+"\r\nMessage: Authentication accepted\r\n\r\n")) != nil {
		return
	}
	actionsDone := make(chan struct{})
	go func() { // ends when the connection closes (serve's defer, or the client)
		defer close(actionsDone)
		for {
			m, err := r.ReadMessage()
			if err != nil && !errors.Is(err, ami.ErrFrame) {
				return
			}
			id := m.Get("ActionID")
			var a string
			switch act := m.Get("Action"); {
			case strings.EqualFold(act, "QueueStatus"), strings.EqualFold(act, "CoreShowChannels"):
				a = "Response: Success\r\nActionID: " + id + "\r\nEventList: start\r\nMessage: list will follow\r\n\r\n" +
					"Event: " + act + "Complete\r\nActionID: " + id + "\r\nEventList: Complete\r\nListItems: 0\r\n\r\n"
			case strings.EqualFold(act, "Ping"):
				a = "Response: Success\r\nActionID: " + id + "\r\nPing: Pong\r\n\r\n"
			case act != "":
				a = "Response: Success\r\nActionID: " + id + "\r\n\r\n"
			}
			if a != "" && write([]byte(a)) != nil {
				return
			}
		}
	}()
	defer func() { c.Close(); <-actionsDone }()
	select {
	case <-s.gate:
	case <-s.stop:
		return
	}
	s.first.Do(func() { s.stream(write) })
	<-s.stop // stay connected: a closed socket would make the collector reconnect
}

// stream writes the file in chunks that end at block boundaries, so action answers
// go between blocks.
func (s *streamSource) stream(write func([]byte) error) {
	defer s.streamed.Store(true)
	f, err := os.Open(s.path)
	if err != nil {
		return
	}
	defer f.Close()
	buf := make([]byte, 256<<10)
	carry := 0
	s.mu.Lock()
	hold := s.hold
	s.mu.Unlock()
	for {
		for hold != nil && hold() {
			select {
			case <-s.stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
		n, err := f.Read(buf[carry:])
		n += carry
		end := bytes.LastIndex(buf[:n], []byte("\r\n\r\n"))
		if err != nil { // EOF: the rest
			end = n - 4
		}
		if end >= 0 {
			if write(buf[:end+4]) != nil {
				return
			}
			s.sent.Add(int64(end + 4))
			carry = copy(buf, buf[end+4:n])
		} else {
			carry = n
			if carry == len(buf) { // one block larger than the buffer
				buf = append(buf, make([]byte, len(buf))...)
			}
		}
		if err != nil {
			return
		}
	}
}

// cpuMeter measures CPU time used by this process and by the PostgreSQL cluster of
// the test database (the postmaster and every backend: exited backends are counted
// in the postmaster's children times). On a shared machine, events per CPU-second
// of both does not depend on what the neighbours do; wall-clock rates do.
type cpuMeter struct {
	postmaster int
	tick       float64
}

func newCPUMeter(b *testing.B, db interface {
	QueryRow(string, ...any) *sql.Row
}) *cpuMeter {
	var dir string
	if err := db.QueryRow(`SHOW data_directory`).Scan(&dir); err != nil {
		b.Logf("cpu meter: %v (PostgreSQL CPU not measured)", err)
		return &cpuMeter{tick: 100}
	}
	raw, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		b.Logf("cpu meter: %v (PostgreSQL CPU not measured)", err)
		return &cpuMeter{tick: 100}
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(raw), "\n", 2)[0]))
	return &cpuMeter{postmaster: pid, tick: 100} // USER_HZ is 100 on Linux
}

// procTimes reads utime, stime, cutime, cstime (clock ticks) and the parent pid.
func procTimes(pid int) (ppid int, t [4]float64, ok bool) {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, t, false
	}
	s := string(raw)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, t, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 15 {
		return 0, t, false
	}
	ppid, _ = strconv.Atoi(f[1])
	for j := range 4 {
		t[j], _ = strconv.ParseFloat(f[11+j], 64)
	}
	return ppid, t, true
}

// read returns the CPU seconds used so far by this process and by PostgreSQL.
func (c *cpuMeter) read() (self, pg float64) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	}
	if c.postmaster == 0 {
		return self, 0
	}
	_, t, ok := procTimes(c.postmaster)
	if !ok {
		return self, 0
	}
	ticks := t[0] + t[1] + t[2] + t[3]
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, t, ok := procTimes(pid); ok && ppid == c.postmaster {
			ticks += t[0] + t[1]
		}
	}
	return self, ticks / c.tick
}
