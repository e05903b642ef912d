package identity_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/identity"
	"github.com/ssogate/identity/identitytest"
)

// auditKey marks the request context that the hooks must receive.
type auditKey struct{}

// auditLog collects what the hooks received.
type auditLog struct {
	mu     sync.Mutex
	events []auditEvent
}

type auditEvent struct {
	hook      string
	requestID any
	userID    string
	err       error
}

func (l *auditLog) add(ctx context.Context, hook string, id *identity.Identity, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()

	event := auditEvent{hook: hook, requestID: ctx.Value(auditKey{}), err: err}
	if id != nil {
		event.userID = id.UserID
	}
	l.events = append(l.events, event)
}

func (l *auditLog) take() []auditEvent {
	l.mu.Lock()
	defer l.mu.Unlock()

	events := l.events
	l.events = nil

	return events
}

func newAuditedApp(t *testing.T) (*testApp, *auditLog) {
	t.Helper()

	audit := &auditLog{}
	app := newTestApp(t, withConfig(func(c *identity.Config) {
		c.RefreshPath = identitytest.RefreshPath
		c.IdleTimeout = -1
		c.OnSignIn = func(ctx context.Context, id *identity.Identity) { audit.add(ctx, "sign-in", id, nil) }
		c.OnSignInFailed = func(ctx context.Context, err error) { audit.add(ctx, "sign-in failed", nil, err) }
		c.OnRefresh = func(ctx context.Context, id *identity.Identity) { audit.add(ctx, "refresh", id, nil) }
		c.OnSignOut = func(ctx context.Context, id *identity.Identity) { audit.add(ctx, "sign-out", id, nil) }
	}))

	// Every request's context carries its path, for the hooks to report.
	handler := app.server.Config.Handler
	app.server.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handler.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), auditKey{}, r.URL.Path)))
	})

	return app, audit
}

func TestHooksSignInRefreshSignOut(t *testing.T) {
	app, audit := newAuditedApp(t)
	admin := identitytest.AdminUser()

	app.signIn(admin.ID)
	signIn := audit.take()
	require.Len(t, signIn, 1)
	assert.Equal(t, auditEvent{hook: "sign-in", requestID: "/auth/callback", userID: admin.ID}, signIn[0])

	app.clock.Advance(identitytest.DefaultAccessTTL + time.Minute)
	resp, _ := app.get("/dashboard")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	refresh := audit.take()
	require.Len(t, refresh, 1)
	assert.Equal(t, auditEvent{hook: "refresh", requestID: "/dashboard", userID: admin.ID}, refresh[0])

	resp, _ = app.do(http.MethodPost, "/auth/logout", nil, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	signOut := audit.take()
	require.Len(t, signOut, 1)
	assert.Equal(t, auditEvent{hook: "sign-out", requestID: "/auth/logout", userID: admin.ID}, signOut[0])

	resp, _ = app.do(http.MethodPost, "/auth/logout", nil, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	anonymous := audit.take()
	require.Len(t, anonymous, 1)
	assert.Empty(t, anonymous[0].userID, "a sign-out without a session gets a nil identity")
}

func TestHooksSignInFailed(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(app *testApp) map[string][]string
		wantStatus int
		wantCause  error
	}{
		{
			name: "forged state",
			setup: func(app *testApp) map[string][]string {
				app.startLogin("")
				return callbackForm(app, "forged", identitytest.AdminUser().ID)
			},
			wantStatus: http.StatusForbidden,
			wantCause:  identity.ErrStateInvalid,
		},
		{
			name: "Applivery rejects the response",
			setup: func(app *testApp) map[string][]string {
				app.sim.InjectFault(identitytest.ErrorEnvelope(http.StatusBadRequest, 5070, "Saml get profile error"))
				return callbackForm(app, app.startLogin(""), identitytest.AdminUser().ID)
			},
			wantStatus: http.StatusUnauthorized,
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, audit := newAuditedApp(t)
			form := tt.setup(app)
			audit.take()

			resp, _ := app.postCallback(form, nil)
			require.Equal(t, tt.wantStatus, resp.StatusCode)

			events := audit.take()
			require.Len(t, events, 1)
			assert.Equal(t, "sign-in failed", events[0].hook)
			assert.Equal(t, "/auth/callback", events[0].requestID)
			var herr *identity.HTTPError
			require.True(t, errors.As(events[0].err, &herr), "the hook gets an *HTTPError")
			assert.Equal(t, tt.wantStatus, herr.Status)
			if tt.wantCause != nil {
				assert.ErrorIs(t, events[0].err, tt.wantCause)
			}
			var apiErr *identity.APIError
			if tt.wantCause == nil {
				require.True(t, errors.As(events[0].err, &apiErr))
				assert.Equal(t, 5070, apiErr.Code)
			}
		})
	}
}

// A sign-out hook that changes the identity it gets must not change what a
// copy of the signed-out cookie carries.
func TestHooksSignOutGetsACopy(t *testing.T) {
	app := newTestApp(t, withConfig(func(c *identity.Config) {
		c.OnSignOut = func(_ context.Context, id *identity.Identity) {
			if id != nil {
				id.Role = "admin"
				id.Organizations[0].Slug = "changed"
			}
		}
	}))
	app.signIn(identitytest.DocumentedUser().ID)
	copied := http.Header{"Cookie": {sessionCookieID + "=" + app.cookie(sessionCookieID).Value}}
	before, _ := app.doWithoutJar(http.MethodGet, "/admin", copied.Clone())
	require.Equal(t, http.StatusForbidden, before.StatusCode)

	resp, _ := app.do(http.MethodPost, "/auth/logout", nil, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)

	after, _ := app.doWithoutJar(http.MethodGet, "/admin", copied.Clone())
	assert.Equal(t, http.StatusForbidden, after.StatusCode, "the copy still carries role user")
	orgs, _ := app.doWithoutJar(http.MethodGet, "/orgs/enterprise-corp/", copied.Clone())
	assert.Equal(t, http.StatusOK, orgs.StatusCode, "and its organizations")
}
