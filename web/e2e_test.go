package web

// The web app's end-to-end test: builds the app and the linkage binary, starts a
// real `linkage demo` (private PostgreSQL, simulated Asterisk servers at --speed 60)
// in a temporary data directory, and drives Debian's Chromium through it with
// playwright-core (web/e2e/run.mjs). It skips only when Chromium is missing, and
// says so loudly; `make test` installs Chromium first, so CI never skips.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func chromiumPath() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

func TestWebEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end browser test skipped in -short mode")
	}
	chromium := chromiumPath()
	if chromium == "" {
		msg := "\n!!! SKIPPED: web end-to-end tests need Chromium (/usr/bin/chromium), which is not installed.\n" +
			"!!! Install it with: internal/tools/ensure-deps.sh chromium   (or: apt-get install -y chromium)\n" +
			"!!! `make test` installs it, so CI never skips this test.\n"
		fmt.Fprint(os.Stderr, msg)
		t.Skip(msg)
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("web end-to-end tests need Node.js 20 and npm: internal/tools/ensure-deps.sh node")
	}
	webDir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(webDir)
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()

	// The app build is embedded at compile time: build it before the binary.
	if _, err := os.Stat(filepath.Join(webDir, "node_modules", "playwright-core")); err != nil {
		run(t, ctx, webDir, nil, nil, "npm", "ci", "--no-audit", "--no-fund")
	}
	if os.Getenv("LINKAGE_E2E_NO_BUILD") == "" {
		run(t, ctx, webDir, nil, nil, "npm", "run", "build")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "linkage")
	run(t, ctx, root, nil, nil, "go", "build", "-o", bin, ".")
	data := filepath.Join(tmp, "data")

	// The demo's own calls (assembled from the simulators and stored) fill the reports,
	// the call list and the journeys. LINKAGE_E2E_SEED=1 adds a seeded day of history.
	tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format("2006-01-02")
	if os.Getenv("LINKAGE_E2E_SEED") != "" && hasCommand(ctx, bin, "seed") {
		run(t, ctx, root, nil, nil, bin, "seed", "--data-dir", data, "--days", "1", "--end", tomorrow,
			"--calls-per-day", "1500", "--servers", "1", "--queues", "3", "--operators", "12")
	}
	// Users for the access-control steps: the demo's own (admin, supervisor scoped to
	// one queue, operator) when it has them, else made with `linkage user add`.
	env := []string{"LINKAGE_URL=", "SCREENSHOTS=" + envOr("SCREENSHOTS", filepath.Join(root, "docs", "screenshots"))}
	demoArgs := []string{"demo", "--data-dir", data, "--speed", "60"}
	if help, _ := exec.CommandContext(ctx, bin, "demo", "--help").CombinedOutput(); strings.Contains(string(help), "-demo-password") {
		const pw = "e2e-Demo-Passw0rd!"
		demoArgs = append(demoArgs, "--demo-password", pw)
		for _, u := range []string{"admin", "supervisor", "operator"} {
			env = append(env, fmt.Sprintf("E2E_%s=%s:%s", strings.ToUpper(u), u, pw))
		}
	} else if hasCommand(ctx, bin, "user") {
		for _, u := range []struct{ login, role string }{{"e2e-supervisor", "supervisor"}, {"e2e-operator", "operator"}} {
			pw := "e2e-" + u.role + "-Passw0rd!"
			run(t, ctx, root, nil, strings.NewReader(pw+"\n"), bin, "user", "add", "--data-dir", data,
				"--login", u.login, "--role", u.role, "--queues", "*", "--name", "E2E "+u.role, "--password-stdin")
			env = append(env, fmt.Sprintf("E2E_%s=%s:%s", strings.ToUpper(u.role), u.login, pw))
		}
	} else {
		t.Log("this build has no `linkage user`: the sign-in steps are skipped")
	}

	addr := freeAddr(t)
	demo := exec.CommandContext(ctx, bin, append(demoArgs, "--listen", addr)...)
	demo.Dir = root
	var demoLog bytes.Buffer
	demo.Stdout, demo.Stderr = &demoLog, &demoLog
	if err := demo.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- demo.Wait() }()
	defer func() {
		_ = demo.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(45 * time.Second):
			_ = demo.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("linkage demo output (last 4 KB):\n%s", tail(demoLog.String(), 4096))
		}
	}()
	base := "http://" + addr
	waitReady(t, ctx, base+"/readyz", 2*time.Minute, exited)
	checkServing(t, base)

	env[0] = "LINKAGE_URL=" + base
	env = append(env, "CHROMIUM="+chromium)
	// The demo feeds live state from its simulators: an empty live board is a failure.
	if os.Getenv("E2E_REQUIRE_LIVE") == "" {
		env = append(env, "E2E_REQUIRE_LIVE=1")
	}
	run(t, ctx, webDir, env, nil, "node", "e2e/run.mjs")
}

// checkServing: the embedded app is served with the cache rules the handler promises.
func checkServing(t *testing.T, base string) {
	t.Helper()
	res, err := http.Get(base + "/calls/1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), "/assets/") {
		t.Fatalf("deep link /calls/1: %d %.200s (is the web app built into the binary?)", res.StatusCode, body)
	}
	if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("index.html Cache-Control %q", cc)
	}
	i := strings.Index(string(body), "/assets/")
	asset := string(body[i:])
	asset = asset[:strings.IndexAny(asset, `"'`)]
	res, err = http.Get(base + asset)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if cc := res.Header.Get("Cache-Control"); res.StatusCode != 200 || cc != "public, max-age=31536000, immutable" {
		t.Errorf("%s: %d, Cache-Control %q", asset, res.StatusCode, cc)
	}
}

func run(t *testing.T, ctx context.Context, dir string, env []string, stdin io.Reader, name string, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = stdin
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		t.Log(sc.Text())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%s %s: %v (after %s)", name, strings.Join(args, " "), err, time.Since(start).Round(time.Second))
	}
}

func hasCommand(ctx context.Context, bin, name string) bool {
	out, _ := exec.CommandContext(ctx, bin, "help").CombinedOutput()
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == name {
			return true
		}
	}
	return false
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitReady(t *testing.T, ctx context.Context, url string, d time.Duration, exited chan error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		select {
		case err := <-exited:
			exited <- err // for the deferred stop
			t.Fatalf("linkage demo exited before it was ready: %v", err)
		default:
		}
		if res, err := http.Get(url); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("%s not ready after %s", url, d)
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
