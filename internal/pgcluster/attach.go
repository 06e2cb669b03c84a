package pgcluster

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrNotRunning means no server is running for the cluster directory.
var ErrNotRunning = errors.New("pgcluster: no running server for this cluster")

// AttachURL returns a connection string for database db of a cluster that another
// process (a running `linkage serve`) owns, so administrative commands such as
// `linkage server add` work while the server runs. It reads the port and socket
// directory from postmaster.pid and the password from the cluster directory.
func AttachURL(dir, db string) (string, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid"))
	if errors.Is(err, os.ErrNotExist) {
		return "", ErrNotRunning
	}
	if err != nil {
		return "", fmt.Errorf("pgcluster: attach: %w", err)
	}
	// postmaster.pid: pid, data dir, start time, port, socket dir, listen address, shmem key, status.
	lines := strings.Split(string(raw), "\n")
	if len(lines) < 8 || strings.TrimSpace(lines[7]) != "ready" {
		return "", ErrNotRunning
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(lines[0]))
	if pid <= 0 || !pidAlive(pid) {
		return "", ErrNotRunning
	}
	port := strings.TrimSpace(lines[3])
	host := strings.TrimSpace(lines[4])
	if host == "" {
		host = "127.0.0.1"
	}
	pw, err := os.ReadFile(filepath.Join(dir, "superuser.pw"))
	if err != nil {
		return "", fmt.Errorf("pgcluster: attach: read password: %w", err)
	}
	q := url.Values{"host": {host}, "port": {port}, "sslmode": {"disable"}}
	u := url.URL{Scheme: "postgres", User: url.UserPassword(Superuser, strings.TrimSpace(string(pw))), Host: "localhost", Path: "/" + db, RawQuery: q.Encode()}
	return u.String(), nil
}
