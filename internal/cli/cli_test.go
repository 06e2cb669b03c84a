package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/linkage/linkage/internal/testdb"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the linkage binary: with LINKAGE_CLI_CHILD set it runs
// the CLI with the JSON-encoded arguments, so tests can kill -9 a real server process.
func TestMain(m *testing.M) {
	if args := os.Getenv("LINKAGE_CLI_CHILD"); args != "" {
		var argv []string
		if err := json.Unmarshal([]byte(args), &argv); err != nil {
			panic(err)
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := Main(ctx, argv, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	testdb.Main(m)
}

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return runCLIStdin(t, "", args...)
}

func runCLIStdin(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	code := MainEnv(context.Background(), args, env)
	return code, out.String(), errb.String()
}

func TestUsageAndErrors(t *testing.T) {
	cases := []struct {
		args     []string
		code     int
		inStderr string
	}{
		{nil, 2, "Commands:"},
		{[]string{"--help"}, 0, "serve"},
		{[]string{"serve", "--help"}, 0, "-data-dir"},
		{[]string{"migrate", "--help"}, 0, "Applies pending database migrations"},
		{[]string{"version", "--help"}, 0, "Usage: linkage version"},
		{[]string{"user"}, 2, "add|passwd"},
		{[]string{"user", "frob"}, 2, `unknown subcommand "frob"`},
		{[]string{"user", "add", "--help"}, 0, "-password-stdin"},
		{[]string{"user", "add", "--login", "x"}, 1, "--login and --role are required"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"serve", "--no-such-flag"}, 2, "flag provided but not defined"},
		{[]string{"serve", "extra-arg"}, 2, "unexpected arguments"},
		{[]string{"serve", "--log-format", "xml", "--listen", "nonsense"}, 1, `log-format "xml"`},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, stderr := runCLI(t, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.inStderr) {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit %d and %q", code, stderr, tc.code, tc.inStderr)
			}
		})
	}
	// Validation reports every problem at once, not the first one only.
	_, _, stderr := runCLI(t, "serve", "--log-format", "xml", "--listen", "nonsense")
	if !strings.Contains(stderr, "listen") || !strings.Contains(stderr, "log-format") {
		t.Fatalf("not every invalid option reported: %s", stderr)
	}
	code, out, _ := runCLI(t, "version")
	if code != 0 || !strings.HasPrefix(out, "linkage ") {
		t.Fatalf("version: %d %q", code, out)
	}
}

func TestEnvironmentFeedsOptions(t *testing.T) {
	env := map[string]string{"LINKAGE_LOG_FORMAT": "yaml"}
	var errb bytes.Buffer
	code := MainEnv(context.Background(), []string{"serve"}, &Env{Stdout: io.Discard, Stderr: &errb, Getenv: func(k string) string { return env[k] }})
	if code != 1 || !strings.Contains(errb.String(), `log-format "yaml"`) {
		t.Fatalf("LINKAGE_LOG_FORMAT not applied: %d %s", code, errb.String())
	}
	// A flag wins over the environment.
	errb.Reset()
	code = MainEnv(context.Background(), []string{"serve", "--log-format", "json", "--listen", "bad"}, &Env{Stdout: io.Discard, Stderr: &errb, Getenv: func(k string) string { return env[k] }})
	if code != 1 || strings.Contains(errb.String(), "yaml") {
		t.Fatalf("flag did not override the environment: %s", errb.String())
	}
}

// serverProc is a `linkage serve` child process.
type serverProc struct {
	cmd  *exec.Cmd
	logs *bytes.Buffer
	addr string
	jar  http.CookieJar
	csrf string
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func startServer(t *testing.T, dataDir string) *serverProc {
	t.Helper()
	return startServerEnv(t, []string{"DATABASE_URL="}, "--data-dir", dataDir)
}

// startServerEnv starts `linkage serve` as a child process with extra environment and
// flags, on a free loopback port, and waits until it is ready.
func startServerEnv(t *testing.T, env []string, flags ...string) *serverProc {
	t.Helper()
	addr := freeAddr(t)
	args, _ := json.Marshal(append([]string{"serve", "--listen", addr, "--log-level", "debug"}, flags...))
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), "LINKAGE_CLI_CHILD="+string(args)), env...)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &serverProc{cmd: cmd, logs: &logs, addr: addr}
	t.Cleanup(func() { s.kill() })
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if code, _ := s.get("/readyz"); code == 200 {
			return s
		}
		if cmd.ProcessState != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("server did not become ready; logs:\n%s", logs.String())
	return nil
}

func (s *serverProc) get(path string) (int, string) {
	resp, err := http.Get("http://" + s.addr + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (s *serverProc) kill() {
	if s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}

func (s *serverProc) stop(t *testing.T) {
	t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("server exited with %v; logs:\n%s", err, s.logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not stop within 30s; logs:\n%s", s.logs.String())
	}
}

// query runs q with the session of the last login (if any).
func (s *serverProc) query(t *testing.T, q string) string {
	t.Helper()
	body := fmt.Sprintf(`{"query":%q}`, q)
	req, _ := http.NewRequest(http.MethodPost, "http://"+s.addr+"/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if s.csrf != "" {
		req.Header.Set("X-CSRF-Token", s.csrf)
	}
	if s.jar == nil {
		s.jar, _ = cookiejar.New(nil)
	}
	resp, err := (&http.Client{Jar: s.jar}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// login signs in on the server and returns the response.
func (s *serverProc) login(t *testing.T, login, password string) string {
	t.Helper()
	s.jar, s.csrf = nil, ""
	got := s.query(t, fmt.Sprintf(`mutation { login(login: %q, password: %q) { csrfToken } }`, login, password))
	var r struct {
		Data struct{ Login struct{ CsrfToken string } }
	}
	_ = json.Unmarshal([]byte(got), &r)
	s.csrf = r.Data.Login.CsrfToken
	return got
}

// TestServeOwnsItsDatabase is the foundation's promise: `linkage serve` starts its
// own PostgreSQL, reuses it on the next start, and recovers after kill -9.
func TestServeOwnsItsDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real PostgreSQL cluster three times")
	}
	dataDir := filepath.Join(t.TempDir(), "data")

	s := startServer(t, dataDir)
	// Nothing is readable without signing in, and nobody can sign in yet.
	if got := s.query(t, `{ servers { totalCount } }`); !strings.Contains(got, "UNAUTHENTICATED") {
		t.Fatalf("servers query without a session: %s", got)
	}
	if !strings.Contains(s.logs.String(), "initdb=true") || !strings.Contains(s.logs.String(), "migration applied") {
		t.Fatalf("first start should create the cluster and migrate; logs:\n%s", s.logs.String())
	}
	s.stop(t)

	// The first admin, created on the stopped server's database.
	code, out, errOut := runCLIStdin(t, "first-admin-password\n", "user", "add", "--data-dir", dataDir, "--login", "admin", "--role", "admin", "--password-stdin")
	if code != 0 || !strings.Contains(out, "created user admin") || strings.Contains(out+errOut, "first-admin-password") {
		t.Fatalf("user add: %d\n%s\n%s", code, out, errOut)
	}

	s = startServer(t, dataDir)
	if strings.Contains(s.logs.String(), "initdb=true") || strings.Contains(s.logs.String(), "migration applied") {
		t.Fatalf("second start should reuse the migrated cluster; logs:\n%s", s.logs.String())
	}
	if got := s.login(t, "admin", "first-admin-password"); !strings.Contains(got, "csrfToken") {
		t.Fatalf("login as the first admin: %s", got)
	}
	if got := s.query(t, `{ servers { totalCount } }`); !strings.Contains(got, `"totalCount":0`) {
		t.Fatalf("servers query as admin: %s", got)
	}
	// kill -9: no graceful shutdown, postgres is left to notice on its own.
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = s.cmd.Wait()

	// Recovery: a forgotten password is replaced by a generated one.
	code, out, errOut = runCLI(t, "user", "passwd", "--data-dir", dataDir, "--login", "admin")
	_, generated, _ := strings.Cut(strings.TrimSpace(out), "password: ")
	if code != 0 || len(generated) < 16 {
		t.Fatalf("user passwd: %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut := runCLI(t, "user", "passwd", "--data-dir", dataDir, "--login", "nobody"); code != 1 || !strings.Contains(errOut, `no user "nobody"`) {
		t.Fatalf("passwd of an unknown user: %d %s", code, errOut)
	}

	s = startServer(t, dataDir)
	if got := s.login(t, "admin", "first-admin-password"); !strings.Contains(got, "invalid login or password") {
		t.Fatalf("the old password still works: %s", got)
	}
	if got := s.login(t, "admin", generated); !strings.Contains(got, "csrfToken") {
		t.Fatalf("login with the generated password: %s", got)
	}
	if got := s.query(t, `{ servers { totalCount } }`); !strings.Contains(got, `"totalCount":0`) {
		t.Fatalf("after kill -9: %s", got)
	}
	s.stop(t)
}

func TestAssembleCommand(t *testing.T) {
	code, out, stderr := runCLI(t, "assemble", "--trunk-prefixes", "PJSIP/trunk", "--trunk-contexts", "from-trunk",
		"../../ami/testdata/captures/lab/a1_queue_localmember_answer_caller_hangup.ami",
		"../../ami/testdata/captures/lab/h2_internal_call_busy_noanswer.ami")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("want one JSON line per call (2), got %d:\n%s", len(lines), out)
	}
	var first, second map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	json.Unmarshal([]byte(lines[1]), &second)
	// a1: the carrier call to DID 5551000, answered by 1001 through the queue after 3 s.
	if first["linkedid"] != "1795704908.0" || first["type"] != "inbound" || first["status"] != "answered" || first["waitSeconds"] != 3.0 || first["dialed"] != "5551000" {
		t.Fatalf("a1 = %s", lines[0])
	}
	// h2: 1001 -> 1002, which answered 486 Busy.
	if second["status"] != "missed" || second["missedReason"] != "busy" || second["type"] != "internal" {
		t.Fatalf("h2 = %s", lines[1])
	}
	if code, _, stderr := runCLI(t, "assemble", "/no/such/file.ami"); code != 1 || !strings.Contains(stderr, "no such file") {
		t.Fatalf("missing file: exit %d %s", code, stderr)
	}
	if code, _, _ := runCLI(t, "assemble"); code != 2 {
		t.Fatalf("no files: exit %d, want 2", code)
	}
}

// TestServerCommands manages servers while `linkage serve` runs on the same data
// directory: the commands attach to its private cluster instead of failing.
func TestServerCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real PostgreSQL cluster")
	}
	dataDir := filepath.Join(t.TempDir(), "data")
	s := startServer(t, dataDir)
	env := map[string]string{"LINKAGE_DATA_DIR": dataDir, "LINKAGE_AMI_SECRET": "from-env-secret"}
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := MainEnv(context.Background(), args, &Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }})
		return code, out.String(), errb.String()
	}
	if code, out, errs := run("server", "add", "--name", "pbx-1", "--ami", "127.0.0.1:5038", "--username", "admin", "--timezone", "Europe/Moscow"); code != 0 || !strings.Contains(out, "server pbx-1 added") {
		t.Fatalf("add: %d %s %s", code, out, errs)
	}
	if code, _, errs := run("server", "add", "--name", "pbx-1", "--ami", "127.0.0.1:5039", "--username", "admin"); code != 1 || !strings.Contains(errs, "exists already") {
		t.Fatalf("duplicate add: %d %s", code, errs)
	}
	code, _, errs := run("server", "add", "--name", "", "--ami", "nope", "--username", "", "--timezone", "Mars/Olympus")
	if code != 1 || !strings.Contains(errs, "name is required") || !strings.Contains(errs, "HOST:PORT") || !strings.Contains(errs, "Mars/Olympus") {
		t.Fatalf("invalid add: %d %s", code, errs)
	}
	if code, out, _ := run("server", "list"); code != 0 || !strings.Contains(out, "pbx-1") || !strings.Contains(out, "Europe/Moscow") || strings.Contains(out, "from-env-secret") {
		t.Fatalf("list: %d %s", code, out)
	}
	if code, out, errOut := runCLIStdin(t, "admin-password-1\n", "user", "add", "--data-dir", dataDir, "--login", "admin", "--role", "admin", "--password-stdin"); code != 0 {
		t.Fatalf("user add while serving: %d %s %s", code, out, errOut)
	}
	s.login(t, "admin", "admin-password-1")
	// The running server sees the row through its own API.
	if got := s.query(t, `{ servers { totalCount edges { node { name enabled } } } }`); !strings.Contains(got, `"pbx-1"`) {
		t.Fatalf("graphql after add: %s", got)
	}
	if code, _, errs := run("server", "disable", "--name", "pbx-1"); code != 0 {
		t.Fatalf("disable: %s", errs)
	}
	if got := s.query(t, `{ servers { edges { node { enabled } } } }`); !strings.Contains(got, `"enabled":false`) {
		t.Fatalf("after disable: %s", got)
	}
	if code, _, errs := run("server", "remove", "--name", "nope"); code != 1 || !strings.Contains(errs, `no server named "nope"`) {
		t.Fatalf("remove unknown: %d %s", code, errs)
	}
	if code, out, errs := run("server", "remove", "--name", "pbx-1"); code != 0 || !strings.Contains(out, "removed") {
		t.Fatalf("remove: %d %s %s", code, out, errs)
	}
	s.stop(t)
}
