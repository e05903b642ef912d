package identitytest_test

import (
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"time"

	"github.com/ssogate/identity"
	"github.com/ssogate/identity/identitytest"
)

// A test of an app's own handlers signs a user in through the simulator, then
// calls a protected route with the same cookie jar.
func ExampleServer_SignIn() {
	simulator := identitytest.NewServer(identitytest.WithUsers(identitytest.AdminUser()))
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
	mux.Handle("/me", auth.RequireAuth()(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := identity.FromContext(r.Context())
		fmt.Fprintf(w, "%s <%s>", id.FullName, id.Email)
	})))

	app := httptest.NewTLSServer(mux)
	defer app.Close()
	simulator.SetCallbackURL(app.URL + "/auth/callback")

	jar, _ := cookiejar.New(nil)
	client := *app.Client()
	client.Jar = jar

	resp, err := simulator.SignIn(&client, app.URL+"/auth/login?return_to=/me", identitytest.AdminUser().ID)
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()

	body, _ := io.ReadAll(resp.Body)
	fmt.Println(string(body))
	// Output: Ada Admin <admin@example.com>
}

// Faults make the simulated API fail the way Applivery can.
func ExampleServer_InjectFault() {
	simulator := identitytest.NewServer()
	defer simulator.Close()

	simulator.InjectFault(identitytest.ErrorEnvelope(http.StatusBadRequest, 5070, "Saml get profile error"))

	resp, err := http.Post(simulator.URL+"/v1/auth/sso/enterprise-corp/saml/callback", "application/json", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()

	body, _ := io.ReadAll(resp.Body)
	fmt.Print(resp.StatusCode, " ", string(body))
	// Output: 400 {"status":false,"error":{"code":5070,"message":"Saml get profile error"}}
}

// NewRequest builds a signed-in request for a handler test, without an
// identity provider: the session is encoded by the Auth itself.
func ExampleNewRequest() {
	simulator := identitytest.NewServer()
	defer simulator.Close()

	cfg := simulator.Config()
	cfg.SessionKeys = [][]byte{[]byte("an example hash key of 32 bytes!"), []byte("an example block key of 32 byte!")}
	auth, err := identity.New(cfg)
	if err != nil {
		log.Fatal(err)
	}

	adminOnly := auth.RequireAuth(identity.HasRole("admin"))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := identity.FromContext(r.Context())
		fmt.Fprint(w, "welcome ", id.FirstName)
	}))

	for _, user := range []identitytest.User{identitytest.AdminUser(), identitytest.DocumentedUser()} {
		rec := httptest.NewRecorder()
		adminOnly.ServeHTTP(rec, identitytest.NewRequest(auth, user.Identity(time.Now()), http.MethodGet, "/admin", nil))
		fmt.Println(user.FirstName, rec.Code)
	}
	// Output:
	// Ada 200
	// John 403
}

// NewContext stands for RequireAuth in a unit test that calls a handler
// directly.
func ExampleNewContext() {
	handler := func(w http.ResponseWriter, r *http.Request) {
		id, _ := identity.FromContext(r.Context())
		fmt.Fprintf(w, "%s, %s", id.FullName, id.Role)
	}

	req := httptest.NewRequest(http.MethodGet, "/", nil).WithContext(identitytest.NewContext(identitytest.AdminUser().Identity(time.Now())))
	rec := httptest.NewRecorder()
	handler(rec, req)

	fmt.Println(rec.Body.String())
	// Output: Ada Admin, admin
}
