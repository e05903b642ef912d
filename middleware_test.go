package identity_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/identity"
	"github.com/ssogate/identity/identitytest"
)

func TestRequireAuthWithoutSession(t *testing.T) {
	tests := []struct {
		name         string
		method       string
		path         string
		header       http.Header
		wantStatus   int
		wantLocation string
	}{
		{
			name: "browser GET", method: http.MethodGet, path: "/dashboard?tab=1",
			header:     browserHeader(),
			wantStatus: http.StatusFound, wantLocation: "/auth/login?return_to=%2Fdashboard%3Ftab%3D1",
		},
		{
			name: "browser HEAD", method: http.MethodHead, path: "/dashboard",
			header:     browserHeader(),
			wantStatus: http.StatusFound, wantLocation: "/auth/login?return_to=%2Fdashboard",
		},
		{name: "API GET", method: http.MethodGet, path: "/dashboard", wantStatus: http.StatusUnauthorized},
		{name: "fetch with */*", method: http.MethodGet, path: "/dashboard", header: http.Header{"Accept": {"*/*"}}, wantStatus: http.StatusUnauthorized},
		{name: "browser POST", method: http.MethodPost, path: "/dashboard", header: browserHeader(), wantStatus: http.StatusUnauthorized},
		{
			name: "XMLHttpRequest accepting HTML", method: http.MethodGet, path: "/dashboard",
			header:     http.Header{"Accept": {"text/html"}, "X-Requested-With": {"XMLHttpRequest"}},
			wantStatus: http.StatusUnauthorized,
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := newTestApp(t)

			resp, body := app.do(tt.method, tt.path, tt.header, nil)

			assert.Equal(t, tt.wantStatus, resp.StatusCode)
			assert.Equal(t, tt.wantLocation, resp.Header.Get("Location"))
			assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
			if tt.wantStatus == http.StatusUnauthorized && tt.name == "browser POST" {
				assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"), "a page for a browser")
				assert.Contains(t, body, "Sign in to continue.")
			} else if tt.wantStatus == http.StatusUnauthorized {
				got := decodeEnvelope(t, body)
				assert.False(t, got.Status)
				assert.Equal(t, 401, got.Error.Code)
				assert.Equal(t, "Sign in to continue.", got.Error.Message)
				assert.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
			}
		})
	}
}

func TestRequireAuthRedirectNeverLeavesSite(t *testing.T) {
	app := newTestApp(t)
	server := newRawServer(t, app.auth.RequireAuth()(http.NotFoundHandler()))

	resp := rawGet(t, server, "//evil.example/path", "text/html")

	assert.Equal(t, http.StatusFound, resp.StatusCode)
	assert.Equal(t, "/auth/login", resp.Header.Get("Location"), "a path that reads as another host is not a return URL")
}

func TestRequireAuthAccessTokenExpiry(t *testing.T) {
	tests := []struct {
		name       string
		beforeEnd  time.Duration // how long before the access token expires the request comes
		wantStatus int
	}{
		{name: "outside the clock skew", beforeEnd: 31 * time.Second, wantStatus: http.StatusOK},
		{name: "inside the clock skew", beforeEnd: 29 * time.Second, wantStatus: http.StatusUnauthorized},
		{name: "expired", beforeEnd: -time.Minute, wantStatus: http.StatusUnauthorized},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := newTestApp(t, withConfig(func(c *identity.Config) { c.IdleTimeout = -1 }))
			app.signIn(identitytest.DocumentedUser().ID)

			app.clock.Advance(identitytest.DefaultAccessTTL - tt.beforeEnd)
			resp, body := app.get("/dashboard")

			assert.Equal(t, tt.wantStatus, resp.StatusCode)
			if tt.wantStatus == http.StatusUnauthorized {
				assert.Equal(t, "Your session has expired. Sign in again.", decodeEnvelope(t, body).Error.Message)
			}
		})
	}
}

func TestRequireAuthForbiddenIsNeverARedirect(t *testing.T) {
	app := newTestApp(t)
	app.signIn(identitytest.DocumentedUser().ID)

	api, apiBody := app.get("/admin")
	page, pageBody := app.navigate("/admin")

	assert.Equal(t, http.StatusForbidden, api.StatusCode)
	assert.Equal(t, 403, decodeEnvelope(t, apiBody).Error.Code)
	assert.Equal(t, http.StatusForbidden, page.StatusCode)
	assert.Empty(t, page.Header.Get("Location"))
	assert.Equal(t, "text/html; charset=utf-8", page.Header.Get("Content-Type"))
	assert.Contains(t, pageBody, "does not have access")
	assert.NotContains(t, pageBody, "Sign in again", "no sign-in loop is offered")
	assert.Contains(t, app.logs.String(), `HasRole([\"admin\"])`, "the log names the failed rule")
}

func TestRequireAuthRules(t *testing.T) {
	user := identitytest.DocumentedUser()
	admin := identitytest.AdminUser()

	tests := []struct {
		name  string
		rules []identity.Rule
		path  string
		want  map[string]int // user ID to status
	}{
		{name: "HasRole admin", rules: []identity.Rule{identity.HasRole("admin")},
			want: map[string]int{user.ID: 403, admin.ID: 200}},
		{name: "HasRole any of", rules: []identity.Rule{identity.HasRole("owner", "user")},
			want: map[string]int{user.ID: 200, admin.ID: 403}},
		{name: "HasPlatformRole", rules: []identity.Rule{identity.HasPlatformRole("owner")},
			want: map[string]int{user.ID: 403, admin.ID: 200}},
		{name: "InOrganization by slug", rules: []identity.Rule{identity.InOrganization("enterprise-corp")},
			want: map[string]int{user.ID: 200, admin.ID: 200}},
		{name: "InOrganization by signed-in ID", rules: []identity.Rule{identity.InOrganization("507f1f77bcf86cd799439024")},
			want: map[string]int{user.ID: 200, admin.ID: 403}},
		{name: "InOrganization any of", rules: []identity.Rule{identity.InOrganization("nope", "507f1f77bcf86cd799439025")},
			want: map[string]int{user.ID: 200, admin.ID: 200}},
		{name: "InOrganization unknown", rules: []identity.Rule{identity.InOrganization("other-org")},
			want: map[string]int{user.ID: 403, admin.ID: 403}},
		{name: "RuleFunc", rules: []identity.Rule{identity.RuleFunc(func(id *identity.Identity, r *http.Request) bool {
			return strings.HasPrefix(id.Email, "admin@") && r.Method == http.MethodGet
		})}, want: map[string]int{user.ID: 403, admin.ID: 200}},
		{name: "all rules must hold", rules: []identity.Rule{identity.InOrganization("enterprise-corp"), identity.HasRole("admin")},
			want: map[string]int{user.ID: 403, admin.ID: 200}},
		{name: "no rules", rules: nil,
			want: map[string]int{user.ID: 200, admin.ID: 200}},
		{name: "SignedInTo by slug", rules: []identity.Rule{identity.SignedInTo("enterprise-corp")},
			want: map[string]int{user.ID: 403, admin.ID: 200}},
		{name: "SignedInTo by ID", rules: []identity.Rule{identity.SignedInTo("507f1f77bcf86cd799439024")},
			want: map[string]int{user.ID: 200, admin.ID: 403}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for userID, wantStatus := range tt.want {
				app := newTestApp(t, withRoutes(func(app *testApp, mux *http.ServeMux) {
					mux.Handle("/rule", app.auth.RequireAuth(tt.rules...)(app.recordIdentity()))
				}))
				app.signIn(userID)

				resp, _ := app.get("/rule")

				assert.Equal(t, wantStatus, resp.StatusCode, "user %s", userID)
			}
		})
	}
}

func TestRequireAuthOrganizationFromPath(t *testing.T) {
	tests := []struct {
		path       string
		wantStatus int
	}{
		{path: "/orgs/enterprise-corp/", wantStatus: http.StatusOK},
		{path: "/orgs/507f1f77bcf86cd799439025/", wantStatus: http.StatusOK},
		{path: "/orgs/other-org/", wantStatus: http.StatusForbidden},
	}

	app := newTestApp(t)
	app.signIn(identitytest.AdminUser().ID)

	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, _ := app.get(tt.path)

			assert.Equal(t, tt.wantStatus, resp.StatusCode)
		})
	}
}

func TestRequireAuthPassThrough(t *testing.T) {
	app := newTestApp(t)
	app.signIn(identitytest.AdminUser().ID)

	resp, body := app.get("/dashboard")

	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "hello "+identitytest.AdminUser().ID, body)
	assert.Contains(t, resp.Header.Values("Vary"), "Cookie")
	assert.Empty(t, resp.Header.Values("Set-Cookie"), "a request that changes nothing gets no Set-Cookie")
}

func TestRequireAuthKeepsHijack(t *testing.T) {
	app := newTestApp(t, withRoutes(func(app *testApp, mux *http.ServeMux) {
		mux.Handle("/ws", app.auth.RequireAuth()(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			conn, rw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			defer func() { _ = conn.Close() }()

			_, _ = rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
			_ = rw.Flush()
		})))
	}))
	app.signIn(identitytest.DocumentedUser().ID)
	cookie := app.cookie(sessionCookieID)

	conn, err := tls.Dial("tcp", app.server.Listener.Addr().String(), &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // the test server's own certificate
	require.NoError(t, err)
	defer func() { _ = conn.Close() }()

	_, err = fmt.Fprintf(conn, "GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nCookie: %s=%s\r\n\r\n",
		app.server.Listener.Addr(), cookie.Name, cookie.Value)
	require.NoError(t, err)

	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()

	assert.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
}

func TestRequireAuthKeepsFlush(t *testing.T) {
	app := newTestApp(t, withRoutes(func(app *testApp, mux *http.ServeMux) {
		mux.Handle("/stream", app.auth.RequireAuth()(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, "first")
			if err := http.NewResponseController(w).Flush(); err != nil {
				_, _ = io.WriteString(w, " flush failed: "+err.Error())
			}
		})))
	}))
	app.signIn(identitytest.DocumentedUser().ID)

	_, body := app.get("/stream")

	assert.Equal(t, "first", body)
}

func TestRequireAuthCustomErrorHandler(t *testing.T) {
	var got []*identity.HTTPError
	app := newTestApp(t, withConfig(func(c *identity.Config) {
		c.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, err error) {
			var herr *identity.HTTPError
			if errors.As(err, &herr) {
				got = append(got, herr)
			}
			w.WriteHeader(herr.Status)
			_, _ = io.WriteString(w, "custom")
		}
	}))

	resp, body := app.get("/dashboard")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, "custom", body)

	app.signIn(identitytest.DocumentedUser().ID)
	resp, _ = app.get("/admin")
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)

	require.Len(t, got, 2)
	assert.ErrorIs(t, got[0], identity.ErrNotSignedIn)
	assert.ErrorIs(t, got[1], identity.ErrForbidden)
	assert.Equal(t, 403, got[1].Code)
}

func TestRequireAuthPanicsOnNilRule(t *testing.T) {
	app := newTestApp(t)

	assert.PanicsWithValue(t, "identity: RequireAuth rule 1 is nil", func() {
		app.auth.RequireAuth(identity.HasRole("admin"), nil)
	})
}

func TestRulesPanicWithoutValues(t *testing.T) {
	tests := map[string]func(){
		"HasRole":            func() { identity.HasRole() },
		"HasPlatformRole":    func() { identity.HasPlatformRole() },
		"InOrganization":     func() { identity.InOrganization() },
		"empty role":         func() { identity.HasRole("admin", "") },
		"InOrganizationFrom": func() { identity.InOrganizationFrom(nil) },
	}

	for name, build := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Panics(t, build)
		})
	}
}

func TestOptionalAuth(t *testing.T) {
	app := newTestApp(t, withRoutes(func(app *testApp, mux *http.ServeMux) {
		mux.Handle("/greet", app.auth.OptionalAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if id, ok := identity.FromRequest(r); ok {
				_, _ = io.WriteString(w, "hello "+id.FirstName)
				return
			}
			_, _ = io.WriteString(w, "hello stranger")
		})))
	}))

	_, anonymous := app.get("/greet")
	app.signIn(identitytest.AdminUser().ID)
	_, signedIn := app.get("/greet")

	assert.Equal(t, "hello stranger", anonymous)
	assert.Equal(t, "hello Ada", signedIn)
}

func TestContextAccessors(t *testing.T) {
	id := &identity.Identity{UserID: "u1"}

	got, ok := identity.FromContext(identity.NewContext(context.Background(), id))
	assert.True(t, ok)
	assert.Same(t, id, got)

	_, ok = identity.FromContext(context.Background())
	assert.False(t, ok, "empty context")

	_, ok = identity.FromContext(identity.NewContext(context.Background(), nil))
	assert.False(t, ok, "nil identity")

	req, err := http.NewRequestWithContext(identity.NewContext(context.Background(), id), http.MethodGet, "/", nil)
	require.NoError(t, err)
	got, ok = identity.FromRequest(req)
	assert.True(t, ok)
	assert.Same(t, id, got)

	type otherKey struct{}
	_, ok = identity.FromContext(context.WithValue(context.Background(), otherKey{}, id))
	assert.False(t, ok, "another package's key")
}

func TestRequireAuthPassesCORSPreflight(t *testing.T) {
	app := newTestApp(t, withRoutes(func(app *testApp, mux *http.ServeMux) {
		mux.Handle("/api/items", app.auth.RequireAuth()(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, signedIn := identity.FromContext(r.Context())
			w.Header().Set("X-Signed-In", fmt.Sprint(signedIn))
			w.WriteHeader(http.StatusNoContent)
		})))
	}))

	preflight, _ := app.do(http.MethodOptions, "/api/items", http.Header{
		"Origin":                        {"https://frontend.example"},
		"Access-Control-Request-Method": {"PUT"},
	}, nil)
	plain, _ := app.do(http.MethodOptions, "/api/items", nil, nil)

	assert.Equal(t, http.StatusNoContent, preflight.StatusCode, "the preflight reaches the handler")
	assert.Equal(t, "false", preflight.Header.Get("X-Signed-In"), "without an identity")
	assert.Equal(t, http.StatusUnauthorized, plain.StatusCode, "any other OPTIONS needs a session")
}

func TestResponsesAreNotCached(t *testing.T) {
	app := newTestApp(t)
	app.signIn(identitytest.DocumentedUser().ID)
	state := app.startLogin("")

	callback, _ := app.postCallback(callbackForm(app, state, identitytest.DocumentedUser().ID), nil)
	failedCallback, _ := app.postCallback(callbackForm(app, "forged", identitytest.DocumentedUser().ID), nil)
	login, _ := app.navigate("/auth/login")
	forbidden, _ := app.get("/admin")
	passed, _ := app.get("/dashboard")
	logout, _ := app.do(http.MethodPost, "/auth/logout", nil, nil)
	unauthorized, _ := app.get("/dashboard")
	redirect, _ := app.navigate("/dashboard")

	for name, resp := range map[string]*http.Response{
		"login": login, "callback": callback, "failed callback": failedCallback, "logout": logout,
		"401": unauthorized, "403": forbidden, "redirect to sign in": redirect,
	} {
		assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"), name)
	}
	assert.Equal(t, []string{"Cookie"}, passed.Header.Values("Vary"), "a response RequireAuth lets through varies by cookie")
	assert.Equal(t, "private", passed.Header.Get("Cache-Control"), "and is for this user only")
}

// A role applies to the organization the user signed in to: an admin of one
// organization who is a plain member of another must not pass a role check
// for the other.
func TestRequireAuthRoleAppliesToSignedInOrganization(t *testing.T) {
	admin := identitytest.AdminUser()
	admin.OrganizationID = "org-a"
	admin.Organizations = []identity.Organization{{ID: "org-a", Slug: "alpha"}, {ID: "org-b", Slug: "beta"}}
	orgFromPath := func(r *http.Request) string { return r.PathValue("org") }

	app := newTestApp(t, withSimulator(identitytest.WithUsers(admin)), withRoutes(func(app *testApp, mux *http.ServeMux) {
		mux.Handle("/orgs/{org}/settings", app.auth.RequireAuth(identity.HasRole("admin"), identity.SignedInToFrom(orgFromPath))(app.recordIdentity()))
		mux.Handle("/orgs/{org}/apps", app.auth.RequireAuth(identity.InOrganizationFrom(orgFromPath))(app.recordIdentity()))
	}))
	app.signIn(admin.ID)

	tests := map[string]int{
		"/orgs/alpha/settings": http.StatusOK,
		"/orgs/org-a/settings": http.StatusOK,
		"/orgs/beta/settings":  http.StatusForbidden,
		"/orgs/org-b/settings": http.StatusForbidden,
		"/orgs/beta/apps":      http.StatusOK,
	}
	for path, want := range tests {
		resp, _ := app.get(path)
		assert.Equal(t, want, resp.StatusCode, path)
	}
}

func TestRequireAuthRejectsSessionOfAnotherOrganization(t *testing.T) {
	writer := newTestApp(t)
	writer.signIn(identitytest.DocumentedUser().ID)
	written := writer.cookie(sessionCookieID).Value

	other := newTestApp(t, withConfig(func(c *identity.Config) { c.Organization = "another-tenant" }))
	resp, _ := other.doWithoutJar(http.MethodGet, "/dashboard", http.Header{"Cookie": {sessionCookieID + "=" + written}})

	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "same keys and cookie name, another organization")
}

// Requests of one session share a cached record, so a handler that changes
// its Identity must not change the next request's.
func TestRequireAuthIdentityIsPerRequest(t *testing.T) {
	app := newTestApp(t, withRoutes(func(app *testApp, mux *http.ServeMux) {
		mux.Handle("/tamper", app.auth.RequireAuth()(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id, _ := identity.FromContext(r.Context())
			_, _ = io.WriteString(w, id.Role)
			id.Role = "admin"
			id.UserID = "someone-else"

			// An in-place filter reuses the slice's array.
			kept := id.Organizations[:0]
			for _, org := range id.Organizations {
				if org.Slug != "enterprise-corp" {
					kept = append(kept, org)
				}
			}
			id.Organizations = kept
			id.PlatformRoles[0].Name = "owner"
		})))
	}))
	app.signIn(identitytest.DocumentedUser().ID)

	for i := range 3 {
		resp, body := app.get("/tamper")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "user", body, "request %d sees the session's own role", i+1)
	}

	resp, _ := app.get("/admin")
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "the change never reached the session")
	resp, _ = app.get("/orgs/enterprise-corp/")
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the filtered organization is still the user's")
	require.NotNil(t, app.seen.Load())
	assert.Equal(t, "string", app.seen.Load().PlatformRoles[0].Name, "the platform role is unchanged")
}

func TestRequireAuthWithoutSessionCache(t *testing.T) {
	app := newTestApp(t, withConfig(func(c *identity.Config) {
		c.SessionCacheSize = -1
		c.IdleTimeout = -1
	}))
	app.signIn(identitytest.AdminUser().ID)

	for range 2 {
		resp, _ := app.get("/admin")
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	}
	app.clock.Advance(identitytest.DefaultAccessTTL)
	resp, _ := app.get("/admin")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "expiry is checked on every request")
}
