package auth

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/linkage/linkage/auth/viewer"
)

// Cookie and header names.
const (
	SessionCookie = "linkage_session"
	CSRFCookie    = "linkage_csrf"
	CSRFHeader    = "X-CSRF-Token"
)

// requestInfo is what the middleware learned about the HTTP request, for the audit
// log and for Login/Logout to set cookies.
type requestInfo struct {
	addr      string
	userAgent string
	secure    bool
	w         http.ResponseWriter
}

type requestInfoKey struct{}

func requestInfoFrom(ctx context.Context) *requestInfo {
	ri, _ := ctx.Value(requestInfoKey{}).(*requestInfo)
	return ri
}

// withRequest returns ctx carrying what the audit log and Login need to know of r
// (address, user agent, TLS, the response writer for cookies) and the service.
func (s *Service) withRequest(ctx context.Context, w http.ResponseWriter, r *http.Request) context.Context {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	// Only the direct peer is trusted as the address: X-Forwarded-For is whatever
	// the client wants it to be unless a known proxy sets it, and the address feeds
	// the login rate limit.
	ri := &requestInfo{addr: host, userAgent: r.UserAgent(), w: w,
		secure: r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")}
	ctx = context.WithValue(ctx, requestInfoKey{}, ri)
	return context.WithValue(ctx, serviceKey{}, s)
}

// Middleware authenticates every request: an "Authorization: Bearer" API token, or
// the session cookie. A request without credentials goes on without a viewer (it may
// log in; everything else is denied by the data layer). Presented but invalid
// credentials: a bad token is refused with 401; a stale session cookie is cleared.
//
// CSRF: a cookie-authenticated request that is not GET/HEAD/OPTIONS must carry the
// session's CSRF token in the X-CSRF-Token header (session-bound double submit: the
// token is given at login in the readable linkage_csrf cookie and in the login
// response, and only its hash is kept with the session). We chose this over
// "custom header + Origin check" because it does not depend on browsers sending
// Origin (older ones omit it on same-origin POSTs) nor on the server knowing its own
// public origin behind proxies, and because the token dies with the session.
// GET needs no token: the GET transport refuses mutations, and WebSocket upgrades
// are checked against the allowed origins. Bearer-token requests carry no ambient
// credentials, so they need no CSRF token.
func (s *Service) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := s.withRequest(r.Context(), w, r)
		ri := requestInfoFrom(ctx)
		if h := r.Header.Get("Authorization"); h != "" {
			secret, ok := bearer(h)
			if !ok {
				writeAuthError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "malformed Authorization header")
				return
			}
			v, err := s.tokenViewer(ctx, secret)
			if err != nil {
				if !errors.Is(err, errNoToken) {
					s.log.ErrorContext(ctx, "token lookup", "err", err)
				}
				writeAuthError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "invalid, expired or revoked token")
				return
			}
			v.Address = ri.addr
			next.ServeHTTP(w, r.WithContext(viewer.NewContext(ctx, v)))
			return
		}
		if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
			v, csrfHash, err := s.sessionViewer(ctx, c.Value)
			if err != nil {
				if !errors.Is(err, errNoSession) {
					s.log.ErrorContext(ctx, "session lookup", "err", err)
				}
				clearCookies(w, ri.secure)
				next.ServeHTTP(w, r.WithContext(ctx))
				return
			}
			switch r.Method {
			case http.MethodGet, http.MethodHead, http.MethodOptions:
			default:
				if !csrfMatches(csrfHash, r.Header.Get(CSRFHeader)) {
					writeAuthError(w, http.StatusForbidden, "CSRF", "missing or wrong "+CSRFHeader+" header")
					return
				}
			}
			v.Address = ri.addr
			ctx = viewer.NewContext(ctx, v)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func bearer(h string) (string, bool) {
	scheme, secret, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
		return "", false
	}
	return strings.TrimSpace(secret), true
}

func writeAuthError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []any{map[string]any{"message": msg, "extensions": map[string]any{"code": code}}},
	})
}

// LoginHTTP logs in and sets the session cookie (HttpOnly) and the CSRF cookie
// (readable by the page's script, which echoes it in X-CSRF-Token), both
// SameSite=Lax and Secure when the request came over TLS.
func (s *Service) LoginHTTP(ctx context.Context, login, password string) (*LoginResult, error) {
	res, err := s.Login(ctx, login, password)
	if err != nil {
		return nil, err
	}
	if ri := requestInfoFrom(ctx); ri != nil && ri.w != nil {
		http.SetCookie(ri.w, &http.Cookie{Name: SessionCookie, Value: res.Token, Path: "/", Expires: res.ExpiresAt,
			HttpOnly: true, Secure: ri.secure, SameSite: http.SameSiteLaxMode})
		http.SetCookie(ri.w, &http.Cookie{Name: CSRFCookie, Value: res.CSRFToken, Path: "/", Expires: res.ExpiresAt,
			Secure: ri.secure, SameSite: http.SameSiteLaxMode})
	}
	return res, nil
}

// LogoutHTTP revokes the session and clears the cookies.
func (s *Service) LogoutHTTP(ctx context.Context) error {
	if err := s.Logout(ctx); err != nil {
		return err
	}
	if ri := requestInfoFrom(ctx); ri != nil && ri.w != nil {
		clearCookies(ri.w, ri.secure)
	}
	return nil
}

func clearCookies(w http.ResponseWriter, secure bool) {
	for _, n := range []string{SessionCookie, CSRFCookie} {
		http.SetCookie(w, &http.Cookie{Name: n, Value: "", Path: "/", MaxAge: -1, HttpOnly: n == SessionCookie,
			Secure: secure, SameSite: http.SameSiteLaxMode})
	}
}

// WebsocketInit authenticates a WebSocket connection once, in connection_init: a
// payload {"authorization": "Bearer <token>"} selects an API token; otherwise the
// session cookie sent with the upgrade request (already checked by Middleware)
// counts. A connection with neither is refused.
func (s *Service) WebsocketInit(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	// graphql-transport-ws closes an unauthorised connection with 4401.
	deny := transport.WithWebsocketCloseCode(ctx, 4401)
	h := p.Authorization()
	if h == "" {
		if a, ok := p["authorization"].(string); ok {
			h = a
		}
	}
	if h != "" {
		secret, ok := bearer(h)
		if !ok {
			return deny, nil, ErrUnauthenticated
		}
		v, err := s.tokenViewer(ctx, secret)
		if err != nil {
			return deny, nil, ErrUnauthenticated
		}
		if ri := requestInfoFrom(ctx); ri != nil {
			v.Address = ri.addr
		}
		return viewer.NewContext(ctx, v), nil, nil
	}
	if _, ok := viewer.FromContext(ctx); ok {
		return ctx, nil, nil
	}
	return deny, nil, ErrUnauthenticated
}
