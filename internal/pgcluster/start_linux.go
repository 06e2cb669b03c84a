//go:build linux

package pgcluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/lib/pq"
)

const (
	// maxSocketPath is sun_path (108 bytes) less the terminating NUL.
	maxSocketPath = 107
	// maxLogSize: the server's stderr goes to one file that nothing else
	// rotates; at start a file above this is moved to postgres.log.1.
	maxLogSize = 16 << 20
	// logTail is how much of the log an error quotes.
	logTail = 2048
)

// tuning is appended to postgresql.conf by initdb time, so an administrator can
// still edit it; per-start settings (port, sockets, NoSync, Options.Settings)
// are passed on the command line instead and win over the file.
const tuning = `
# Added by Linkage (internal/pgcluster): a small local server for one application.
max_connections = 100
shared_buffers = 128MB
timezone = 'UTC'
log_timezone = 'UTC'
log_line_prefix = '%m [%p] %q%u@%d '
log_min_duration_statement = 5s
log_checkpoints = off
`

// account is the OS user that runs initdb and postgres.
type account struct {
	cred   *syscall.Credential // nil: ourselves
	uid    int
	groups map[int]bool // primary and supplementary gids
	name   string
}

func (a account) switched() bool { return a.cred != nil }

// resolveAccount: PostgreSQL refuses to run as root, so as root we run it as the
// system user the Debian package creates; otherwise as ourselves.
func resolveAccount(name string) (account, error) {
	if os.Geteuid() != 0 {
		return account{uid: os.Geteuid()}, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return account{}, fmt.Errorf("pgcluster: running as root, PostgreSQL must run as the %q system user "+
			"(it refuses root; apt-get install postgresql creates the user): %w", name, err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err := errors.Join(err1, err2); err != nil {
		return account{}, fmt.Errorf("pgcluster: user %q: %w", name, err)
	}
	if uid == 0 {
		return account{}, fmt.Errorf("pgcluster: user %q is root; PostgreSQL refuses to run as root", name)
	}
	a := account{uid: uid, name: name, groups: map[int]bool{gid: true}}
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
	if ids, err := u.GroupIds(); err == nil {
		for _, s := range ids {
			if g, err := strconv.Atoi(s); err == nil && g != gid {
				cred.Groups = append(cred.Groups, uint32(g))
				a.groups[g] = true
			}
		}
	}
	a.cred = cred
	return a, nil
}

// Start initialises the cluster in o.Dir if it is new, reuses it otherwise,
// starts the server as a child of this process, waits until it accepts
// connections and creates o.Database if missing.
func Start(ctx context.Context, o Options) (*Cluster, error) {
	o.setDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, o.StartTimeout)
	defer cancel()
	began := time.Now()

	c := &Cluster{
		opts:    o,
		dir:     dir,
		dataDir: filepath.Join(dir, "data"),
		logPath: filepath.Join(dir, "postgres.log"),
		done:    make(chan struct{}),
	}
	log := o.Logger.With("dir", dir)

	want, err := dataVersion(c.dataDir)
	if err != nil {
		return nil, err
	}
	c.binDir, c.version, err = findBinaries(ctx, o.BinDir, os.Getenv("PATH"), debianRoot, want)
	if err != nil {
		return nil, err
	}
	acct, err := resolveAccount(o.RunAs)
	if err != nil {
		return nil, err
	}
	if err := c.prepareDir(acct, log); err != nil {
		return nil, err
	}
	// From here on we hold the directory lock; release it on any failure.
	ok := false
	defer func() {
		if !ok {
			if c.proc != nil {
				_ = c.Stop(context.Background())
			} else {
				c.lock.Close()
			}
		}
	}()

	if want == 0 {
		if err := c.initdb(ctx, acct, log); err != nil {
			return nil, err
		}
	}
	pwPath := filepath.Join(dir, "superuser.pw")
	pw, err := os.ReadFile(pwPath)
	lostPassword := os.IsNotExist(err)
	if err != nil && !lostPassword {
		return nil, fmt.Errorf("pgcluster: superuser password: %w", err)
	}
	c.password = strings.TrimSpace(string(pw))

	if err := c.clearStale(log); err != nil {
		return nil, err
	}
	if err := c.launch(ctx, acct, log); err != nil {
		return nil, err
	}
	if lostPassword {
		if err := c.resetPassword(ctx, acct, pwPath, log); err != nil {
			return nil, err
		}
	}
	if err := c.createDatabase(ctx); err != nil {
		return nil, err
	}
	ok = true
	log.Info("postgres ready", "version", c.version, "port", c.port, "socket_dir", c.sockDir,
		"pid", c.proc.Pid, "initdb", want == 0, "took", time.Since(began).Round(time.Millisecond))
	return c, nil
}

// prepareDir creates Dir, gives it to the server's account, makes its parents
// traversable for that account and takes the directory lock.
func (c *Cluster) prepareDir(acct account, log *slog.Logger) error {
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	if acct.switched() {
		if err := os.Chown(c.dir, acct.uid, int(acct.cred.Gid)); err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
		if err := ensureTraversable(c.dir, acct, log); err != nil {
			return err
		}
		// A data directory restored or copied by root has the wrong owner, and
		// the server refuses it; give it back.
		if st, err := os.Stat(c.dataDir); err == nil && int(st.Sys().(*syscall.Stat_t).Uid) != acct.uid {
			log.Warn("postgres data directory has another owner; changing it", "user", acct.name)
			if err := chownTree(c.dataDir, acct); err != nil {
				return err
			}
		}
		for _, f := range []string{"superuser.pw", "postgres.log"} {
			_ = os.Lchown(filepath.Join(c.dir, f), acct.uid, int(acct.cred.Gid)) // may not exist yet
		}
	}
	if err := os.Chmod(c.dir, 0o700); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	// The lock says "a live process owns this cluster". The kernel drops it when
	// the owner dies however it dies, so a postgres of this directory found
	// running while we hold the lock is an orphan, not another Linkage's server.
	f, err := os.OpenFile(filepath.Join(c.dir, "linkage.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("pgcluster: lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := io.ReadAll(io.LimitReader(f, 64))
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("%w (%s, held by pid %s)", ErrInUse, c.dir, strings.TrimSpace(string(holder)))
		}
		return fmt.Errorf("pgcluster: lock: %w", err)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	c.lock = f
	return nil
}

// ensureTraversable gives the server's account search (x) permission on every
// parent of dir that lacks it, e.g. a 0700 temp dir or /root. Only x is added:
// the account can pass through but not list the directory.
func ensureTraversable(dir string, acct account, log *slog.Logger) error {
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
		sys := st.Sys().(*syscall.Stat_t)
		var bit fs.FileMode
		switch {
		case int(sys.Uid) == acct.uid:
			bit = 0o100
		case acct.groups[int(sys.Gid)]:
			bit = 0o010
		default:
			bit = 0o001
		}
		if st.Mode().Perm()&bit == 0 {
			log.Warn("making a parent directory traversable for the postgres user", "path", p, "user", acct.name)
			if err := os.Chmod(p, st.Mode().Perm()|bit); err != nil {
				return fmt.Errorf("pgcluster: parent directory %s is not traversable by %s: %w", p, acct.name, err)
			}
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

func chownTree(root string, acct account) error {
	err := filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, acct.uid, int(acct.cred.Gid))
	})
	if err != nil {
		return fmt.Errorf("pgcluster: chown %s: %w", root, err)
	}
	return nil
}

// initdb creates the cluster in a side directory and renames it into place, so
// an initdb interrupted by a crash leaves no half-made data directory that a
// later start would mistake for a cluster.
func (c *Cluster) initdb(ctx context.Context, acct account, log *slog.Logger) error {
	tmp := c.dataDir + ".initdb"
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("pgcluster: initdb: %w", err)
	}
	if ents, err := os.ReadDir(c.dataDir); err == nil {
		if len(ents) > 0 {
			return fmt.Errorf("pgcluster: initdb: %s exists but is not a PostgreSQL data directory (no PG_VERSION); "+
				"move it away or point Dir elsewhere", c.dataDir)
		}
		if err := os.Remove(c.dataDir); err != nil {
			return fmt.Errorf("pgcluster: initdb: %w", err)
		}
	}
	pw, err := newPassword()
	if err != nil {
		return fmt.Errorf("pgcluster: initdb: %w", err)
	}
	pwPath := filepath.Join(c.dir, "superuser.pw")
	if err := writeOwned(pwPath, []byte(pw+"\n"), acct); err != nil {
		return fmt.Errorf("pgcluster: initdb: %w", err)
	}
	args := []string{
		"-D", tmp,
		"-U", Superuser,
		"--pwfile=" + pwPath,
		// Local (unix socket) logins are guarded by the 0700 socket directory;
		// TCP on loopback is reachable by every local user, so it needs the password.
		"--auth-local=trust", "--auth-host=scram-sha-256",
		// C collation: byte order, identical on every machine and immune to glibc
		// collation changes that corrupt text indexes. Reports that need
		// language-aware ordering can use an ICU collation explicitly.
		"--encoding=UTF8", "--locale=C",
		"--no-instructions",
	}
	if c.opts.NoSync {
		args = append(args, "--no-sync")
	}
	cmd := exec.CommandContext(ctx, filepath.Join(c.binDir, "initdb"), args...)
	cmd.Dir = c.dir
	cmd.Env = childEnv()
	cmd.SysProcAttr = sysProcAttr(acct.cred, false)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	began := time.Now()
	if err := cmd.Run(); err != nil {
		_ = os.RemoveAll(tmp)
		return fmt.Errorf("pgcluster: initdb: %w\n%s", err, tail(out.Bytes(), logTail))
	}
	conf, err := os.OpenFile(filepath.Join(tmp, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = conf.WriteString(tuning)
		err = errors.Join(err, conf.Close())
	}
	if err != nil {
		return fmt.Errorf("pgcluster: initdb: postgresql.conf: %w", err)
	}
	if err := os.Rename(tmp, c.dataDir); err != nil {
		return fmt.Errorf("pgcluster: initdb: %w", err)
	}
	log.Info("postgres cluster initialised", "version", c.version, "took", time.Since(began).Round(time.Millisecond))
	return nil
}

// clearStale deals with what a crash leaves behind. We hold the directory lock,
// so no live Linkage owns this cluster. A postmaster still running here is an
// orphan (its owner was killed before the kernel's parent-death signal could
// help, or someone started it by hand). We stop it with a fast shutdown rather
// than adopt it: we could not watch a process that is not our child, could not
// stop it on its parent's death, and its port and settings may differ from
// ours; a restart costs about a second and loses nothing. Backends left by a
// SIGKILLed postmaster would make the new one refuse to start ("pre-existing
// shared memory block is still in use"), so they are ended too.
func (c *Cluster) clearStale(log *slog.Logger) error {
	pmPid := readPidFile(filepath.Join(c.dataDir, "postmaster.pid"))
	if pids := postgresProcessesIn(c.dataDir); len(pids) > 0 {
		postmaster := false
		for _, p := range pids {
			postmaster = postmaster || p == pmPid
		}
		log.Warn("stopping an orphaned postgres of this cluster", "pids", pids, "postmaster", postmaster)
		if postmaster {
			_ = syscall.Kill(pmPid, syscall.SIGINT) // fast shutdown: clean, with a checkpoint
			pids = waitGone(c.dataDir, pids, c.opts.StopTimeout)
		}
		if len(pids) > 0 {
			signalAll(pids, syscall.SIGQUIT) // immediate shutdown / backend exit
			pids = waitGone(c.dataDir, pids, 5*time.Second)
		}
		if len(pids) > 0 {
			signalAll(pids, syscall.SIGKILL)
			pids = waitGone(c.dataDir, pids, 5*time.Second)
		}
		if len(pids) > 0 {
			return fmt.Errorf("pgcluster: orphaned postgres processes %v of %s do not exit", pids, c.dataDir)
		}
	}
	// No postgres runs in this directory now. A pid file naming a dead process
	// is left to the server, which then also removes the old shared memory
	// segment it records. One naming a live process (the pid was reused by an
	// unrelated program of the same user) would make the server refuse to start
	// forever, so it goes; the same holds for the socket lock files. A killed
	// postmaster stays a zombie until its new parent reaps it, and the server's
	// check cannot tell a zombie from a live process, so give reaping a moment
	// before deciding.
	locks, _ := filepath.Glob(filepath.Join(c.dir, ".s.PGSQL.*.lock"))
	for _, f := range append([]string{filepath.Join(c.dataDir, "postmaster.pid")}, locks...) {
		pid := readPidFile(f)
		for i := 0; i < 40 && pidAlive(pid); i++ {
			time.Sleep(50 * time.Millisecond)
		}
		if pidAlive(pid) {
			log.Warn("removing a stale lock file naming a live process that is not a postgres of this cluster",
				"file", f, "pid", pid)
			if err := os.Remove(f); err != nil {
				return fmt.Errorf("pgcluster: stale lock: %w", err)
			}
		}
	}
	return nil
}

// readPidFile returns the pid on the first line of a PostgreSQL lock file, 0 if none.
func readPidFile(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(line))
	if pid < 0 { // a standalone backend writes -pid
		pid = -pid
	}
	return pid
}

// launch starts the server, retrying with another port when a port we picked
// was taken between our check and the server's bind.
func (c *Cluster) launch(ctx context.Context, acct account, log *slog.Logger) error {
	for attempt := 1; ; attempt++ {
		port := c.opts.Port
		if port == 0 {
			p, err := freePort()
			if err != nil {
				return err
			}
			port = p
		}
		err := c.launchOnce(ctx, acct, port)
		if err == nil {
			return nil
		}
		if c.opts.Port != 0 || attempt == 3 || !errors.Is(err, errPortInUse) {
			return err
		}
		log.Warn("port taken, retrying", "port", port)
		c.done = make(chan struct{})
		c.proc, c.exitErr = nil, nil
	}
}

var errPortInUse = errors.New("port in use")

func (c *Cluster) launchOnce(ctx context.Context, acct account, port int) error {
	c.port = port
	c.sockDir = ""
	// The socket is <dir>/.s.PGSQL.<port>; past the kernel's limit the server
	// would fail to create it, so a long Dir means TCP on loopback only (always
	// there anyway). A socket in a short temp dir was rejected: /tmp cleaners
	// delete it under a server that runs for months.
	if len(c.dir)+len("/.s.PGSQL.")+len(strconv.Itoa(port)) <= maxSocketPath {
		c.sockDir = c.dir
	}
	args := []string{
		"-D", c.dataDir,
		"-c", "port=" + strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=" + c.sockDir,
		"-c", "unix_socket_permissions=0700",
		"-c", "logging_collector=off",
	}
	if c.opts.NoSync {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	keys := make([]string, 0, len(c.opts.Settings))
	for k := range c.opts.Settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "-c", k+"="+c.opts.Settings[k])
	}

	if st, err := os.Stat(c.logPath); err == nil && st.Size() > maxLogSize {
		_ = os.Rename(c.logPath, c.logPath+".1")
	}
	logf, err := os.OpenFile(c.logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("pgcluster: log: %w", err)
	}
	if acct.switched() {
		_ = logf.Chown(acct.uid, int(acct.cred.Gid))
	}
	var logStart int64
	if st, err := logf.Stat(); err == nil {
		logStart = st.Size()
	}

	cmd := exec.Command(filepath.Join(c.binDir, "postgres"), args...)
	cmd.Dir = c.dataDir
	cmd.Env = childEnv()
	cmd.Stdout, cmd.Stderr = logf, logf // *os.File: handed to the child, no copying goroutine
	cmd.SysProcAttr = sysProcAttr(acct.cred, true)

	// Pdeathsig fires when the *thread* that forked the child exits, not the
	// process (golang/go#27505). This goroutine pins its thread for the child's
	// whole life, and only returns (ending the thread) once the child is gone.
	started := make(chan error, 1)
	done := c.done
	go func() {
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		err := cmd.Wait()
		c.exitErr = err
		close(done)
	}()
	err = <-started
	logf.Close()
	if err != nil {
		close(done)
		return fmt.Errorf("pgcluster: start postgres: %w", err)
	}
	c.proc = cmd.Process

	if err := c.waitReady(ctx); err != nil {
		t := c.logSince(logStart)
		if bytes.Contains(t, []byte("could not bind")) || bytes.Contains(t, []byte("Address already in use")) {
			err = fmt.Errorf("%w: %w", errPortInUse, err)
		}
		return fmt.Errorf("pgcluster: start postgres: %w\n%s", err, t)
	}
	return nil
}

// waitReady waits for the server to mark itself ready in postmaster.pid (the
// 8th line, as pg_ctl -w does), for it to exit, or for ctx.
func (c *Cluster) waitReady(ctx context.Context) error {
	pidFile := filepath.Join(c.dataDir, "postmaster.pid")
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		if b, err := os.ReadFile(pidFile); err == nil {
			lines := strings.Split(string(b), "\n")
			if len(lines) >= 8 && strings.TrimSpace(lines[0]) == strconv.Itoa(c.proc.Pid) &&
				strings.TrimSpace(lines[7]) == "ready" {
				return nil
			}
		}
		select {
		case <-c.done:
			return fmt.Errorf("server exited during start-up: %v", c.exitErr)
		case <-ctx.Done():
			_ = c.proc.Signal(syscall.SIGQUIT)
			select {
			case <-c.done:
			case <-time.After(5 * time.Second):
				_ = c.proc.Kill()
				<-c.done
			}
			return fmt.Errorf("not ready: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// resetPassword sets a new superuser password when superuser.pw was lost (a
// backup that skipped it, a careless cleanup). Local socket logins are trusted,
// so this needs the socket; with a TCP-only cluster the file must be restored.
func (c *Cluster) resetPassword(ctx context.Context, acct account, pwPath string, log *slog.Logger) error {
	if c.sockDir == "" {
		return fmt.Errorf("pgcluster: superuser password file %s is missing and the cluster has no unix socket "+
			"(Dir longer than %d bytes) to reset it through; restore the file or use a shorter Dir", pwPath, maxSocketPath-15)
	}
	pw, err := newPassword()
	if err != nil {
		return fmt.Errorf("pgcluster: reset password: %w", err)
	}
	c.password = pw
	db, err := sql.Open("postgres", c.AdminURL("postgres"))
	if err != nil {
		return fmt.Errorf("pgcluster: reset password: %w", err)
	}
	defer db.Close()
	// ALTER ROLE takes no parameters; the password is hex, so quoting is safe.
	if _, err := db.ExecContext(ctx, "ALTER ROLE "+pq.QuoteIdentifier(Superuser)+" PASSWORD "+pq.QuoteLiteral(pw)); err != nil {
		return fmt.Errorf("pgcluster: reset password: %w", err)
	}
	if err := writeOwned(pwPath, []byte(pw+"\n"), acct); err != nil {
		return fmt.Errorf("pgcluster: reset password: %w", err)
	}
	log.Warn("superuser password file was missing; set a new password", "file", pwPath)
	return nil
}

func newPassword() (string, error) {
	var raw [18]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(raw[:]), nil
}

func (c *Cluster) createDatabase(ctx context.Context) error {
	db, err := sql.Open("postgres", c.AdminURL("postgres"))
	if err != nil {
		return fmt.Errorf("pgcluster: create database: %w", err)
	}
	defer db.Close()
	var exists bool
	err = db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`,
		c.opts.Database).Scan(&exists)
	if err == nil && !exists {
		_, err = db.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(c.opts.Database))
	}
	if err != nil {
		return fmt.Errorf("pgcluster: create database %q: %w", c.opts.Database, err)
	}
	return nil
}

// Stop shuts the server down with a fast shutdown (open transactions are rolled
// back, a checkpoint is written) and waits for it to exit. If that takes longer
// than ctx or Options.StopTimeout allow, it escalates to an immediate shutdown
// (crash recovery at the next start) and then SIGKILL. Stop is idempotent and
// safe to call concurrently; every call returns the first call's result.
func (c *Cluster) Stop(ctx context.Context) error {
	c.stopOnce.Do(func() { c.stopErr = c.stop(ctx) })
	return c.stopErr
}

func (c *Cluster) stop(ctx context.Context) error {
	defer c.lock.Close() // releases the flock
	ctx, cancel := context.WithTimeout(ctx, c.opts.StopTimeout)
	defer cancel()
	_ = c.proc.Signal(syscall.SIGINT)
	select {
	case <-c.done:
		return c.exitAsStop()
	case <-ctx.Done():
	}
	c.opts.Logger.Warn("postgres fast shutdown timed out; immediate shutdown", "dir", c.dir)
	_ = c.proc.Signal(syscall.SIGQUIT)
	select {
	case <-c.done:
		return fmt.Errorf("pgcluster: stop: fast shutdown timed out, immediate shutdown used: %w", ctx.Err())
	case <-time.After(5 * time.Second):
	}
	_ = c.proc.Kill()
	<-c.done
	// Backends notice the postmaster's death and exit on their own.
	if left := waitGone(c.dataDir, postgresProcessesIn(c.dataDir), 5*time.Second); len(left) > 0 {
		return fmt.Errorf("pgcluster: stop: postmaster killed, backends %v still running", left)
	}
	return fmt.Errorf("pgcluster: stop: server did not shut down, killed: %w", ctx.Err())
}

// exitAsStop maps the server's exit after our SIGINT: status 0 is a clean stop;
// anything else (e.g. it had already crashed) is reported.
func (c *Cluster) exitAsStop() error {
	if c.exitErr != nil {
		return fmt.Errorf("pgcluster: stop: %w", c.exitErr)
	}
	return nil
}

// freePort asks the kernel for a free loopback port. Another process may take it
// before the server binds; launch retries then.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgcluster: pick a port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// childEnv is our environment without PG* variables: PGDATA, PGPORT, PGOPTIONS
// and friends would silently change what initdb and postgres do.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			env = append(env, kv)
		}
	}
	return env
}

func writeOwned(path string, data []byte, acct account) error {
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return err
	}
	if acct.switched() {
		return os.Chown(path, acct.uid, int(acct.cred.Gid))
	}
	return nil
}

// logSince returns the tail of what the server logged since offset.
func (c *Cluster) logSince(offset int64) []byte {
	f, err := os.Open(c.logPath)
	if err != nil {
		return nil
	}
	defer f.Close()
	b, _ := io.ReadAll(io.NewSectionReader(f, offset, 1<<30))
	return tail(b, logTail)
}

// tail returns about the last n bytes of b, starting at a line boundary.
func tail(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	b = b[len(b)-n:]
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[i+1:]
	}
	return b
}
