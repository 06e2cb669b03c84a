package pgcluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// debianRoot is where Debian/Ubuntu install server binaries, one directory per
// major version; they are not on PATH there.
const debianRoot = "/usr/lib/postgresql"

// binaries are the programs the launcher needs. pg_ctl is not used: the server
// is run directly as our child so that we own it.
var binaries = []string{"initdb", "postgres"}

type binCandidate struct {
	dir     string
	version int // 0 = unknown until asked
}

// findBinaries picks a directory with initdb and postgres. want is the major
// version of an existing cluster (0 for a new one): a cluster can only be run by
// binaries of its own major version, so a matching directory wins over a newer
// one. An explicit binDir is used as is.
func findBinaries(ctx context.Context, binDir, pathEnv, root string, want int) (dir string, version int, err error) {
	var looked []string
	var cands []binCandidate
	if binDir != "" {
		looked = append(looked, binDir)
		if hasBinaries(binDir) {
			cands = append(cands, binCandidate{dir: binDir})
		}
	} else {
		// PATH first: an administrator who put binaries there meant them.
		for _, p := range filepath.SplitList(pathEnv) {
			if p == "" {
				continue
			}
			looked = append(looked, p)
			if hasBinaries(p) {
				// Symlinks (/usr/local/bin/postgres -> /usr/lib/postgresql/15/bin)
				// are resolved so that initdb finds its own postgres and share dir.
				d := p
				if real, err := filepath.EvalSymlinks(filepath.Join(p, "postgres")); err == nil {
					d = filepath.Dir(real)
				}
				cands = append(cands, binCandidate{dir: d})
			}
		}
		looked = append(looked, filepath.Join(root, "*", "bin"))
		cands = append(cands, versionDirs(root)...)
	}
	if len(cands) == 0 {
		return "", 0, fmt.Errorf("%w (looked in %s)", ErrNoBinaries, strings.Join(looked, ", "))
	}
	for i := range cands {
		if cands[i].version == 0 {
			v, err := binaryVersion(ctx, cands[i].dir)
			if err != nil {
				return "", 0, err
			}
			cands[i].version = v
		}
	}
	if want == 0 {
		return cands[0].dir, cands[0].version, nil
	}
	var found []string
	for _, c := range cands {
		if c.version == want {
			return c.dir, c.version, nil
		}
		found = append(found, fmt.Sprintf("%s (%d)", c.dir, c.version))
	}
	return "", 0, fmt.Errorf("pgcluster: cluster was created by PostgreSQL %d but only other versions were found: %s; "+
		"install postgresql-%d (apt-get install postgresql-%d) or upgrade the cluster with pg_upgrade",
		want, strings.Join(found, ", "), want, want)
}

func hasBinaries(dir string) bool {
	for _, b := range binaries {
		st, err := os.Stat(filepath.Join(dir, b))
		if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}

// versionDirs lists root/<major>/bin directories with the binaries, highest first.
func versionDirs(root string) []binCandidate {
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil
	}
	var out []binCandidate
	for _, e := range ents {
		v, err := strconv.Atoi(e.Name())
		if err != nil || v <= 0 {
			continue // e.g. 9.6 is far too old anyway
		}
		d := filepath.Join(root, e.Name(), "bin")
		if hasBinaries(d) {
			out = append(out, binCandidate{dir: d, version: v})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version > out[j].version })
	return out
}

var versionRE = regexp.MustCompile(`\(PostgreSQL\) (\d+)`)

// binaryVersion asks "postgres --version", which is allowed as root.
func binaryVersion(ctx context.Context, dir string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, filepath.Join(dir, "postgres"), "--version").Output()
	if err != nil {
		return 0, fmt.Errorf("pgcluster: %s/postgres --version: %w", dir, err)
	}
	m := versionRE.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("pgcluster: %s/postgres --version: unexpected output %q", dir, out)
	}
	v, _ := strconv.Atoi(string(m[1]))
	return v, nil
}

// dataVersion reads PG_VERSION of an initialised data directory; 0 if there is none.
func dataVersion(dataDir string) (int, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, "PG_VERSION"))
	if os.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("pgcluster: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if i := strings.IndexByte(s, '.'); i >= 0 { // "9.6" style
		s = s[:i]
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("pgcluster: %s/PG_VERSION: unexpected content %q", dataDir, b)
	}
	return v, nil
}
