package assemble

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDebugDump(t *testing.T) {
	p := os.Getenv("DUMP")
	if p == "" {
		t.Skip()
	}
	files, _ := filepath.Glob(p)
	for _, f := range files {
		os.Stdout.WriteString("== " + filepath.Base(f) + "\n")
		for _, c := range run(configFor(f), loadCapture(t, f)) {
			WriteJSON(os.Stdout, c)
		}
	}
}
