package identity_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ssogate/identity"
	"github.com/ssogate/identity/identitytest"
)

func TestMain(m *testing.M) {
	if os.Getenv(readCookieEnv) != "" {
		os.Exit(readCookieInChildProcess())
	}

	goleak.VerifyTestMain(m)
}

// Fixed keys, so that a second process can read what a first one wrote.
var (
	hashKeyA  = bytes.Repeat([]byte("h"), 32)
	blockKeyA = bytes.Repeat([]byte("b"), 32)
	hashKeyB  = bytes.Repeat([]byte("H"), 64)
	blockKeyB = bytes.Repeat([]byte("B"), 16)
)

// testClock is a Config.Now that tests move by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock {
	return &testClock{now: time.Now()}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()

	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()

	c.now = c.now.Add(d)
}

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()

	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()

	return b.buf.String()
}

// testApp is an app that mounts the package's handlers on a ServeMux behind
// a TLS test server, signed in through a simulated Applivery.
type testApp struct {
	t       *testing.T
	auth    *identity.Auth
	sim     *identitytest.Server
	server  *httptest.Server
	clock   *testClock
	logs    *syncBuffer
	jar     http.CookieJar
	client  *http.Client // shares jar; does not follow redirects
	browser *http.Client // shares jar; follows redirects

	seen atomic.Pointer[identity.Identity] // the identity the last protected handler saw
}

type appOptions struct {
	config  func(*identity.Config)
	simOpts []identitytest.Option
	routes  func(app *testApp, mux *http.ServeMux)
}

type appOption func(*appOptions)

func withConfig(fn func(*identity.Config)) appOption {
	return func(o *appOptions) { o.config = fn }
}

func withSimulator(opts ...identitytest.Option) appOption {
	return func(o *appOptions) { o.simOpts = append(o.simOpts, opts...) }
}

func withRoutes(fn func(app *testApp, mux *http.ServeMux)) appOption {
	return func(o *appOptions) { o.routes = fn }
}

func newTestApp(t *testing.T, opts ...appOption) *testApp {
	t.Helper()

	var o appOptions
	for _, opt := range opts {
		opt(&o)
	}

	clock := newTestClock()
	simOpts := append([]identitytest.Option{
		identitytest.WithUsers(identitytest.DocumentedUser(), identitytest.AdminUser()),
		identitytest.WithClock(clock.Now),
	}, o.simOpts...)

	app := &testApp{t: t, sim: identitytest.NewServer(simOpts...), clock: clock, logs: &syncBuffer{}}
	t.Cleanup(app.sim.Close)

	cfg := app.sim.Config()
	cfg.SessionKeys = [][]byte{hashKeyA, blockKeyA}
	cfg.Now = app.clock.Now
	cfg.Logger = slog.New(slog.NewJSONHandler(app.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if o.config != nil {
		o.config(&cfg)
	}

	auth, err := identity.New(cfg)
	require.NoError(t, err, "identity.New")
	app.auth = auth

	mux := http.NewServeMux()
	app.mountDefaultRoutes(mux)
	if o.routes != nil {
		o.routes(app, mux)
	}

	app.server = httptest.NewTLSServer(mux)
	t.Cleanup(app.server.Close)
	app.sim.SetCallbackURL(app.server.URL + "/auth/callback")

	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	app.jar = jar

	// httptest.Server.Client returns the same client each time, so copy it.
	browser, client := *app.server.Client(), *app.server.Client()

	app.browser = &browser
	app.browser.Jar = jar
	app.browser.Transport = browserTransport{app.browser.Transport}

	app.client = &client
	app.client.Jar = jar
	app.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	return app
}

func (app *testApp) mountDefaultRoutes(mux *http.ServeMux) {
	mux.Handle("/auth/login", app.auth.LoginHandler())
	mux.Handle("/auth/callback", app.auth.CallbackHandler())
	mux.Handle("/auth/logout", app.auth.LogoutHandler())

	mux.Handle("/dashboard", app.auth.RequireAuth()(app.recordIdentity()))
	mux.Handle("/admin", app.auth.RequireAuth(identity.HasRole("admin"))(app.recordIdentity()))
	mux.Handle("/orgs/{org}/", app.auth.RequireAuth(identity.InOrganizationFrom(func(r *http.Request) string {
		return r.PathValue("org")
	}))(app.recordIdentity()))
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "home")
	})
}

// recordIdentity is a protected handler: it keeps the identity it finds and
// writes the user's ID.
func (app *testApp) recordIdentity() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := identity.FromContext(r.Context())
		if !ok {
			http.Error(w, "no identity in context", http.StatusInternalServerError)
			return
		}

		app.seen.Store(id)
		_, _ = io.WriteString(w, "hello "+id.UserID)
	})
}

func (app *testApp) url(path string) string {
	return app.server.URL + path
}

// signIn signs userID in through the simulated identity provider and returns
// the app's final response, after redirects.
func (app *testApp) signIn(userID string) *http.Response {
	app.t.Helper()

	resp, err := app.sim.SignIn(app.browser, app.url("/auth/login"), userID)
	require.NoError(app.t, err, "signing in as %s", userID)
	app.t.Cleanup(func() { _ = resp.Body.Close() })

	return resp
}

// do sends a request without following redirects and returns the response
// with its body read.
func (app *testApp) do(method, path string, header http.Header, body io.Reader) (*http.Response, string) {
	app.t.Helper()

	req, err := http.NewRequest(method, app.url(path), body)
	require.NoError(app.t, err)
	for name, values := range header {
		req.Header[name] = values
	}

	resp, err := app.client.Do(req)
	require.NoError(app.t, err, "%s %s", method, path)
	defer func() { _ = resp.Body.Close() }()

	raw, err := io.ReadAll(resp.Body)
	require.NoError(app.t, err)

	return resp, string(raw)
}

// get sends a GET as an API client would: no Accept: text/html.
func (app *testApp) get(path string) (*http.Response, string) {
	app.t.Helper()

	return app.do(http.MethodGet, path, nil, nil)
}

// navigate sends a GET as a browser loading a page would.
func (app *testApp) navigate(path string) (*http.Response, string) {
	app.t.Helper()

	return app.do(http.MethodGet, path, browserHeader(), nil)
}

func browserHeader() http.Header {
	return http.Header{"Accept": {"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}}
}

// startLogin opens the login handler and returns the state it issued.
func (app *testApp) startLogin(returnTo string) string {
	app.t.Helper()

	path := "/auth/login"
	if returnTo != "" {
		path += "?" + url.Values{"return_to": {returnTo}}.Encode()
	}

	resp, _ := app.navigate(path)
	require.Equal(app.t, http.StatusFound, resp.StatusCode, "login status")

	location, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(app.t, err)

	return location.Query().Get("RelayState")
}

// postCallback posts a SAML callback with the given form.
func (app *testApp) postCallback(form url.Values, header http.Header) (*http.Response, string) {
	app.t.Helper()

	if header == nil {
		header = http.Header{}
	}
	header.Set("Content-Type", "application/x-www-form-urlencoded")

	return app.do(http.MethodPost, "/auth/callback", header, strings.NewReader(form.Encode()))
}

// samlResponse returns a SAMLResponse the simulator accepts for userID.
func (app *testApp) samlResponse(userID string) string {
	app.t.Helper()

	response, err := app.sim.IssueResponse(userID)
	require.NoError(app.t, err)

	return response
}

// cookie returns the cookie named name that the jar would send to the app.
func (app *testApp) cookie(name string) *http.Cookie {
	u, _ := url.Parse(app.server.URL)
	for _, c := range app.jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}

	return nil
}

// setCookie puts a cookie in the jar for the app's origin.
func (app *testApp) setCookie(c *http.Cookie) {
	u, _ := url.Parse(app.server.URL)
	app.jar.SetCookies(u, []*http.Cookie{c})
}

// responseCookie returns the Set-Cookie of resp named name.
func responseCookie(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}

	return nil
}

// envelope decodes Applivery's JSON error envelope.
type envelope struct {
	Status bool `json:"status"`
	Error  struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func decodeEnvelope(t *testing.T, body string) envelope {
	t.Helper()

	var e envelope
	require.NoError(t, json.Unmarshal([]byte(body), &e), "body is not a JSON envelope: %s", body)

	return e
}

// documentedResponse returns testdata/callback-200.json with its token
// expiries replaced by the given ones, in the documentation's own timestamp
// form.
func documentedResponse(t *testing.T, accessExpiry, refreshExpiry time.Time) []byte {
	t.Helper()

	raw, err := os.ReadFile("testdata/callback-200.json")
	require.NoError(t, err)

	var doc map[string]any
	require.NoError(t, json.Unmarshal(raw, &doc))

	data := doc["data"].(map[string]any)
	data["accessToken"].(map[string]any)["expireAt"] = documentationTime(accessExpiry)
	data["refreshToken"].(map[string]any)["expireAt"] = documentationTime(refreshExpiry)

	out, err := json.Marshal(doc)
	require.NoError(t, err)

	return out
}

// documentationTime formats t as Applivery's documentation prints
// timestamps, with a space after the first colon.
func documentationTime(t time.Time) string {
	return strings.Replace(t.UTC().Format("2006-01-02T15:04:05Z"), ":", ": ", 1)
}

func newTextLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// browserTransport adds the Accept header a browser sends when it loads a
// page.
type browserTransport struct {
	next http.RoundTripper
}

func (b browserTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("Accept", browserHeader().Get("Accept"))

	return b.next.RoundTrip(req)
}

// newRawServer serves h directly, without a router that would clean paths.
func newRawServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()

	server := httptest.NewTLSServer(h)
	t.Cleanup(server.Close)

	return server
}

// rawGet sends GET path to server with the given Accept header, without
// following redirects, and returns the response with its body closed.
func rawGet(t *testing.T, server *httptest.Server, path, accept string) *http.Response {
	t.Helper()

	req, err := http.NewRequest(http.MethodGet, server.URL+path, nil)
	require.NoError(t, err)
	req.Header.Set("Accept", accept)

	client := *server.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	resp, err := client.Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())

	return resp
}
