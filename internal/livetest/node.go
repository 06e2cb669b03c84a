package livetest

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// NodeSub is one subscription the Node client opens.
type NodeSub struct {
	Name      string         `json:"name"`
	Query     string         `json:"query"`
	Variables map[string]any `json:"variables,omitempty"`
}

// NodeMsg is one line the Node client printed.
type NodeMsg struct {
	Type     string          `json:"type"`
	Sub      string          `json:"sub"`
	Payload  json.RawMessage `json:"payload"`
	Error    string          `json:"error"`
	Complete bool            `json:"complete"`
}

// NodeClient is the npm graphql-ws client (node/client.mjs) running in a child process.
type NodeClient struct {
	cmd   *exec.Cmd
	stdin interface{ Close() error }
	// Msgs yields what the client printed; it closes when the process exits.
	Msgs <-chan NodeMsg
	done chan struct{}
}

// NodeDir is the folder with package.json, package-lock.json and client.mjs.
func NodeDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "node")
}

// StartNodeClient runs the graphql-ws client against url (http:// or ws://) with subs.
// The test is skipped, loudly, only when node is not installed; node_modules is
// installed with `npm ci` from the committed lock file when missing.
func StartNodeClient(t testing.TB, ctx context.Context, url string, subs []NodeSub, params any) *NodeClient {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Log("**************************************************************************")
		t.Log("SKIPPING: node is not installed, so the npm graphql-ws interop test did NOT run")
		t.Log("**************************************************************************")
		t.Skip("node not installed")
	}
	dir := NodeDir()
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "graphql-ws")); err != nil {
		npm, err := exec.LookPath("npm")
		if err != nil {
			t.Fatalf("node is installed but npm is not, and %s/node_modules is missing", dir)
		}
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
		}
	}
	url = strings.Replace(url, "http://", "ws://", 1)
	sj, _ := json.Marshal(subs)
	pj, _ := json.Marshal(params)
	cmd := exec.CommandContext(ctx, node, "client.mjs", url, string(sj), string(pj))
	cmd.Dir = dir
	cmd.Stderr = testWriter{t}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	msgs := make(chan NodeMsg, 256)
	n := &NodeClient{cmd: cmd, stdin: stdin, Msgs: msgs, done: make(chan struct{})}
	go func() {
		defer close(n.done)
		defer close(msgs)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			var m NodeMsg
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Logf("node: %s", sc.Bytes())
				continue
			}
			select {
			case msgs <- m:
			case <-ctx.Done():
				return
			}
		}
	}()
	t.Cleanup(n.Stop)
	return n
}

// Stop closes the client's stdin (it disposes the client and exits) and waits.
func (n *NodeClient) Stop() {
	_ = n.stdin.Close()
	go func() {
		for range n.Msgs { // drain so the reader can finish
		}
	}()
	<-n.done
	_ = n.cmd.Wait()
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("node stderr: %s", strings.TrimSpace(string(p)))
	return len(p), nil
}
