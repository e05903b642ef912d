package identity_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/identity"
	"github.com/ssogate/identity/identitytest"
)

func TestLoginRedirectsToSignInURLWithState(t *testing.T) {
	tests := []struct {
		provider   string
		stateParam string
	}{
		{provider: "saml", stateParam: "RelayState"},
		{provider: "openid", stateParam: "state"},
	}

	for _, tt := range tests {
		t.Run(tt.provider, func(t *testing.T) {
			app := newTestApp(t, withSimulator(identitytest.WithProvider(tt.provider)))

			resp, _ := app.navigate("/auth/login")

			require.Equal(t, http.StatusFound, resp.StatusCode)
			location, err := url.Parse(resp.Header.Get("Location"))
			require.NoError(t, err)
			assert.Equal(t, app.sim.SignInURL(), location.Scheme+"://"+location.Host+location.Path, "redirect target")

			state := location.Query().Get(tt.stateParam)
			assert.GreaterOrEqual(t, len(state), 22, "state carries at least 128 bits in base64")
			assert.LessOrEqual(t, len(state), 80, "RelayState is limited to 80 bytes")
			assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
		})
	}
}

func TestLoginKeepsSignInURLQuery(t *testing.T) {
	app := newTestApp(t, withConfig(func(c *identity.Config) { c.SignInURL += "?tenant=acme" }))

	resp, _ := app.navigate("/auth/login")

	location, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, "acme", location.Query().Get("tenant"))
	assert.NotEmpty(t, location.Query().Get("RelayState"))
}

func TestLoginIssuesDistinctStates(t *testing.T) {
	app := newTestApp(t)

	first := app.startLogin("")
	second := app.startLogin("")

	assert.NotEqual(t, first, second)
}

func TestLoginStateCookieAttributes(t *testing.T) {
	tests := []struct {
		name     string
		insecure bool
		cookie   string
		secure   bool
		sameSite http.SameSite
	}{
		{name: "secure", cookie: "__Host-identity-state", secure: true, sameSite: http.SameSiteNoneMode},
		{name: "insecure", insecure: true, cookie: "identity-state", secure: false, sameSite: http.SameSiteLaxMode},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := newTestApp(t, withConfig(func(c *identity.Config) { c.Insecure = tt.insecure }))

			resp, _ := app.navigate("/auth/login")

			cookie := responseCookie(resp, tt.cookie)
			require.NotNil(t, cookie, "state cookie %s is set", tt.cookie)
			assert.True(t, cookie.HttpOnly, "HttpOnly")
			assert.Equal(t, tt.secure, cookie.Secure, "Secure")
			assert.Equal(t, tt.sameSite, cookie.SameSite, "SameSite")
			assert.Equal(t, "/", cookie.Path, "Path")
			assert.Empty(t, cookie.Domain, "Domain")
			assert.Equal(t, 600, cookie.MaxAge, "Max-Age")
		})
	}
}

func TestLoginRejectsOtherMethods(t *testing.T) {
	app := newTestApp(t)

	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodHead} {
		t.Run(method, func(t *testing.T) {
			resp, _ := app.do(method, "/auth/login", nil, nil)

			assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
			assert.Equal(t, "GET", resp.Header.Get("Allow"))
			assert.Nil(t, responseCookie(resp, "__Host-identity-state"), "no state is issued")
		})
	}
}

func TestLoginReturnToAfterSignIn(t *testing.T) {
	tests := []struct {
		returnTo string
		want     string
	}{
		{returnTo: "/orgs/enterprise-corp/apps", want: "/orgs/enterprise-corp/apps"},
		{returnTo: "/dashboard?tab=1#top", want: "/dashboard?tab=1#top"},
		{returnTo: "", want: "/"},
		{returnTo: "//evil.example", want: "/"},
		{returnTo: `/\evil.example`, want: "/"},
		{returnTo: `\\evil.example`, want: "/"},
		{returnTo: "https://evil.example", want: "/"},
		{returnTo: "https:evil.example", want: "/"},
		{returnTo: "javascript:alert(1)", want: "/"},
		{returnTo: "data:text/html,<script>alert(1)</script>", want: "/"},
		{returnTo: "/%2F%2Fevil.example", want: "/"},
		{returnTo: "/%5Cevil.example", want: "/"},
		{returnTo: "/\t/evil.example", want: "/"},
		{returnTo: "/\n/evil.example", want: "/"},
		{returnTo: "dashboard", want: "/"},
	}

	for _, tt := range tests {
		t.Run(tt.returnTo, func(t *testing.T) {
			app := newTestApp(t)
			state := app.startLogin(tt.returnTo)

			resp, _ := app.postCallback(url.Values{
				"SAMLResponse": {app.samlResponse(identitytest.DocumentedUser().ID)},
				"RelayState":   {state},
			}, nil)

			require.Equal(t, http.StatusSeeOther, resp.StatusCode)
			assert.Equal(t, tt.want, resp.Header.Get("Location"))
		})
	}
}

func TestLoginUsesConfiguredDefaultReturnTo(t *testing.T) {
	app := newTestApp(t, withConfig(func(c *identity.Config) { c.DefaultReturnTo = "/home" }))
	state := app.startLogin("https://evil.example/")

	resp, _ := app.postCallback(url.Values{
		"SAMLResponse": {app.samlResponse(identitytest.DocumentedUser().ID)},
		"RelayState":   {state},
	}, nil)

	assert.Equal(t, "/home", resp.Header.Get("Location"))
}

func TestLoginOnlyForNavigations(t *testing.T) {
	tests := []struct {
		mode       string
		wantStatus int
	}{
		{mode: "navigate", wantStatus: http.StatusFound},
		{mode: "no-cors", wantStatus: http.StatusBadRequest},
		{mode: "cors", wantStatus: http.StatusBadRequest},
		{mode: "same-origin", wantStatus: http.StatusBadRequest},
		{mode: "", wantStatus: http.StatusFound},
	}

	for _, tt := range tests {
		t.Run("Sec-Fetch-Mode "+tt.mode, func(t *testing.T) {
			app := newTestApp(t)
			header := browserHeader()
			if tt.mode != "" {
				header.Set("Sec-Fetch-Mode", tt.mode)
			}

			resp, _ := app.do(http.MethodGet, "/auth/login", header, nil)

			assert.Equal(t, tt.wantStatus, resp.StatusCode)
			if tt.wantStatus != http.StatusFound {
				assert.Nil(t, responseCookie(resp, "__Host-identity-state"), "no state is issued")
			}
		})
	}
}

func TestLoginMethodErrorPage(t *testing.T) {
	app := newTestApp(t)

	resp, body := app.do(http.MethodPost, "/auth/login", browserHeader(), nil)

	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	assert.Contains(t, body, "This address accepts GET requests only.")
	assert.NotContains(t, body, "Sign in again", "signing in again does not fix a wrong method")
}
