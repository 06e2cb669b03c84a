// Package livetest holds test helpers for live monitoring: a goroutine-leak check
// and the Node graphql-ws client runner.
package livetest

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// CheckLeaks records the goroutines running now and, at cleanup, fails the test if
// more are still running after a grace period (with their stacks). Call it first in
// a test, so its cleanup runs last.
func CheckLeaks(t testing.TB) {
	t.Helper()
	base := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			n := runtime.NumGoroutine()
			if n <= base {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("goroutine leak: %d running, %d at start\n%s", n, base, interesting(string(buf)))
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// interesting drops the test runner's own goroutines from a stack dump.
func interesting(dump string) string {
	var keep []string
	for _, g := range strings.Split(dump, "\n\n") {
		if strings.Contains(g, "testing.(*T).Run") || strings.Contains(g, "testing.tRunner") && strings.Contains(g, "CheckLeaks") ||
			strings.Contains(g, "runtime.Stack") || strings.Contains(g, "testing.runTests") {
			continue
		}
		keep = append(keep, g)
	}
	return strings.Join(keep, "\n\n")
}
