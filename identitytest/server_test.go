package identitytest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ssogate/identity/identitytest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

type callbackAnswer struct {
	Status bool `json:"status"`
	Data   struct {
		AccessToken struct {
			Token    string `json:"token"`
			ExpireAt string `json:"expireAt"`
		} `json:"accessToken"`
		RefreshToken struct {
			Token    string `json:"token"`
			ExpireAt string `json:"expireAt"`
		} `json:"refreshToken"`
		User map[string]any `json:"user"`
	} `json:"data"`
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// exchange posts params to the simulated callback endpoint as the identity
// package would.
func exchange(t *testing.T, s *identitytest.Server, path, apiKey string, params map[string]string) (int, callbackAnswer) {
	t.Helper()

	body, err := json.Marshal(params)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, s.URL+path, strings.NewReader(string(body)))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Content-Type", "application/json")

	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()

	var answer callbackAnswer
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&answer))

	return resp.StatusCode, answer
}

const samlPath = "/v1/auth/sso/enterprise-corp/saml/callback"

func TestServerAnswersWithProfile(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	s := identitytest.NewServer(identitytest.WithClock(func() time.Time { return now }))
	defer s.Close()
	response, err := s.IssueResponse(identitytest.DocumentedUser().ID)
	require.NoError(t, err)

	status, answer := exchange(t, s, samlPath, s.APIKey, map[string]string{"SAMLResponse": response, "RelayState": "r"})

	require.Equal(t, http.StatusOK, status)
	assert.True(t, answer.Status)
	assert.Equal(t, "2026-12-04T13:00:00Z", answer.Data.AccessToken.ExpireAt, "access token lives 1 h")
	assert.Equal(t, "2027-01-03T12:00:00Z", answer.Data.RefreshToken.ExpireAt, "refresh token lives 30 days")
	assert.NotEqual(t, answer.Data.AccessToken.Token, answer.Data.RefreshToken.Token)
	for _, field := range []string{
		"id", "email", "firstName", "lastName", "fullName", "picture", "role", "platformRoles", "newsletter",
		"hasPassword", "has2FAActive", "ssoUser", "organizationId", "organizations", "language",
		"verificationStatus", "activityTrace", "intercomUserHash", "createdAt", "updatedAt", "supplantCapability",
	} {
		assert.Contains(t, answer.Data.User, field, "the profile has every documented field")
	}
	assert.Equal(t, "John Doe", answer.Data.User["fullName"])
}

func TestServerRejectsBadRequests(t *testing.T) {
	s := identitytest.NewServer()
	defer s.Close()

	tests := []struct {
		name       string
		path       string
		apiKey     string
		params     map[string]string
		wantStatus int
		wantCode   int
	}{
		{name: "wrong API key", path: samlPath, apiKey: "wrong", params: map[string]string{}, wantStatus: 401, wantCode: 401},
		{name: "unknown organization", path: "/v1/auth/sso/other/saml/callback", apiKey: s.APIKey, params: map[string]string{}, wantStatus: 404, wantCode: 404},
		{name: "unknown provider", path: "/v1/auth/sso/enterprise-corp/openid/callback", apiKey: s.APIKey, params: map[string]string{}, wantStatus: 404, wantCode: 404},
		{name: "unknown response", path: samlPath, apiKey: s.APIKey, params: map[string]string{"SAMLResponse": "bm9wZQ=="}, wantStatus: 400, wantCode: 5070},
		{name: "no response", path: samlPath, apiKey: s.APIKey, params: map[string]string{}, wantStatus: 400, wantCode: 5070},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, answer := exchange(t, s, tt.path, tt.apiKey, tt.params)

			assert.Equal(t, tt.wantStatus, status)
			assert.False(t, answer.Status)
			assert.Equal(t, tt.wantCode, answer.Error.Code)
		})
	}
}

func TestServerResponseIsSingleUse(t *testing.T) {
	s := identitytest.NewServer()
	defer s.Close()
	response, err := s.IssueResponse(identitytest.DocumentedUser().ID)
	require.NoError(t, err)

	first, _ := exchange(t, s, samlPath, s.APIKey, map[string]string{"SAMLResponse": response})
	second, answer := exchange(t, s, samlPath, s.APIKey, map[string]string{"SAMLResponse": response})

	assert.Equal(t, http.StatusOK, first)
	assert.Equal(t, http.StatusBadRequest, second)
	assert.Equal(t, "Saml get profile error", answer.Error.Message)
}

func TestServerResponseExpires(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	s := identitytest.NewServer(identitytest.WithClock(func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}))
	defer s.Close()
	response, err := s.IssueResponse(identitytest.DocumentedUser().ID)
	require.NoError(t, err)

	mu.Lock()
	now = now.Add(6 * time.Minute)
	mu.Unlock()
	status, _ := exchange(t, s, samlPath, s.APIKey, map[string]string{"SAMLResponse": response})

	assert.Equal(t, http.StatusBadRequest, status)
}

func TestServerIssueResponseUnknownUser(t *testing.T) {
	s := identitytest.NewServer()
	defer s.Close()

	_, err := s.IssueResponse("nobody")

	assert.EqualError(t, err, `identitytest: no user with ID "nobody"; the server offers ["507f1f77bcf86cd799439023"]: add users with WithUsers or AddUser`)
}

func TestServerRecordsRequests(t *testing.T) {
	s := identitytest.NewServer()
	defer s.Close()

	exchange(t, s, samlPath, s.APIKey, map[string]string{"SAMLResponse": "x", "RelayState": "y"})

	requests := s.Requests()
	require.Len(t, requests, 1)
	assert.Equal(t, http.MethodPost, requests[0].Method)
	assert.Equal(t, samlPath, requests[0].Path)
	assert.Equal(t, "Bearer "+s.APIKey, requests[0].Header.Get("Authorization"))
	assert.Equal(t, map[string]string{"SAMLResponse": "x", "RelayState": "y"}, requests[0].Params)
	assert.JSONEq(t, `{"SAMLResponse":"x","RelayState":"y"}`, string(requests[0].Body))
}

func TestServerFaultsApplyInOrder(t *testing.T) {
	s := identitytest.NewServer()
	defer s.Close()
	s.InjectFault(identitytest.ErrorEnvelope(http.StatusBadRequest, 5070, "Saml get profile error"))
	s.InjectFault(identitytest.StatusOnly(http.StatusBadGateway))

	statuses := []int{}
	for range 3 {
		req, err := http.NewRequest(http.MethodPost, s.URL+samlPath, strings.NewReader(`{}`))
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
	}

	assert.Equal(t, []int{400, 502, 401}, statuses, "each fault once, then the normal checks")
}

func TestServerFaultShapes(t *testing.T) {
	tests := []struct {
		name        string
		fault       identitytest.Fault
		wantStatus  int
		wantType    string
		wantMinSize int
		wantBody    string
	}{
		{name: "envelope", fault: identitytest.ErrorEnvelope(400, 5070, "Saml get profile error"), wantStatus: 400, wantType: "application/json",
			wantBody: `{"status":false,"error":{"code":5070,"message":"Saml get profile error"}}`},
		{name: "status only", fault: identitytest.StatusOnly(500), wantStatus: 500, wantType: "text/plain; charset=utf-8", wantBody: "Internal Server Error"},
		{name: "malformed", fault: identitytest.MalformedJSON(), wantStatus: 200, wantType: "application/json", wantBody: `{"status":true,"data":{"accessToken":`},
		{name: "oversized", fault: identitytest.OversizedBody(2 << 20), wantStatus: 200, wantType: "application/json", wantMinSize: 2 << 20},
		{name: "raw", fault: identitytest.RawResponse(418, "text/teapot", []byte("short and stout")), wantStatus: 418, wantType: "text/teapot", wantBody: "short and stout"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := identitytest.NewServer()
			defer s.Close()
			s.InjectFault(tt.fault)

			resp, err := http.Post(s.URL+samlPath, "application/json", strings.NewReader(`{}`))
			require.NoError(t, err)
			defer func() { _ = resp.Body.Close() }()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)

			assert.Equal(t, tt.wantStatus, resp.StatusCode)
			assert.Equal(t, tt.wantType, resp.Header.Get("Content-Type"))
			if tt.wantBody != "" {
				assert.Equal(t, tt.wantBody, strings.TrimSpace(string(body)))
			}
			assert.GreaterOrEqual(t, len(body), tt.wantMinSize)
			if tt.name == "oversized" {
				assert.True(t, json.Valid(body), "the oversized body is valid JSON")
			}
		})
	}
}

func TestServerDelayEndsWhenCallerCancels(t *testing.T) {
	s := identitytest.NewServer()
	defer s.Close()
	s.InjectFault(identitytest.Delay(time.Minute))

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+samlPath, strings.NewReader(`{}`))
	require.NoError(t, err)

	started := time.Now()
	_, err = http.DefaultClient.Do(req)

	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(started), 10*time.Second)
}

func TestIdentityProviderPage(t *testing.T) {
	s := identitytest.NewServer(identitytest.WithUsers(identitytest.DocumentedUser(), identitytest.AdminUser()))
	defer s.Close()

	resp, err := http.Get(s.SignInURL() + "?RelayState=abc%22%3E")
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)

	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(body), "John Doe &lt;user@example.com&gt;, role user")
	assert.Contains(t, string(body), "Ada Admin &lt;admin@example.com&gt;, role admin")
	assert.Contains(t, string(body), `value="abc&#34;&gt;"`, "the RelayState is kept and escaped")
}

func TestIdentityProviderPostsSAMLResponse(t *testing.T) {
	s := identitytest.NewServer(identitytest.WithCallbackURL("https://app.example/auth/callback"))
	defer s.Close()

	resp, err := http.PostForm(s.SignInURL(), url.Values{"user": {identitytest.DocumentedUser().ID}, "RelayState": {"state-1"}})
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)

	assert.Contains(t, string(body), `action="https://app.example/auth/callback"`)
	assert.Contains(t, string(body), `name="SAMLResponse"`)
	assert.Contains(t, string(body), `name="RelayState" value="state-1"`)
	assert.Contains(t, string(body), "document.forms[0].submit()")
}

func TestIdentityProviderRedirectsForOpenID(t *testing.T) {
	s := identitytest.NewServer(identitytest.WithProvider("openid"), identitytest.WithCallbackURL("https://app.example/auth/callback?x=1"))
	defer s.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	resp, err := client.PostForm(s.SignInURL(), url.Values{"user": {identitytest.DocumentedUser().ID}, "state": {"state-1"}})
	require.NoError(t, err)
	_ = resp.Body.Close()

	require.Equal(t, http.StatusFound, resp.StatusCode)
	location, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, "app.example", location.Host)
	assert.Equal(t, "state-1", location.Query().Get("state"))
	assert.Equal(t, "1", location.Query().Get("x"))
	assert.NotEmpty(t, location.Query().Get("code"))
}

func TestIdentityProviderWithoutCallbackURL(t *testing.T) {
	s := identitytest.NewServer()
	defer s.Close()

	resp, err := http.PostForm(s.SignInURL(), url.Values{"user": {identitytest.DocumentedUser().ID}})
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)

	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	assert.Contains(t, string(body), "call SetCallbackURL")
}

func TestSignInNeedsCookieJar(t *testing.T) {
	s := identitytest.NewServer()
	defer s.Close()

	_, err := s.SignIn(&http.Client{}, "https://app.example/auth/login", identitytest.DocumentedUser().ID)

	assert.ErrorContains(t, err, "needs a client with a cookie jar")
}

func TestAddUserReplacesSameID(t *testing.T) {
	s := identitytest.NewServer()
	defer s.Close()
	changed := identitytest.DocumentedUser()
	changed.Role = "admin"

	s.AddUser(changed)
	s.AddUser(identitytest.AdminUser())

	users := s.Users()
	require.Len(t, users, 2)
	assert.Equal(t, "admin", users[0].Role)
}

func TestServerRecordsUnknownPaths(t *testing.T) {
	s := identitytest.NewServer()
	defer s.Close()

	status, answer := exchange(t, s, "/v1/v1/auth/sso/enterprise-corp/saml/callback", s.APIKey, map[string]string{})

	assert.Equal(t, http.StatusNotFound, status)
	assert.Equal(t, 404, answer.Error.Code)
	require.Len(t, s.Requests(), 1, "a request to a wrong path is recorded too")
	assert.Equal(t, "/v1/v1/auth/sso/enterprise-corp/saml/callback", s.Requests()[0].Path)
}

func TestServerWithHost(t *testing.T) {
	s := identitytest.NewServer(identitytest.WithHost("localhost"))
	defer s.Close()

	assert.True(t, strings.HasPrefix(s.URL, "http://localhost:"), "URL %s", s.URL)
	assert.True(t, strings.HasPrefix(s.SignInURL(), "http://localhost:"), "SignInURL %s", s.SignInURL())
	resp, err := http.Get(s.SignInURL())
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestServerRefreshRotatesTokens(t *testing.T) {
	s := identitytest.NewServer()
	defer s.Close()
	response, err := s.IssueResponse(identitytest.DocumentedUser().ID)
	require.NoError(t, err)
	_, signedIn := exchange(t, s, samlPath, s.APIKey, map[string]string{"SAMLResponse": response})

	status, refreshed := exchange(t, s, identitytest.RefreshPath, s.APIKey, map[string]string{"refreshToken": signedIn.Data.RefreshToken.Token})
	reused, _ := exchange(t, s, identitytest.RefreshPath, s.APIKey, map[string]string{"refreshToken": signedIn.Data.RefreshToken.Token})
	wrongKey, _ := exchange(t, s, identitytest.RefreshPath, "wrong", map[string]string{"refreshToken": refreshed.Data.RefreshToken.Token})

	assert.Equal(t, http.StatusOK, status)
	assert.NotEqual(t, signedIn.Data.RefreshToken.Token, refreshed.Data.RefreshToken.Token, "a new refresh token")
	assert.NotEqual(t, signedIn.Data.AccessToken.Token, refreshed.Data.AccessToken.Token, "a new access token")
	assert.Equal(t, "507f1f77bcf86cd799439023", refreshed.Data.User["id"])
	assert.Equal(t, http.StatusUnauthorized, reused, "a refresh token works once")
	assert.Equal(t, http.StatusUnauthorized, wrongKey, "the API key is checked")
	assert.Equal(t, 3, s.RefreshCalls())
}
