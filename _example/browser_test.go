package main

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/identity/identitytest"
	"github.com/ssogate/identity/internal/browsertest"
	"github.com/ssogate/identity/internal/samltest"
)

// startExample runs the example app on localhost with the simulator, whose
// identity provider signs real SAML responses, and returns the app's URL.
// Start it before the browser, so that the browser closes its connections
// before the app shuts down.
func startExample(t *testing.T, env map[string]string) string {
	t.Helper()

	provider, err := samltest.New()
	require.NoError(t, err)

	vars := map[string]string{"ADDR": "localhost:0"}
	for name, value := range env {
		vars[name] = value
	}

	ctx, cancel := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, func(name string) string { return vars[name] }, quietLogger(),
			func(url string) { urls <- url }, identitytest.WithIdentityProvider(provider))
	}()

	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done, "the example stops cleanly")
	})

	select {
	case appURL := <-urls:
		return appURL
	case err := <-done:
		t.Fatalf("the example stopped before serving: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the example did not start within 10 s")
	}

	return ""
}

// signIn opens the home page, clicks sign in, and picks the user with role
// at the simulated identity provider. It returns the identity provider's
// page address.
func signIn(t *testing.T, b *browsertest.Browser, appURL, role string) *url.URL {
	t.Helper()

	require.Equal(t, 200, b.Open(appURL+"/"), "home page")
	b.Do("sign in from the home page",
		chromedp.Click(chromedp.CSS("#sign-in")),
		chromedp.WaitVisible(chromedp.CSS(`button[data-role="`+role+`"]`)),
	)
	idpPage := b.Location()
	assert.Equal(t, "/idp/signin", idpPage.Path, "the identity provider's page")

	b.Do("pick the "+role,
		chromedp.Click(chromedp.CSS(`button[data-role="`+role+`"]`)),
		chromedp.WaitVisible(chromedp.CSS("#who")),
	)

	return idpPage
}

func TestBrowserAdminSignsInAndOut(t *testing.T) {
	appURL := startExample(t, nil)
	b := browsertest.New(t)

	idpPage := signIn(t, b, appURL, "admin")

	assert.Equal(t, "localhost", idpPage.Hostname(), "the identity provider is on the app's site")
	assert.Equal(t, "/dashboard", b.Location().Path, "sign-in lands on the dashboard")
	assert.Contains(t, b.Text("#who"), "Ada Admin")

	assert.Equal(t, 200, b.Open(appURL+"/admin"), "the admin page")
	assert.Contains(t, b.Text("#who"), "Welcome, Ada Admin.")

	require.Equal(t, 200, b.Open(appURL+"/"))
	b.Do("sign out",
		chromedp.Click(chromedp.CSS("#sign-out")),
		chromedp.WaitVisible(chromedp.CSS("#sign-in")),
	)

	b.Open(appURL + "/dashboard")
	b.Do("the dashboard sends the browser to sign in", chromedp.WaitVisible(chromedp.CSS(`button[data-role="admin"]`)))
	assert.Contains(t, b.Location().Path, "/idp/signin")
}

func TestBrowserUserGetsForbiddenPage(t *testing.T) {
	appURL := startExample(t, nil)
	b := browsertest.New(t)

	signIn(t, b, appURL, "user")

	assert.Contains(t, b.Text("#who"), "John Doe")
	assert.Equal(t, 403, b.Open(appURL+"/admin"), "the admin page is forbidden to a user")
	assert.Contains(t, b.Text("body"), "does not have access")
}

// With the identity provider on 127.0.0.1 and the app on localhost, the
// identity provider's form post is cross-site: it carries only cookies with
// SameSite=None, which the state cookie has.
func TestBrowserCrossSiteIdentityProvider(t *testing.T) {
	appURL := startExample(t, map[string]string{"SIMULATOR_HOST": "127.0.0.1"})
	b := browsertest.New(t)
	require.True(t, strings.HasPrefix(appURL, "http://localhost:"), "the app is on localhost: %s", appURL)

	idpPage := signIn(t, b, appURL, "admin")

	assert.Equal(t, "127.0.0.1", idpPage.Hostname(), "the identity provider is on another site")
	assert.Equal(t, "/dashboard", b.Location().Path)
	assert.Contains(t, b.Text("#who"), "Ada Admin")
}
