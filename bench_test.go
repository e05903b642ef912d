package identity_test

import (
	"encoding/gob"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/sessions"

	"github.com/ssogate/identity"
	"github.com/ssogate/identity/identitytest"
)

// The benchmarks send requests straight to the handlers, without a network,
// into a ResponseWriter that discards the body, so that the figures are the
// package's own. BENCHMARKS.md has the commands and the results.

// BenchmarkRequireAuth measures RequireAuth on a signed-in request of the
// user of Applivery's documented response: reading the cookie, checking its
// HMAC, decrypting it, decoding the identity, checking expiry and putting
// the identity in the request's context.
func BenchmarkRequireAuth(b *testing.B) {
	benchmarkRequireAuth(b, identitytest.DocumentedUser())
}

// BenchmarkRequireAuthUncached measures RequireAuth with the session cache
// off, as on the first request of a session: every request pays for base64,
// the HMAC check and AES decryption.
func BenchmarkRequireAuthUncached(b *testing.B) {
	benchmarkRequireAuth(b, identitytest.DocumentedUser(), func(c *identity.Config) { c.SessionCacheSize = -1 })
}

// BenchmarkRequireAuthLarge measures RequireAuth for a user in 50
// organizations, whose session spans several cookies.
func BenchmarkRequireAuthLarge(b *testing.B) {
	user := identitytest.DocumentedUser()
	user.Organizations = benchmarkOrganizations(50, true)

	benchmarkRequireAuth(b, user)
}

// BenchmarkRequireAuthSize measures how RequireAuth's cost grows with the
// number of organizations in the session.
func BenchmarkRequireAuthSize(b *testing.B) {
	for _, n := range []int{1, 10, 50, 200} {
		b.Run(fmt.Sprintf("orgs=%d", n), func(b *testing.B) {
			user := identitytest.DocumentedUser()
			user.Organizations = benchmarkOrganizations(n, false)

			benchmarkRequireAuth(b, user)
		})
	}
}

func benchmarkRequireAuth(b *testing.B, user identitytest.User, configure ...func(*identity.Config)) {
	auth, cookies := benchmarkSession(b, user, configure...)
	handler := auth.RequireAuth()(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))

	req := httptest.NewRequest(http.MethodGet, "/dashboard", nil)
	size := 0
	for _, c := range cookies {
		req.AddCookie(c)
		size += len(c.String())
	}
	w := newDiscardWriter()

	b.ReportAllocs()

	for b.Loop() {
		w.reset()
		handler.ServeHTTP(w, req)
	}

	if w.status != 0 || len(w.header.Values("Set-Cookie")) != 0 {
		b.Fatalf("RequireAuth answered %d with Set-Cookie %q, want the handler and no cookie", w.status, w.header.Values("Set-Cookie"))
	}

	b.ReportMetric(float64(size), "cookie-bytes")
}

// BenchmarkRequireAuthNoSession measures the response to a request without
// a session: a 401 in Applivery's JSON envelope.
func BenchmarkRequireAuthNoSession(b *testing.B) {
	auth, _ := benchmarkSession(b, identitytest.DocumentedUser())
	handler := auth.RequireAuth()(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))

	req := httptest.NewRequest(http.MethodGet, "/dashboard", nil)
	w := newDiscardWriter()

	b.ReportAllocs()

	for b.Loop() {
		w.reset()
		handler.ServeHTTP(w, req)
	}

	if w.status != http.StatusUnauthorized {
		b.Fatalf("RequireAuth answered %d, want 401", w.status)
	}
}

// BenchmarkCallback measures CallbackHandler: the state check, the call to
// the simulated Applivery API over loopback, and writing the session. Making
// the state and the identity provider's response is left out of the timing.
func BenchmarkCallback(b *testing.B) {
	simulator := identitytest.NewServer()
	b.Cleanup(simulator.Close)
	auth := benchmarkAuth(b, simulator)
	callback := auth.CallbackHandler()
	w := newDiscardWriter()

	b.ReportAllocs()

	for b.Loop() {
		b.StopTimer()
		req := benchmarkCallbackRequest(b, auth, simulator)
		w.reset()
		b.StartTimer()

		callback.ServeHTTP(w, req)

		if w.status != http.StatusSeeOther {
			b.Fatalf("CallbackHandler answered %d, want 303", w.status)
		}
	}
}

// benchmarkCallbackRequest starts a sign-in and returns the callback request
// that finishes it.
func benchmarkCallbackRequest(b *testing.B, auth *identity.Auth, simulator *identitytest.Server) *http.Request {
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

	return req
}

// BenchmarkGorillaGobBaseline measures what apps commonly do instead of
// this package: keep the user in a gorilla CookieStore's session values,
// which securecookie encodes with gob, and read it back on every request.
// It reads the same identity as BenchmarkRequireAuth and, to be fair, puts
// it in the request's context too.
func BenchmarkGorillaGobBaseline(b *testing.B) {
	gob.Register(&identity.Identity{})

	store := sessions.NewCookieStore(hashKeyA, blockKeyA)
	id := identitytest.DocumentedUser().Identity(time.Now())

	recorder := httptest.NewRecorder()
	session := sessions.NewSession(store, "session")
	session.Values["identity"] = id
	if err := store.Save(httptest.NewRequest(http.MethodGet, "/", nil), recorder, session); err != nil {
		b.Fatal(err)
	}
	cookie := recorder.Result().Cookies()[0]

	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// New decodes the cookie as Get does on a request's first call,
		// without the per-request registry that Get adds.
		session, err := store.New(r, "session")
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}

		user, ok := session.Values["identity"].(*identity.Identity)
		if !ok {
			http.Error(w, "no identity", http.StatusUnauthorized)
			return
		}

		_ = r.WithContext(identity.NewContext(r.Context(), user))
	})

	req := httptest.NewRequest(http.MethodGet, "/dashboard", nil)
	req.AddCookie(cookie)
	w := newDiscardWriter()

	b.ReportAllocs()

	for b.Loop() {
		w.reset()
		handler.ServeHTTP(w, req)
	}

	if w.status != 0 {
		b.Fatalf("the baseline answered %d", w.status)
	}

	b.ReportMetric(float64(len(cookie.String())), "cookie-bytes")
}

// benchmarkSession signs user in through StartSession and returns the Auth
// and the session's cookies.
func benchmarkSession(b *testing.B, user identitytest.User, configure ...func(*identity.Config)) (*identity.Auth, []*http.Cookie) {
	b.Helper()

	simulator := identitytest.NewServer(identitytest.WithUsers(user))
	b.Cleanup(simulator.Close)
	auth := benchmarkAuth(b, simulator, configure...)

	cookies, err := identitytest.SessionCookies(auth, user.Identity(time.Now()))
	if err != nil {
		b.Fatal(err)
	}

	return auth, cookies
}

func benchmarkAuth(b *testing.B, simulator *identitytest.Server, configure ...func(*identity.Config)) *identity.Auth {
	b.Helper()

	cfg := simulator.Config()
	cfg.SessionKeys = [][]byte{hashKeyA, blockKeyA}
	cfg.Logger = slog.New(slog.DiscardHandler)
	for _, fn := range configure {
		fn(&cfg)
	}

	auth, err := identity.New(cfg)
	if err != nil {
		b.Fatal(err)
	}

	return auth
}

// benchmarkOrganizations returns n organizations, with logos and long names
// when full is set, else with short names only.
func benchmarkOrganizations(n int, full bool) []identity.Organization {
	orgs := make([]identity.Organization, n)
	for i := range orgs {
		orgs[i] = identity.Organization{
			ID:   fmt.Sprintf("507f1f77bcf86cd7994%05d", i),
			Name: fmt.Sprintf("Org %d", i),
			Slug: fmt.Sprintf("org-%d", i),
		}

		if full {
			orgs[i].Name = fmt.Sprintf("Enterprise Corporation number %d", i)
			orgs[i].Picture = fmt.Sprintf("https://cdn.applivery.com/orgs/%s/logo.png", orgs[i].ID)
		}
	}

	return orgs
}

// discardWriter is a ResponseWriter that keeps only the headers and the
// status, so that the benchmarks measure the handlers rather than a
// recorder.
type discardWriter struct {
	header http.Header
	status int
}

func newDiscardWriter() *discardWriter {
	return &discardWriter{header: http.Header{}}
}

func (w *discardWriter) reset() {
	clear(w.header)
	w.status = 0
}

func (w *discardWriter) Header() http.Header { return w.header }

func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }

func (w *discardWriter) WriteHeader(status int) { w.status = status }
