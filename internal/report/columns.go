package report

// column is one exported or compact column: its catalog key and SQL over "calls".
type column struct {
	key  string
	expr string
}

func jsonList(col string) string {
	return "coalesce((SELECT string_agg(x, ',') FROM jsonb_array_elements_text(calls." + col + ") x), '')"
}

// callColumns are the call list's columns, in the order the field knows them
// (date, type, caller, queue, dialed, callee, who hung up, times, status, missed by,
// linkedid), then the rest of the call record. The first must stay the id.
var callColumns = []column{
	{"id", "calls.id"},
	{"start", "calls.start"},
	{"answered", "calls.answered"},
	{"end", `calls."end"`},
	{"type", "calls.type"},
	{"caller_number", "coalesce(calls.caller_number, '')"},
	{"caller_name", "coalesce(calls.caller_name, '')"},
	{"queues", jsonList("queues")},
	{"dialed", "coalesce(calls.dialed, '')"},
	{"callee_number", "coalesce(calls.callee_number, '')"},
	{"callee_name", "coalesce(calls.callee_name, '')"},
	{"answered_by_number", "coalesce(calls.answered_by_number, '')"},
	{"answered_by_name", "coalesce(calls.answered_by_name, '')"},
	{"hangup_by", "calls.hangup_by"},
	{"wait_seconds", "calls.wait_seconds"},
	{"talk_seconds", "calls.talk_seconds"},
	{"talk_without_hold_seconds", "calls.talk_without_hold_seconds"},
	{"hold_seconds", "calls.hold_seconds"},
	{"status", "calls.status"},
	{"missed_reason", "coalesce(calls.missed_reason, '')"},
	{"missed_by_operators", jsonList("missed_by_operators")},
	{"missed_in_queues", jsonList("missed_in_queues")},
	{"transferred", "calls.transferred"},
	{"recordings", jsonList("recordings")},
	{"linkedid", "calls.linkedid"},
	{"parent_linkedid", "coalesce(calls.parent_linkedid, '')"},
	{"server", "(SELECT name FROM servers WHERE id = calls.server_id)"},
	{"trunk", "coalesce((SELECT number FROM trunks WHERE id = calls.trunk_id), '')"},
	{"answered_by_device", "coalesce(calls.answered_by_device, '')"},
	{"incomplete", "calls.incomplete"},
	{"approximate_times", "calls.approximate_times"},
}

func callColumnKeys() []string {
	out := make([]string, len(callColumns))
	for i, c := range callColumns {
		out[i] = c.key
	}
	return out
}
