package sim

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/linkage/linkage/ami"
)

// recordingSeconds is the length of every synthetic recording: enough to hear and to
// seek in, small enough (64 KB) to write on the simulator's clock goroutine.
const recordingSeconds = 4

// writeRecordings writes a short synthetic WAV for every MixMonitor recording the model
// starts (VarSet MIXMONITOR_FILENAME), named as Asterisk would name it, so that a demo
// can play recordings without an Asterisk. Only the file's base name is used.
func (s *Server) writeRecordings(evs []ami.Event) {
	if s.opts.RecordingsDir == "" {
		return
	}
	for i := range evs {
		e := &evs[i]
		if e.Name != "VarSet" || e.Fields.Get("Variable") != "MIXMONITOR_FILENAME" {
			continue
		}
		name := filepath.Base(e.Fields.Get("Value"))
		if name == "." || name == "/" || name == "" {
			continue
		}
		if err := os.WriteFile(filepath.Join(s.opts.RecordingsDir, name), toneWAV(recordingSeconds, len(name)), 0o644); err != nil {
			s.log.Warn("sim: write recording", "file", name, "err", err)
		}
	}
}

// toneWAV returns a mono 8 kHz 16-bit PCM WAV of a tone whose pitch depends on seed,
// fading in and out so it does not click.
func toneWAV(seconds, seed int) []byte {
	const rate = 8000
	n := seconds * rate
	freq := 330 + float64(seed%7)*55
	var b bytes.Buffer
	w := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	w(uint32(36 + 2*n))
	b.WriteString("WAVEfmt ")
	w(uint32(16))
	w(uint16(1)) // PCM
	w(uint16(1)) // mono
	w(uint32(rate))
	w(uint32(rate * 2))
	w(uint16(2))
	w(uint16(16))
	b.WriteString("data")
	w(uint32(2 * n))
	for i := 0; i < n; i++ {
		env := math.Min(1, math.Min(float64(i), float64(n-i))/800)
		w(int16(8000 * env * math.Sin(2*math.Pi*freq*float64(i)/rate)))
	}
	return b.Bytes()
}

// checkRecordingsDir makes sure the folder exists before the clock starts.
func checkRecordingsDir(dir string) error {
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("sim: recordings folder: %w", err)
	}
	return nil
}
