package identitytest_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/sessions"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/identity"
	"github.com/ssogate/identity/identitytest"
)

func newAuth(t *testing.T, store sessions.Store) *identity.Auth {
	t.Helper()

	s := identitytest.NewServer()
	t.Cleanup(s.Close)

	cfg := s.Config()
	cfg.SessionKeys = [][]byte{bytes.Repeat([]byte("h"), 32), bytes.Repeat([]byte("b"), 32)}
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.Store = store

	auth, err := identity.New(cfg)
	require.NoError(t, err)

	return auth
}

// whoAmI writes the user ID RequireAuth found, or RequireAuth responds.
func whoAmI(auth *identity.Auth, rules ...identity.Rule) http.Handler {
	return auth.RequireAuth(rules...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := identity.FromContext(r.Context())
		_, _ = io.WriteString(w, id.UserID)
	}))
}

func TestNewRequestPassesRequireAuth(t *testing.T) {
	tests := map[string]sessions.Store{
		"default cookie store":    nil,
		"gorilla FilesystemStore": sessions.NewFilesystemStore(t.TempDir(), bytes.Repeat([]byte("k"), 32)),
	}

	for name, store := range tests {
		t.Run(name, func(t *testing.T) {
			auth := newAuth(t, store)
			admin := identitytest.AdminUser().Identity(time.Now())

			rec := httptest.NewRecorder()
			whoAmI(auth, identity.HasRole("admin")).ServeHTTP(rec, identitytest.NewRequest(auth, admin, http.MethodGet, "/admin", nil))

			assert.Equal(t, http.StatusOK, rec.Code)
			assert.Equal(t, admin.UserID, rec.Body.String())
		})
	}
}

func TestSessionCookiesCarryTheIdentity(t *testing.T) {
	auth := newAuth(t, nil)
	user := identitytest.DocumentedUser().Identity(time.Now())

	cookies, err := identitytest.SessionCookies(auth, user)
	require.NoError(t, err)
	require.NotEmpty(t, cookies)

	var got *identity.Identity
	handler := auth.RequireAuth()(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		got, _ = identity.FromContext(r.Context())
	}))
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	handler.ServeHTTP(httptest.NewRecorder(), req)

	require.NotNil(t, got)
	assert.Equal(t, user.UserID, got.UserID)
	assert.Equal(t, user.Organizations, got.Organizations)
	assert.Equal(t, user.AccessToken.Value, got.AccessToken.Value)
	assert.True(t, user.AccessToken.ExpiresAt.Equal(got.AccessToken.ExpiresAt))
}

func TestSessionCookiesRejectsExpiredIdentity(t *testing.T) {
	auth := newAuth(t, nil)
	expired := identitytest.DocumentedUser().Identity(time.Now().Add(-2 * time.Hour))

	_, err := identitytest.SessionCookies(auth, expired)

	assert.ErrorIs(t, err, identity.ErrTokenExpired)
}

func TestSessionCookiesRejectsIdentityWithoutUser(t *testing.T) {
	auth := newAuth(t, nil)

	_, err := identitytest.SessionCookies(auth, &identity.Identity{})

	assert.ErrorContains(t, err, "needs an identity with a UserID")
}

func TestNewContextCarriesIdentity(t *testing.T) {
	id := identitytest.AdminUser().Identity(time.Now())

	got, ok := identity.FromContext(identitytest.NewContext(id))

	assert.True(t, ok)
	assert.Same(t, id, got)
}

func TestUserIdentityMatchesSignIn(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

	id := identitytest.AdminUser().Identity(now)

	assert.Equal(t, "Ada Admin", id.FullName)
	assert.Equal(t, "admin", id.Role)
	assert.True(t, id.AccessToken.ExpiresAt.Equal(now.Add(time.Hour)))
	assert.True(t, id.RefreshToken.ExpiresAt.Equal(now.Add(30*24*time.Hour)))
	assert.True(t, id.HasPlatformRole("owner"))
	assert.True(t, id.SignedInTo("enterprise-corp"))
}
