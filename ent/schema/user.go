package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// User is a person who logs in to Linkage (supervisor, operator, admin).
type User struct{ ent.Schema }

// Mixin of User.
func (User) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

// Fields of User.
func (User) Fields() []ent.Field {
	return []ent.Field{
		field.String("login").NotEmpty().Unique().Annotations(entgql.OrderField("LOGIN")),
		field.String("password_hash").Sensitive().Optional().Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("display_name").Optional(),
		field.Enum("language").Values("ru", "en").Default("ru"),
		field.Bool("enabled").Default(true),
		field.Time("last_login_at").Optional().Nillable().Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Edges of User: sessions and API tokens are the user's credentials (package auth).
func (User) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("sessions", Session.Type).Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("tokens", APIToken.Type).Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("operators", Operator.Type),
	}
}

// Annotations of User.
func (User) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField(),
		entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}
