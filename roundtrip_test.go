package identity_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/identity"
	"github.com/ssogate/identity/identitytest"
)

// A browser with a cookie jar goes from a protected page through the
// identity provider and back, uses the app, and signs out.
func TestRoundTrip(t *testing.T) {
	app := newTestApp(t)
	admin := identitytest.AdminUser()

	page, err := app.browser.Get(app.url("/dashboard?tab=apps"))
	require.NoError(t, err)
	body, _ := io.ReadAll(page.Body)
	_ = page.Body.Close()
	require.Equal(t, http.StatusOK, page.StatusCode)
	assert.Equal(t, app.sim.SignInURL(), page.Request.URL.Scheme+"://"+page.Request.URL.Host+page.Request.URL.Path,
		"the protected page led to the identity provider")
	assert.Contains(t, string(body), "Ada Admin", "the identity provider lists the users")

	state := page.Request.URL.Query().Get("RelayState")
	picked, err := app.browser.PostForm(app.sim.SignInURL(), url.Values{"user": {admin.ID}, "RelayState": {state}})
	require.NoError(t, err)
	autoPost, _ := io.ReadAll(picked.Body)
	_ = picked.Body.Close()
	assert.Contains(t, string(autoPost), `name="SAMLResponse"`)
	assert.Contains(t, string(autoPost), "document.forms[0].submit()")

	landed, err := app.sim.SignIn(app.browser, app.url("/auth/login?return_to=%2Fdashboard%3Ftab%3Dapps"), admin.ID)
	require.NoError(t, err)
	landedBody, _ := io.ReadAll(landed.Body)
	_ = landed.Body.Close()
	assert.Equal(t, http.StatusOK, landed.StatusCode)
	assert.Equal(t, "/dashboard?tab=apps", landed.Request.URL.RequestURI())
	assert.Equal(t, "hello "+admin.ID, string(landedBody))

	resp, _ := app.get("/admin")
	assert.Equal(t, http.StatusOK, resp.StatusCode, "admin page")

	resp, _ = app.do(http.MethodPost, "/auth/logout", nil, nil)
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode, "sign out")

	resp, _ = app.navigate("/dashboard")
	assert.Equal(t, http.StatusFound, resp.StatusCode, "back to sign in")
	assert.Equal(t, "/auth/login?return_to=%2Fdashboard", resp.Header.Get("Location"))
}

func TestLogsHoldNoSecrets(t *testing.T) {
	app := newTestApp(t)
	app.signIn(identitytest.AdminUser().ID)
	resp, _ := app.get("/dashboard")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	app.sim.InjectFault(identitytest.ErrorEnvelope(http.StatusBadRequest, 5070, "Saml get profile error"))
	app.signIn(identitytest.AdminUser().ID)
	_, _ = app.get("/admin")
	_, _ = app.do(http.MethodPost, "/auth/logout", nil, nil)

	id := app.seen.Load()
	require.NotNil(t, id)
	requests := app.sim.Requests()
	require.Len(t, requests, 2)
	logs := app.logs.String()

	secrets := map[string]string{
		"access token":  id.AccessToken.Value,
		"refresh token": id.RefreshToken.Value,
		"API key":       app.sim.APIKey,
		"SAMLResponse":  requests[0].Params["SAMLResponse"],
		"RelayState":    requests[0].Params["RelayState"],
		"email":         id.Email,
	}
	for name, secret := range secrets {
		require.NotEmpty(t, secret, name)
		assert.NotContains(t, logs, secret, "the log holds the %s", name)
	}
	assert.Contains(t, logs, `"msg":"identity: sign-in succeeded"`)
	assert.Contains(t, logs, `"user_id":"`+id.UserID+`"`)
	assert.Contains(t, logs, `"msg":"identity: sign-in failed"`)
}

func TestTokenRedactsItself(t *testing.T) {
	id := &identity.Identity{
		UserID:       "u1",
		Email:        "person@example.com",
		AccessToken:  identity.Token{Value: "access-secret"},
		RefreshToken: identity.Token{Value: "refresh-secret"},
	}

	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	logger.Info("event", "identity", id, "token", id.AccessToken)
	raw, err := json.Marshal(id)
	require.NoError(t, err)

	outputs := map[string]string{
		"%v":   fmt.Sprintf("%v", id),
		"%+v":  fmt.Sprintf("%+v", *id),
		"%#v":  fmt.Sprintf("%#v", *id),
		"%s":   fmt.Sprintf("token %s", id.AccessToken),
		"slog": logs.String(),
		"json": string(raw),
	}
	for name, out := range outputs {
		assert.NotContains(t, out, "access-secret", name)
		assert.NotContains(t, out, "refresh-secret", name)
	}
	assert.NotContains(t, logs.String(), "person@example.com", "slog leaves out the email")
	assert.Contains(t, logs.String(), `"user_id":"u1"`)
}
