// Package identity signs the users of a Go web app in through Applivery
// single sign-on, with SAML or OpenID Connect, and authorizes their requests
// by role and organization. It is plain net/http, so it works with any
// router: mount three handlers and wrap routes in one middleware.
//
//	auth, err := identity.New(identity.Config{
//		APIKey:       os.Getenv("APPLIVERY_API_KEY"),
//		Organization: "acme",                        // your organization's slug
//		Provider:     "saml",                        // or "openid"
//		SignInURL:    "https://idp.example/sso/saml", // your identity provider
//		SessionKeys:  [][]byte{hashKey, blockKey},   // 32 bytes each
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//
//	mux := http.NewServeMux()
//	mux.Handle("/auth/login", auth.LoginHandler())
//	mux.Handle("/auth/callback", auth.CallbackHandler())
//	mux.Handle("/auth/logout", auth.LogoutHandler())
//	mux.Handle("/admin", auth.RequireAuth(identity.HasRole("admin"))(http.HandlerFunc(
//		func(w http.ResponseWriter, r *http.Request) {
//			id, _ := identity.FromContext(r.Context())
//			fmt.Fprintf(w, "Hello, %s", id.FullName)
//		})))
//
// # How a sign-in works
//
// RequireAuth sends a browser without a session to LoginHandler. That
// handler creates a one-time state and keeps it, with the page to return to,
// in a short-lived encrypted cookie. It then redirects to the identity
// provider with the state as RelayState (SAML) or state (OpenID Connect). The identity provider
// sends the browser back to CallbackHandler with its response. The handler
// checks the state against the cookie, then posts every parameter of the
// response to Applivery's API, POST /v1/auth/sso/{organizationSlug}/{type}/callback,
// which responds with an access token, a refresh token and the user's
// profile. The handler starts a new session holding that identity and
// redirects to the page the user came from. From then on RequireAuth finds
// the identity in the session, checks that the access token has not expired
// and that the rules hold, and hands it to the app's handler through the
// request's context.
//
// # Sessions
//
// By default the session lives in one cookie, authenticated with
// HMAC-SHA256 and encrypted with AES by gorilla/securecookie, under the
// __Host- prefix, HttpOnly, Secure and SameSite=Lax. Keys rotate through
// Config.SessionKeys: the first pair writes, every pair reads. Any
// gorilla/sessions Store, such as a Redis store, can replace the cookie store
// through Config.Store, so that signing out ends a session on the server
// too. The identity is stored as a []byte of the package's own encoding, so
// no store needs gob registration.
//
// # Errors
//
// Failures get Applivery's own JSON error envelope,
// {"status":false,"error":{"code":401,"message":"…"}}, or with an HTML page
// for browsers; Config.ErrorHandler replaces both. Browsers loading a page
// without a session are redirected to sign in instead; a signed-in user who
// fails a rule gets 403, never a redirect.
package identity
