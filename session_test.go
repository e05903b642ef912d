package identity_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/identity"
	"github.com/ssogate/identity/identitytest"
)

// Environment of the child process in TestSessionReadInAnotherProcess.
const (
	readCookieEnv   = "IDENTITY_TEST_READ_COOKIE"   // file holding the session cookie's value
	readCookieDir   = "IDENTITY_TEST_FILESTORE_DIR" // directory of a FilesystemStore, if any
	sessionCookieID = "__Host-identity"
)

func TestSessionTamperedCookieIsNotSignedIn(t *testing.T) {
	app := newTestApp(t)
	app.signIn(identitytest.DocumentedUser().ID)
	valid := app.cookie(sessionCookieID).Value

	tests := []struct {
		name  string
		value string
	}{
		{name: "one byte changed", value: flipByte(valid, len(valid)/2)},
		{name: "last byte changed", value: flipByte(valid, len(valid)-2)},
		{name: "truncated", value: valid[:len(valid)/2]},
		{name: "one byte short", value: valid[:len(valid)-1]},
		{name: "empty", value: ""},
		{name: "garbage", value: "not-a-session"},
		{name: "base64 garbage", value: base64.URLEncoding.EncodeToString([]byte("1|2|3"))},
		{name: "other keys", value: forgeCookie(t, sessionCookieID, "anything")},
		{name: "state cookie value", value: app.stateCookieValue()},
		{name: "oversized", value: strings.Repeat("A", 8000)},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, navigate := range []bool{false, true} {
				header := http.Header{"Cookie": {sessionCookieID + "=" + tt.value}}
				if navigate {
					header.Set("Accept", "text/html")
				}

				resp, body := app.doWithoutJar(http.MethodGet, "/dashboard", header)

				if navigate {
					assert.Equal(t, http.StatusFound, resp.StatusCode, "browsers are sent to sign in")
				} else {
					assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "API clients get 401")
					assert.Equal(t, 401, decodeEnvelope(t, body).Error.Code)
				}
				assert.Empty(t, resp.Header.Values("Set-Cookie"), "a rejected request changes no cookie")
			}
		})
	}
}

func TestSessionKeyRotation(t *testing.T) {
	writer := newTestApp(t)
	writer.signIn(identitytest.DocumentedUser().ID)
	written := writer.cookie(sessionCookieID).Value

	tests := []struct {
		name       string
		keys       [][]byte
		wantStatus int
	}{
		{name: "same keys", keys: [][]byte{hashKeyA, blockKeyA}, wantStatus: http.StatusOK},
		{name: "new pair first, old pair kept", keys: [][]byte{hashKeyB, blockKeyB, hashKeyA, blockKeyA}, wantStatus: http.StatusOK},
		{name: "old pair dropped", keys: [][]byte{hashKeyB, blockKeyB}, wantStatus: http.StatusUnauthorized},
		{name: "hash key kept, block key changed", keys: [][]byte{hashKeyA, blockKeyB}, wantStatus: http.StatusUnauthorized},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reader := newTestApp(t, withConfig(func(c *identity.Config) { c.SessionKeys = tt.keys }))

			resp, _ := reader.doWithoutJar(http.MethodGet, "/dashboard", http.Header{"Cookie": {sessionCookieID + "=" + written}})

			assert.Equal(t, tt.wantStatus, resp.StatusCode)
		})
	}
}

func TestSessionRotatedKeysWriteWithNewestPair(t *testing.T) {
	app := newTestApp(t, withConfig(func(c *identity.Config) {
		c.SessionKeys = [][]byte{hashKeyB, blockKeyB, hashKeyA, blockKeyA}
	}))
	app.signIn(identitytest.DocumentedUser().ID)
	written := app.cookie(sessionCookieID).Value

	newOnly := newTestApp(t, withConfig(func(c *identity.Config) { c.SessionKeys = [][]byte{hashKeyB, blockKeyB} }))
	resp, _ := newOnly.doWithoutJar(http.MethodGet, "/dashboard", http.Header{"Cookie": {sessionCookieID + "=" + written}})

	assert.Equal(t, http.StatusOK, resp.StatusCode, "the first pair wrote the cookie")
}

// securecookie's codecs keep a 30-day max age of their own and read the real
// clock; the session must have one lifetime, checked against Config.Now.
func TestSessionHasOneLifetime(t *testing.T) {
	tests := []struct {
		name       string
		lifetime   time.Duration
		age        time.Duration
		wantStatus int
	}{
		{name: "31 days old under a 60-day lifetime", lifetime: 60 * 24 * time.Hour, age: 31 * 24 * time.Hour, wantStatus: http.StatusOK},
		{name: "2 hours old under a 1-hour lifetime", lifetime: time.Hour, age: 2 * time.Hour, wantStatus: http.StatusUnauthorized},
		{name: "59 minutes old under a 1-hour lifetime", lifetime: time.Hour, age: 59 * time.Minute, wantStatus: http.StatusOK},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := newTestApp(t,
				withConfig(func(c *identity.Config) {
					c.SessionLifetime = tt.lifetime
					c.IdleTimeout = -1
				}),
				withSimulator(identitytest.WithTokenLifetimes(90*24*time.Hour, 90*24*time.Hour)))
			app.clock.Advance(-tt.age)

			resp := app.signIn(identitytest.DocumentedUser().ID)
			require.Equal(t, http.StatusOK, resp.StatusCode, "sign-in")
			session := app.cookie(sessionCookieID)
			stamped := restampCookie(t, sessionCookieID, session.Value, time.Now().Add(-tt.age))

			app.clock.Advance(tt.age)
			got, _ := app.doWithoutJar(http.MethodGet, "/dashboard", http.Header{"Cookie": {sessionCookieID + "=" + stamped}})

			assert.Equal(t, tt.wantStatus, got.StatusCode)
		})
	}
}

func TestSessionCookieMaxAgeIsTheLifetime(t *testing.T) {
	app := newTestApp(t, withConfig(func(c *identity.Config) { c.SessionLifetime = 60 * 24 * time.Hour }))
	state := app.startLogin("")

	resp, _ := app.postCallback(callbackForm(app, state, identitytest.DocumentedUser().ID), nil)

	session := responseCookie(resp, sessionCookieID)
	require.NotNil(t, session)
	assert.Equal(t, 60*24*60*60, session.MaxAge)
}

// The identity is stored in a form that needs no gob registration: a
// process that never ran a callback reads every field of a session that
// another process wrote.
func TestSessionReadInAnotherProcess(t *testing.T) {
	tests := []struct {
		name      string
		fileStore bool
	}{
		{name: "default cookie store"},
		{name: "gorilla FilesystemStore", fileStore: true},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storeDir := t.TempDir()
			app := newTestApp(t, withConfig(func(c *identity.Config) {
				c.Now = time.Now
				if tt.fileStore {
					c.Store = newFilesystemStore(storeDir)
				}
			}))
			app.signIn(identitytest.AdminUser().ID)
			resp, _ := app.get("/dashboard")
			require.Equal(t, http.StatusOK, resp.StatusCode)
			want := app.seen.Load()

			cookieFile := filepath.Join(t.TempDir(), "cookie")
			require.NoError(t, os.WriteFile(cookieFile, []byte(app.cookie(sessionCookieID).Value), 0o600))

			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), readCookieEnv+"="+cookieFile)
			if tt.fileStore {
				cmd.Env = append(cmd.Env, readCookieDir+"="+storeDir)
			}
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			require.NoError(t, cmd.Run(), "child process: %s", stderr.String())

			var got childIdentity
			require.NoError(t, json.Unmarshal(stdout.Bytes(), &got), "child output: %s", stdout.String())
			gotIdentity := got.identity()
			assertSameIdentity(t, want, gotIdentity)
		})
	}
}

// childIdentity carries an Identity with its token values, which Token's
// own JSON leaves out.
type childIdentity struct {
	Identity     identity.Identity
	AccessToken  string
	RefreshToken string
	AccessAt     time.Time
	RefreshAt    time.Time
}

func (c childIdentity) identity() *identity.Identity {
	id := c.Identity
	id.AccessToken = identity.Token{Value: c.AccessToken, ExpiresAt: c.AccessAt}
	id.RefreshToken = identity.Token{Value: c.RefreshToken, ExpiresAt: c.RefreshAt}

	return &id
}

// readCookieInChildProcess runs instead of the tests when readCookieEnv is
// set: it reads the session cookie through RequireAuth and prints the
// identity as JSON.
func readCookieInChildProcess() int {
	value, err := os.ReadFile(os.Getenv(readCookieEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}

	cfg := identity.Config{
		APIKey: "unused", Organization: "enterprise-corp", Provider: "saml",
		SignInURL: "https://idp.example/sso", SessionKeys: [][]byte{hashKeyA, blockKeyA},
		Logger: newTextLogger(os.Stderr),
	}
	if dir := os.Getenv(readCookieDir); dir != "" {
		cfg.Store = newFilesystemStore(dir)
	}

	auth, err := identity.New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}

	var out childIdentity
	handler := auth.RequireAuth()(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		id, _ := identity.FromContext(r.Context())
		out = childIdentity{
			Identity: *id, AccessToken: id.AccessToken.Value, RefreshToken: id.RefreshToken.Value,
			AccessAt: id.AccessToken.ExpiresAt, RefreshAt: id.RefreshToken.ExpiresAt,
		}
	}))

	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Cookie", sessionCookieID+"="+string(value))
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)

	if rec.Code != http.StatusOK {
		fmt.Fprintf(os.Stderr, "RequireAuth answered %d: %s\n", rec.Code, rec.Body)
		return 1
	}

	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}

	return 0
}

func TestSessionWithFilesystemStore(t *testing.T) {
	dir := t.TempDir()
	app := newTestApp(t, withConfig(func(c *identity.Config) { c.Store = newFilesystemStore(dir) }))

	app.signIn(identitytest.DocumentedUser().ID)
	first := app.cookie(sessionCookieID).Value
	resp, _ := app.get("/dashboard")
	require.Equal(t, http.StatusOK, resp.StatusCode, "signed in through the store")
	assert.Equal(t, 1, countSessionFiles(t, dir))

	app.signIn(identitytest.AdminUser().ID)
	second := app.cookie(sessionCookieID).Value

	assert.NotEqual(t, first, second, "a new sign-in gets a new session ID")
	assert.Equal(t, 1, countSessionFiles(t, dir), "the previous session is deleted")
	resp, _ = app.doWithoutJar(http.MethodGet, "/dashboard", http.Header{"Cookie": {sessionCookieID + "=" + first}})
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the previous session no longer signs in")
	resp, _ = app.get("/admin")
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the new session is the admin's")
}

func TestSessionNewSignInReplacesOldSession(t *testing.T) {
	app := newTestApp(t)
	app.signIn(identitytest.DocumentedUser().ID)
	first := app.cookie(sessionCookieID).Value

	app.signIn(identitytest.AdminUser().ID)

	assert.NotEqual(t, first, app.cookie(sessionCookieID).Value)
	resp, _ := app.get("/admin")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, identitytest.AdminUser().ID, app.seen.Load().UserID)
}

// userInOrganizations returns a user who belongs to n organizations with
// long names.
func userInOrganizations(n int) identitytest.User {
	user := identitytest.DocumentedUser()
	user.Organizations = nil

	for i := range n {
		user.Organizations = append(user.Organizations, identity.Organization{
			ID:      fmt.Sprintf("org-%04d-507f1f77bcf86cd799439025", i),
			Name:    fmt.Sprintf("Organization number %d with a rather long name", i),
			Slug:    fmt.Sprintf("organization-number-%d", i),
			Picture: fmt.Sprintf("https://cdn.applivery.com/orgs/%d/logo.png", i),
		})
	}

	return user
}

func TestSessionLargeIdentitySpansCookies(t *testing.T) {
	big := userInOrganizations(100)
	small := identitytest.AdminUser()
	app := newTestApp(t, withSimulator(identitytest.WithUsers(big, small)))

	state := app.startLogin("")
	resp, _ := app.postCallback(callbackForm(app, state, big.ID), nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "the large sign-in succeeds")

	parts := 0
	for _, c := range resp.Cookies() {
		if strings.HasPrefix(c.Name, sessionCookieID) && c.Name != "__Host-identity-state" {
			parts++
			assert.LessOrEqual(t, len(c.String()), 4096, "cookie %s fits the browser limit", c.Name)
			assert.True(t, c.Secure && c.HttpOnly && c.Path == "/" && c.SameSite == http.SameSiteLaxMode, "cookie %s has the session's attributes", c.Name)
		}
	}
	assert.Greater(t, parts, 1, "the session spans several cookies")

	got, _ := app.get("/dashboard")
	require.Equal(t, http.StatusOK, got.StatusCode)
	id := app.seen.Load()
	require.Len(t, id.Organizations, 100, "every organization arrives")
	assert.Equal(t, big.Organizations[99], id.Organizations[99])

	app.signIn(small.ID)

	for i := 1; i < 8; i++ {
		assert.Nil(t, app.cookie(fmt.Sprintf("%s-%d", sessionCookieID, i)), "no stale part %d", i)
	}
	got, _ = app.get("/dashboard")
	require.Equal(t, http.StatusOK, got.StatusCode, "the smaller session reads")
	assert.Equal(t, small.ID, app.seen.Load().UserID)
}

func TestSessionMissingPartIsNotSignedIn(t *testing.T) {
	big := userInOrganizations(100)
	app := newTestApp(t, withSimulator(identitytest.WithUsers(big)))
	app.signIn(big.ID)

	header := http.Header{"Cookie": {sessionCookieID + "=" + app.cookie(sessionCookieID).Value}}
	resp, _ := app.doWithoutJar(http.MethodGet, "/dashboard", header)

	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

func TestSessionTooLargeFailsClearly(t *testing.T) {
	huge := userInOrganizations(1000)
	app := newTestApp(t, withSimulator(identitytest.WithUsers(huge)))
	state := app.startLogin("")

	resp, body := app.postCallback(callbackForm(app, state, huge.ID), nil)

	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	assert.Contains(t, decodeEnvelope(t, body).Error.Message, "Trying again will not help")
	assert.Contains(t, app.logs.String(), "over 8 cookies of 4096 bytes: use a server-side Store")
	assert.Nil(t, responseCookie(resp, sessionCookieID), "no partial session")
}

func TestSessionLargeIdentityLogoutClearsParts(t *testing.T) {
	big := userInOrganizations(100)
	app := newTestApp(t, withSimulator(identitytest.WithUsers(big)))
	app.signIn(big.ID)
	require.NotNil(t, app.cookie(sessionCookieID+"-1"), "a second part exists")

	resp, _ := app.do(http.MethodPost, "/auth/logout", nil, nil)

	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Nil(t, app.cookie(sessionCookieID), "first part cleared")
	for i := 1; i < 8; i++ {
		assert.Nil(t, app.cookie(fmt.Sprintf("%s-%d", sessionCookieID, i)), "part %d cleared", i)
	}
}

func callbackForm(app *testApp, state, userID string) map[string][]string {
	return map[string][]string{"SAMLResponse": {app.samlResponse(userID)}, "RelayState": {state}}
}

func newFilesystemStore(dir string) *sessions.FilesystemStore {
	store := sessions.NewFilesystemStore(dir, hashKeyA, blockKeyA)
	store.MaxAge(90 * 24 * 60 * 60)

	return store
}

func countSessionFiles(t *testing.T, dir string) int {
	t.Helper()

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)

	return len(entries)
}

// doWithoutJar sends a request with exactly the given headers, without the
// jar's cookies.
func (app *testApp) doWithoutJar(method, path string, header http.Header) (*http.Response, string) {
	app.t.Helper()

	req, err := http.NewRequest(method, app.url(path), nil)
	require.NoError(app.t, err)
	req.Header = header

	client := *app.server.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	resp, err := client.Do(req)
	require.NoError(app.t, err)
	defer func() { _ = resp.Body.Close() }()

	raw, err := io.ReadAll(resp.Body)
	require.NoError(app.t, err)

	return resp, string(raw)
}

// stateCookieValue returns a valid state cookie value of the app.
func (app *testApp) stateCookieValue() string {
	app.t.Helper()

	resp, _ := app.navigate("/auth/login")
	cookie := responseCookie(resp, "__Host-identity-state")
	require.NotNil(app.t, cookie)

	return cookie.Value
}

func flipByte(s string, i int) string {
	b := []byte(s)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}

	return string(b)
}

// forgeCookie encodes value as a cookie named name with keys the test apps
// do not use, as an attacker with their own keys would.
func forgeCookie(t *testing.T, name, value string) string {
	t.Helper()

	codec := securecookie.New(bytes.Repeat([]byte("x"), 32), bytes.Repeat([]byte("y"), 32))
	codec.SetSerializer(securecookie.NopEncoder{})

	encoded, err := codec.Encode(name, []byte(value))
	require.NoError(t, err)

	return encoded
}

// restampCookie re-signs a session cookie written with keys A so that its
// securecookie timestamp reads stamp, as if the cookie were written then.
// The format is securecookie's: base64("date|value|mac"), where the MAC is
// HMAC-SHA256 of "name|date|value".
func restampCookie(t *testing.T, name, value string, stamp time.Time) string {
	t.Helper()

	raw, err := base64.URLEncoding.DecodeString(value)
	require.NoError(t, err)
	parts := bytes.SplitN(raw, []byte("|"), 3)
	require.Len(t, parts, 3)

	signed := fmt.Appendf(nil, "%s|%d|%s", name, stamp.Unix(), parts[1])
	mac := hmac.New(sha256.New, hashKeyA)
	mac.Write(signed)

	restamped := append(signed[len(name)+1:], '|')
	restamped = append(restamped, mac.Sum(nil)...)

	return base64.URLEncoding.EncodeToString(restamped)
}
