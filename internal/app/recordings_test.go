package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/linkage/linkage/auth"
	"github.com/linkage/linkage/ent/call"
	"github.com/linkage/linkage/ent/queuevisit"
)

// TestRecordings: a recording is served to viewers who may listen to the call's queue
// (with byte ranges), refused to others, never served from outside the folder, and
// every listen is audited.
func TestRecordings(t *testing.T) {
	a, _ := startApp(t)
	ctx := auth.SystemContext(context.Background())
	dir := t.TempDir()
	wav := append([]byte("RIFF...WAVEfmt "), make([]byte, 1000)...)
	if err := os.WriteFile(filepath.Join(dir, "1795704908.0.wav"), wav, 0o644); err != nil {
		t.Fatal(err)
	}
	c := a.Client
	s := c.Server.Create().SetName("pbx").SetAmiAddress("127.0.0.1:1").SetAmiUsername("u").SetAmiSecret("x").SetEnabled(false).SetRecordingsLocation(dir).SaveX(ctx)
	q500 := c.Queue.Create().SetServer(s).SetNumber("500").SaveX(ctx)
	q502 := c.Queue.Create().SetServer(s).SetNumber("502").SaveX(ctx)
	now := time.Now().UTC()
	mk := func(lid string, q int, recs ...string) int {
		cl := c.Call.Create().SetServerID(s.ID).SetLinkedid(lid).SetStart(now).SetEnd(now).SetType(call.TypeInbound).
			SetStatus(call.StatusAnswered).SetRecordings(recs).SaveX(ctx)
		c.QueueVisit.Create().SetCallID(cl.ID).SetQueueID(q).SetJoinedAt(now).SetResult(queuevisit.ResultAnswered).SaveX(ctx)
		return cl.ID
	}
	call500 := mk("1795704908.0", q500.ID, "/var/spool/asterisk/monitor/1795704908.0.wav", "/var/spool/asterisk/monitor/../../../etc/passwd")
	call502 := mk("1795704908.9", q502.ID, "/var/spool/asterisk/monitor/1795704908.0.wav")

	listener := signIn(t, a, "listener", []string{auth.RoleSupervisor, auth.RoleListenRecordings},
		auth.Grant{Queues: []auth.QueueGrant{{QueueID: q500.ID, Listen: true}}})
	noFlag := signIn(t, a, "noflag", []string{auth.RoleSupervisor, auth.RoleListenRecordings},
		auth.Grant{Queues: []auth.QueueGrant{{QueueID: q500.ID}}})

	get := func(cl *client, path, rng string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+a.Addr()+path, nil)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		resp, err := cl.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	rec := func(id, n int) string { return fmt.Sprintf("/recordings/%d/%d", id, n) }

	if code, b := get(listener, rec(call500, 0), ""); code != 200 || len(b) != len(wav) {
		t.Fatalf("listener: %d, %d bytes", code, len(b))
	}
	if code, b := get(listener, rec(call500, 0), "bytes=4-11"); code != http.StatusPartialContent || string(b) != "...WAVEf" {
		t.Fatalf("range: %d %q", code, b)
	}
	if code, _ := get(listener, rec(call500, 1), ""); code != 404 {
		t.Fatalf("a path outside the folder: %d, want 404", code)
	}
	if code, _ := get(listener, rec(call502, 0), ""); code != 404 {
		t.Fatalf("a call of a queue outside the scope: %d, want 404", code)
	}
	if code, _ := get(noFlag, rec(call500, 0), ""); code != 403 {
		t.Fatalf("without the listen flag: %d, want 403", code)
	}
	if code, _ := get(anon(a), rec(call500, 0), ""); code != 401 {
		t.Fatalf("anonymous: %d, want 401", code)
	}
	var n int
	var target string
	if err := a.DB.QueryRow(`SELECT count(*), min(target) FROM audit_logs WHERE action = 'recording.listen'`).Scan(&n, &target); err != nil || n != 2 || !strings.Contains(target, fmt.Sprint(call500)) {
		t.Fatalf("audited listens = %d %q (%v), want the two served to the listener", n, target, err)
	}
}
