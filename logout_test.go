package identity_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/identity"
	"github.com/ssogate/identity/identitytest"
)

func TestLogoutEndsSession(t *testing.T) {
	app := newTestApp(t)
	signedIn := app.signIn(identitytest.DocumentedUser().ID)
	set := responseCookie(signedIn.Request.Response, sessionCookieID)

	resp, _ := app.do(http.MethodPost, "/auth/logout", nil, nil)

	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, "/", resp.Header.Get("Location"))
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))

	cleared := responseCookie(resp, sessionCookieID)
	require.NotNil(t, cleared, "the session cookie is cleared")
	assert.Negative(t, cleared.MaxAge, "Max-Age=0")
	require.NotNil(t, set, "the callback set the session cookie")
	assert.Equal(t, set.Path, cleared.Path, "same Path as when set")
	assert.Equal(t, set.Domain, cleared.Domain, "same Domain as when set")
	assert.Equal(t, set.Secure, cleared.Secure, "same Secure as when set")
	assert.Equal(t, set.SameSite, cleared.SameSite, "same SameSite as when set")
	assert.Equal(t, set.HttpOnly, cleared.HttpOnly, "same HttpOnly as when set")

	after, _ := app.get("/dashboard")
	assert.Equal(t, http.StatusUnauthorized, after.StatusCode, "signed out")
	assert.Contains(t, app.logs.String(), `"msg":"identity: signed out"`)
}

func TestLogoutRejectsOtherMethods(t *testing.T) {
	app := newTestApp(t)
	app.signIn(identitytest.DocumentedUser().ID)

	resp, _ := app.get("/auth/logout")

	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	assert.Equal(t, "POST", resp.Header.Get("Allow"))
	still, _ := app.get("/dashboard")
	assert.Equal(t, http.StatusOK, still.StatusCode, "still signed in")
}

func TestLogoutRejectsCrossOrigin(t *testing.T) {
	tests := []struct {
		name       string
		header     http.Header
		wantStatus int
	}{
		{name: "cross-site fetch metadata", header: http.Header{"Sec-Fetch-Site": {"cross-site"}}, wantStatus: http.StatusForbidden},
		{name: "same-site but other origin", header: http.Header{"Sec-Fetch-Site": {"same-site"}}, wantStatus: http.StatusForbidden},
		{name: "foreign Origin", header: http.Header{"Origin": {"https://evil.example"}}, wantStatus: http.StatusForbidden},
		{name: "same origin", header: http.Header{"Sec-Fetch-Site": {"same-origin"}}, wantStatus: http.StatusSeeOther},
		{name: "no browser headers", header: http.Header{}, wantStatus: http.StatusSeeOther},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := newTestApp(t)
			app.signIn(identitytest.DocumentedUser().ID)

			resp, _ := app.do(http.MethodPost, "/auth/logout", tt.header, nil)

			assert.Equal(t, tt.wantStatus, resp.StatusCode)
			after, _ := app.get("/dashboard")
			if tt.wantStatus == http.StatusForbidden {
				assert.Equal(t, http.StatusOK, after.StatusCode, "the session survives a cross-origin sign-out")
			} else {
				assert.Equal(t, http.StatusUnauthorized, after.StatusCode, "signed out")
			}
		})
	}
}

func TestLogoutReturnTo(t *testing.T) {
	tests := []struct {
		name     string
		config   func(*identity.Config)
		form     url.Values
		wantPath string
	}{
		{name: "default", wantPath: "/"},
		{name: "configured", config: func(c *identity.Config) { c.LogoutReturnTo = "/goodbye" }, wantPath: "/goodbye"},
		{name: "form return_to", form: url.Values{"return_to": {"/see-you?soon=1"}}, wantPath: "/see-you?soon=1"},
		{name: "foreign return_to", form: url.Values{"return_to": {"https://evil.example/"}}, wantPath: "/"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := newTestApp(t, withConfig(func(c *identity.Config) {
				if tt.config != nil {
					tt.config(c)
				}
			}))
			app.signIn(identitytest.DocumentedUser().ID)

			resp, _ := app.do(http.MethodPost, "/auth/logout",
				http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, strings.NewReader(tt.form.Encode()))

			assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
			assert.Equal(t, tt.wantPath, resp.Header.Get("Location"))
		})
	}
}

func TestLogoutDeletesServerSideSession(t *testing.T) {
	dir := t.TempDir()
	app := newTestApp(t, withConfig(func(c *identity.Config) { c.Store = newFilesystemStore(dir) }))
	app.signIn(identitytest.DocumentedUser().ID)
	copied := app.cookie(sessionCookieID).Value

	resp, _ := app.do(http.MethodPost, "/auth/logout", nil, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)

	assert.Equal(t, 0, countSessionFiles(t, dir), "the stored session is deleted")
	replay, _ := app.doWithoutJar(http.MethodGet, "/dashboard", http.Header{"Cookie": {sessionCookieID + "=" + copied}})
	assert.Equal(t, http.StatusUnauthorized, replay.StatusCode, "a copy of the old cookie signs no one in")
}

func TestLogoutWhenStoredSessionIsCorrupt(t *testing.T) {
	dir := t.TempDir()
	app := newTestApp(t, withConfig(func(c *identity.Config) { c.Store = newFilesystemStore(dir) }))
	app.signIn(identitytest.DocumentedUser().ID)
	file := onlySessionFile(t, dir)
	require.NoError(t, os.WriteFile(file, []byte("corrupt"), 0o600))

	resp, _ := app.do(http.MethodPost, "/auth/logout", nil, nil)

	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, 0, countSessionFiles(t, dir), "a session whose ID is known is deleted even if it does not load")
}

func TestLogoutFailsWhenStoreCannotDelete(t *testing.T) {
	dir := t.TempDir()
	app := newTestApp(t, withConfig(func(c *identity.Config) { c.Store = newFilesystemStore(dir) }))
	app.signIn(identitytest.DocumentedUser().ID)
	copied := app.cookie(sessionCookieID).Value
	file := onlySessionFile(t, dir)
	require.NoError(t, os.Remove(file))
	require.NoError(t, os.MkdirAll(filepath.Join(file, "blocker"), 0o700), "a directory that os.Remove cannot delete")

	resp, body := app.do(http.MethodPost, "/auth/logout", nil, nil)

	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode, "no one is told they signed out")
	assert.Contains(t, decodeEnvelope(t, body).Error.Message, "Signing out failed")
	assert.NotContains(t, app.logs.String(), `"msg":"identity: signed out"`)
	assert.NotEmpty(t, copied)
}

func onlySessionFile(t *testing.T, dir string) string {
	t.Helper()

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1)

	return filepath.Join(dir, entries[0].Name())
}
