package assemble

import (
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/linkage/linkage/ami"
)

// rewrite returns a copy of evs in which every uniqueid, linkedid, bridge id and channel
// name is made unique to copy k, so that k copies of a capture are k independent calls.
func rewrite(evs []ami.Event, k int) []ami.Event {
	out := make([]ami.Event, len(evs))
	tag := strconv.Itoa(k)
	for i, e := range evs {
		f := make(ami.Message, len(e.Fields))
		for j, fl := range e.Fields {
			key := strings.ToLower(fl.Key)
			v := fl.Value
			switch {
			case v == "":
			case strings.HasSuffix(key, "uniqueid") || strings.HasSuffix(key, "linkedid") || key == "bridgeduniqueid":
				if sec, n, ok := strings.Cut(v, "."); ok {
					if c, err := strconv.Atoi(n); err == nil {
						v = sec + "." + strconv.Itoa(c+k*1000)
						break
					}
				}
				v += "-" + tag
			case strings.HasSuffix(key, "channel") || key == "original" || key == "clone" || key == "newname":
				if d := strings.LastIndexByte(v, '-'); d > 0 {
					v = v[:d+1] + tag + "x" + v[d+1:]
				}
			}
			f[j] = ami.Field{Key: fl.Key, Value: v}
		}
		e.Fields = f
		// Copies are different events: a copy's Seq must not repeat another's, or the
		// duplicate check (by Seq) drops it.
		e.Seq |= uint64(k) << 32
		out[i] = e
	}
	return out
}

// interleave merges streams round-robin, one event at a time: many calls in flight at
// once, each in its own order. Seq is renumbered in the merged order, as the collector
// numbers what it receives.
func interleave(streams [][]ami.Event) []ami.Event {
	var out []ami.Event
	for idx := 0; ; idx++ {
		more := false
		for _, s := range streams {
			if idx < len(s) {
				out = append(out, s[idx])
				out[len(out)-1].Seq = uint64(len(out))
				more = true
			}
		}
		if !more {
			return out
		}
	}
}

func labEvents(tb testing.TB) [][]ami.Event {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "captures", "lab", "*.ami"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no lab captures: %v", err)
	}
	var all [][]ami.Event
	for _, f := range files {
		all = append(all, loadCapture(tb, f))
	}
	return all
}

// BenchmarkAssemble feeds the lab captures, 64 copies of each with rewritten ids, 64
// calls interleaved at a time, and reports events per second on one goroutine. The
// stream is the real mix: RTCP, CEL, Cdr, VarSet and polling included.
func BenchmarkAssemble(b *testing.B) {
	labs := labEvents(b)
	var streams [][]ami.Event
	for k := 0; k < 64; k++ {
		for _, evs := range labs {
			streams = append(streams, rewrite(evs, k))
		}
	}
	var stream []ami.Event
	for i := 0; i < len(streams); i += 64 {
		stream = append(stream, interleave(streams[i:min(i+64, len(streams))])...)
	}
	handled := 0
	for i := range stream {
		if handlerOf(stream[i].Name) != hNone {
			handled++
		}
	}
	cfg := labConfig()
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	calls := 0
	for i := 0; i < b.N; i++ {
		a := New(cfg)
		for j := range stream {
			for _, o := range a.Feed(&stream[j]) {
				if o.Call != nil {
					calls++
				}
			}
		}
		a.Close()
	}
	el, cpu := time.Since(start), cpuTime()-cpu0
	b.ReportMetric(float64(len(stream)*b.N)/el.Seconds(), "events/s")
	b.ReportMetric(float64(len(stream)*b.N)/cpu.Seconds(), "events/cpu-s")
	// The share of the stream that reaches a handler, for comparison with filtered feeds.
	b.ReportMetric(float64(handled*b.N)/el.Seconds(), "handled-events/s")
	b.ReportMetric(float64(len(stream)), "events/op")
	b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
}

// BenchmarkInFlightMemory starts N calls (a1 fed up to the agent's answer, so each call
// has a queue visit, two attempts, a Local pair, a bridge and a leg) and reports the heap
// the assembler holds per call in flight. The events stay alive during the measurement
// (they are the input, not the assembler's state), so header strings the assembler
// shares with them are not counted; interned strings are shared across calls anyway.
func BenchmarkInFlightMemory(b *testing.B) {
	g := loadGolden(b, "testdata/golden/a1.json")
	base := loadCapture(b, capturePath(g.Capture))
	cut := 0
	for i, e := range base {
		if e.Name == "BridgeEnter" && strings.HasPrefix(e.Get("Channel"), "PJSIP/trunk") {
			cut = i + 1
			break
		}
	}
	const n = 2000
	for i := 0; i < b.N; i++ {
		streams := make([][]ami.Event, n)
		for k := range streams {
			streams[k] = rewrite(base[:cut], k+1)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		a := New(labConfig())
		for _, s := range streams {
			for j := range s {
				a.Feed(&s[j])
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(streams)
		if a.InFlight() != n {
			b.Fatalf("in flight %d, want %d", a.InFlight(), n)
		}
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/n, "bytes/call")
		runtime.KeepAlive(a)
	}
}

// cpuTime is the CPU time the process has used (user + system). With -cpu 1 (one P)
// events per CPU-second is the throughput of one core whatever the neighbours do to
// the wall clock; the GC's own work is included.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
