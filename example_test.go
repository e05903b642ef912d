package identity_test

import (
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"

	"github.com/ssogate/identity"
	"github.com/ssogate/identity/identitytest"
)

func ExampleNew() {
	_, err := identity.New(identity.Config{
		APIKey:       "my-api-key",
		Organization: "acme",
		Provider:     "saml",
		SessionKeys:  [][]byte{[]byte("too short")},
	})

	var configErr *identity.ConfigError
	if errors.As(err, &configErr) {
		for _, problem := range configErr.Problems {
			fmt.Println(problem)
		}
	}
	// Output:
	// SignInURL is required
	// SessionKeys must hold pairs of hash key and block key, got an odd number of keys (1)
	// SessionKeys[0] hash key must be at least 32 bytes, got 9
}

// RequireAuth gates a route with rules: here the user must be an admin of the
// organization in the path.
func ExampleAuth_RequireAuth() {
	simulator := identitytest.NewServer(identitytest.WithUsers(identitytest.AdminUser(), identitytest.DocumentedUser()))
	defer simulator.Close()

	cfg := simulator.Config()
	cfg.SessionKeys = [][]byte{[]byte("an example hash key of 32 bytes!"), []byte("an example block key of 32 byte!")}
	cfg.Logger = slog.New(slog.DiscardHandler)
	auth, err := identity.New(cfg)
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.Handle("/auth/login", auth.LoginHandler())
	mux.Handle("/auth/callback", auth.CallbackHandler())
	mux.Handle("GET /orgs/{org}/settings", auth.RequireAuth(
		identity.HasRole("admin"),
		identity.InOrganizationFrom(func(r *http.Request) string { return r.PathValue("org") }),
	)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := identity.FromContext(r.Context())
		fmt.Fprintf(w, "settings of %s for %s", r.PathValue("org"), id.FullName)
	})))

	app := httptest.NewTLSServer(mux)
	defer app.Close()
	simulator.SetCallbackURL(app.URL + "/auth/callback")

	for _, userID := range []string{identitytest.AdminUser().ID, identitytest.DocumentedUser().ID} {
		jar, _ := cookiejar.New(nil)
		browser := *app.Client()
		browser.Jar = jar

		resp, err := simulator.SignIn(&browser, app.URL+"/auth/login?return_to=/orgs/enterprise-corp/settings", userID)
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()

		fmt.Println(resp.StatusCode, string(body))
	}
	// Output:
	// 200 settings of enterprise-corp for Ada Admin
	// 403 {"status":false,"error":{"code":403,"message":"You are signed in, but your account does not have access to this page."}}
}

func ExampleFromContext() {
	handler := func(w http.ResponseWriter, r *http.Request) {
		id, ok := identity.FromContext(r.Context())
		if !ok {
			http.Error(w, "not signed in", http.StatusUnauthorized)
			return
		}

		fmt.Fprintf(w, "%s (%s) in %d organizations", id.FullName, id.Role, len(id.Organizations))
	}

	// In a test, NewContext replaces RequireAuth.
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req = req.WithContext(identity.NewContext(req.Context(), &identity.Identity{
		FullName:      "Ada Admin",
		Role:          "admin",
		Organizations: []identity.Organization{{ID: "o1", Slug: "acme"}},
	}))
	rec := httptest.NewRecorder()
	handler(rec, req)

	fmt.Println(rec.Body.String())
	// Output: Ada Admin (admin) in 1 organizations
}

// The three handlers go on any router; these are the default paths.
func ExampleAuth_LoginHandler() {
	simulator := identitytest.NewServer()
	defer simulator.Close()

	cfg := simulator.Config()
	cfg.SessionKeys = [][]byte{[]byte("an example hash key of 32 bytes!"), []byte("an example block key of 32 byte!")}
	auth, err := identity.New(cfg)
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.Handle("/auth/login", auth.LoginHandler())       // GET: start signing in
	mux.Handle("/auth/callback", auth.CallbackHandler()) // the identity provider returns here
	mux.Handle("/auth/logout", auth.LogoutHandler())     // POST from a page of this site

	req := httptest.NewRequest(http.MethodGet, "/auth/login?return_to=/reports", nil)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)

	fmt.Println(rec.Code, strings.HasPrefix(rec.Header().Get("Location"), simulator.SignInURL()+"?RelayState="))
	// Output: 302 true
}

func ExampleRuleFunc() {
	sameDomain := identity.RuleFunc(func(id *identity.Identity, _ *http.Request) bool {
		return strings.HasSuffix(id.Email, "@example.com")
	})

	fmt.Println(sameDomain.Allow(&identity.Identity{Email: "ada@example.com"}, nil))
	// Output: true
}
