package graph

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/linkage/linkage/auth"
	"github.com/linkage/linkage/ent"
	"github.com/linkage/linkage/graph/generated"
	"github.com/linkage/linkage/internal/admin"
	"github.com/linkage/linkage/internal/report"
	"github.com/linkage/linkage/internal/workplace"
)

// ServerOptions tunes the GraphQL endpoint.
type ServerOptions struct {
	// ComplexityLimit bounds the cost of one operation, so one query cannot ask for
	// every call of every operator with every nested edge.
	ComplexityLimit int
	// OriginPatterns are the host patterns allowed to open WebSocket subscriptions
	// from a browser, besides the server's own origin (e.g. "crm.example.com").
	OriginPatterns []string
	// WebsocketInit authenticates a WebSocket connection from its connection_init
	// payload; access control fills it in. Nil accepts every connection.
	WebsocketInit transport.WebsocketInitFunc
	Logger        *slog.Logger
}

// Error codes clients can rely on (extensions.code).
const (
	CodeInternal  = "INTERNAL"
	CodeNotFound  = "NOT_FOUND"
	CodeBadInput  = errcode.ValidationFailed
	CodeConflict  = "CONFLICT"
	CodeForbidden = "FORBIDDEN"
	// CodeUnauthenticated: no credentials, or wrong ones (login).
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeRateLimited     = "RATE_LIMITED"
	payloadLimitWS      = 1 << 20
)

// NewHandler assembles the GraphQL HTTP handler: POST and GET queries, WebSocket
// subscriptions (graphql-transport-ws and the legacy graphql-ws), keep-alive,
// a complexity limit, persisted queries, introspection, and an error presenter that
// keeps internals out of responses.
func NewHandler(r *Resolver, o ServerOptions) http.Handler {
	if o.ComplexityLimit == 0 {
		o.ComplexityLimit = 20000
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	srv := handler.New(generated.NewExecutableSchema(generated.Config{Resolvers: r, Complexity: complexity()}))
	limit := int64(payloadLimitWS)
	srv.AddTransport(transport.Websocket{
		KeepAlivePingInterval: 10 * time.Second,
		InitTimeout:           10 * time.Second,
		InitFunc:              o.WebsocketInit,
		PayloadReadLimit:      &limit,
		Implementation: transport.CoderWebsocketImplementation{AcceptOptions: websocket.AcceptOptions{
			OriginPatterns: o.OriginPatterns,
		}},
	})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(extension.Introspection{})
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	srv.Use(extension.FixedComplexityLimit(o.ComplexityLimit))
	srv.SetErrorPresenter(func(ctx context.Context, err error) *gqlerror.Error {
		return presentError(ctx, err, log)
	})
	srv.SetRecoverFunc(func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "graphql: panic in resolver", "panic", p)
		return errors.New("internal error")
	})
	return srv
}

// presentError turns a resolver error into what the client sees. Errors that are
// meant for users (ent's not-found, validation and constraint errors, our own
// gqlerrors) keep their message; anything else is logged and replaced by a generic
// message, because driver and SQL errors leak table names and data.
func presentError(ctx context.Context, err error, log *slog.Logger) *gqlerror.Error {
	var gqlErr *gqlerror.Error
	if errors.As(err, &gqlErr) && gqlErr.Err == nil {
		return graphql.DefaultErrorPresenter(ctx, err)
	}
	e := graphql.DefaultErrorPresenter(ctx, err)
	switch {
	case ent.IsNotFound(err):
		e.Message = "not found"
		setCode(e, CodeNotFound)
	case ent.IsValidationError(err):
		var ve *ent.ValidationError
		errors.As(err, &ve)
		e.Message = "invalid value for " + ve.Name
		setCode(e, CodeBadInput)
	case ent.IsConstraintError(err):
		e.Message = "conflicts with existing data"
		setCode(e, CodeConflict)
	case errors.Is(err, auth.ErrUnauthenticated):
		e.Message = "authentication required"
		setCode(e, CodeUnauthenticated)
	case errors.Is(err, auth.ErrBadCredentials):
		e.Message = auth.ErrBadCredentials.Error()
		setCode(e, CodeUnauthenticated)
	case errors.Is(err, auth.ErrRateLimited):
		e.Message = auth.ErrRateLimited.Error()
		setCode(e, CodeRateLimited)
	case errors.As(err, new(*auth.PermissionError)):
		var pe *auth.PermissionError
		errors.As(err, &pe)
		e.Message = pe.Error()
		setCode(e, CodeForbidden)
	case errors.Is(err, auth.ErrInvalid):
		e.Message = err.Error()
		setCode(e, CodeBadInput)
	case errors.As(err, new(*report.InputError)):
		var ie *report.InputError
		errors.As(err, &ie)
		e.Message = ie.Msg
		setCode(e, CodeBadInput)
	case errors.As(err, new(*workplace.Error)):
		var we *workplace.Error
		errors.As(err, &we)
		e.Message = we.Message
		setCode(e, we.Code)
	case errors.As(err, new(*admin.InputError)):
		var ie *admin.InputError
		errors.As(err, &ie)
		e.Message = ie.Error()
		setCode(e, CodeBadInput)
		e.Extensions["fields"] = ie.Fields()
	case errors.As(err, new(*admin.ConflictError)):
		var ce *admin.ConflictError
		errors.As(err, &ce)
		e.Message = ce.Msg
		setCode(e, CodeConflict)
	case errors.As(err, new(*UserError)):
		var ue *UserError
		errors.As(err, &ue)
		e.Message = ue.Message
		setCode(e, ue.Code)
	default:
		log.ErrorContext(ctx, "graphql: internal error", "path", e.Path.String(), "err", err)
		e.Message = "internal error"
		setCode(e, CodeInternal)
	}
	return e
}

func setCode(e *gqlerror.Error, code string) {
	if e.Extensions == nil {
		e.Extensions = map[string]any{}
	}
	e.Extensions["code"] = code
}

// UserError is an error whose message is written for the API's users.
type UserError struct {
	Code    string
	Message string
}

func (e *UserError) Error() string { return e.Message }

// GraphiQL serves the GraphiQL explorer for endpoint.
func GraphiQL(endpoint string) http.Handler {
	return playground.Handler("Linkage GraphQL", endpoint)
}
