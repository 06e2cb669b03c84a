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

// PauseReason is a reason an operator may give when pausing (lunch, training,
// after-call work). It travels to Asterisk as QueuePause's Reason, so reports group
// pauses by the same words operators chose. A reason without a server applies to
// every server.
type PauseReason struct{ ent.Schema }

// Mixin of PauseReason.
func (PauseReason) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

// Fields of PauseReason.
func (PauseReason) Fields() []ent.Field {
	return []ent.Field{
		field.Int("server_id").Optional().Nillable().Comment("empty: every server"),
		field.String("name").NotEmpty().Comment("sent to Asterisk as the pause reason").Annotations(entgql.OrderField("NAME")),
		field.Int("position").Default(0).Comment("order on the operator's screen").Annotations(entgql.OrderField("POSITION")),
		field.Bool("enabled").Default(true),
	}
}

// Edges of PauseReason.
func (PauseReason) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("server", Server.Type).Ref("pause_reasons").Field("server_id").Unique(),
	}
}

// Indexes of PauseReason.
func (PauseReason) Indexes() []ent.Index {
	return []ent.Index{index.Fields("server_id", "name").Unique()}
}

// Annotations of PauseReason.
func (PauseReason) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.QueryField("pauseReasons")}
}

// MissedCall is a missed inbound call of a queue that someone has to call back: the
// operator workplace's to-do list. It is handled by an operator (with a comment), by
// a callback that was answered, or automatically when the customer called again and
// was answered.
type MissedCall struct{ ent.Schema }

// Fields of MissedCall.
func (MissedCall) Fields() []ent.Field {
	return []ent.Field{
		field.Int("call_id").Immutable().Unique(),
		field.Int("server_id").Immutable(),
		field.Int("queue_id").Optional().Nillable().Comment("the last queue the caller waited in"),
		field.String("caller_number").Comment("the customer's number, as the call brought it"),
		field.String("caller_name").Optional(),
		field.Time("missed_at").Immutable().Annotations(entgql.OrderField("MISSED_AT")),
		field.String("reason").Optional().Comment("the call's missed reason: abandoned, noanswer, timeout ..."),
		field.Int("wait_seconds").Default(0),
		field.Enum("state").Values("unhandled", "handled").Default("unhandled"),
		field.Enum("handled_how").Values("manual", "callback", "called_again").Optional().Nillable(),
		field.Time("handled_at").Optional().Nillable().Annotations(entgql.OrderField("HANDLED_AT")),
		field.Int("handled_by_id").Optional().Nillable().Comment("the user who marked it or called back"),
		field.String("comment").Optional(),
		field.Int("handled_call_id").Optional().Nillable().Comment("the answered call that handled it (callback or the customer's next call)"),
		field.Int("callback_attempts").Default(0).Comment("callbacks originated for it"),
		field.Time("last_callback_at").Optional().Nillable(),
	}
}

// Edges of MissedCall.
func (MissedCall) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("call", Call.Type).Field("call_id").Unique().Required().Immutable().
			Annotations(entsql.OnDelete(entsql.Cascade)),
		edge.To("queue", Queue.Type).Field("queue_id").Unique(),
		edge.To("handled_by", User.Type).Field("handled_by_id").Unique(),
		edge.To("handled_call", Call.Type).Field("handled_call_id").Unique(),
	}
}

// Indexes of MissedCall: the unhandled list of a queue, oldest first, and the
// lookups by customer number that auto-handling does for every answered call. The
// unique call_id index is explicit because ent drops Unique() on an edge's field, and
// the collector's idempotent insert (ON CONFLICT (call_id)) needs it.
func (MissedCall) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("call_id").Unique(),
		index.Fields("state", "queue_id", "missed_at"),
		index.Fields("server_id", "caller_number", "state"),
	}
}

// Annotations of MissedCall.
func (MissedCall) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.QueryField("missedCalls")}
}
