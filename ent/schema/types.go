package schema

// WorkingHours is a weekly schedule in the queue's own time zone. Reports use it to
// count only what happened while the queue was staffed (e.g. 09:00-18:00 on weekdays).
type WorkingHours struct {
	// Days are ISO weekdays, 1 = Monday ... 7 = Sunday.
	Days []int `json:"days"`
	// From and To are "HH:MM" in the queue's zone; To is exclusive. To <= From spans midnight.
	From string `json:"from"`
	To   string `json:"to"`
}

// Transfer is one transfer of a call, as the assembler saw it.
type Transfer struct {
	Type     string `json:"type"` // blind, attended, blonde
	By       string `json:"by"`   // number of the party that transferred
	To       string `json:"to"`   // number transferred to
	Answered bool   `json:"answered"`
}
