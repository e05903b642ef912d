// Package identitytest provides test doubles for the identity package: a
// simulated Applivery API and a simulated identity provider, both served by
// one httptest server, so that apps can test sign-in end to end without a
// network.
//
// The simulated API implements the SSO callback endpoint,
// POST /v1/auth/sso/{organizationSlug}/{type}/callback: it checks the Bearer
// key, records every request, and responds with the profile of the user who
// signed in at the simulated identity provider, or with an injected Fault.
// The simulated identity provider, at SignInURL, lists the users and, once
// one is picked, posts a SAML-style form (SAMLResponse, RelayState) to the
// app's callback, or for other providers redirects there with code and state.
package identitytest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ssogate/identity"
)

// Defaults of a Server.
const (
	DefaultAPIKey       = "identitytest-api-key"
	DefaultOrganization = "enterprise-corp"
	DefaultProvider     = "saml"
	DefaultAccessTTL    = time.Hour
	DefaultRefreshTTL   = 30 * 24 * time.Hour

	// maxRequestBytes limits the body of a request to the simulated API.
	maxRequestBytes = 1 << 20

	// RefreshPath is the path of the simulated refresh endpoint, for
	// identity.Config.RefreshPath. It takes {"refreshToken":"…"} and
	// responds with the callback endpoint's envelope. Each refresh token works once: a refresh
	// rotates both tokens.
	RefreshPath = "/v1/auth/refresh"

	// ticketLifetime is how long a response from the simulated identity
	// provider can be exchanged, as SAML assertions carry a short validity.
	ticketLifetime = 5 * time.Minute
)

// Server is a simulated Applivery API and identity provider. Its methods are
// safe for concurrent use.
type Server struct {
	// URL is the base URL of the simulated API, for Config.APIBaseURL.
	URL string

	// APIKey is the key the simulated API accepts as Bearer token.
	APIKey string

	// Organization and Provider are the {organizationSlug} and {type}
	// segments the simulated API serves.
	Organization string
	Provider     string

	server     *httptest.Server
	host       string
	idp        IdentityProvider // nil for the built-in one-time tickets
	now        func() time.Time
	accessTTL  time.Duration
	refreshTTL time.Duration

	mu            sync.Mutex
	users         []User
	tickets       map[string]ticket
	refreshTokens map[string]grant
	refreshCalls  int
	requests      []Request
	faults        []Fault
	callbackURL   string
}

// grant is a refresh token the simulated API issued and has not redeemed.
type grant struct {
	userID    string
	expiresAt time.Time
}

// ticket is a response of the simulated identity provider that the simulated
// API has not exchanged yet.
type ticket struct {
	userID   string
	issuedAt time.Time
}

// Request is a request the simulated API received.
type Request struct {
	Method string      // the HTTP method
	Path   string      // the escaped path, as sent
	Header http.Header // including Authorization: tests may check it, never print it
	Body   []byte      // the body, up to 1 MiB

	// Params is the JSON body decoded as an object of strings, or nil when
	// it is not one.
	Params map[string]string
}

// IdentityProvider replaces the simulator's built-in identity provider, which
// issues opaque one-time tickets, for example with one that signs real SAML
// responses. Its methods may be called concurrently.
type IdentityProvider interface {
	// SendResponse sends the browser to callbackURL with the provider's
	// response for user and with state, as the SAML HTTP-POST binding or an
	// OpenID Connect redirect would.
	SendResponse(w http.ResponseWriter, r *http.Request, user User, callbackURL, state string)

	// Verify checks the parameters the app sent to the simulated callback
	// endpoint, as Applivery would check the identity provider's response,
	// and returns the ID of the user they sign in.
	Verify(params map[string]string) (userID string, err error)
}

// Option configures a Server.
type Option func(*Server)

// WithUsers replaces the users the identity provider offers. The default is
// DocumentedUser alone.
func WithUsers(users ...User) Option {
	return func(s *Server) { s.users = slices.Clone(users) }
}

// WithAPIKey sets the key the simulated API accepts. Default: DefaultAPIKey.
func WithAPIKey(key string) Option {
	return func(s *Server) { s.APIKey = key }
}

// WithOrganization sets the organization slug the simulated API serves.
// Default: "enterprise-corp".
func WithOrganization(slug string) Option {
	return func(s *Server) { s.Organization = slug }
}

// WithProvider sets the provider kind. With "saml", the default, the
// identity provider posts SAMLResponse and RelayState to the app's callback.
// With any other kind it redirects there with code and state, as OpenID
// Connect does.
func WithProvider(provider string) Option {
	return func(s *Server) { s.Provider = provider }
}

// WithCallbackURL sets the app's callback URL, where the identity provider
// sends the browser back. SetCallbackURL does the same after start.
func WithCallbackURL(callbackURL string) Option {
	return func(s *Server) { s.callbackURL = callbackURL }
}

// WithTokenLifetimes sets how long issued access and refresh tokens live.
// Default: 1 h and 30 days.
func WithTokenLifetimes(access, refresh time.Duration) Option {
	return func(s *Server) { s.accessTTL, s.refreshTTL = access, refresh }
}

// WithHost makes the server listen on host, such as "localhost", and use it
// in URL and SignInURL. Default: 127.0.0.1. Browsers send SameSite=Lax
// cookies along with a form posted from another site only when both are on
// the same site, so an app served at http://localhost that runs with
// identity.Config.Insecure needs the simulator on localhost too.
func WithHost(host string) Option {
	return func(s *Server) { s.host = host }
}

// WithIdentityProvider replaces the built-in identity provider. IssueResponse
// then fails, because only the built-in one issues tickets.
func WithIdentityProvider(idp IdentityProvider) Option {
	return func(s *Server) { s.idp = idp }
}

// WithClock sets the clock that token expiries are counted from. Default:
// time.Now.
func WithClock(now func() time.Time) Option {
	return func(s *Server) { s.now = now }
}

// NewServer starts a Server on a loopback port. Call Close when done.
func NewServer(opts ...Option) *Server {
	s := &Server{
		APIKey:        DefaultAPIKey,
		Organization:  DefaultOrganization,
		Provider:      DefaultProvider,
		now:           time.Now,
		accessTTL:     DefaultAccessTTL,
		refreshTTL:    DefaultRefreshTTL,
		users:         []User{DocumentedUser()},
		tickets:       map[string]ticket{},
		refreshTokens: map[string]grant{},
	}

	for _, opt := range opts {
		opt(s)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/auth/sso/{organization}/{provider}/callback", s.serveCallback)
	mux.HandleFunc("POST "+RefreshPath, s.serveRefresh)
	mux.HandleFunc("/v1/", s.serveNotFound)
	mux.HandleFunc("GET "+signInPath, s.serveSignInPage)
	mux.HandleFunc("POST "+signInPath, s.serveSignIn)

	s.server = httptest.NewUnstartedServer(mux)
	if s.host != "" {
		listener, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", net.JoinHostPort(s.host, "0"))
		if err != nil {
			panic(fmt.Sprintf("identitytest: listening on %s: %v", s.host, err))
		}

		_ = s.server.Listener.Close()
		s.server.Listener = listener
	}

	s.server.Start()
	s.URL = s.server.URL

	if s.host != "" {
		_, port, _ := net.SplitHostPort(s.server.Listener.Addr().String())
		s.URL = "http://" + net.JoinHostPort(s.host, port)
	}

	return s
}

// Close shuts the server down.
func (s *Server) Close() {
	s.server.Close()
}

// Config returns a Config for this server: APIBaseURL, APIKey, Organization,
// Provider and SignInURL set. Add SessionKeys. Go's cookie jar sends Secure
// cookies to http://127.0.0.1 and http://localhost, so tests need no
// Insecure; some browsers, such as Safari, need it.
func (s *Server) Config() identity.Config {
	return identity.Config{
		APIBaseURL:   s.URL,
		APIKey:       s.APIKey,
		Organization: s.Organization,
		Provider:     s.Provider,
		SignInURL:    s.SignInURL(),
	}
}

// SetCallbackURL sets the app's callback URL, where the identity provider
// sends the browser back.
func (s *Server) SetCallbackURL(callbackURL string) {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.callbackURL = callbackURL
}

// AddUser adds a user to those the identity provider offers, or replaces the
// one with the same ID.
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()

	for i := range s.users {
		if s.users[i].ID == u.ID {
			s.users[i] = u
			return
		}
	}

	s.users = append(s.users, u)
}

// Users returns the users the identity provider offers.
func (s *Server) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()

	return slices.Clone(s.users)
}

// InjectFault queues f, which changes the response to the next request to
// the simulated API, callback or refresh, that has no older fault queued.
func (s *Server) InjectFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.faults = append(s.faults, f)
}

// RefreshCalls returns how many refresh requests the simulated API received.
func (s *Server) RefreshCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()

	return s.refreshCalls
}

// Requests returns every request the simulated API received, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()

	return slices.Clone(s.requests)
}

// IssueResponse returns what the identity provider would send to the app's
// callback for user: the SAMLResponse value for provider "saml", the code
// otherwise. The simulated API accepts it once, within 5 minutes.
func (s *Server) IssueResponse(userID string) (string, error) {
	if s.idp != nil {
		return "", errors.New("identitytest: IssueResponse needs the built-in identity provider, not one set with WithIdentityProvider")
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	if _, ok := s.findUser(userID); !ok {
		ids := make([]string, 0, len(s.users))
		for _, u := range s.users {
			ids = append(ids, u.ID)
		}

		return "", fmt.Errorf("identitytest: no user with ID %q; the server offers %q: add users with WithUsers or AddUser", userID, ids)
	}

	random := make([]byte, 16)
	if _, err := rand.Read(random); err != nil {
		return "", fmt.Errorf("identitytest: generating response: %w", err)
	}

	id := hex.EncodeToString(random)
	s.tickets[id] = ticket{userID: userID, issuedAt: s.now()}

	if s.isSAML() {
		return encodeSAMLResponse(id), nil
	}

	return id, nil
}

func (s *Server) isSAML() bool {
	return strings.EqualFold(s.Provider, "saml")
}

// findUser must be called with s.mu held.
func (s *Server) findUser(id string) (User, bool) {
	for _, u := range s.users {
		if u.ID == id {
			return u, true
		}
	}

	return User{}, false
}

func (s *Server) serveCallback(w http.ResponseWriter, r *http.Request) {
	s.serveAPI(w, r, s.respondToCallback)
}

func (s *Server) serveRefresh(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.refreshCalls++
	s.mu.Unlock()

	s.serveAPI(w, r, s.respondToRefresh)
}

// serveAPI records the request and applies the next fault. Unless the fault
// replaces the response, respond writes it.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, respond func(http.ResponseWriter, *http.Request, map[string]string)) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes))
	if err != nil {
		writeEnvelope(w, http.StatusBadRequest, 400, "Invalid request body")
		return
	}

	params := decodeParams(body)
	fault, hasFault := s.record(r, body, params)

	if hasFault {
		if !wait(r.Context(), fault.Delay) {
			return
		}

		if fault.Status != 0 {
			for name, values := range fault.Header {
				w.Header()[name] = values
			}
			w.Header().Set("Content-Type", fault.ContentType)
			w.WriteHeader(fault.Status)
			_, _ = w.Write(fault.Body)
			return
		}
	}

	respond(w, r, params)
}

// record stores the request and takes the next fault, if any.
func (s *Server) record(r *http.Request, body []byte, params map[string]string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.requests = append(s.requests, Request{
		Method: r.Method,
		Path:   r.URL.EscapedPath(),
		Header: r.Header.Clone(),
		Body:   body,
		Params: params,
	})

	if len(s.faults) == 0 {
		return Fault{}, false
	}

	fault := s.faults[0]
	s.faults = s.faults[1:]

	return fault, true
}

// respondToCallback checks the request as Applivery would and responds with the
// profile of the user the identity provider's response names.
func (s *Server) respondToCallback(w http.ResponseWriter, r *http.Request, params map[string]string) {
	if !s.authorized(r) {
		writeEnvelope(w, http.StatusUnauthorized, 401, "Unauthorized")
		return
	}

	if r.PathValue("organization") != s.Organization || r.PathValue("provider") != s.Provider {
		writeEnvelope(w, http.StatusNotFound, 404, "SSO configuration not found")
		return
	}

	if params == nil || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		writeEnvelope(w, http.StatusBadRequest, 400, "Invalid request body")
		return
	}

	user, ok := s.redeem(params)
	if !ok {
		writeEnvelope(w, http.StatusBadRequest, 5070, "Saml get profile error")
		return
	}

	s.issueTokens(w, user)
}

// respondToRefresh checks the request as Applivery would and responds with
// new tokens for the user of the refresh token, which it redeems.
func (s *Server) respondToRefresh(w http.ResponseWriter, r *http.Request, params map[string]string) {
	if !s.authorized(r) {
		writeEnvelope(w, http.StatusUnauthorized, 401, "Unauthorized")
		return
	}

	s.mu.Lock()
	g, ok := s.refreshTokens[params["refreshToken"]]
	delete(s.refreshTokens, params["refreshToken"])
	user, found := s.findUser(g.userID)
	s.mu.Unlock()

	if !ok || !found || !s.now().Before(g.expiresAt) {
		writeEnvelope(w, http.StatusUnauthorized, 401, "Invalid refresh token")
		return
	}

	s.issueTokens(w, user)
}

// issueTokens responds with new tokens and the profile of user, and keeps
// the refresh token for a later refresh.
func (s *Server) issueTokens(w http.ResponseWriter, user User) {
	now := s.now()
	refreshToken := newToken("refresh")
	refreshExpiry := now.Add(s.refreshTTL)

	s.mu.Lock()
	s.refreshTokens[refreshToken] = grant{userID: user.ID, expiresAt: refreshExpiry}
	s.mu.Unlock()

	response := callbackJSON{Status: true, Data: callbackData{
		AccessToken:  tokenJSON{Token: newToken("access"), ExpireAt: now.Add(s.accessTTL).UTC().Format(time.RFC3339)},
		RefreshToken: tokenJSON{Token: refreshToken, ExpireAt: refreshExpiry.UTC().Format(time.RFC3339)},
		User:         user.profileJSON(now),
	}}

	writeJSON(w, http.StatusOK, response)
}

func (s *Server) authorized(r *http.Request) bool {
	got := []byte(r.Header.Get("Authorization"))
	want := []byte("Bearer " + s.APIKey)

	return subtle.ConstantTimeCompare(got, want) == 1
}

// redeem returns the user of the identity provider's response in params and
// deletes the response, which can be exchanged once.
func (s *Server) redeem(params map[string]string) (User, bool) {
	if s.idp != nil {
		userID, err := s.idp.Verify(params)
		if err != nil {
			return User{}, false
		}

		s.mu.Lock()
		defer s.mu.Unlock()

		return s.findUser(userID)
	}

	var id string
	if s.isSAML() {
		id = decodeSAMLResponse(params["SAMLResponse"])
	} else {
		id = params["code"]
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	t, ok := s.tickets[id]
	if !ok {
		return User{}, false
	}

	delete(s.tickets, id)

	if s.now().Sub(t.issuedAt) > ticketLifetime {
		return User{}, false
	}

	return s.findUser(t.userID)
}

// serveNotFound records a request to an unknown path of the API, such as one
// built from a wrong APIBaseURL, and responds 404.
func (s *Server) serveNotFound(w http.ResponseWriter, r *http.Request) {
	s.serveAPI(w, r, func(w http.ResponseWriter, _ *http.Request, _ map[string]string) {
		writeEnvelope(w, http.StatusNotFound, 404, "Not found")
	})
}

// decodeParams returns body as an object of strings, or nil.
func decodeParams(body []byte) map[string]string {
	var params map[string]string

	decoder := json.NewDecoder(bytes.NewReader(body))
	if err := decoder.Decode(&params); err != nil || decoder.More() {
		return nil
	}

	return params
}

// wait sleeps for d, and reports false when ctx ends first.
func wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}

	timer := time.NewTimer(d)
	defer timer.Stop()

	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func newToken(kind string) string {
	random := make([]byte, 24)
	_, _ = rand.Read(random)

	return "identitytest-" + kind + "-" + hex.EncodeToString(random)
}

func writeEnvelope(w http.ResponseWriter, status, code int, message string) {
	writeJSON(w, status, errorEnvelope(code, message))
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
