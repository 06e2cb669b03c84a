//go:build linux

package pgcluster

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// postgresProcessesIn returns the pids of postgres processes whose working
// directory is dataDir. The postmaster chdirs into its data directory before it
// writes postmaster.pid, and every backend it forks inherits that, so this finds
// the server of dataDir (and backends left behind by a killed postmaster) without
// trusting a pid number that may have been reused. Processes we may not inspect
// belong to another user and cannot be a server of a directory we own.
func postgresProcessesIn(dataDir string) []int {
	target, err := filepath.EvalSymlinks(dataDir)
	if err != nil {
		return nil
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if isPostgresIn(pid, target) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func isPostgresIn(pid int, target string) bool {
	p := "/proc/" + strconv.Itoa(pid)
	cwd, err := os.Readlink(p + "/cwd") // fails for zombies too: they are gone for our purpose
	if err != nil || cwd != target {
		return false
	}
	exe, err := os.Readlink(p + "/exe")
	if err != nil {
		return false
	}
	// A package upgrade replaces the binary under a running server.
	base := filepath.Base(strings.TrimSuffix(exe, " (deleted)"))
	return base == "postgres" || base == "postmaster"
}

// waitGone waits until none of pids is a postgres in dataDir any more.
func waitGone(dataDir string, pids []int, timeout time.Duration) []int {
	target, err := filepath.EvalSymlinks(dataDir)
	if err != nil {
		return nil
	}
	deadline := time.Now().Add(timeout)
	for {
		var left []int
		for _, pid := range pids {
			if isPostgresIn(pid, target) {
				left = append(left, pid)
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pidAlive reports whether a process with this pid exists and we could signal
// it. PostgreSQL's own stale-lock check treats EPERM as "not running", so only a
// signalable process can block its start.
func pidAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil
}

func signalAll(pids []int, sig syscall.Signal) {
	for _, pid := range pids {
		_ = syscall.Kill(pid, sig) // ESRCH: already gone, which is what we want
	}
}

// sysProcAttr runs a child as cred (nil: as ourselves) in its own process group,
// so that a terminal's Ctrl-C reaches only us and we stop the server in order.
// With pdeath the kernel sends the child SIGINT (PostgreSQL's fast shutdown) if
// the thread that started it dies, i.e. if we die, even by SIGKILL.
func sysProcAttr(cred *syscall.Credential, pdeath bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Credential: cred, Setpgid: true}
	if pdeath {
		a.Pdeathsig = syscall.SIGINT
	}
	return a
}
