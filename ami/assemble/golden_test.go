package assemble

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
)

// golden is one hand-written expectation file in testdata/golden. The expected values
// were written by reading the capture's events and the captures' INDEX.md files; "why"
// cites the events that justify each number. Only the keys present in an expected call
// are compared, so a file states exactly what it claims.
type golden struct {
	Capture string           `json:"capture"`
	Why     []string         `json:"why"`
	Calls   []map[string]any `json:"calls"`
}

// richJSON is the WriteJSON object plus the per-visit, per-attempt and per-leg details
// the goldens also check.
func richJSON(t *testing.T, c *Call) map[string]any {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteJSON(&buf, c); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	var visits, attempts, legs []any
	for _, v := range c.Visits {
		visits = append(visits, map[string]any{"queue": v.Queue, "result": v.Result, "waitSeconds": float64(v.WaitSeconds), "position": float64(v.Position)})
	}
	for _, at := range c.Attempts {
		attempts = append(attempts, map[string]any{"queue": at.Queue, "operator": at.Operator.Number, "result": at.Result, "ringSeconds": float64(at.RingSeconds)})
	}
	for _, l := range c.Legs {
		to := ""
		if l.TransferredTo != nil {
			to = l.TransferredTo.Number
		}
		legs = append(legs, map[string]any{"party": l.Party.Number, "queue": l.Queue, "talkSeconds": float64(l.TalkSeconds), "holdSeconds": float64(l.HoldSeconds), "transferredTo": to})
	}
	m["visits"], m["attempts"], m["legs"] = visits, attempts, legs
	m["incomplete"] = c.Incomplete
	return m
}

func loadGolden(t testing.TB, path string) golden {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return g
}

func capturePath(rel string) string { return filepath.Join("..", "testdata", "captures", rel) }

// diffCall returns the differences between an expected (subset) call and the actual one.
func diffCall(want, got map[string]any) []string {
	var diffs []string
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w, g := want[k], got[k]
		switch k {
		case "visits", "attempts", "legs":
			wl, _ := w.([]any)
			gl, _ := g.([]any)
			if len(wl) != len(gl) {
				diffs = append(diffs, fmt.Sprintf("%s: want %d items, got %d: %v", k, len(wl), len(gl), gl))
				continue
			}
			for i := range wl {
				wm := wl[i].(map[string]any)
				gm := gl[i].(map[string]any)
				for kk, wv := range wm {
					if !reflect.DeepEqual(wv, gm[kk]) {
						diffs = append(diffs, fmt.Sprintf("%s[%d].%s: want %v, got %v", k, i, kk, wv, gm[kk]))
					}
				}
			}
		default:
			if !reflect.DeepEqual(normalize(w), normalize(g)) {
				diffs = append(diffs, fmt.Sprintf("%s: want %v, got %v", k, w, g))
			}
		}
	}
	return diffs
}

func normalize(v any) any {
	if l, ok := v.([]any); ok && len(l) == 0 {
		return nil
	}
	return v
}

func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, f := range files {
		g := loadGolden(t, f)
		t.Run(filepath.Base(f), func(t *testing.T) {
			path := capturePath(g.Capture)
			calls := run(configFor(path), loadCapture(t, path))
			checkCalls(t, g, calls)
		})
	}
}

func checkCalls(t *testing.T, g golden, calls []*Call) {
	t.Helper()
	if len(calls) != len(g.Calls) {
		for _, c := range calls {
			var b bytes.Buffer
			_ = WriteJSON(&b, c)
			t.Log(b.String())
		}
		t.Fatalf("%s: want %d calls, got %d", g.Capture, len(g.Calls), len(calls))
	}
	for i, want := range g.Calls {
		got := richJSON(t, calls[i])
		for _, d := range diffCall(want, got) {
			t.Errorf("%s call %d (%v): %s", g.Capture, i, got["linkedid"], d)
		}
	}
}

// TestEveryCaptureHasGolden keeps the goldens complete: a capture added to testdata
// without an expectation fails here.
func TestEveryCaptureHasGolden(t *testing.T) {
	covered := map[string]bool{}
	files, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.json"))
	for _, f := range files {
		covered[loadGolden(t, f).Capture] = true
	}
	for _, dir := range []string{"lab", "caco"} {
		caps, _ := filepath.Glob(filepath.Join("..", "testdata", "captures", dir, "*.ami"))
		if len(caps) == 0 {
			t.Fatalf("no captures in %s", dir)
		}
		for _, c := range caps {
			rel := dir + "/" + filepath.Base(c)
			if !covered[rel] {
				t.Errorf("capture %s has no golden file", rel)
			}
		}
	}
}
