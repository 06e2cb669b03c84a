package admin

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/linkage/linkage/ami/sim"
	"github.com/linkage/linkage/ami/sim/pbx"
)

func startSim(t *testing.T) *sim.Server {
	t.Helper()
	cfg := pbx.DefaultConfig()
	cfg.CallsPerHour, cfg.OutboundPerHour, cfg.InternalPerHour = 0, 0, 0
	s := sim.New(sim.Options{Listen: "127.0.0.1:0", Username: "linkage", Secret: "sim-secret", Greeting: "Asterisk Call Manager/7.0.3",
		Speed: 1, PBX: cfg, AuthFailDelay: 10 * time.Millisecond}, slog.New(slog.DiscardHandler))
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestProbeAMI: the outcomes outcomes an admin must be able to tell apart, each with
// its own message, within the timeout, and never with the secret in it.
func TestProbeAMI(t *testing.T) {
	s := startSim(t)
	ctx := context.Background()

	r := ProbeAMI(ctx, s.Addr(), "linkage", "sim-secret", 5*time.Second)
	if !r.OK || r.Greeting != "Asterisk Call Manager/7.0.3" || r.Error != "" || r.Latency <= 0 {
		t.Fatalf("good settings: %+v", r)
	}

	r = ProbeAMI(ctx, s.Addr(), "linkage", "wrong-secret-123", 5*time.Second)
	if r.OK || !strings.HasPrefix(r.Error, "login refused") || r.Greeting == "" || strings.Contains(r.Error, "wrong-secret-123") {
		t.Fatalf("wrong secret: %+v", r)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	free := ln.Addr().String()
	_ = ln.Close()
	r = ProbeAMI(ctx, free, "linkage", "sim-secret", 5*time.Second)
	if r.OK || !strings.HasPrefix(r.Error, "unreachable") || !strings.Contains(r.Error, "refused") {
		t.Fatalf("nothing listening: %+v", r)
	}

	// A server that accepts and never greets: the test gives up at its timeout.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = silent.Close() })
	held := make(chan net.Conn, 1)
	go func() {
		c, err := silent.Accept()
		if err == nil {
			held <- c
		}
	}()
	start := time.Now()
	r = ProbeAMI(ctx, silent.Addr().String(), "linkage", "sim-secret", 300*time.Millisecond)
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("silent server: took %s, want about the 300 ms timeout", took)
	}
	if r.OK || !strings.HasPrefix(r.Error, "timeout") || !strings.Contains(r.Error, "no greeting") {
		t.Fatalf("silent server: %+v", r)
	}
	select {
	case c := <-held:
		_ = c.Close()
	case <-time.After(time.Second):
		t.Fatal("the silent server was never connected to")
	}

	// Something that is not Asterisk.
	other, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Close() })
	go func() {
		if c, err := other.Accept(); err == nil {
			_, _ = c.Write([]byte("SSH-2.0-OpenSSH_9.6\r\n"))
			time.Sleep(100 * time.Millisecond)
			_ = c.Close()
		}
	}()
	r = ProbeAMI(ctx, other.Addr().String(), "linkage", "sim-secret", 2*time.Second)
	if r.OK || !strings.Contains(r.Error, "not an Asterisk manager interface") {
		t.Fatalf("other service: %+v", r)
	}
}

func TestGuessNumber(t *testing.T) {
	for in, want := range map[string]string{
		"PJSIP/1001": "1001", "SIP/1001": "1001", "Local/1001@agents/n": "1001", "Local/1004@agents": "1004",
		"SIP/1001-0000002a": "1001", "PJSIP/alice": "alice", "PJSIP/": "", "1001": "", "Local/a b@x": "",
	} {
		if got := GuessNumber(in); got != want {
			t.Errorf("GuessNumber(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestQueueInputValidation(t *testing.T) {
	str := func(s string) *string { return &s }
	n := func(i int) *int { return &i }
	for _, tc := range []struct {
		in   QueueInput
		want []string
	}{
		{QueueInput{Timezone: str("Europe/Moscow"), SLThresholdSeconds: n(0)}, nil},
		{QueueInput{Timezone: str("")}, nil}, // the server's zone
		{QueueInput{Timezone: str("Local")}, []string{"timezone"}},
		{QueueInput{Timezone: str("Europe/Atlantis"), SLThresholdSeconds: n(-5)}, []string{"timezone", "slThresholdSeconds"}},
	} {
		var f fieldErrs
		tc.in.validate(&f)
		var got []string
		if err := f.err(); err != nil {
			got = err.(*InputError).Fields()
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%+v: bad fields %v, want %v", tc.in, got, tc.want)
		}
	}
	for s, ok := range map[string]bool{"09:00": true, "23:59": true, "00:00": true, "24:00": false, "9:00": false, "09:60": false, "0900": false, "ab:cd": false} {
		if isHHMM(s) != ok {
			t.Errorf("isHHMM(%q) = %v", s, !ok)
		}
	}
}
