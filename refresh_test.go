package identity_test

import (
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/identity"
	"github.com/ssogate/identity/identitytest"
)

// newRefreshApp returns an app that refreshes tokens against the simulator,
// with the idle timeout off so that tests can move the clock by hours.
func newRefreshApp(t *testing.T, opts ...appOption) *testApp {
	t.Helper()

	return newTestApp(t, append([]appOption{withConfig(func(c *identity.Config) {
		c.RefreshPath = identitytest.RefreshPath
		c.IdleTimeout = -1
	})}, opts...)...)
}

func TestRefreshExpiredAccessToken(t *testing.T) {
	app := newRefreshApp(t)
	app.signIn(identitytest.DocumentedUser().ID)
	resp, _ := app.get("/dashboard")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	before := app.seen.Load()

	app.clock.Advance(identitytest.DefaultAccessTTL + time.Minute)
	resp, _ = app.get("/dashboard")

	require.Equal(t, http.StatusOK, resp.StatusCode, "the request is served after a refresh")
	assert.Equal(t, 1, app.sim.RefreshCalls())
	assert.NotNil(t, responseCookie(resp, sessionCookieID), "the refreshed session is saved")
	after := app.seen.Load()
	assert.NotEqual(t, before.AccessToken.Value, after.AccessToken.Value, "new access token")
	assert.NotEqual(t, before.RefreshToken.Value, after.RefreshToken.Value, "new refresh token")
	assert.True(t, after.AccessToken.ExpiresAt.After(app.clock.Now()), "the new access token is valid")
	assert.True(t, before.AuthenticatedAt.Equal(after.AuthenticatedAt), "refreshing does not move the sign-in time")
	assert.Contains(t, app.logs.String(), `"msg":"identity: tokens refreshed"`)

	resp, _ = app.get("/dashboard")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, 1, app.sim.RefreshCalls(), "the saved tokens need no second refresh")
	assert.Empty(t, resp.Header.Values("Set-Cookie"), "nothing changed")

	requests := app.sim.Requests()
	last := requests[len(requests)-1]
	assert.Equal(t, identitytest.RefreshPath, last.Path)
	assert.Equal(t, "Bearer "+app.sim.APIKey, last.Header.Get("Authorization"))
	assert.Equal(t, before.RefreshToken.Value, last.Params["refreshToken"])
}

func TestRefreshConcurrentRequestsShareOneCall(t *testing.T) {
	app := newRefreshApp(t)
	app.signIn(identitytest.DocumentedUser().ID)
	cookieHeader := http.Header{"Cookie": {sessionCookieID + "=" + app.cookie(sessionCookieID).Value}}
	app.clock.Advance(identitytest.DefaultAccessTTL + time.Minute)
	app.sim.InjectFault(identitytest.Delay(200 * time.Millisecond))

	const requests = 50
	statuses := make([]int, requests)
	refreshed := make([]bool, requests)
	var wg sync.WaitGroup
	for i := range requests {
		wg.Go(func() {
			resp, _ := app.doWithoutJar(http.MethodGet, "/dashboard", cookieHeader.Clone())
			statuses[i] = resp.StatusCode
			refreshed[i] = responseCookie(resp, sessionCookieID) != nil
		})
	}
	wg.Wait()

	assert.Equal(t, 1, app.sim.RefreshCalls(), "one upstream refresh for the session")
	for i := range requests {
		assert.Equal(t, http.StatusOK, statuses[i], "request %d", i)
		assert.True(t, refreshed[i], "request %d carries the refreshed cookie", i)
	}
}

func TestRefreshFailureSignsOut(t *testing.T) {
	app := newRefreshApp(t)
	app.signIn(identitytest.DocumentedUser().ID)
	resp, _ := app.get("/dashboard")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	id := app.seen.Load()
	app.clock.Advance(identitytest.DefaultAccessTTL + time.Minute)
	for range 2 {
		app.sim.InjectFault(identitytest.ErrorEnvelope(http.StatusUnauthorized, 401, "Invalid refresh token"))
	}

	api, body := app.get("/dashboard")

	assert.Equal(t, http.StatusUnauthorized, api.StatusCode)
	assert.Equal(t, "Your session has expired. Sign in again.", decodeEnvelope(t, body).Error.Message)
	logs := app.logs.String()
	assert.Contains(t, logs, `"level":"WARN","msg":"identity: token refresh failed"`)
	assert.Contains(t, logs, `"kind":"api_error"`)
	assert.NotContains(t, logs, id.RefreshToken.Value, "the refresh token is not logged")
	assert.NotContains(t, logs, id.AccessToken.Value, "the access token is not logged")

	page, _ := app.navigate("/dashboard")
	assert.Equal(t, http.StatusFound, page.StatusCode, "browsers are sent to sign in")
}

func TestRefreshNotAttempted(t *testing.T) {
	tests := []struct {
		name    string
		refresh bool
		advance time.Duration
	}{
		{name: "refresh off", refresh: false, advance: identitytest.DefaultAccessTTL + time.Minute},
		{name: "refresh token expired", refresh: true, advance: 3 * time.Hour},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := newTestApp(t,
				withSimulator(identitytest.WithTokenLifetimes(time.Hour, 2*time.Hour)),
				withConfig(func(c *identity.Config) {
					c.IdleTimeout = -1
					if tt.refresh {
						c.RefreshPath = identitytest.RefreshPath
					}
				}))
			app.signIn(identitytest.DocumentedUser().ID)

			app.clock.Advance(tt.advance)
			resp, _ := app.get("/dashboard")

			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			assert.Zero(t, app.sim.RefreshCalls())
		})
	}
}

func TestRefreshDoesNotExtendSessionLifetime(t *testing.T) {
	app := newRefreshApp(t, withConfig(func(c *identity.Config) {
		c.RefreshPath = identitytest.RefreshPath
		c.IdleTimeout = -1
		c.SessionLifetime = 90 * time.Minute
	}))
	app.signIn(identitytest.DocumentedUser().ID)

	app.clock.Advance(61 * time.Minute)
	refreshed, _ := app.get("/dashboard")
	app.clock.Advance(30 * time.Minute)
	late, _ := app.get("/dashboard")

	assert.Equal(t, http.StatusOK, refreshed.StatusCode, "refreshed within the lifetime")
	assert.Equal(t, http.StatusUnauthorized, late.StatusCode, "91 minutes after sign-in, with a valid access token")
}

func TestRefreshSetsCookieBeforeFirstByte(t *testing.T) {
	app := newRefreshApp(t, withRoutes(func(app *testApp, mux *http.ServeMux) {
		mux.Handle("/stream", app.auth.RequireAuth()(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, "streaming")
			_ = http.NewResponseController(w).Flush()
		})))
	}))
	app.signIn(identitytest.DocumentedUser().ID)
	app.clock.Advance(identitytest.DefaultAccessTTL + time.Minute)

	resp, body := app.get("/stream")

	assert.Equal(t, "streaming", body)
	assert.NotNil(t, responseCookie(resp, sessionCookieID), "Set-Cookie went out with the headers")
}

func TestRefreshWithFilesystemStore(t *testing.T) {
	dir := t.TempDir()
	app := newRefreshApp(t, withConfig(func(c *identity.Config) {
		c.RefreshPath = identitytest.RefreshPath
		c.IdleTimeout = -1
		c.Store = newFilesystemStore(dir)
	}))
	app.signIn(identitytest.DocumentedUser().ID)

	app.clock.Advance(identitytest.DefaultAccessTTL + time.Minute)
	first, _ := app.get("/dashboard")
	second, _ := app.get("/dashboard")

	assert.Equal(t, http.StatusOK, first.StatusCode)
	assert.Equal(t, http.StatusOK, second.StatusCode)
	assert.Equal(t, 1, app.sim.RefreshCalls(), "the store kept the new tokens")
	assert.Equal(t, 1, countSessionFiles(t, dir), "the same stored session, not a new one")
}
