// Command loadclient opens many graphql-transport-ws subscriptions from its own
// process, so a load test measures the server's work and not its clients' (they
// still share the machine's cores). ami/live's TestLoadSubscribers starts it with
// LINKAGE_LIVE_CLIENTS=process.
//
// Every -every'th connection subscribes to -board (its messages are only counted),
// the others to -query; for each message whose "kind" is RINGING it prints
//
//	R <linkedid> <unix nanoseconds at receipt>
//
// After the subscriptions are sent it prints READY. Commands on stdin: CPU prints
// "CPU <nanoseconds>" (this process's user+system time); STALL makes every client
// stop reading; EOF closes the connections, prints "TOTAL <messages> <board
// messages>" and exits.
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/linkage/linkage/internal/livetest"
)

func main() {
	url := flag.String("url", "", "GraphQL endpoint (http:// or ws://)")
	n := flag.Int("n", 1000, "connections, one subscription each")
	query := flag.String("query", "", "subscription whose RINGING messages are timed")
	board := flag.String("board", "", "subscription of every -every'th connection (counted only)")
	every := flag.Int("every", 0, "every how many connections subscribe to -board (0: none)")
	flag.Parse()
	if err := run(*url, *n, *query, *board, *every); err != nil {
		log.Fatal(err)
	}
}

func run(url string, n int, query, board string, every int) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := bufio.NewWriterSize(os.Stdout, 1<<16)
	var outMu sync.Mutex
	print := func(format string, args ...any) {
		outMu.Lock()
		fmt.Fprintf(out, format, args...)
		outMu.Unlock()
	}
	flush := func() {
		outMu.Lock()
		_ = out.Flush()
		outMu.Unlock()
	}
	// Receipt times are taken when a message is read; the output is flushed in
	// batches so printing costs little.
	flushDone := make(chan struct{})
	stopFlush := make(chan struct{})
	go func() {
		defer close(flushDone)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				flush()
			case <-stopFlush:
				return
			}
		}
	}()

	var all, boards atomic.Int64
	stalled := make(chan struct{})
	var wg sync.WaitGroup
	var clients []*livetest.WSClient
	for i := range n {
		cl, err := livetest.Dial(ctx, url, map[string]any{}, nil)
		if err != nil {
			return fmt.Errorf("loadclient: connection %d: %w", i, err)
		}
		clients = append(clients, cl)
		isBoard := every > 0 && i%every == every-1
		q := query
		if isBoard {
			q = board
		}
		ch, err := cl.Subscribe(ctx, q, nil, 16)
		if err != nil {
			return fmt.Errorf("loadclient: subscribe %d: %w", i, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case raw, ok := <-ch:
					if !ok {
						return
					}
					now := time.Now()
					all.Add(1)
					if isBoard {
						boards.Add(1)
						continue
					}
					if field(raw, "kind") == "RINGING" {
						print("R %s %d\n", field(raw, "linkedid"), now.UnixNano())
					}
				case <-stalled:
					<-ctx.Done()
					return
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	print("READY\n")
	flush()

	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		switch in.Text() {
		case "CPU":
			var ru syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
			print("CPU %d\n", ru.Utime.Nano()+ru.Stime.Nano())
			flush()
		case "STALL":
			close(stalled)
		}
	}
	cancel()
	for _, cl := range clients {
		_ = cl.Close()
	}
	wg.Wait()
	close(stopFlush)
	<-flushDone
	print("TOTAL %d %d\n", all.Load(), boards.Load())
	flush()
	return nil
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
