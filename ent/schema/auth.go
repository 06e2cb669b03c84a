package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Session is a signed-in browser. Only a hash of the cookie's token is kept, so a
// copy of the table does not sign anyone in. A session ends when it is revoked, when
// it was idle too long (last_seen_at) or at expires_at, whichever comes first.
type Session struct{ ent.Schema }

// Fields of Session.
func (Session) Fields() []ent.Field {
	return []ent.Field{
		field.Int("user_id").Immutable(),
		field.String("token_hash").Sensitive().Unique().Immutable(),
		field.String("csrf_hash").Sensitive().Immutable(),
		field.Time("created_at").Default(time.Now).Immutable(),
		field.Time("last_seen_at").Default(time.Now),
		field.Time("expires_at").Immutable(),
		field.Time("revoked_at").Optional().Nillable(),
		field.String("address").Optional(),
		field.String("user_agent").Optional(),
	}
}

// Edges of Session.
func (Session) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("sessions").Field("user_id").Unique().Required().Immutable(),
	}
}

// Annotations of Session.
func (Session) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// APIToken lets a CRM or a script call the API as its user, capped by its scope
// (read, write or admin). The secret is shown once, at creation; only its hash is kept.
type APIToken struct{ ent.Schema }

// Fields of APIToken.
func (APIToken) Fields() []ent.Field {
	return []ent.Field{
		field.Int("user_id").Immutable(),
		field.String("name").NotEmpty(),
		field.String("prefix").Immutable().Comment("the first characters of the token, to recognise it; not secret"),
		field.String("token_hash").Sensitive().Unique().Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Enum("scope").Values("read", "write", "admin"),
		field.Time("created_at").Default(time.Now).Immutable(),
		field.Time("last_used_at").Optional().Nillable(),
		field.Time("expires_at").Optional().Nillable(),
		field.Time("revoked_at").Optional().Nillable(),
	}
}

// Edges of APIToken.
func (APIToken) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("tokens").Field("user_id").Unique().Required().Immutable(),
	}
}

// Annotations of APIToken.
func (APIToken) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)}
}

// AuditLog is one audited event: a login (success or failure), an administrative
// change, a recording listened to, an export. Rows are never changed.
type AuditLog struct{ ent.Schema }

// Fields of AuditLog.
func (AuditLog) Fields() []ent.Field {
	return []ent.Field{
		field.Time("at").Default(time.Now).Immutable().Annotations(entgql.OrderField("AT")),
		field.Int("actor_id").Optional().Nillable().Immutable().Comment("the user who acted; empty for the system or an unknown login"),
		field.String("actor").Optional().Immutable().Comment("login (and token) of who acted, as it was then"),
		field.String("action").NotEmpty().Immutable().Comment("login, logout, user.create, token.revoke, recording.listen, export ..."),
		field.String("target").Optional().Immutable().Comment("what was acted on, e.g. user/42"),
		field.Bool("success").Default(true).Immutable(),
		field.String("address").Optional().Immutable().Comment("remote address of the request"),
		field.JSON("details", map[string]any{}).Optional().Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of AuditLog.
func (AuditLog) Indexes() []ent.Index {
	return []ent.Index{index.Fields("at"), index.Fields("actor_id", "at"), index.Fields("action", "at")}
}

// Annotations of AuditLog.
func (AuditLog) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField("auditLog"),
		entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// CasbinRule is one casbin policy line stored as data: a user's role (g) or a scope
// grant (p). The built-in role→permission policy is not here: it is the embedded,
// reviewed auth/policy.csv.
type CasbinRule struct{ ent.Schema }

// Fields of CasbinRule.
func (CasbinRule) Fields() []ent.Field {
	return []ent.Field{
		field.String("ptype"),
		field.String("v0").Default(""),
		field.String("v1").Default(""),
		field.String("v2").Default(""),
		field.String("v3").Default(""),
		field.String("v4").Default(""),
		field.String("v5").Default(""),
	}
}

// Indexes of CasbinRule.
func (CasbinRule) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("ptype", "v0", "v1", "v2", "v3", "v4", "v5").Unique(),
		index.Fields("v0"),
	}
}

// Annotations of CasbinRule.
func (CasbinRule) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll), entsql.Table("casbin_rules")}
}
