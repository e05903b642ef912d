package identity_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/identity"
	"github.com/ssogate/identity/identitytest"
)

func TestCallbackRejectsBadState(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(app *testApp) url.Values
		wantStatus int
		wantText   string
	}{
		{
			name: "missing RelayState",
			setup: func(app *testApp) url.Values {
				app.startLogin("")
				return url.Values{"SAMLResponse": {app.samlResponse(identitytest.DocumentedUser().ID)}}
			},
			wantStatus: http.StatusBadRequest,
			wantText:   "no RelayState parameter",
		},
		{
			name: "no state cookie",
			setup: func(app *testApp) url.Values {
				return url.Values{"SAMLResponse": {app.samlResponse(identitytest.DocumentedUser().ID)}, "RelayState": {"forged-state"}}
			},
			wantStatus: http.StatusForbidden,
			wantText:   "does not belong to a sign-in started in this browser",
		},
		{
			name: "mismatched state",
			setup: func(app *testApp) url.Values {
				state := app.startLogin("")
				return url.Values{"SAMLResponse": {app.samlResponse(identitytest.DocumentedUser().ID)}, "RelayState": {state + "x"}}
			},
			wantStatus: http.StatusForbidden,
			wantText:   "does not belong to a sign-in started in this browser",
		},
		{
			name: "expired state",
			setup: func(app *testApp) url.Values {
				state := app.startLogin("")
				app.clock.Advance(10*time.Minute + time.Second)
				return url.Values{"SAMLResponse": {app.samlResponse(identitytest.DocumentedUser().ID)}, "RelayState": {state}}
			},
			wantStatus: http.StatusForbidden,
			wantText:   "took longer than 10m0s",
		},
		{
			name: "state cookie from another app's keys",
			setup: func(app *testApp) url.Values {
				state := app.startLogin("")
				cookie := app.cookie("__Host-identity-state")
				cookie.Value = forgeCookie(t, "__Host-identity-state", `[{"s":"`+state+`","r":"/","t":1}]`)
				cookie.Secure, cookie.Path = true, "/"
				app.setCookie(cookie)
				return url.Values{"SAMLResponse": {app.samlResponse(identitytest.DocumentedUser().ID)}, "RelayState": {state}}
			},
			wantStatus: http.StatusForbidden,
			wantText:   "does not belong to a sign-in started in this browser",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := newTestApp(t)
			form := tt.setup(app)

			resp, body := app.postCallback(form, nil)

			assert.Equal(t, tt.wantStatus, resp.StatusCode)
			assert.Contains(t, decodeEnvelope(t, body).Error.Message, tt.wantText)
			assert.Empty(t, app.sim.Requests(), "Applivery must not be called before the state is checked")
			assert.Nil(t, responseCookie(resp, "__Host-identity"), "no session is written")
		})
	}
}

func TestCallbackRejectsReplayedState(t *testing.T) {
	app := newTestApp(t)
	state := app.startLogin("")
	form := url.Values{"SAMLResponse": {app.samlResponse(identitytest.DocumentedUser().ID)}, "RelayState": {state}}

	first, _ := app.postCallback(form, nil)
	require.Equal(t, http.StatusSeeOther, first.StatusCode, "first use")

	replay, body := app.postCallback(form, nil)

	assert.Equal(t, http.StatusForbidden, replay.StatusCode, "second use")
	assert.Contains(t, decodeEnvelope(t, body).Error.Message, "used already")
	assert.Len(t, app.sim.Requests(), 1, "the replay never reaches Applivery")
}

func TestCallbackClearsStateCookie(t *testing.T) {
	app := newTestApp(t)
	state := app.startLogin("")

	resp, _ := app.postCallback(url.Values{
		"SAMLResponse": {app.samlResponse(identitytest.DocumentedUser().ID)},
		"RelayState":   {state},
	}, nil)

	cleared := responseCookie(resp, "__Host-identity-state")
	require.NotNil(t, cleared, "the state cookie is cleared")
	assert.Negative(t, cleared.MaxAge, "Max-Age=0")
	assert.Equal(t, "/", cleared.Path)
	assert.True(t, cleared.Secure)
	assert.Equal(t, http.SameSiteNoneMode, cleared.SameSite, "cleared with the attributes it was set with")
	assert.Nil(t, app.cookie("__Host-identity-state"), "the jar dropped it")
}

func TestCallbackWritesSecureSession(t *testing.T) {
	app := newTestApp(t)
	state := app.startLogin("/dashboard")

	resp, _ := app.postCallback(url.Values{
		"SAMLResponse": {app.samlResponse(identitytest.AdminUser().ID)},
		"RelayState":   {state},
	}, nil)

	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, "/dashboard", resp.Header.Get("Location"))
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))

	session := responseCookie(resp, "__Host-identity")
	require.NotNil(t, session, "session cookie")
	assert.True(t, session.HttpOnly, "HttpOnly")
	assert.True(t, session.Secure, "Secure")
	assert.Equal(t, http.SameSiteLaxMode, session.SameSite, "SameSite")
	assert.Equal(t, "/", session.Path, "Path")
	assert.Empty(t, session.Domain, "Domain")
	assert.Equal(t, int((12 * time.Hour).Seconds()), session.MaxAge, "Max-Age is the session lifetime")
	assert.NotContains(t, session.Value, "identitytest-access", "the token is encrypted")
}

func TestCallbackSendsParametersToApplivery(t *testing.T) {
	app := newTestApp(t, withSimulator(identitytest.WithOrganization("acme.corp_é")),
		withConfig(func(c *identity.Config) { c.Organization = "acme.corp_é" }))
	state := app.startLogin("")
	samlResponse := app.samlResponse(identitytest.DocumentedUser().ID)

	resp, _ := app.do(http.MethodPost, "/auth/callback?extra=1",
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
		strings.NewReader(url.Values{"SAMLResponse": {samlResponse}, "RelayState": {state}}.Encode()))

	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	requests := app.sim.Requests()
	require.Len(t, requests, 1)
	got := requests[0]
	assert.Equal(t, http.MethodPost, got.Method)
	assert.Equal(t, "/v1/auth/sso/acme.corp_%C3%A9/saml/callback", got.Path, "path segments are escaped")
	assert.Equal(t, "Bearer "+identitytest.DefaultAPIKey, got.Header.Get("Authorization"))
	assert.Equal(t, "application/json", got.Header.Get("Content-Type"))
	assert.Equal(t, "application/json", got.Header.Get("Accept"))
	assert.Contains(t, got.Header.Get("User-Agent"), "github.com/ssogate/identity")
	assert.Equal(t, map[string]string{"SAMLResponse": samlResponse, "RelayState": state, "extra": "1"}, got.Params,
		"every callback parameter, as strings")
}

func TestCallbackOpenIDConnectQuery(t *testing.T) {
	app := newTestApp(t, withSimulator(identitytest.WithProvider("openid")),
		withConfig(func(c *identity.Config) { c.Provider = "openid" }))

	resp, err := app.sim.SignIn(app.browser, app.url("/auth/login?return_to=/dashboard"), identitytest.AdminUser().ID)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()

	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "/dashboard", resp.Request.URL.Path)
	require.NotNil(t, app.seen.Load())
	assert.Equal(t, identitytest.AdminUser().ID, app.seen.Load().UserID)
	require.Len(t, app.sim.Requests(), 1)
	assert.Equal(t, "/v1/auth/sso/enterprise-corp/openid/callback", app.sim.Requests()[0].Path)
	assert.Contains(t, app.sim.Requests()[0].Params, "code")
	assert.Contains(t, app.sim.Requests()[0].Params, "state")
}

func TestCallbackRejectsMalformedRequests(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		body       string
		config     func(*identity.Config)
		wantStatus int
		wantAllow  string
	}{
		{name: "PUT", method: http.MethodPut, wantStatus: http.StatusMethodNotAllowed, wantAllow: "GET, POST"},
		{name: "DELETE", method: http.MethodDelete, wantStatus: http.StatusMethodNotAllowed, wantAllow: "GET, POST"},
		{
			name:       "body over the default limit",
			method:     http.MethodPost,
			body:       "SAMLResponse=" + strings.Repeat("A", 256<<10),
			wantStatus: http.StatusRequestEntityTooLarge,
		},
		{
			name:       "body over a configured limit",
			method:     http.MethodPost,
			body:       "SAMLResponse=" + strings.Repeat("A", 2048),
			config:     func(c *identity.Config) { c.MaxCallbackBodyBytes = 1024 },
			wantStatus: http.StatusRequestEntityTooLarge,
		},
		{
			name:       "repeated parameter",
			method:     http.MethodPost,
			body:       "RelayState=a&RelayState=b",
			wantStatus: http.StatusBadRequest,
		},
		{
			name:       "malformed form",
			method:     http.MethodPost,
			body:       "RelayState=%zz",
			wantStatus: http.StatusBadRequest,
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := newTestApp(t, withConfig(func(c *identity.Config) {
				if tt.config != nil {
					tt.config(c)
				}
			}))
			app.startLogin("")

			resp, body := app.do(tt.method, "/auth/callback",
				http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, strings.NewReader(tt.body))

			assert.Equal(t, tt.wantStatus, resp.StatusCode)
			assert.Equal(t, tt.wantAllow, resp.Header.Get("Allow"))
			assert.Equal(t, tt.wantStatus, decodeEnvelope(t, body).Error.Code)
			assert.Empty(t, app.sim.Requests(), "Applivery is not called")
		})
	}
}

func TestCallbackUpstreamFailures(t *testing.T) {
	documented400, err := os.ReadFile("testdata/callback-400.json")
	require.NoError(t, err)

	tests := []struct {
		name        string
		fault       identitytest.Fault
		config      func(*identity.Config)
		wantStatus  int
		wantCode    int
		wantMessage string
		wantLog     string
	}{
		{
			name:        "documented 400 envelope",
			fault:       identitytest.RawResponse(http.StatusBadRequest, "application/json", documented400),
			wantStatus:  http.StatusUnauthorized,
			wantCode:    5070,
			wantMessage: "Saml get profile error",
			wantLog:     `"error_code":5070`,
		},
		{
			name:        "error envelope with status 200",
			fault:       identitytest.RawResponse(http.StatusOK, "application/json", []byte(`{"status":false,"error":{"code":5070,"message":"Saml get profile error"}}`)),
			wantStatus:  http.StatusUnauthorized,
			wantCode:    5070,
			wantMessage: "Saml get profile error",
		},
		{
			name:        "5xx envelope",
			fault:       identitytest.ErrorEnvelope(http.StatusServiceUnavailable, 5000, "Service unavailable"),
			wantStatus:  http.StatusBadGateway,
			wantCode:    5000,
			wantMessage: "error at Applivery",
		},
		{
			name:        "500 without envelope",
			fault:       identitytest.StatusOnly(http.StatusInternalServerError),
			wantStatus:  http.StatusBadGateway,
			wantCode:    http.StatusBadGateway,
			wantMessage: "invalid response",
			wantLog:     "HTTP 500",
		},
		{
			name:        "malformed JSON",
			fault:       identitytest.MalformedJSON(),
			wantStatus:  http.StatusBadGateway,
			wantCode:    http.StatusBadGateway,
			wantMessage: "invalid response",
			wantLog:     "malformed JSON",
		},
		{
			name:        "oversized body",
			fault:       identitytest.OversizedBody(2 << 20),
			wantStatus:  http.StatusBadGateway,
			wantCode:    http.StatusBadGateway,
			wantMessage: "invalid response",
			wantLog:     "over the 1048576-byte limit",
		},
		{
			name:        "HTML instead of JSON",
			fault:       identitytest.RawResponse(http.StatusOK, "text/html", []byte("<html>maintenance</html>")),
			wantStatus:  http.StatusBadGateway,
			wantCode:    http.StatusBadGateway,
			wantMessage: "invalid response",
			wantLog:     "expected application/json",
		},
		{
			name:       "status true without data",
			fault:      identitytest.RawResponse(http.StatusOK, "application/json", []byte(`{"status":true}`)),
			wantStatus: http.StatusBadGateway,
			wantCode:   http.StatusBadGateway,
			wantLog:    `without \"status\":true and \"data\"`,
		},
		{
			name: "missing access token",
			fault: identitytest.RawResponse(http.StatusOK, "application/json",
				[]byte(`{"status":true,"data":{"user":{"id":"u1"}}}`)),
			wantStatus: http.StatusBadGateway,
			wantCode:   http.StatusBadGateway,
			wantLog:    "accessToken is missing or empty",
		},
		{
			name: "missing user ID",
			fault: identitytest.RawResponse(http.StatusOK, "application/json",
				[]byte(`{"status":true,"data":{"accessToken":{"token":"t","expireAt":"2099-01-01T00:00:00Z"},"user":{"email":"a@b"}}}`)),
			wantStatus: http.StatusBadGateway,
			wantCode:   http.StatusBadGateway,
			wantLog:    "user.id is missing or empty",
		},
		{
			name:        "documented 200 with its 2024 expiry",
			fault:       identitytest.RawResponse(http.StatusOK, "application/json", mustReadFile(t, "testdata/callback-200.json")),
			wantStatus:  http.StatusBadGateway,
			wantCode:    http.StatusBadGateway,
			wantMessage: "access token that has already expired",
			wantLog:     "expires at 2024-01-01T00:00:00Z",
		},
		{
			name:        "timeout",
			fault:       identitytest.Delay(2 * time.Second),
			config:      func(c *identity.Config) { c.HTTPClient = &http.Client{Timeout: 100 * time.Millisecond} },
			wantStatus:  http.StatusGatewayTimeout,
			wantCode:    http.StatusGatewayTimeout,
			wantMessage: "did not respond in time",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := newTestApp(t, withConfig(func(c *identity.Config) {
				if tt.config != nil {
					tt.config(c)
				}
			}))
			app.sim.InjectFault(tt.fault)
			state := app.startLogin("")

			resp, body := app.postCallback(url.Values{
				"SAMLResponse": {app.samlResponse(identitytest.DocumentedUser().ID)},
				"RelayState":   {state},
			}, nil)

			assert.Equal(t, tt.wantStatus, resp.StatusCode)
			got := decodeEnvelope(t, body)
			assert.False(t, got.Status, "status is false")
			assert.Equal(t, tt.wantCode, got.Error.Code)
			assert.Contains(t, got.Error.Message, tt.wantMessage)
			assert.Contains(t, app.logs.String(), tt.wantLog)
			assert.Nil(t, responseCookie(resp, "__Host-identity"), "no session is written")
			assert.Len(t, app.sim.Requests(), 1, "callbacks are never retried")
		})
	}
}

func TestCallbackUpstreamUnreachable(t *testing.T) {
	closed := identitytest.NewServer()
	closed.Close()
	app := newTestApp(t, withConfig(func(c *identity.Config) { c.APIBaseURL = closed.URL }))
	state := app.startLogin("")

	resp, body := app.postCallback(url.Values{"SAMLResponse": {"x"}, "RelayState": {state}}, nil)

	assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
	assert.Contains(t, decodeEnvelope(t, body).Error.Message, "could not be reached")
	assert.Nil(t, responseCookie(resp, "__Host-identity"))
}

func TestCallbackDoesNotFollowRedirects(t *testing.T) {
	elsewhere := identitytest.NewServer()
	defer elsewhere.Close()
	app := newTestApp(t)
	app.sim.InjectFault(identitytest.Redirect(elsewhere.URL + "/v1/auth/sso/enterprise-corp/saml/callback"))
	state := app.startLogin("")

	resp, _ := app.postCallback(url.Values{"SAMLResponse": {app.samlResponse(identitytest.DocumentedUser().ID)}, "RelayState": {state}}, nil)

	assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
	assert.Empty(t, elsewhere.Requests(), "the API key must not follow a redirect")
}

func TestCallbackErrorPageForBrowsers(t *testing.T) {
	app := newTestApp(t)
	app.sim.InjectFault(identitytest.ErrorEnvelope(http.StatusBadRequest, 5070, "Saml get profile error <script>"))
	state := app.startLogin("")

	resp, body := app.postCallback(url.Values{
		"SAMLResponse": {app.samlResponse(identitytest.DocumentedUser().ID)},
		"RelayState":   {state},
	}, browserHeader())

	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	assert.Contains(t, body, "Saml get profile error &lt;script&gt;", "Applivery's message is escaped")
	assert.Contains(t, body, `href="/auth/login"`, "offers to sign in again")
}

func TestCallbackRejectsAccessTokenWithinClockSkew(t *testing.T) {
	app := newTestApp(t)
	now := app.clock.Now()
	app.sim.InjectFault(identitytest.RawResponse(http.StatusOK, "application/json",
		documentedResponse(t, now.Add(10*time.Second), now.Add(time.Hour))))
	state := app.startLogin("")

	resp, _ := app.postCallback(url.Values{"SAMLResponse": {"x"}, "RelayState": {state}}, nil)

	assert.Equal(t, http.StatusBadGateway, resp.StatusCode, "10 s left is inside the 30 s clock skew")
	assert.Nil(t, responseCookie(resp, "__Host-identity"))
}

// The documented response of Applivery's API, with only its expiries moved
// to the future, reaches a handler through FromContext with every field.
func TestCallbackDocumentedResponseReachesHandler(t *testing.T) {
	app := newTestApp(t)
	accessExpiry := app.clock.Now().Add(time.Hour).UTC().Truncate(time.Second)
	refreshExpiry := app.clock.Now().Add(30 * 24 * time.Hour).UTC().Truncate(time.Second)
	app.sim.InjectFault(identitytest.RawResponse(http.StatusOK, "application/json",
		documentedResponse(t, accessExpiry, refreshExpiry)))
	state := app.startLogin("/dashboard")

	resp, _ := app.postCallback(url.Values{"SAMLResponse": {"x"}, "RelayState": {state}}, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	resp, body := app.get("/dashboard")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)

	got := app.seen.Load()
	require.NotNil(t, got)
	want := &identity.Identity{
		UserID:    "507f1f77bcf86cd799439023",
		Email:     "user@example.com",
		FirstName: "John",
		LastName:  "Doe",
		FullName:  "John Doe",
		Picture:   "https://example.com/images/profile-picture.jpg",
		Role:      "user",
		PlatformRoles: []identity.PlatformRole{
			{ID: "string", Name: "string", Description: "string", Actions: []string{"string"}},
		},
		OrganizationID: "507f1f77bcf86cd799439024",
		Organizations: []identity.Organization{{
			ID:      "507f1f77bcf86cd799439025",
			Name:    "Enterprise Corporation",
			Slug:    "enterprise-corp",
			Picture: "https://cdn.applivery.com/orgs/507f1f77bcf86cd799439025/logo.png",
		}},
		Language:        "en",
		SSOUser:         false,
		AccessToken:     identity.Token{Value: "string", ExpiresAt: accessExpiry},
		RefreshToken:    identity.Token{Value: "string", ExpiresAt: refreshExpiry},
		AuthenticatedAt: app.clock.Now(),
	}
	assertSameIdentity(t, want, got)
}

// assertSameIdentity compares identities field by field, times by instant.
func assertSameIdentity(t *testing.T, want, got *identity.Identity) {
	t.Helper()

	assert.True(t, want.AccessToken.ExpiresAt.Equal(got.AccessToken.ExpiresAt), "access token expiry: want %s, got %s", want.AccessToken.ExpiresAt, got.AccessToken.ExpiresAt)
	assert.True(t, want.RefreshToken.ExpiresAt.Equal(got.RefreshToken.ExpiresAt), "refresh token expiry: want %s, got %s", want.RefreshToken.ExpiresAt, got.RefreshToken.ExpiresAt)
	assert.True(t, want.AuthenticatedAt.Equal(got.AuthenticatedAt), "authenticated at: want %s, got %s", want.AuthenticatedAt, got.AuthenticatedAt)

	normalize := func(id *identity.Identity) string {
		c := *id
		c.AccessToken.ExpiresAt, c.RefreshToken.ExpiresAt, c.AuthenticatedAt = time.Time{}, time.Time{}, time.Time{}
		raw, err := json.Marshal(struct {
			identity.Identity
			Access, Refresh string
		}{c, id.AccessToken.Value, id.RefreshToken.Value})
		require.NoError(t, err)
		return string(raw)
	}
	assert.JSONEq(t, normalize(want), normalize(got))
}

func mustReadFile(t *testing.T, name string) []byte {
	t.Helper()

	raw, err := os.ReadFile(name)
	require.NoError(t, err)

	return raw
}

func TestCallbackIdPInitiated(t *testing.T) {
	tests := []struct {
		name         string
		allow        bool
		relayState   string
		wantStatus   int
		wantLocation string
		wantUpstream int
	}{
		{name: "rejected by default", wantStatus: http.StatusBadRequest, wantUpstream: 0},
		{name: "accepted when allowed", allow: true, wantStatus: http.StatusSeeOther, wantLocation: "/home", wantUpstream: 1},
		{name: "foreign RelayState still rejected", allow: true, relayState: "https://evil.example/", wantStatus: http.StatusForbidden, wantUpstream: 0},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := newTestApp(t, withConfig(func(c *identity.Config) {
				c.AllowIDPInitiated = tt.allow
				c.DefaultReturnTo = "/home"
			}))
			form := url.Values{"SAMLResponse": {app.samlResponse(identitytest.AdminUser().ID)}}
			if tt.relayState != "" {
				form.Set("RelayState", tt.relayState)
			}

			resp, body := app.postCallback(form, nil)

			assert.Equal(t, tt.wantStatus, resp.StatusCode)
			assert.Equal(t, tt.wantLocation, resp.Header.Get("Location"))
			assert.Len(t, app.sim.Requests(), tt.wantUpstream)
			if tt.wantStatus == http.StatusBadRequest {
				assert.Contains(t, decodeEnvelope(t, body).Error.Message, "signing in starts at the identity provider")
			}
		})
	}
}

func TestCallbackClientGoneIsNotAFault(t *testing.T) {
	app := newTestApp(t)
	app.sim.InjectFault(identitytest.Delay(5 * time.Second))
	state := app.startLogin("")

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, app.url("/auth/callback"),
		strings.NewReader(url.Values(callbackForm(app, state, identitytest.DocumentedUser().ID)).Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	_, err = app.client.Do(req)
	require.ErrorIs(t, err, context.DeadlineExceeded, "the browser went away")

	require.Eventually(t, func() bool {
		return strings.Contains(app.logs.String(), "sign-in canceled by the client")
	}, 5*time.Second, 10*time.Millisecond)
	logs := app.logs.String()
	assert.NotContains(t, logs, `"level":"ERROR"`)
	assert.NotContains(t, logs, "sign-in failed")
}

func TestCallbackUpstreamFailureLogsAreRateLimited(t *testing.T) {
	app := newTestApp(t)

	for range 5 {
		app.sim.InjectFault(identitytest.StatusOnly(http.StatusInternalServerError))
		state := app.startLogin("")
		resp, _ := app.postCallback(callbackForm(app, state, identitytest.DocumentedUser().ID), nil)
		require.Equal(t, http.StatusBadGateway, resp.StatusCode)
	}
	assert.Equal(t, 1, strings.Count(app.logs.String(), "sign-in failed"), "repeats within 10 s are held back")
	assert.Contains(t, app.logs.String(), `"kind":"invalid_response"`)

	app.clock.Advance(11 * time.Second)
	app.sim.InjectFault(identitytest.StatusOnly(http.StatusInternalServerError))
	state := app.startLogin("")
	_, _ = app.postCallback(callbackForm(app, state, identitytest.DocumentedUser().ID), nil)

	assert.Equal(t, 2, strings.Count(app.logs.String(), "sign-in failed"))
	assert.Contains(t, app.logs.String(), `"suppressed":4`, "the next line counts what was held back")
}

func TestCallbackManyTabs(t *testing.T) {
	app := newTestApp(t)

	states := make([]string, 20)
	for i := range states {
		states[i] = app.startLogin(fmt.Sprintf("/tab/%d", i+1))
	}

	resp, _ := app.postCallback(callbackForm(app, states[19], identitytest.DocumentedUser().ID), nil)
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode, "the 20th tab finishes")
	assert.Equal(t, "/tab/20", resp.Header.Get("Location"))

	resp, _ = app.postCallback(callbackForm(app, states[18], identitytest.DocumentedUser().ID), nil)
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode, "the 19th tab finishes")
	assert.Equal(t, "/tab/19", resp.Header.Get("Location"))

	resp, _ = app.postCallback(callbackForm(app, states[0], identitytest.DocumentedUser().ID), nil)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "the oldest sign-in was dropped")

	state := app.cookie("__Host-identity-state")
	require.NotNil(t, state)
	assert.LessOrEqual(t, len(state.Name)+1+len(state.Value), 4096, "the state cookie stays within the browser limit")
}

func TestCallbackStateCookieStaysSmallWithLongReturnURLs(t *testing.T) {
	app := newTestApp(t)
	long := "/" + strings.Repeat("a", 1000)

	var last string
	for range 12 {
		last = app.startLogin(long)
	}
	state := app.cookie("__Host-identity-state")

	require.NotNil(t, state)
	assert.LessOrEqual(t, len(state.Name)+1+len(state.Value), 4096)
	resp, _ := app.postCallback(callbackForm(app, last, identitytest.DocumentedUser().ID), nil)
	assert.Equal(t, long, resp.Header.Get("Location"), "the newest sign-in is kept")
}

func TestCallbackRelayStateFitsSAMLLimit(t *testing.T) {
	app := newTestApp(t)

	state := app.startLogin("/" + strings.Repeat("x", 900))

	assert.LessOrEqual(t, len(state), 80, "SAML 2.0 limits RelayState to 80 bytes")
	assert.NotContains(t, state, "xxx", "the return URL does not travel in RelayState")
}

func TestCallbackRejectsStateFromCopiedCookie(t *testing.T) {
	app := newTestApp(t)
	state := app.startLogin("")
	copied := app.cookie("__Host-identity-state")
	form := callbackForm(app, state, identitytest.DocumentedUser().ID)

	first, _ := app.postCallback(form, nil)
	require.Equal(t, http.StatusSeeOther, first.StatusCode)
	app.setCookie(&http.Cookie{Name: copied.Name, Value: copied.Value, Path: "/", Secure: true})

	replay, body := app.postCallback(callbackForm(app, state, identitytest.DocumentedUser().ID), nil)

	assert.Equal(t, http.StatusForbidden, replay.StatusCode)
	assert.Contains(t, decodeEnvelope(t, body).Error.Message, "used already")
	assert.Len(t, app.sim.Requests(), 1, "the replay never reaches Applivery")
}

func TestCallbackMisconfiguredOrganization(t *testing.T) {
	app := newTestApp(t, withConfig(func(c *identity.Config) { c.Organization = "wrong-org" }))
	state := app.startLogin("")

	resp, body := app.postCallback(callbackForm(app, state, identitytest.DocumentedUser().ID), nil)

	assert.Equal(t, http.StatusBadGateway, resp.StatusCode, "the site's settings are at fault, not the user")
	assert.Contains(t, decodeEnvelope(t, body).Error.Message, "single sign-on settings do not match")
	logs := app.logs.String()
	assert.Contains(t, logs, `"level":"ERROR","msg":"identity: sign-in failed"`)
	assert.Contains(t, logs, "check Organization, Provider and APIBaseURL")
	assert.Equal(t, "/v1/auth/sso/wrong-org/saml/callback", app.sim.Requests()[0].Path)
}
