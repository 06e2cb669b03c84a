//go:build linux

package pgcluster

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/lib/pq"
)

// guard turns a hang into a failure: the tests talk to real processes, and a
// stuck wait must not sit until go test's global timeout. A panic from a timer
// goroutine kills the binary with every goroutine's stack, and the kernel's
// parent-death signal then stops the servers it started.
func guard(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	timer := time.AfterFunc(d, func() { panic(fmt.Sprintf("%s: still running after %v", t.Name(), d)) })
	t.Cleanup(func() { timer.Stop() })
	ctx, cancel := context.WithTimeout(context.Background(), d-5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func testOptions(t *testing.T, dir string) Options {
	return Options{Dir: dir, NoSync: true, Logger: testLogger(t)}
}

func start(t *testing.T, ctx context.Context, o Options) *Cluster {
	t.Helper()
	c, err := Start(ctx, o)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = c.Stop(context.Background()) })
	return c
}

func open(t *testing.T, url string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func exec1(t *testing.T, ctx context.Context, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(ctx, q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// assertGone fails if any postgres process still runs in the cluster.
func assertGone(t *testing.T, c *Cluster) {
	t.Helper()
	select {
	case <-c.Done():
	default:
		t.Fatal("Done not closed after Stop")
	}
	if left := waitGone(c.DataDir(), postgresProcessesIn(c.DataDir()), 5*time.Second); len(left) > 0 {
		t.Fatalf("postgres processes still running in %s: %v", c.DataDir(), left)
	}
}

func TestFreshStart(t *testing.T) {
	t.Parallel()
	ctx := guard(t, 3*time.Minute)
	dir := filepath.Join(t.TempDir(), "pg")
	began := time.Now()
	c := start(t, ctx, testOptions(t, dir))
	t.Logf("cold start (initdb + start) took %v", time.Since(began))

	db := open(t, c.URL())
	var name, user string
	if err := db.QueryRowContext(ctx, "SELECT current_database(), current_user").Scan(&name, &user); err != nil {
		t.Fatal(err)
	}
	if name != "linkage" || user != Superuser {
		t.Fatalf("connected to %q as %q, want linkage as %s", name, user, Superuser)
	}
	if c.SocketDir() != c.Dir() {
		t.Fatalf("SocketDir = %q, want the cluster dir %q for a short path", c.SocketDir(), c.Dir())
	}
	var tz, fsync string
	if err := db.QueryRowContext(ctx, "SELECT current_setting('TimeZone'), current_setting('fsync')").Scan(&tz, &fsync); err != nil {
		t.Fatal(err)
	}
	if tz != "UTC" || fsync != "off" {
		t.Fatalf("TimeZone=%s fsync=%s, want UTC and off", tz, fsync)
	}
	if os.Geteuid() == 0 {
		var st syscall.Stat_t
		if err := syscall.Stat(c.DataDir(), &st); err != nil {
			t.Fatal(err)
		}
		if st.Uid == 0 {
			t.Fatal("data directory owned by root; the server must run as the postgres user")
		}
	}
	if err := c.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	assertGone(t, c)
}

func TestReuseKeepsData(t *testing.T) {
	t.Parallel()
	ctx := guard(t, 4*time.Minute)
	dir := filepath.Join(t.TempDir(), "pg")
	o := testOptions(t, dir)
	o.NoSync = false // the product's settings: the row must survive a clean restart with fsync on
	c := start(t, ctx, o)
	db := open(t, c.URL())
	exec1(t, ctx, db, "CREATE TABLE kept (v text)")
	exec1(t, ctx, db, "INSERT INTO kept VALUES ('hello')")
	db.Close()
	if err := c.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	assertGone(t, c)
	st1, err := os.Stat(filepath.Join(dir, "data", "PG_VERSION"))
	if err != nil {
		t.Fatal(err)
	}

	began := time.Now()
	c2 := start(t, ctx, o)
	t.Logf("warm start (existing cluster) took %v", time.Since(began))
	st2, err := os.Stat(filepath.Join(dir, "data", "PG_VERSION"))
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(st1, st2) || !st1.ModTime().Equal(st2.ModTime()) {
		t.Fatal("cluster was re-initialised instead of reused")
	}
	var v string
	if err := open(t, c2.URL()).QueryRowContext(ctx, "SELECT v FROM kept").Scan(&v); err != nil || v != "hello" {
		t.Fatalf("row after restart: %q, %v", v, err)
	}
	if err := c2.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
}

// TestHelperProcess is not a test: TestRecoverAfterKill9 runs the test binary
// again with this test selected, to own a cluster in a process it can SIGKILL.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv("PGCLUSTER_HELPER_DIR")
	if dir == "" {
		t.Skip("helper process for TestRecoverAfterKill9")
	}
	ctx := context.Background()
	c, err := Start(ctx, Options{Dir: dir, NoSync: true})
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	db, err := sql.Open("postgres", c.URL())
	if err == nil {
		// NoSync commits asynchronously; this row must reach the WAL (the OS
		// page cache is enough) before we report it written.
		_, err = db.ExecContext(ctx, "SET synchronous_commit = on; CREATE TABLE kept (v text); INSERT INTO kept VALUES ('before kill')")
	}
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	fmt.Println("READY", c.PID())
	time.Sleep(time.Hour) // until killed
}

// startHelper runs TestHelperProcess in a child process that owns a cluster in
// dir, and returns it with the postmaster's pid once the cluster is up.
func startHelper(t *testing.T, ctx context.Context, dir string) (*exec.Cmd, int) {
	t.Helper()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperProcess$", "-test.v=false")
	cmd.Env = append(os.Environ(), "PGCLUSTER_HELPER_DIR="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "READY" {
			pid, _ := strconv.Atoi(f[1])
			return cmd, pid
		}
		if len(f) > 0 && f[0] == "ERROR" {
			t.Fatalf("helper: %s", sc.Text())
		}
	}
	t.Fatal("helper did not report a running cluster")
	return nil, 0
}

// If the owner is SIGKILLed, the kernel's parent-death signal makes the server
// shut down by itself: no orphan is left for anyone to clean up.
func TestOwnerKilledStopsServer(t *testing.T) {
	t.Parallel()
	ctx := guard(t, 4*time.Minute)
	dir := filepath.Join(t.TempDir(), "pg")
	cmd, pmPid := startHelper(t, ctx, dir)
	t.Cleanup(func() {
		if t.Failed() { // do not leave the orphan this test found
			signalAll(postgresProcessesIn(filepath.Join(dir, "data")), syscall.SIGQUIT)
		}
	})
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if left := waitGone(filepath.Join(dir, "data"), []int{pmPid}, 30*time.Second); len(left) > 0 {
		t.Fatalf("postmaster %d still running 30s after its owner was killed", pmPid)
	}
	// It was a clean fast shutdown: no stale pid file, no recovery needed.
	if _, err := os.Stat(filepath.Join(dir, "data", "postmaster.pid")); !os.IsNotExist(err) {
		t.Fatalf("postmaster.pid left behind: %v", err)
	}
}

func TestRecoverAfterKill9(t *testing.T) {
	t.Parallel()
	ctx := guard(t, 4*time.Minute)
	dir := filepath.Join(t.TempDir(), "pg")
	cmd, pmPid := startHelper(t, ctx, dir)
	// Both die at once: neither the launcher nor the postmaster can clean up.
	_ = syscall.Kill(pmPid, syscall.SIGKILL)
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if _, err := os.Stat(filepath.Join(dir, "data", "postmaster.pid")); err != nil {
		t.Fatalf("expected a stale postmaster.pid after kill -9: %v", err)
	}

	c := start(t, ctx, testOptions(t, dir))
	var v string
	if err := open(t, c.URL()).QueryRowContext(ctx, "SELECT v FROM kept").Scan(&v); err != nil || v != "before kill" {
		t.Fatalf("row after crash recovery: %q, %v", v, err)
	}
	if err := c.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	assertGone(t, c)
}

// A stale postmaster.pid whose pid now belongs to an unrelated live process of
// the server's own user makes a bare postgres refuse to start ("lock file
// already exists"); Start must see that it is not a postgres of this cluster.
func TestStalePidFileOfUnrelatedProcess(t *testing.T) {
	t.Parallel()
	ctx := guard(t, 4*time.Minute)
	dir := filepath.Join(t.TempDir(), "pg")
	c := start(t, ctx, testOptions(t, dir))
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}

	acct, err := resolveAccount("postgres")
	if err != nil {
		t.Fatal(err)
	}
	sleeper := exec.CommandContext(ctx, "sleep", "300")
	sleeper.SysProcAttr = sysProcAttr(acct.cred, true)
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sleeper.Process.Kill(); _ = sleeper.Wait() })

	pidFile := filepath.Join(dir, "data", "postmaster.pid")
	content := fmt.Sprintf("%d\n%s\n1700000000\n5432\n%s\n127.0.0.1\n  5432001     32768\nready   \n",
		sleeper.Process.Pid, filepath.Join(dir, "data"), dir)
	if err := writeOwned(pidFile, []byte(content), acct); err != nil {
		t.Fatal(err)
	}
	c2 := start(t, ctx, testOptions(t, dir))
	if err := open(t, c2.URL()).PingContext(ctx); err != nil {
		t.Fatal(err)
	}
	if readPidFile(pidFile) != c2.PID() {
		t.Fatal("postmaster.pid not rewritten by the new server")
	}
	if !pidAlive(sleeper.Process.Pid) {
		t.Fatal("the unrelated process was killed")
	}
}

// An orphan: a postgres of this Dir still running while nobody holds the
// directory lock, as after our process was SIGKILLed on a kernel without the
// parent-death signal, or a server started by hand with pg_ctl. Start stops it
// with a fast shutdown and runs its own.
func TestOrphanedServerIsReplaced(t *testing.T) {
	t.Parallel()
	ctx := guard(t, 4*time.Minute)
	dir := filepath.Join(t.TempDir(), "pg")
	orphan := start(t, ctx, testOptions(t, dir))
	db := open(t, orphan.URL())
	exec1(t, ctx, db, "CREATE TABLE kept (v text)")
	exec1(t, ctx, db, "SET synchronous_commit = on; INSERT INTO kept VALUES ('orphan')")
	db.Close()
	orphan.lock.Close() // the owner "dies": its lock goes, its server stays

	c := start(t, ctx, testOptions(t, dir))
	select {
	case <-orphan.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("orphaned server still running after Start")
	}
	if orphan.Err() != nil {
		t.Fatalf("orphan did not exit cleanly (fast shutdown expected): %v", orphan.Err())
	}
	if c.PID() == orphan.PID() {
		t.Fatal("orphan was adopted, not replaced")
	}
	var v string
	if err := open(t, c.URL()).QueryRowContext(ctx, "SELECT v FROM kept").Scan(&v); err != nil || v != "orphan" {
		t.Fatalf("row after replacing the orphan: %q, %v", v, err)
	}
}

func TestSecondOwnerRefused(t *testing.T) {
	t.Parallel()
	ctx := guard(t, 3*time.Minute)
	dir := filepath.Join(t.TempDir(), "pg")
	c := start(t, ctx, testOptions(t, dir))
	_, err := Start(ctx, testOptions(t, dir))
	if !errors.Is(err, ErrInUse) {
		t.Fatalf("second Start on a live cluster: %v, want ErrInUse", err)
	}
	if err := open(t, c.URL()).PingContext(ctx); err != nil {
		t.Fatalf("first server hurt by the refused second start: %v", err)
	}
}

func TestMissingBinaries(t *testing.T) {
	ctx := guard(t, time.Minute)
	empty := t.TempDir()
	t.Setenv("PATH", empty)
	dir := filepath.Join(t.TempDir(), "pg")
	_, err := Start(ctx, Options{Dir: dir, BinDir: empty})
	if !errors.Is(err, ErrNoBinaries) {
		t.Fatalf("Start with no binaries: %v, want ErrNoBinaries", err)
	}
	for _, want := range []string{"apt-get install postgresql", empty} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("Dir created although nothing could run in it")
	}

	// The search without BinDir: PATH, then <root>/*/bin.
	_, _, err = findBinaries(ctx, "", empty, filepath.Join(empty, "nonexistent"), 0)
	if !errors.Is(err, ErrNoBinaries) || !strings.Contains(err.Error(), filepath.Join(empty, "nonexistent", "*", "bin")) {
		t.Fatalf("search error %v does not name the version directories", err)
	}
}

func TestFindBinariesPrefersClusterVersion(t *testing.T) {
	ctx := guard(t, time.Minute)
	root := t.TempDir()
	fake := func(v int) string {
		d := filepath.Join(root, strconv.Itoa(v), "bin")
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, b := range binaries {
			script := fmt.Sprintf("#!/bin/sh\necho 'postgres (PostgreSQL) %d.1'\n", v)
			if err := os.WriteFile(filepath.Join(d, b), []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		return d
	}
	d15, d17 := fake(15), fake(17)
	if d, v, err := findBinaries(ctx, "", "", root, 0); err != nil || d != d17 || v != 17 {
		t.Fatalf("new cluster: %s %d %v, want the highest version %s", d, v, err, d17)
	}
	if d, v, err := findBinaries(ctx, "", "", root, 15); err != nil || d != d15 || v != 15 {
		t.Fatalf("existing 15 cluster: %s %d %v, want %s", d, v, err, d15)
	}
	if _, _, err := findBinaries(ctx, "", "", root, 14); err == nil || !strings.Contains(err.Error(), "postgresql-14") {
		t.Fatalf("existing 14 cluster without 14 binaries: %v", err)
	}
}

func TestLongDirUsesTCP(t *testing.T) {
	t.Parallel()
	ctx := guard(t, 3*time.Minute)
	dir := t.TempDir()
	for len(dir) <= maxSocketPath {
		dir = filepath.Join(dir, "a-rather-long-directory-name")
	}
	c := start(t, ctx, testOptions(t, dir))
	if c.SocketDir() != "" {
		t.Fatalf("SocketDir = %q for a %d-byte Dir; the socket path would exceed the limit", c.SocketDir(), len(dir))
	}
	if !strings.Contains(c.URL(), "host='127.0.0.1'") {
		t.Fatalf("URL %q does not use TCP loopback", c.URL())
	}
	// Over TCP the password is required (scram), so this also checks it.
	var n int
	if err := open(t, c.URL()).QueryRowContext(ctx, "SELECT 1").Scan(&n); err != nil {
		t.Fatalf("query over TCP: %v", err)
	}
	bad := strings.Replace(c.URL(), "password='", "password='x", 1)
	if err := open(t, bad).PingContext(ctx); err == nil {
		t.Fatal("TCP login with a wrong password succeeded")
	}
}

func TestStopTwice(t *testing.T) {
	t.Parallel()
	ctx := guard(t, 3*time.Minute)
	c := start(t, ctx, testOptions(t, filepath.Join(t.TempDir(), "pg")))
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = c.Stop(ctx) }()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Stop %d: %v", i, err)
		}
	}
	if err := c.Stop(ctx); err != nil {
		t.Fatalf("Stop after Stop: %v", err)
	}
	assertGone(t, c)
	// The directory lock was released: the cluster can be started again.
	c2 := start(t, ctx, testOptions(t, c.Dir()))
	if err := c2.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestStartFailureQuotesLog(t *testing.T) {
	t.Parallel()
	ctx := guard(t, 3*time.Minute)
	o := testOptions(t, filepath.Join(t.TempDir(), "pg"))
	o.Settings = map[string]string{"shared_buffers": "not-a-size"}
	_, err := Start(ctx, o)
	if err == nil {
		t.Fatal("Start with an invalid setting succeeded")
	}
	if !strings.Contains(err.Error(), "shared_buffers") {
		t.Fatalf("error does not quote the server log: %v", err)
	}
	// The lock was released on failure.
	o.Settings = nil
	c := start(t, ctx, o)
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

// An initdb killed half-way leaves data.initdb (and maybe an empty data);
// Start starts over. A non-empty data without PG_VERSION is someone's files:
// Start refuses rather than initialise over them.
func TestInterruptedInitdbAndForeignData(t *testing.T) {
	t.Parallel()
	ctx := guard(t, 3*time.Minute)
	dir := filepath.Join(t.TempDir(), "pg")
	for _, d := range []string{filepath.Join(dir, "data.initdb", "base"), filepath.Join(dir, "data")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	c := start(t, ctx, testOptions(t, dir))
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "data.initdb")); !os.IsNotExist(err) {
		t.Fatalf("leftover data.initdb still there: %v", err)
	}

	other := filepath.Join(t.TempDir(), "pg")
	if err := os.MkdirAll(filepath.Join(other, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, "data", "precious.txt"), []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Start(ctx, testOptions(t, other)); err == nil || !strings.Contains(err.Error(), "not a PostgreSQL data directory") {
		t.Fatalf("Start over foreign files: %v", err)
	}
	if _, err := os.Stat(filepath.Join(other, "data", "precious.txt")); err != nil {
		t.Fatalf("foreign file touched: %v", err)
	}
	// The refused start released the lock.
	f, err := os.OpenFile(filepath.Join(other, "linkage.lock"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatalf("lock still held after a failed Start: %v", err)
	}
}

// A lost superuser.pw is replaced through the trusted unix socket, and TCP
// logins work with the new one.
func TestLostPasswordFile(t *testing.T) {
	t.Parallel()
	ctx := guard(t, 3*time.Minute)
	dir := filepath.Join(t.TempDir(), "pg")
	c := start(t, ctx, testOptions(t, dir))
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "superuser.pw")); err != nil {
		t.Fatal(err)
	}
	c2 := start(t, ctx, testOptions(t, dir))
	if c2.password == "" || c2.password == c.password {
		t.Fatal("no new password")
	}
	tcp := strings.Replace(c2.URL(), "host='"+c2.SocketDir()+"'", "host='127.0.0.1'", 1)
	if err := open(t, tcp).PingContext(ctx); err != nil {
		t.Fatalf("TCP login with the new password: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "superuser.pw")); err != nil || strings.TrimSpace(string(b)) != c2.password {
		t.Fatalf("new password not saved: %q %v", b, err)
	}
}
