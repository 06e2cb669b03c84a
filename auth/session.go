package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"strings"
	"time"

	"github.com/linkage/linkage/auth/viewer"
	"github.com/linkage/linkage/ent"
	"github.com/linkage/linkage/ent/apitoken"
	"github.com/linkage/linkage/ent/session"
	"github.com/linkage/linkage/ent/user"
)

// Errors of signing in. ErrBadCredentials never says which of the login or the
// password was wrong.
var (
	ErrBadCredentials = errors.New("invalid login or password")
	ErrRateLimited    = errors.New("too many login attempts; try again later")
	errNoSession      = errors.New("auth: no valid session")
	errNoToken        = errors.New("auth: no valid token")
)

// LoginResult is a new session: the cookie's token and the CSRF token are secrets
// given to the browser once and stored only as hashes.
type LoginResult struct {
	Viewer    *Viewer
	Token     string
	CSRFToken string
	ExpiresAt time.Time
}

// Login checks login and password, rate-limited per login and per address, and
// opens a session. Every attempt is audited.
func (s *Service) Login(ctx context.Context, login, password string) (*LoginResult, error) {
	ri := requestInfoFrom(ctx)
	addr, ua := "", ""
	if ri != nil {
		addr, ua = ri.addr, ri.userAgent
	}
	attempted := login
	if len(attempted) > 64 {
		attempted = attempted[:64]
	}
	if !s.limit.allow(login, addr) {
		s.audit(ctx, "login", "", false, map[string]any{"login": attempted, "reason": "rate limited"})
		return nil, ErrRateLimited
	}
	sctx := viewer.SystemContext(ctx)
	u, err := s.client.User.Query().Where(user.Login(login)).Only(sctx)
	if err != nil && !ent.IsNotFound(err) {
		return nil, err
	}
	hash := dummyHash
	if u != nil && u.PasswordHash != "" {
		hash = u.PasswordHash
	}
	select {
	case s.hashing <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	ok, _ := CheckPassword(hash, password) // always pay for one argon2id
	<-s.hashing
	if u == nil || !ok || !u.Enabled || u.PasswordHash == "" {
		reason := "bad credentials"
		if u != nil && ok && !u.Enabled {
			reason = "disabled"
		}
		s.audit(ctx, "login", "", false, map[string]any{"login": attempted, "reason": reason})
		return nil, ErrBadCredentials
	}
	now := s.opts.Now()
	token, tokenHash := newSecret("")
	csrf, csrfHash := newSecret("")
	sess, err := s.client.Session.Create().SetUserID(u.ID).SetTokenHash(tokenHash).SetCsrfHash(csrfHash).
		SetCreatedAt(now).SetLastSeenAt(now).SetExpiresAt(now.Add(s.opts.SessionMax)).
		SetAddress(addr).SetUserAgent(truncate(ua, 256)).Save(sctx)
	if err != nil {
		return nil, err
	}
	if err := s.client.User.UpdateOneID(u.ID).SetLastLoginAt(now).Exec(sctx); err != nil {
		return nil, err
	}
	v, err := s.viewerFor(ctx, u, viewer.LevelAdmin)
	if err != nil {
		return nil, err
	}
	v.SessionID = sess.ID
	v.Address = addr
	s.audit(viewer.NewContext(ctx, v), "login", idOf("user", u.ID), true, map[string]any{"session": sess.ID})
	return &LoginResult{Viewer: v, Token: token, CSRFToken: csrf, ExpiresAt: sess.ExpiresAt}, nil
}

// sessionViewer returns the viewer of a session token and the session's CSRF hash.
func (s *Service) sessionViewer(ctx context.Context, token string) (*Viewer, string, error) {
	sctx := viewer.SystemContext(ctx)
	sess, err := s.client.Session.Query().Where(session.TokenHash(hashSecret(token))).WithUser().Only(sctx)
	if err != nil {
		if ent.IsNotFound(err) {
			return nil, "", errNoSession
		}
		return nil, "", err
	}
	now := s.opts.Now()
	if sess.RevokedAt != nil || !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) >= s.opts.SessionIdle || !sess.Edges.User.Enabled {
		return nil, "", errNoSession
	}
	// Sliding idle timeout, written at most once a minute per session.
	if now.Sub(sess.LastSeenAt) > time.Minute {
		if err := s.client.Session.UpdateOneID(sess.ID).SetLastSeenAt(now).Exec(sctx); err != nil {
			return nil, "", err
		}
	}
	v, err := s.viewerFor(ctx, sess.Edges.User, viewer.LevelAdmin)
	if err != nil {
		return nil, "", err
	}
	v.SessionID = sess.ID
	return v, sess.CsrfHash, nil
}

// Logout revokes the context's session.
func (s *Service) Logout(ctx context.Context) error {
	v, ok := viewer.FromContext(ctx)
	if !ok || v.SessionID == 0 {
		return ErrUnauthenticated
	}
	err := s.client.Session.UpdateOneID(v.SessionID).SetRevokedAt(s.opts.Now()).Exec(viewer.SystemContext(ctx))
	s.audit(ctx, "logout", idOf("user", v.UserID), err == nil, nil)
	return err
}

// RevokeSessions ends every session of user id and returns how many were open.
func (s *Service) RevokeSessions(ctx context.Context, userID int) (int, error) {
	if err := s.denied(ctx, "user.sessions.revoke", idOf("user", userID), s.canManageUser(ctx, userID)); err != nil {
		return 0, err
	}
	n, err := s.revokeSessions(ctx, userID)
	s.audit(ctx, "user.sessions.revoke", idOf("user", userID), err == nil, map[string]any{"sessions": n})
	return n, err
}

func (s *Service) revokeSessions(ctx context.Context, userID int) (int, error) {
	return s.client.Session.Update().Where(session.UserID(userID), session.RevokedAtIsNil()).
		SetRevokedAt(s.opts.Now()).Save(viewer.SystemContext(ctx))
}

// tokenViewer returns the viewer of an API token.
func (s *Service) tokenViewer(ctx context.Context, secret string) (*Viewer, error) {
	if !strings.HasPrefix(secret, tokenPrefix) {
		return nil, errNoToken
	}
	sctx := viewer.SystemContext(ctx)
	t, err := s.client.APIToken.Query().Where(apitoken.TokenHash(hashSecret(secret))).WithUser().Only(sctx)
	if err != nil {
		if ent.IsNotFound(err) {
			return nil, errNoToken
		}
		return nil, err
	}
	now := s.opts.Now()
	if t.RevokedAt != nil || (t.ExpiresAt != nil && !now.Before(*t.ExpiresAt)) || !t.Edges.User.Enabled {
		return nil, errNoToken
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) > time.Minute {
		if err := s.client.APIToken.UpdateOneID(t.ID).SetLastUsedAt(now).Exec(sctx); err != nil {
			return nil, err
		}
	}
	level := map[apitoken.Scope]viewer.Level{apitoken.ScopeRead: viewer.LevelRead, apitoken.ScopeWrite: viewer.LevelWrite, apitoken.ScopeAdmin: viewer.LevelAdmin}[t.Scope]
	v, err := s.viewerFor(ctx, t.Edges.User, level)
	if err != nil {
		return nil, err
	}
	v.TokenID = t.ID
	return v, nil
}

func csrfMatches(hash, token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(hashSecret(token)), []byte(hash)) == 1
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
