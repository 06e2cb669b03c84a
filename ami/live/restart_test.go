package live_test

import (
	"strings"
	"testing"
	"time"

	"github.com/linkage/linkage/ami"
	"github.com/linkage/linkage/ami/live"
	"github.com/linkage/linkage/ami/sim/pbx"
	"github.com/linkage/linkage/internal/livetest"
)

// After a restart the board is right at once: today's counters come from the stored
// calls (in the queue's zone), who waits and who talks from the resync
// (QueueStatus, CoreShowChannels) of the first connection.
func TestRestartFromStoredCallsAndResync(t *testing.T) {
	db, _ := openDB(t)
	livetest.CheckLeaks(t)
	ctx := guard(t, 60*time.Second)
	now := time.Now().UTC()
	for _, q := range []string{
		`INSERT INTO servers (id, created_at, updated_at, name, ami_address, ami_username, ami_secret) VALUES (1, now(), now(), 'lab', 'x', 'x', 'x')`,
		`INSERT INTO queues (id, created_at, updated_at, number, timezone, sl_threshold_seconds, server_id) VALUES (600, now(), now(), 'support', 'Europe/Moscow', 20, 1)`,
		`INSERT INTO operators (id, created_at, updated_at, number, interface, name, server_id) VALUES (11, now(), now(), '1001', 'PJSIP/1001', 'Agent One', 1), (12, now(), now(), '1002', 'PJSIP/1002', 'Agent Two', 1)`,
		// today: one answered after 5 s (talk 60 s, 1002), one abandoned after 30 s; yesterday: one more
		`INSERT INTO calls (id, linkedid, start, "end", type, status, server_id) VALUES (1, 'old1', $1, $1, 'inbound', 'answered', 1), (2, 'old2', $1, $1, 'inbound', 'missed', 1), (3, 'old3', $2, $2, 'inbound', 'missed', 1)`,
		`INSERT INTO queue_visits (joined_at, left_at, result, wait_seconds, call_id, queue_id) VALUES ($1, $1, 'answered', 5, 1, 600), ($1, $1, 'abandoned', 30, 2, 600), ($2, $2, 'abandoned', 99, 3, 600)`,
		`INSERT INTO call_legs (answer_at, talk_seconds, call_id, operator_id, queue_id) VALUES ($1, 60, 1, 12, 600)`,
		`INSERT INTO queue_attempts (ring_start, result, call_id, queue_id, operator_id) VALUES ($1, 'noanswer', 2, 600, 11)`,
	} {
		args := []any{now.Add(-2 * time.Second), now.Add(-48 * time.Hour)}[:countArgs(q)]
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	dir, err := live.LoadDirectory(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	today, err := live.LoadToday(ctx, db, now, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	// Before the restart (not seen by this process): call A is answered by 1002 and
	// talking, Agent One goes to lunch, then call B waits with nobody free.
	script := func(p *pbx.PBX) {
		p.Inbound(0, pbx.Inbound{DID: "5551002", Caller: "0611111111", Answer: []pbx.Answer{{Member: "PJSIP/1002", After: 500 * time.Millisecond}}, Talk: time.Minute})
		p.Exec(200*time.Millisecond, ami.Message{{Key: "Action", Value: "QueuePause"}, {Key: "Queue", Value: "support"},
			{Key: "Interface", Value: "Local/1001@agents/n"}, {Key: "Paused", Value: "true"}, {Key: "Reason", Value: "Lunch"}})
		p.Inbound(time.Second, pbx.Inbound{DID: "5551002", Caller: "0622222222", Patience: time.Minute})
	}
	p := startPipeline(t, ctx, pipeOpts{speed: 4, script: script, seed: today, connectAfter: 800 * time.Millisecond,
		state: live.Options{Directory: dir}})
	var q *live.QueueStats
	waitFor(t, ctx, "the resync", func() bool {
		for _, c := range p.Hub.Snapshot(live.TopicQueue, nil) {
			if c.Queue.QueueID == 600 && len(c.Queue.Waiting) == 1 && len(p.Hub.Snapshot(live.TopicCall, nil)) == 2 {
				q = c.Queue
				return true
			}
		}
		return false
	})
	if q.Waiting[0].Number != "0622222222" || time.Since(q.Waiting[0].Since) < time.Second {
		t.Errorf("waiting %+v (since should be the join, from QueueEntry Wait)", q.Waiting)
	}
	// stored today: 2 received, 1 answered, 1 abandoned; plus B, who waits now
	if q.Received() != 3 || q.Answered() != 1 || q.Abandoned() != 1 || q.AvgTalkSeconds() != 60 || q.Counters.WaitSum != 35 {
		t.Errorf("counters %+v", q.Counters)
	}
	if sl := q.ServiceLevel(); sl == nil || *sl != 50 {
		t.Errorf("service level %v, want 50", sl)
	}
	want := time.Now().In(mustZone(t, "Europe/Moscow")).Format(time.DateOnly)
	if q.Day != want {
		t.Errorf("day %s, want %s (Moscow)", q.Day, want)
	}
	members := map[string]live.Member{}
	for _, m := range q.Members {
		members[m.Interface] = m
	}
	if m := members["Local/1001@agents/n"]; m.Status != live.StatusPaused || m.Reason != "Lunch" || m.OperatorID != 11 {
		t.Errorf("1001: %+v", m)
	}
	if m := members["PJSIP/1002"]; m.Status != live.StatusOnCallIn || m.OperatorID != 12 {
		t.Errorf("1002: %+v", m)
	}
	ops := map[int]*live.OperatorState{}
	for _, c := range p.Hub.Snapshot(live.TopicOperator, nil) {
		ops[c.Operator.OperatorID] = c.Operator
	}
	if o := ops[12]; o == nil || o.Status != live.StatusOnCallIn || o.Incoming != 1 {
		t.Errorf("operator 12: %+v", o)
	}
	if o := ops[11]; o == nil || o.Status != live.StatusPaused || o.Missed != 1 {
		t.Errorf("operator 11: %+v", o)
	}
	states := map[string]live.CallState{}
	for _, c := range p.Hub.Snapshot(live.TopicCall, nil) {
		states[c.Call.CallerNumber] = c.Call.State
		if c.Call.QueueID != 600 {
			t.Errorf("call without its queue: %+v", c.Call)
		}
	}
	if states["0611111111"] != live.CallTalking || states["0622222222"] != live.CallQueued {
		t.Errorf("calls %v", states)
	}
}

// countArgs is how many of $1 (today) and $2 (two days ago) a statement uses.
func countArgs(q string) int {
	switch {
	case strings.Contains(q, "$2"):
		return 2
	case strings.Contains(q, "$1"):
		return 1
	}
	return 0
}

func mustZone(t testing.TB, name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}
