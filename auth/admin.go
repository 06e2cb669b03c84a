package auth

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/linkage/linkage/auth/viewer"
	"github.com/linkage/linkage/ent"
	"github.com/linkage/linkage/ent/apitoken"
	"github.com/linkage/linkage/ent/user"
)

// NewUser is what CreateUser needs. An empty Password makes CreateUser generate one
// and return it (shown once).
type NewUser struct {
	Login       string
	DisplayName string
	Language    string
	Password    string
	Roles       []string
	Grant       Grant
}

// CreateUser creates a user with roles and a grant. It returns the password when it
// generated one.
func (s *Service) CreateUser(ctx context.Context, in NewUser) (*ent.User, string, error) {
	if err := s.denied(ctx, "user.create", "", Can(ctx, viewer.UsersManage, "*")); err != nil {
		return nil, "", err
	}
	in.Login = strings.TrimSpace(in.Login)
	if in.Login == "" || len(in.Login) > 64 || strings.ContainsAny(in.Login, " \t\r\n") {
		return nil, "", fmt.Errorf("%w: login must be 1-64 characters without spaces", ErrInvalid)
	}
	generated := ""
	if in.Password == "" {
		in.Password = GeneratePassword()
		generated = in.Password
	}
	if err := checkPasswordPolicy(in.Password); err != nil {
		return nil, "", err
	}
	for _, r := range in.Roles {
		if !slices.Contains(Roles, r) {
			return nil, "", fmt.Errorf("%w: unknown role %q", ErrInvalid, r)
		}
	}
	if slices.Contains(in.Roles, RoleAdmin) && !ScopeFromContext(ctx).All {
		return nil, "", &PermissionError{Subject: actor(ctx), Action: viewer.UsersManage, Object: "role/admin"}
	}
	hash, err := HashPassword(in.Password)
	if err != nil {
		return nil, "", err
	}
	c := s.client.User.Create().SetLogin(in.Login).SetPasswordHash(hash).SetDisplayName(in.DisplayName)
	if in.Language != "" {
		c.SetLanguage(user.Language(in.Language))
	}
	u, err := c.Save(ctx)
	if err != nil {
		s.audit(ctx, "user.create", "", false, map[string]any{"login": in.Login})
		return nil, "", err
	}
	s.audit(ctx, "user.create", idOf("user", u.ID), true, map[string]any{"login": u.Login})
	if len(in.Roles) > 0 {
		if err := s.SetRoles(ctx, u.ID, in.Roles); err != nil {
			return u, generated, err
		}
	}
	if err := s.SetGrant(ctx, u.ID, in.Grant); err != nil {
		return u, generated, err
	}
	return u, generated, nil
}

func checkPasswordPolicy(p string) error {
	if len([]rune(p)) < MinPasswordLength {
		return fmt.Errorf("%w: a password needs at least %d characters", ErrInvalid, MinPasswordLength)
	}
	if len(p) > 1024 {
		return fmt.Errorf("%w: password too long", ErrInvalid)
	}
	return nil
}

// canManageUser allows users.manage on user id; changing an admin takes an admin.
func (s *Service) canManageUser(ctx context.Context, userID int) error {
	if err := Can(ctx, viewer.UsersManage, "*"); err != nil {
		return err
	}
	if !ScopeFromContext(ctx).All && slices.Contains(s.en.Roles(subject(userID)), RoleAdmin) {
		return &PermissionError{Subject: actor(ctx), Action: viewer.UsersManage, Object: idOf("user", userID)}
	}
	return nil
}

// UserPatch changes some fields of a user; nil leaves a field as it is.
type UserPatch struct {
	DisplayName *string
	Language    *string
	Enabled     *bool
}

// UpdateUser changes a user. Disabling a user ends their sessions; their tokens stop
// working while they are disabled.
func (s *Service) UpdateUser(ctx context.Context, id int, p UserPatch) (*ent.User, error) {
	if err := s.denied(ctx, "user.update", idOf("user", id), s.canManageUser(ctx, id)); err != nil {
		return nil, err
	}
	u := s.client.User.UpdateOneID(id)
	details := map[string]any{}
	if p.DisplayName != nil {
		u.SetDisplayName(*p.DisplayName)
		details["displayName"] = *p.DisplayName
	}
	if p.Language != nil {
		u.SetLanguage(user.Language(*p.Language))
		details["language"] = *p.Language
	}
	if p.Enabled != nil {
		u.SetEnabled(*p.Enabled)
		details["enabled"] = *p.Enabled
	}
	out, err := u.Save(ctx)
	s.audit(ctx, "user.update", idOf("user", id), err == nil, details)
	if err != nil {
		return nil, err
	}
	if p.Enabled != nil && !*p.Enabled {
		if _, err := s.revokeSessions(ctx, id); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// SetPassword sets (or, with an empty password, generates and returns) the password
// of user id and ends their sessions.
func (s *Service) SetPassword(ctx context.Context, id int, password string) (string, error) {
	if err := s.denied(ctx, "user.password", idOf("user", id), s.canManageUser(ctx, id)); err != nil {
		return "", err
	}
	generated := ""
	if password == "" {
		password = GeneratePassword()
		generated = password
	}
	if err := checkPasswordPolicy(password); err != nil {
		return "", err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return "", err
	}
	err = s.client.User.UpdateOneID(id).SetPasswordHash(hash).Exec(ctx)
	s.audit(ctx, "user.password", idOf("user", id), err == nil, nil)
	if err != nil {
		return "", err
	}
	if _, err := s.revokeSessions(ctx, id); err != nil {
		return "", err
	}
	return generated, nil
}

// tokenPrefix starts every API token, so that secret scanners and people recognise one.
const tokenPrefix = "lkg_"

// CreateToken creates an API token for user id and returns it with its secret,
// which is never shown again.
func (s *Service) CreateToken(ctx context.Context, userID int, name, scope string, expiresAt *time.Time) (*ent.APIToken, string, error) {
	if err := s.denied(ctx, "token.create", idOf("user", userID), Can(ctx, viewer.TokensManage, "*")); err != nil {
		return nil, "", err
	}
	if err := s.denied(ctx, "token.create", idOf("user", userID), s.canManageUser(ctx, userID)); err != nil {
		return nil, "", err
	}
	if err := apitoken.ScopeValidator(apitoken.Scope(scope)); err != nil {
		return nil, "", fmt.Errorf("%w: token scope must be read, write or admin", ErrInvalid)
	}
	if strings.TrimSpace(name) == "" {
		return nil, "", fmt.Errorf("%w: a token needs a name", ErrInvalid)
	}
	secret, hash := newSecret(tokenPrefix)
	c := s.client.APIToken.Create().SetUserID(userID).SetName(name).SetScope(apitoken.Scope(scope)).
		SetPrefix(secret[:len(tokenPrefix)+6]).SetTokenHash(hash).SetCreatedAt(s.opts.Now())
	if expiresAt != nil {
		c.SetExpiresAt(*expiresAt)
	}
	t, err := c.Save(ctx)
	if err != nil {
		return nil, "", err
	}
	s.audit(ctx, "token.create", idOf("token", t.ID), true, map[string]any{"user": userID, "name": name, "scope": scope})
	return t, secret, nil
}

// RevokeToken revokes API token id.
func (s *Service) RevokeToken(ctx context.Context, id int) (*ent.APIToken, error) {
	if err := s.denied(ctx, "token.revoke", idOf("token", id), Can(ctx, viewer.TokensManage, "*")); err != nil {
		return nil, err
	}
	t, err := s.client.APIToken.UpdateOneID(id).SetRevokedAt(s.opts.Now()).Save(ctx)
	s.audit(ctx, "token.revoke", idOf("token", id), err == nil, nil)
	return t, err
}

// Tokens lists the API tokens of user id (all users when id is 0).
func (s *Service) Tokens(ctx context.Context, userID int) ([]*ent.APIToken, error) {
	q := s.client.APIToken.Query().Order(apitoken.ByID())
	if userID != 0 {
		q.Where(apitoken.UserID(userID))
	}
	return q.All(ctx)
}
