package identitytest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/ssogate/identity"
)

// Identity returns the identity that a sign-in of u at now gives: u's
// profile, an access token valid for DefaultAccessTTL and a refresh token
// valid for DefaultRefreshTTL. The token values are placeholders that only
// tests accept.
func (u User) Identity(now time.Time) *identity.Identity {
	id := &identity.Identity{
		UserID:         u.ID,
		Email:          u.Email,
		FirstName:      u.FirstName,
		LastName:       u.LastName,
		FullName:       u.FullName(),
		Picture:        u.Picture,
		Role:           u.Role,
		OrganizationID: u.OrganizationID,
		Language:       u.Language,
		SSOUser:        u.SSOUser,
		AccessToken:    identity.Token{Value: newToken("access"), ExpiresAt: now.Add(DefaultAccessTTL).UTC()},
		RefreshToken:   identity.Token{Value: newToken("refresh"), ExpiresAt: now.Add(DefaultRefreshTTL).UTC()},
	}

	for _, role := range u.PlatformRoles {
		role.Actions = append([]string(nil), role.Actions...)
		id.PlatformRoles = append(id.PlatformRoles, role)
	}

	id.Organizations = append(id.Organizations, u.Organizations...)

	return id
}

// SessionCookies returns the cookies of a new session for id, written by
// auth with its real keys and encoding, as after a sign-in. A request that
// carries them passes auth.RequireAuth as id, so an app's tests can call
// protected handlers without an identity provider. With a server-side
// Store, the session is stored there too.
func SessionCookies(auth *identity.Auth, id *identity.Identity) ([]*http.Cookie, error) {
	recorder := httptest.NewRecorder()
	if err := auth.StartSession(recorder, httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/", nil), id); err != nil {
		return nil, fmt.Errorf("identitytest: starting a session: %w", err)
	}

	return recorder.Result().Cookies(), nil
}

// NewRequest returns a request, as httptest.NewRequest builds it, that
// carries a session for id written by auth. Like httptest.NewRequest, it is
// for tests and panics on error.
func NewRequest(auth *identity.Auth, id *identity.Identity, method, target string, body io.Reader) *http.Request {
	cookies, err := SessionCookies(auth, id)
	if err != nil {
		panic(err)
	}

	req := httptest.NewRequestWithContext(context.Background(), method, target, body)
	for _, cookie := range cookies {
		if cookie.MaxAge >= 0 {
			req.AddCookie(cookie)
		}
	}

	return req
}

// NewContext returns a context that carries id, as RequireAuth passes it to
// handlers, for unit tests that call a handler directly.
func NewContext(id *identity.Identity) context.Context {
	return identity.NewContext(context.Background(), id)
}
