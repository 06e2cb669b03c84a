package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Queue is an Asterisk queue on one server. The same queue name on two servers is
// two queues: the name is an attribute, never a key.
type Queue struct{ ent.Schema }

// Mixin of Queue.
func (Queue) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

// Fields of Queue.
func (Queue) Fields() []ent.Field {
	return []ent.Field{
		field.Int("server_id").Immutable(),
		field.String("number").NotEmpty().Immutable().Comment("queue name in queues.conf").Annotations(entgql.OrderField("NUMBER")),
		field.String("display_name").Optional().Annotations(entgql.OrderField("DISPLAY_NAME")),
		field.String("timezone").Optional().Comment("IANA zone; empty means the server's"),
		field.JSON("working_hours", WorkingHours{}).Optional().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Int("sl_threshold_seconds").Default(20).NonNegative().Comment("answered within this many seconds counts for the service level"),
		field.Bool("discovered").Default(false).Comment("created from AMI by the collector and not yet accepted by an admin"),
	}
}

// Edges of Queue.
func (Queue) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("server", Server.Type).Ref("queues").Field("server_id").Unique().Required().Immutable(),
		edge.To("visits", QueueVisit.Type).Annotations(entgql.Skip()),
	}
}

// Indexes of Queue.
func (Queue) Indexes() []ent.Index {
	return []ent.Index{index.Fields("server_id", "number").Unique()}
}

// Annotations of Queue.
func (Queue) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.QueryField()}
}
