package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// Server is one Asterisk server Linkage listens to over AMI.
type Server struct{ ent.Schema }

// Mixin of Server.
func (Server) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

// Fields of Server.
func (Server) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().Unique().Annotations(entgql.OrderField("NAME")),
		field.String("ami_address").NotEmpty().Comment("host:port of the manager interface"),
		field.String("ami_username").NotEmpty(),
		// The secret is needed to log in to Asterisk, so it cannot be hashed; it is
		// never exposed through the API and never logged.
		field.String("ami_secret").Sensitive().Annotations(entgql.Skip(entgql.SkipType, entgql.SkipWhereInput, entgql.SkipOrderField)),
		field.String("timezone").Default("UTC").Comment("IANA zone of the server's clock and default for its queues"),
		field.Bool("enabled").Default(true),
		field.String("recordings_location").Optional().Comment("local folder or base URL of MixMonitor files"),
		field.Strings("trunk_contexts").Optional().Comment("dialplan contexts whose channels are trunks"),
		field.Strings("trunk_prefixes").Optional().Comment("channel name prefixes that are trunks, e.g. PJSIP/trunk"),
		field.Strings("custom_variables").Optional().Comment("channel variables captured as call custom fields"),
	}
}

// Edges of Server.
func (Server) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("queues", Queue.Type).Annotations(entgql.RelayConnection()),
		edge.To("operators", Operator.Type).Annotations(entgql.RelayConnection()),
		edge.To("trunks", Trunk.Type).Annotations(entgql.RelayConnection()),
		edge.To("calls", Call.Type).Annotations(entgql.Skip()),
		edge.To("pause_reasons", PauseReason.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

// Annotations of Server.
func (Server) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.QueryField()}
}
