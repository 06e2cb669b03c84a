package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Operator is a person answering calls on one server, known by an extension and a
// device interface (PJSIP/1001, Local/1001@agents/n).
type Operator struct{ ent.Schema }

// Mixin of Operator.
func (Operator) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

// Fields of Operator.
func (Operator) Fields() []ent.Field {
	return []ent.Field{
		field.Int("server_id").Immutable(),
		field.String("number").NotEmpty().Comment("extension").Annotations(entgql.OrderField("NUMBER")),
		field.String("interface").Optional().Comment("device interface as queues see it"),
		field.String("name").Optional().Annotations(entgql.OrderField("NAME")),
		field.Bool("tracked").Default(true).Comment("untracked operators are left out of statistics"),
		field.Bool("discovered").Default(false).Comment("created from AMI by the collector and not yet accepted by an admin"),
		field.Int("user_id").Optional().Nillable().Comment("the Linkage user who works as this operator (the workplace's own device)"),
	}
}

// Edges of Operator.
func (Operator) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("server", Server.Type).Ref("operators").Field("server_id").Unique().Required().Immutable(),
		edge.From("groups", OperatorGroup.Type).Ref("operators"),
		edge.To("status_changes", OperatorStatusChange.Type).Annotations(entgql.Skip()),
		edge.From("user", User.Type).Ref("operators").Field("user_id").Unique(),
	}
}

// Indexes of Operator.
func (Operator) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("server_id", "number").Unique(),
		index.Fields("server_id", "interface"),
		index.Fields("user_id"),
	}
}

// Annotations of Operator.
func (Operator) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.QueryField()}
}

// OperatorGroup groups operators for reports and access scopes. A virtual group is a
// reporting view only; a real group mirrors a team.
type OperatorGroup struct{ ent.Schema }

// Mixin of OperatorGroup.
func (OperatorGroup) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

// Fields of OperatorGroup.
func (OperatorGroup) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().Unique().Annotations(entgql.OrderField("NAME")),
		field.Bool("virtual").Default(false),
	}
}

// Edges of OperatorGroup.
func (OperatorGroup) Edges() []ent.Edge {
	return []ent.Edge{edge.To("operators", Operator.Type)}
}

// Annotations of OperatorGroup.
func (OperatorGroup) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.QueryField("operatorGroups")}
}

// Trunk is an external line or DID on one server; calls arriving on it are inbound.
type Trunk struct{ ent.Schema }

// Mixin of Trunk.
func (Trunk) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

// Fields of Trunk.
func (Trunk) Fields() []ent.Field {
	return []ent.Field{
		field.Int("server_id").Immutable(),
		field.String("number").NotEmpty().Comment("DID or trunk number").Annotations(entgql.OrderField("NUMBER")),
		field.String("name").Optional().Annotations(entgql.OrderField("NAME")),
	}
}

// Edges of Trunk.
func (Trunk) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("server", Server.Type).Ref("trunks").Field("server_id").Unique().Required().Immutable(),
	}
}

// Indexes of Trunk.
func (Trunk) Indexes() []ent.Index {
	return []ent.Index{index.Fields("server_id", "number").Unique()}
}

// Annotations of Trunk.
func (Trunk) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.QueryField()}
}
