package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Call is one whole call as the assembler concluded it: every channel that shared a
// linkedid (or was merged into it by a transfer), with the columns supervisors read.
// Calls are written once, when they end; (server, linkedid) makes the write idempotent
// so a replay of the journal never duplicates a call.
type Call struct{ ent.Schema }

// Fields of Call.
func (Call) Fields() []ent.Field {
	return []ent.Field{
		field.Int("server_id").Immutable(),
		field.String("linkedid").NotEmpty().Immutable(),
		field.Strings("linkedids").Optional().Comment("every linkedid that belonged to this call"),
		field.Time("start").Annotations(entgql.OrderField("START")),
		field.Time("answered").Optional().Nillable(),
		field.Time("end").Annotations(entgql.OrderField("END")),
		field.Enum("type").Values("inbound", "outbound", "internal"),
		field.Enum("status").Values("answered", "missed"),
		field.String("missed_reason").Optional().Comment("abandoned, noanswer, busy, cancelled, timeout, failed, empty, full"),
		field.String("caller_number").Optional(),
		field.String("caller_name").Optional(),
		field.Int("caller_operator_id").Optional().Nillable().Comment("set when an operator placed the call"),
		field.String("dialed").Optional().Comment("DID for inbound calls, the number dialed otherwise"),
		field.String("callee_number").Optional(),
		field.String("callee_name").Optional(),
		field.Int("answered_by_id").Optional().Nillable(),
		field.String("answered_by_number").Optional(),
		field.String("answered_by_name").Optional(),
		field.String("answered_by_device").Optional(),
		field.Int("trunk_id").Optional().Nillable(),
		field.Strings("queues").Optional().Comment("queue numbers in visit order, for display; visits hold the facts"),
		field.Strings("missed_by_operators").Optional(),
		field.Strings("missed_in_queues").Optional(),
		field.Enum("hangup_by").Values("caller", "callee", "operator", "system", "unknown").Default("unknown"),
		field.Int("wait_seconds").Default(0).Annotations(entgql.OrderField("WAIT")),
		field.Int("talk_seconds").Default(0).Annotations(entgql.OrderField("TALK")),
		field.Int("hold_seconds").Default(0),
		field.Int("talk_without_hold_seconds").Default(0),
		field.Bool("transferred").Default(false),
		field.JSON("transfers", []Transfer{}).Optional().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Strings("recordings").Optional(),
		field.String("parent_linkedid").Optional().Comment("for a consultation call: the customer call it served"),
		field.Bool("approximate_times").Default(false).Comment("Asterisk sent no Timestamp; times were inferred"),
		field.Bool("incomplete").Default(false).Comment("part of the call fell into an AMI gap"),
		field.String("incomplete_reason").Optional(),
		field.JSON("custom", map[string]string{}).Optional().Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Edges of Call.
func (Call) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("server", Server.Type).Ref("calls").Field("server_id").Unique().Required().Immutable(),
		edge.To("caller_operator", Operator.Type).Field("caller_operator_id").Unique(),
		edge.To("answered_by", Operator.Type).Field("answered_by_id").Unique(),
		edge.To("trunk", Trunk.Type).Field("trunk_id").Unique(),
		edge.To("legs", CallLeg.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
		edge.To("visits", QueueVisit.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
		edge.To("attempts", QueueAttempt.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

// Indexes of Call: the report filters (period, server, status, type, operator).
func (Call) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("server_id", "linkedid").Unique(),
		index.Fields("start"),
		index.Fields("answered_by_id", "start"),
		index.Fields("caller_number"),
		index.Fields("parent_linkedid"),
	}
}

// Annotations of Call.
func (Call) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}

// CallLeg is one party's participation in a call: an operator or callee who rang,
// talked, held and maybe transferred.
type CallLeg struct{ ent.Schema }

// Fields of CallLeg.
func (CallLeg) Fields() []ent.Field {
	return []ent.Field{
		field.Int("call_id").Immutable(),
		field.Int("operator_id").Optional().Nillable(),
		field.Int("queue_id").Optional().Nillable(),
		field.String("number").Optional(),
		field.String("name").Optional(),
		field.String("device").Optional(),
		field.Time("ring_at").Optional().Nillable(),
		field.Time("answer_at").Optional().Nillable(),
		field.Time("end_at").Optional().Nillable(),
		field.Int("wait_seconds").Default(0),
		field.Int("talk_seconds").Default(0),
		field.Int("hold_seconds").Default(0),
		field.Int("talk_without_hold_seconds").Default(0),
		field.String("transfer_type").Optional(),
		field.String("transfer_to").Optional(),
	}
}

// Edges of CallLeg.
func (CallLeg) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("call", Call.Type).Ref("legs").Field("call_id").Unique().Required().Immutable(),
		edge.To("operator", Operator.Type).Field("operator_id").Unique(),
		edge.To("queue", Queue.Type).Field("queue_id").Unique(),
	}
}

// Indexes of CallLeg.
func (CallLeg) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("operator_id", "answer_at"),
		index.Fields("call_id"), // a call's journey; ON DELETE CASCADE
	}
}

// QueueVisit is one stint of a caller in one queue, from join to leave.
type QueueVisit struct{ ent.Schema }

// Fields of QueueVisit.
func (QueueVisit) Fields() []ent.Field {
	return []ent.Field{
		field.Int("call_id").Immutable(),
		field.Int("queue_id"),
		field.Time("joined_at"),
		field.Time("left_at").Optional().Nillable(),
		field.Int("position").Default(0),
		field.Enum("result").Values("answered", "abandoned", "timeout", "empty", "full", "transferred", "unknown"),
		field.Int("wait_seconds").Default(0),
		field.Int("answered_by_id").Optional().Nillable(),
	}
}

// Edges of QueueVisit.
func (QueueVisit) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("call", Call.Type).Ref("visits").Field("call_id").Unique().Required().Immutable(),
		edge.From("queue", Queue.Type).Ref("visits").Field("queue_id").Unique().Required(),
		edge.To("answered_by", Operator.Type).Field("answered_by_id").Unique(),
	}
}

// Indexes of QueueVisit: queue reports filter by queue and join time.
func (QueueVisit) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("queue_id", "joined_at"),
		index.Fields("call_id"), // a call's journey and the call list's queue filter
	}
}

// QueueAttempt is one ring of one operator for a queued caller.
type QueueAttempt struct{ ent.Schema }

// Fields of QueueAttempt.
func (QueueAttempt) Fields() []ent.Field {
	return []ent.Field{
		field.Int("call_id").Immutable(),
		field.Int("queue_id").Optional().Nillable(),
		field.Int("operator_id").Optional().Nillable(),
		field.String("interface").Optional(),
		field.Time("ring_start"),
		field.Time("ring_end").Optional().Nillable(),
		field.Enum("result").Values("answered", "noanswer", "busy", "dump", "cancelled", "unknown"),
		field.Int("ring_seconds").Default(0),
	}
}

// Edges of QueueAttempt.
func (QueueAttempt) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("call", Call.Type).Ref("attempts").Field("call_id").Unique().Required().Immutable(),
		edge.To("queue", Queue.Type).Field("queue_id").Unique(),
		edge.To("operator", Operator.Type).Field("operator_id").Unique(),
	}
}

// Indexes of QueueAttempt: "missed by operator" reports.
func (QueueAttempt) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("operator_id", "ring_start"),
		index.Fields("call_id"), // a call's journey; ON DELETE CASCADE
	}
}

// OperatorStatusChange is one interval of an operator's status (free, paused with a
// reason, logged out ...). The open interval has no end.
type OperatorStatusChange struct{ ent.Schema }

// Fields of OperatorStatusChange.
func (OperatorStatusChange) Fields() []ent.Field {
	return []ent.Field{
		field.Int("operator_id"),
		field.String("status").NotEmpty().Comment("available, paused, unavailable, loggedout, busy ..."),
		field.String("reason").Optional(),
		field.String("queue").Optional().Comment("queue the change applies to; empty for all"),
		field.Time("from"),
		field.Time("to").Optional().Nillable(),
	}
}

// Edges of OperatorStatusChange.
func (OperatorStatusChange) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("operator", Operator.Type).Ref("status_changes").Field("operator_id").Unique().Required(),
	}
}

// Indexes of OperatorStatusChange.
func (OperatorStatusChange) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("operator_id", "from"),
		// The open interval of each operator and queue ("to" IS NULL): what the collector
		// reads and closes on every status change. Without it, finding it walks the
		// operator's whole history through (operator_id, from), which grows all day.
		index.Fields("operator_id", "queue").
			StorageKey("operatorstatuschange_open").
			Annotations(entsql.IndexWhere(`"to" IS NULL`)),
	}
}
