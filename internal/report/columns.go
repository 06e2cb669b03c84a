package report

// column is one exported or compact column: its catalog key and SQL over "calls".
type column struct {
	key  string
	expr string
	list bool // a JSON array of strings, decoded in Go (cheaper than unnesting per row)
}

func jsonList(col string) string { return "calls." + col }

// callJoins supply the server and trunk columns.
const callJoins = " LEFT JOIN servers srv ON srv.id = calls.server_id LEFT JOIN trunks trk ON trk.id = calls.trunk_id"

// callColumns are the call list's columns, in the order the field knows them
// (date, type, caller, queue, dialed, callee, who hung up, times, status, missed by,
// linkedid), then the rest of the call record. The first must stay the id.
var callColumns = []column{
	{key: "id", expr: "calls.id"},
	{key: "start", expr: "calls.start"},
	{key: "answered", expr: "calls.answered"},
	{key: "end", expr: `calls."end"`},
	{key: "type", expr: "calls.type"},
	{key: "caller_number", expr: "coalesce(calls.caller_number, '')"},
	{key: "caller_name", expr: "coalesce(calls.caller_name, '')"},
	{key: "queues", expr: jsonList("queues"), list: true},
	{key: "dialed", expr: "coalesce(calls.dialed, '')"},
	{key: "callee_number", expr: "coalesce(calls.callee_number, '')"},
	{key: "callee_name", expr: "coalesce(calls.callee_name, '')"},
	{key: "answered_by_number", expr: "coalesce(calls.answered_by_number, '')"},
	{key: "answered_by_name", expr: "coalesce(calls.answered_by_name, '')"},
	{key: "hangup_by", expr: "calls.hangup_by"},
	{key: "wait_seconds", expr: "calls.wait_seconds"},
	{key: "talk_seconds", expr: "calls.talk_seconds"},
	{key: "talk_without_hold_seconds", expr: "calls.talk_without_hold_seconds"},
	{key: "hold_seconds", expr: "calls.hold_seconds"},
	{key: "status", expr: "calls.status"},
	{key: "missed_reason", expr: "coalesce(calls.missed_reason, '')"},
	{key: "missed_by_operators", expr: jsonList("missed_by_operators"), list: true},
	{key: "missed_in_queues", expr: jsonList("missed_in_queues"), list: true},
	{key: "transferred", expr: "calls.transferred"},
	{key: "recordings", expr: jsonList("recordings"), list: true},
	{key: "linkedid", expr: "calls.linkedid"},
	{key: "parent_linkedid", expr: "coalesce(calls.parent_linkedid, '')"},
	{key: "server", expr: "srv.name"},
	{key: "trunk", expr: "coalesce(trk.number, '')"},
	{key: "answered_by_device", expr: "coalesce(calls.answered_by_device, '')"},
	{key: "incomplete", expr: "calls.incomplete"},
	{key: "approximate_times", expr: "calls.approximate_times"},
}

func callColumnKeys() []string {
	out := make([]string, len(callColumns))
	for i, c := range callColumns {
		out[i] = c.key
	}
	return out
}
