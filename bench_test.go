package identity_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/ssogate/identity"
	"github.com/ssogate/identity/identitytest"
)

// BenchmarkRequireAuth measures RequireAuth on a signed-in request of the
// user of Applivery's documented response: cookie decoding, HMAC check,
// decryption, expiry check, and the identity put in the context.
func BenchmarkRequireAuth(b *testing.B) {
	auth, cookie := benchmarkSession(b)
	handler := auth.RequireAuth()(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))

	req := httptest.NewRequest(http.MethodGet, "/dashboard", nil)
	req.AddCookie(cookie)
	w := &discardWriter{header: http.Header{}}

	b.ReportAllocs()

	for b.Loop() {
		clear(w.header)
		w.status = 0
		handler.ServeHTTP(w, req)
	}

	b.ReportMetric(float64(len(cookie.String())), "cookie-bytes")

	if w.status != 0 && w.status != http.StatusOK {
		b.Fatalf("RequireAuth answered %d", w.status)
	}
}

// BenchmarkRequireAuthNoSession measures the response to a request without a
// session: a 401 in Applivery's JSON envelope.
func BenchmarkRequireAuthNoSession(b *testing.B) {
	auth, _ := benchmarkSession(b)
	handler := auth.RequireAuth()(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))

	req := httptest.NewRequest(http.MethodGet, "/dashboard", nil)
	w := &discardWriter{header: http.Header{}}

	b.ReportAllocs()

	for b.Loop() {
		clear(w.header)
		handler.ServeHTTP(w, req)
	}

	if w.status != http.StatusUnauthorized {
		b.Fatalf("RequireAuth answered %d, want 401", w.status)
	}
}

// benchmarkSession signs the documented user in through the handlers and
// returns the Auth and the session cookie it wrote.
func benchmarkSession(b *testing.B) (*identity.Auth, *http.Cookie) {
	b.Helper()

	simulator := identitytest.NewServer()
	b.Cleanup(simulator.Close)

	cfg := simulator.Config()
	cfg.SessionKeys = [][]byte{hashKeyA, blockKeyA}
	cfg.Logger = slog.New(slog.DiscardHandler)
	auth, err := identity.New(cfg)
	if err != nil {
		b.Fatal(err)
	}

	login := httptest.NewRecorder()
	auth.LoginHandler().ServeHTTP(login, httptest.NewRequest(http.MethodGet, "/auth/login", nil))
	location, err := url.Parse(login.Header().Get("Location"))
	if err != nil {
		b.Fatal(err)
	}

	response, err := simulator.IssueResponse(identitytest.DocumentedUser().ID)
	if err != nil {
		b.Fatal(err)
	}

	form := url.Values{"SAMLResponse": {response}, "RelayState": {location.Query().Get("RelayState")}}
	req := httptest.NewRequest(http.MethodPost, "/auth/callback", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range login.Result().Cookies() {
		req.AddCookie(c)
	}

	callback := httptest.NewRecorder()
	auth.CallbackHandler().ServeHTTP(callback, req)

	for _, c := range callback.Result().Cookies() {
		if c.Name == sessionCookieID {
			return auth, c
		}
	}

	b.Fatalf("the callback set no session cookie: HTTP %d %s", callback.Code, callback.Body)

	return nil, nil
}

// discardWriter is a ResponseWriter that keeps only the status, so that the
// benchmarks measure the middleware rather than a recorder.
type discardWriter struct {
	header http.Header
	status int
}

func (w *discardWriter) Header() http.Header { return w.header }

func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }

func (w *discardWriter) WriteHeader(status int) { w.status = status }
