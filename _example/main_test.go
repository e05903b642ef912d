package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ssogate/identity"
	"github.com/ssogate/identity/identitytest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func env(values map[string]string) func(string) string {
	return func(name string) string { return values[name] }
}

// exampleApp serves the example on a TLS test server against the simulator.
type exampleApp struct {
	server    *httptest.Server
	simulator *identitytest.Server
	client    *http.Client
}

func newExampleApp(t *testing.T) *exampleApp {
	t.Helper()

	cfg, simulator, err := configure(env(nil), quietLogger(), "unused", "127.0.0.1")
	require.NoError(t, err)
	require.NotNil(t, simulator, "no API key starts the simulator")
	t.Cleanup(simulator.Close)

	auth, err := identity.New(cfg)
	require.NoError(t, err)

	server := httptest.NewTLSServer(newApp(auth))
	t.Cleanup(server.Close)
	simulator.SetCallbackURL(server.URL + "/auth/callback")

	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	client := *server.Client()
	client.Jar = jar

	return &exampleApp{server: server, simulator: simulator, client: &client}
}

func (app *exampleApp) signIn(t *testing.T, userID string) string {
	t.Helper()

	resp, err := app.simulator.SignIn(app.client, app.server.URL+"/auth/login?return_to=/dashboard", userID)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()

	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "landing page: %s", body)
	assert.Equal(t, "/dashboard", resp.Request.URL.Path)

	return string(body)
}

// open loads path as a browser would and returns the status and page.
func (app *exampleApp) open(t *testing.T, method, path string) (*http.Response, string) {
	t.Helper()

	req, err := http.NewRequest(method, app.server.URL+path, nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/html")

	resp, err := app.client.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()

	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)

	return resp, string(body)
}

func TestExampleAdminSignsInAndOut(t *testing.T) {
	app := newExampleApp(t)

	dashboard := app.signIn(t, identitytest.AdminUser().ID)
	assert.Contains(t, dashboard, "Signed in as Ada Admin &lt;admin@example.com&gt;, role admin.")
	assert.Contains(t, dashboard, `href="/orgs/enterprise-corp/"`)

	resp, body := app.open(t, http.MethodGet, "/admin")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, "Welcome, Ada Admin.")

	resp, body = app.open(t, http.MethodGet, "/orgs/enterprise-corp/")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, "Ada Admin is a member of enterprise-corp.")

	resp, _ = app.open(t, http.MethodGet, "/orgs/other-corp/")
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)

	resp, body = app.open(t, http.MethodPost, "/auth/logout")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "/", resp.Request.URL.Path, "signing out leads home")
	assert.Contains(t, body, "Not signed in.")

	resp, body = app.open(t, http.MethodGet, "/dashboard")
	assert.Contains(t, resp.Request.URL.String(), app.simulator.SignInURL(), "the dashboard sends the browser to sign in")
	assert.Contains(t, body, "Simulated identity provider")
}

func TestExamplePlainUserCannotOpenAdmin(t *testing.T) {
	app := newExampleApp(t)
	app.signIn(t, identitytest.DocumentedUser().ID)

	resp, body := app.open(t, http.MethodGet, "/admin")

	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Contains(t, body, "does not have access")
}

func TestExampleHomeIsPublic(t *testing.T) {
	app := newExampleApp(t)

	resp, body := app.open(t, http.MethodGet, "/")

	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, "Not signed in.")
	assert.Contains(t, body, `href="/auth/login?return_to=/dashboard"`)
}

func TestConfigureFromEnvironment(t *testing.T) {
	cfg, simulator, err := configure(env(map[string]string{
		"APPLIVERY_API_KEY":      "key",
		"APPLIVERY_API_URL":      "https://api.example",
		"APPLIVERY_ORGANIZATION": "acme",
		"APPLIVERY_PROVIDER":     "openid",
		"APPLIVERY_SIGNIN_URL":   "https://idp.example/sso",
		"SESSION_KEYS":           strings.Repeat("a", 44) + "," + strings.Repeat("b", 24),
		"INSECURE_COOKIES":       "1",
	}), quietLogger(), "http://localhost:8080", "localhost")

	require.NoError(t, err)
	assert.Nil(t, simulator, "an API key means the real API")
	assert.Equal(t, "key", cfg.APIKey)
	assert.Equal(t, "https://api.example", cfg.APIBaseURL)
	assert.Equal(t, "acme", cfg.Organization)
	assert.Equal(t, "openid", cfg.Provider)
	assert.Equal(t, "https://idp.example/sso", cfg.SignInURL)
	assert.True(t, cfg.Insecure)
	require.Len(t, cfg.SessionKeys, 2)
	assert.Len(t, cfg.SessionKeys[0], 33)
	assert.Len(t, cfg.SessionKeys[1], 18)
}

func TestConfigureRejectsBadEnvironment(t *testing.T) {
	tests := map[string]struct {
		env  map[string]string
		want string
	}{
		"bad base64 key": {env: map[string]string{"SESSION_KEYS": "not base64!"}, want: "SESSION_KEYS key 0 is not standard base64"},
		"bad boolean":    {env: map[string]string{"INSECURE_COOKIES": "maybe"}, want: `INSECURE_COOKIES must be true or false (or 1 or 0), got "maybe"`},
	}

	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, _, err := configure(env(tt.env), quietLogger(), "http://localhost:8080", "localhost")

			assert.ErrorContains(t, err, tt.want)
		})
	}
}

// run serves the app offline on the simulator, as go run ./_example does.
func TestRunServesOffline(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	urls := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, env(map[string]string{"ADDR": "127.0.0.1:0"}), quietLogger(), func(url string) { urls <- url })
	}()

	var url string
	select {
	case url = <-urls:
	case err := <-done:
		t.Fatalf("run stopped before serving: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not start within 10 s")
	}

	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	client := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	req, err := http.NewRequest(http.MethodGet, url+"/dashboard", nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/html")
	resp, err := client.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	assert.Contains(t, string(body), "Simulated identity provider", "the dashboard leads to the simulated identity provider")

	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop within 10 s")
	}
}

func TestExampleAPI(t *testing.T) {
	app := newExampleApp(t)

	resp, body := app.open(t, http.MethodGet, "/api/health")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.JSONEq(t, `{"status":"ok","service":"identity example"}`, body)

	req, err := http.NewRequest(http.MethodGet, app.server.URL+"/api/me", nil)
	require.NoError(t, err)
	unauthenticated, err := app.client.Do(req)
	require.NoError(t, err)
	_ = unauthenticated.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, unauthenticated.StatusCode, "an API client gets 401, not a redirect")

	app.signIn(t, identitytest.AdminUser().ID)
	signedIn, err := app.client.Do(req)
	require.NoError(t, err)
	defer func() { _ = signedIn.Body.Close() }()
	raw, err := io.ReadAll(signedIn.Body)
	require.NoError(t, err)
	assert.JSONEq(t, `{"userId":"`+identitytest.AdminUser().ID+`","role":"admin"}`, string(raw))
}
