// Package pgcluster runs a private PostgreSQL cluster from the server binaries
// installed on the machine. It is Linkage's "embedded" database: with no
// DATABASE_URL the server keeps its own cluster under its data directory, and the
// tests use the same launcher (through internal/testdb) for throwaway clusters.
//
// Layout of Options.Dir:
//
//	Dir/data/            PGDATA (created by initdb, reused on every later start)
//	Dir/postgres.log     the server's stderr (the previous one is kept as postgres.log.1)
//	Dir/superuser.pw     the generated password of the "postgres" role (TCP logins)
//	Dir/linkage.lock     flock held by the process that owns the running server
//	Dir/.s.PGSQL.<port>  the unix socket, when the path is short enough
//
// The server is a child of the calling process, never daemonised: it is stopped by
// Stop, and if the caller dies (even by SIGKILL) the kernel sends the server
// SIGINT, which is PostgreSQL's fast shutdown, so no orphan outlives us.
package pgcluster

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"
)

// ErrNoBinaries means the PostgreSQL server programs (initdb, postgres) were not
// found. The error returned by Start wraps it and lists where it looked.
var ErrNoBinaries = errors.New("pgcluster: PostgreSQL server binaries (initdb, postgres) not found; " +
	"install them with: apt-get install postgresql (Debian/Ubuntu), or set DATABASE_URL to use an existing server")

// ErrInUse means another live process holds the cluster directory.
var ErrInUse = errors.New("pgcluster: cluster directory is in use by another process")

// Superuser is the role initdb creates; the cluster is always initialised with it,
// whoever runs us, so connection strings do not depend on the OS user.
const Superuser = "postgres"

// Options configure Start. The zero value is not usable: Dir is required.
type Options struct {
	// Dir is the cluster directory, e.g. <data-dir>/postgres. Created if missing.
	Dir string
	// BinDir holds initdb and postgres. If empty, PATH is searched, then
	// /usr/lib/postgresql/*/bin (the version matching an existing cluster, else
	// the highest). An explicit BinDir is never second-guessed.
	BinDir string
	// Port is the TCP port on 127.0.0.1; 0 picks a free one at every start.
	Port int
	// Logger receives the launcher's own messages; nil discards them.
	Logger *slog.Logger
	// Database is created if missing; default "linkage".
	Database string
	// NoSync turns off fsync, synchronous_commit and full_page_writes (and makes
	// initdb skip its fsync). A crash can then corrupt the cluster: tests only.
	NoSync bool
	// Settings are extra server settings passed as -c name=value at every start
	// (they override postgresql.conf), e.g. {"max_connections": "200"}.
	Settings map[string]string
	// RunAs is the system user that runs the server when we are root (PostgreSQL
	// refuses to run as root). Default "postgres". Ignored when not root.
	RunAs string
	// StartTimeout bounds initdb plus the wait for the server to accept
	// connections, on top of the context's own deadline. Default 2 minutes (a
	// cold initdb on a busy two-core machine can take tens of seconds).
	StartTimeout time.Duration
	// StopTimeout bounds a fast shutdown before Stop escalates to an immediate
	// one. Default 30s.
	StopTimeout time.Duration
}

func (o *Options) setDefaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Database == "" {
		o.Database = "linkage"
	}
	if o.RunAs == "" {
		o.RunAs = "postgres"
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = 2 * time.Minute
	}
	if o.StopTimeout == 0 {
		o.StopTimeout = 30 * time.Second
	}
}

func (o *Options) validate() error {
	var errs []error
	if o.Dir == "" {
		errs = append(errs, errors.New("Dir is required"))
	}
	if o.Port < 0 || o.Port > 65535 {
		errs = append(errs, fmt.Errorf("Port %d out of range", o.Port))
	}
	if strings.ContainsRune(o.Database, 0) || len(o.Database) > 63 {
		errs = append(errs, fmt.Errorf("Database %q is not a valid name", o.Database))
	}
	if o.StartTimeout < 0 || o.StopTimeout < 0 {
		errs = append(errs, errors.New("timeouts must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("pgcluster: options: %w", err)
	}
	return nil
}

// Cluster is a running private PostgreSQL server. It is safe for concurrent use.
type Cluster struct {
	opts     Options
	dir      string // absolute Options.Dir
	dataDir  string
	logPath  string
	binDir   string
	version  int    // major version of the binaries
	port     int    // TCP port on 127.0.0.1
	sockDir  string // "" when the socket path would be too long: TCP only
	password string

	lock *os.File // flock on Dir/linkage.lock, held while the server runs

	proc     *os.Process
	done     chan struct{} // closed when the server process has exited
	exitErr  error         // set before done is closed
	stopOnce sync.Once
	stopErr  error
}

// Dir returns the absolute cluster directory.
func (c *Cluster) Dir() string { return c.dir }

// DataDir returns PGDATA.
func (c *Cluster) DataDir() string { return c.dataDir }

// LogPath returns the server log file.
func (c *Cluster) LogPath() string { return c.logPath }

// Port returns the TCP port the server listens on (127.0.0.1 only).
func (c *Cluster) Port() int { return c.port }

// SocketDir returns the directory of the unix socket, or "" when the server
// listens on TCP only because the socket path would exceed the kernel's limit.
func (c *Cluster) SocketDir() string { return c.sockDir }

// PID returns the postmaster's process id.
func (c *Cluster) PID() int { return c.proc.Pid }

// Version returns the major version of the server binaries.
func (c *Cluster) Version() int { return c.version }

// Done is closed when the server process exits, whether by Stop or not. The app
// should treat an unexpected close as fatal: its database is gone.
func (c *Cluster) Done() <-chan struct{} { return c.done }

// Err returns why the server exited (nil while it runs or after a clean exit).
func (c *Cluster) Err() error {
	select {
	case <-c.done:
		return c.exitErr
	default:
		return nil
	}
}

// URL returns a lib/pq connection string for Options.Database.
func (c *Cluster) URL() string { return c.AdminURL(c.opts.Database) }

// AdminURL returns a lib/pq connection string for database db as the superuser.
// It uses the unix socket when there is one, else TCP on 127.0.0.1 with the
// generated password.
func (c *Cluster) AdminURL(db string) string {
	host := c.sockDir
	if host == "" {
		host = "127.0.0.1"
	}
	kv := []string{
		"host=" + quoteDSN(host),
		fmt.Sprintf("port=%d", c.port),
		"user=" + quoteDSN(Superuser),
		"password=" + quoteDSN(c.password),
		"dbname=" + quoteDSN(db),
		"sslmode=disable",
	}
	return strings.Join(kv, " ")
}

// quoteDSN quotes a value for a libpq key=value connection string.
func quoteDSN(v string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	return "'" + r.Replace(v) + "'"
}
