package identity_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/identity"
)

func validConfig() identity.Config {
	return identity.Config{
		APIKey:       "key-123",
		Organization: "acme",
		Provider:     "saml",
		SignInURL:    "https://idp.example/sso",
		SessionKeys:  [][]byte{hashKeyA, blockKeyA},
	}
}

func TestNewAcceptsValidConfig(t *testing.T) {
	auth, err := identity.New(validConfig())

	require.NoError(t, err)
	assert.NotNil(t, auth)
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*identity.Config)
		want   []string
	}{
		{
			name:   "missing required fields",
			modify: func(c *identity.Config) { *c = identity.Config{} },
			want: []string{
				"APIKey is required",
				"Organization is required",
				"Provider is required",
				"SignInURL is required",
				"SessionKeys is required",
			},
		},
		{
			name:   "odd number of keys",
			modify: func(c *identity.Config) { c.SessionKeys = [][]byte{hashKeyA, blockKeyA, hashKeyB} },
			want:   []string{"SessionKeys must hold pairs of hash key and block key, got an odd number of keys (3)"},
		},
		{
			name:   "short hash key",
			modify: func(c *identity.Config) { c.SessionKeys = [][]byte{hashKeyA, blockKeyA, make([]byte, 31), blockKeyB} },
			want:   []string{"SessionKeys[2] hash key must be at least 32 bytes, got 31"},
		},
		{
			name:   "block key of wrong size",
			modify: func(c *identity.Config) { c.SessionKeys = [][]byte{hashKeyA, make([]byte, 20)} },
			want:   []string{"SessionKeys[1] block key must be 16, 24 or 32 bytes, got 20"},
		},
		{
			name:   "sign-in URL not absolute",
			modify: func(c *identity.Config) { c.SignInURL = "/sso" },
			want:   []string{`SignInURL must be an absolute http or https URL, got "/sso"`},
		},
		{
			name:   "API over plain http to a remote host",
			modify: func(c *identity.Config) { c.APIBaseURL = "http://api.applivery.io" },
			want:   []string{`APIBaseURL must use https unless its host is a loopback address, because the API key travels with every request, got "http://api.applivery.io"`},
		},
		{
			name:   "API base URL with an empty query",
			modify: func(c *identity.Config) { c.APIBaseURL = "https://api.applivery.io?" },
			want:   []string{`APIBaseURL must have no query or fragment, got "https://api.applivery.io?"`},
		},
		{
			name:   "API base URL with the version",
			modify: func(c *identity.Config) { c.APIBaseURL = "https://api.applivery.io/v1/" },
			want:   []string{`APIBaseURL must not end in /v1, because the package adds the API's paths, got "https://api.applivery.io/v1/": use "https://api.applivery.io"`},
		},
		{
			name:   "sign-in URL whose query does not parse",
			modify: func(c *identity.Config) { c.SignInURL = "https://idp.example/sso?tenant=acme;region=eu" },
			want:   []string{`SignInURL must have a query that parses`},
		},
		{
			name:   "provider in upper case",
			modify: func(c *identity.Config) { c.Provider = "SAML" },
			want:   []string{`Provider must be a provider kind in lower case, such as "saml" or "openid", got "SAML"`},
		},
		{
			name:   "organization with a space",
			modify: func(c *identity.Config) { c.Organization = "acme corp" },
			want:   []string{`Organization must be an organization slug such as "enterprise-corp", without spaces or slashes, got "acme corp"`},
		},
		{
			name: "lifetimes too short",
			modify: func(c *identity.Config) {
				c.SessionLifetime = 500 * time.Millisecond
				c.StateLifetime = 30 * time.Second
				c.IdleTimeout = 10 * time.Second
			},
			want: []string{
				"SessionLifetime must be at least 1m, got 500ms",
				"StateLifetime must be at least 1m, got 30s",
				"IdleTimeout must be negative (off) or at least 1m, got 10s",
			},
		},
		{
			name:   "clock skew of an hour",
			modify: func(c *identity.Config) { c.ClockSkew = time.Hour },
			want:   []string{"ClockSkew must be at most 5m, got 1h0m0s"},
		},
		{
			name:   "API key with a newline",
			modify: func(c *identity.Config) { c.APIKey = "key\r\nX-Injected: 1" },
			want:   []string{"APIKey must not contain spaces or control characters"},
		},
		{
			name:   "organization that climbs the path",
			modify: func(c *identity.Config) { c.Organization = ".." },
			want:   []string{`Organization must be an organization slug such as "enterprise-corp", without spaces or slashes, got ".."`},
		},
		{
			name:   "cookie name without __Host- prefix",
			modify: func(c *identity.Config) { c.CookieName = "session" },
			want:   []string{`CookieName must start with "__Host-" unless Insecure is set, got "session"`},
		},
		{
			name: "__Host- cookie name in insecure mode",
			modify: func(c *identity.Config) {
				c.Insecure = true
				c.CookieName = "__Host-session"
			},
			want: []string{`CookieName must not start with "__Host-" when Insecure is set, because browsers reject such cookies without Secure, got "__Host-session"`},
		},
		{
			name:   "cookie name with a separator",
			modify: func(c *identity.Config) { c.CookieName = "__Host-a;b" },
			want:   []string{"CookieName must be a valid cookie name"},
		},
		{
			name:   "login path on another site",
			modify: func(c *identity.Config) { c.LoginPath = "//evil.example/login" },
			want:   []string{`LoginPath must be a path on this site such as "/auth/login", without query or fragment, got "//evil.example/login"`},
		},
		{
			name:   "default return URL on another site",
			modify: func(c *identity.Config) { c.DefaultReturnTo = "https://evil.example/" },
			want:   []string{`DefaultReturnTo must be a path on this site such as "/" or "/home?tab=1", got "https://evil.example/"`},
		},
		{
			name:   "negative clock skew",
			modify: func(c *identity.Config) { c.ClockSkew = -time.Second },
			want:   []string{"ClockSkew must be at least 0, got -1s"},
		},
		{
			name:   "state lifetime over an hour",
			modify: func(c *identity.Config) { c.StateLifetime = 2 * time.Hour },
			want:   []string{"StateLifetime must be at most 1h, got 2h0m0s"},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig()
			tt.modify(&cfg)

			auth, err := identity.New(cfg)

			require.Error(t, err)
			assert.Nil(t, auth)

			var configErr *identity.ConfigError
			require.True(t, errors.As(err, &configErr), "error is a *ConfigError: %v", err)
			assert.Len(t, configErr.Problems, len(tt.want), "problems: %q", configErr.Problems)
			for _, want := range tt.want {
				assert.Contains(t, err.Error(), want)
			}
		})
	}
}

func TestNewNeverPrintsKeys(t *testing.T) {
	cfg := validConfig()
	cfg.APIKey = "secret key with spaces"
	cfg.SessionKeys = [][]byte{[]byte("short-secret-hash-key"), []byte("bad-block")}

	_, err := identity.New(cfg)

	require.Error(t, err)
	assert.NotContains(t, err.Error(), "secret key")
	assert.NotContains(t, err.Error(), "short-secret-hash-key")
	assert.NotContains(t, err.Error(), "bad-block")
}

func TestNewAppliesDefaults(t *testing.T) {
	app := newTestApp(t)

	resp, _ := app.navigate("/dashboard")

	assert.Equal(t, http.StatusFound, resp.StatusCode)
	assert.Equal(t, "/auth/login?return_to=%2Fdashboard", resp.Header.Get("Location"), "default LoginPath")

	resp, _ = app.navigate("/auth/login")
	state := responseCookie(resp, "__Host-identity-state")
	require.NotNil(t, state, "default cookie name")
	assert.Equal(t, 600, state.MaxAge, "default state lifetime")
}

func TestNewDoesNotChangeCallersHTTPClient(t *testing.T) {
	client := &http.Client{Timeout: time.Second}
	cfg := validConfig()
	cfg.HTTPClient = client

	_, err := identity.New(cfg)

	require.NoError(t, err)
	assert.Nil(t, client.CheckRedirect, "New must copy the client before changing its redirect policy")
}

func TestNewWarnsInInsecureMode(t *testing.T) {
	var logs bytes.Buffer
	cfg := validConfig()
	cfg.Insecure = true
	cfg.Logger = newTextLogger(&logs)

	_, err := identity.New(cfg)

	require.NoError(t, err)
	assert.Contains(t, logs.String(), "Insecure is set")
}

func TestConfigPrintsNoSecrets(t *testing.T) {
	cfg := validConfig()
	cfg.APIKey = "api-key-secret"
	cfg.SessionKeys = [][]byte{[]byte("hash-key-secret-of-32-bytes-long"), []byte("block-key-secret-of-32-bytes-lon")}

	var logs bytes.Buffer
	newTextLogger(&logs).Info("starting", "config", cfg)
	outputs := map[string]string{
		"%v":   fmt.Sprintf("%v", cfg),
		"%+v":  fmt.Sprintf("%+v", cfg),
		"%#v":  fmt.Sprintf("%#v", cfg),
		"slog": logs.String(),
	}

	for name, out := range outputs {
		assert.NotContains(t, out, "api-key-secret", name)
		assert.NotContains(t, out, "key-secret-of", name)
		assert.Contains(t, out, "acme", name)
	}
}
