package main

import (
	"encoding/json"
	"html/template"
	"net/http"

	"github.com/ssogate/identity"
)

// newApp returns the example's routes on a standard ServeMux.
func newApp(auth *identity.Auth) http.Handler {
	mux := http.NewServeMux()

	mux.Handle("/auth/login", auth.LoginHandler())
	mux.Handle("/auth/callback", auth.CallbackHandler())
	mux.Handle("/auth/logout", auth.LogoutHandler())

	mux.Handle("GET /{$}", auth.OptionalAuth(render("home")))
	mux.HandleFunc("GET /api/health", health)
	mux.Handle("GET /api/me", auth.RequireAuth()(http.HandlerFunc(me)))
	mux.Handle("GET /dashboard", auth.RequireAuth()(render("dashboard")))
	mux.Handle("GET /admin", auth.RequireAuth(identity.HasRole("admin"))(render("admin")))
	mux.Handle("GET /orgs/{org}/", auth.RequireAuth(identity.InOrganizationFrom(func(r *http.Request) string {
		return r.PathValue("org")
	}))(render("organization")))

	return mux
}

// health reports that the app is up; anyone may ask.
func health(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]string{"status": "ok", "service": "identity example"})
}

// me returns the signed-in user's ID and role, for API clients.
func me(w http.ResponseWriter, r *http.Request) {
	id, _ := identity.FromContext(r.Context())

	writeJSON(w, map[string]string{"userId": id.UserID, "role": id.Role})
}

func writeJSON(w http.ResponseWriter, v map[string]string) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// page is the data of every template.
type page struct {
	Identity     *identity.Identity
	Organization string
}

// render returns a handler that renders the named template with the
// identity of the request, if any.
func render(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := identity.FromRequest(r)

		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := pages.ExecuteTemplate(w, name, page{Identity: id, Organization: r.PathValue("org")}); err != nil {
			http.Error(w, "rendering page: "+err.Error(), http.StatusInternalServerError)
		}
	})
}

var pages = template.Must(template.New("").Parse(`
{{define "top"}}<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>identity example</title>
<style>body{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem}nav a{margin-right:1rem}</style>
</head>
<body>
<nav><a href="/">Home</a><a href="/dashboard">Dashboard</a><a href="/admin">Admin</a>
{{with .Identity}}<form method="post" action="/auth/logout" style="display:inline"><button type="submit" id="sign-out">Sign out</button></form>
{{else}}<a href="/auth/login?return_to=/dashboard" id="sign-in">Sign in</a>{{end}}</nav>
{{end}}

{{define "bottom"}}</body>
</html>
{{end}}

{{define "home"}}{{template "top" .}}
<h1>Home</h1>
{{with .Identity}}<p id="who">Signed in as {{.FullName}}, role {{.Role}}.</p>
{{else}}<p id="who">Not signed in.</p>{{end}}
{{template "bottom"}}{{end}}

{{define "dashboard"}}{{template "top" .}}
{{with .Identity}}<h1>Dashboard</h1>
<p id="who">Signed in as {{.FullName}} &lt;{{.Email}}&gt;, role {{.Role}}.</p>
<h2>Organizations</h2>
<ul>{{range .Organizations}}<li><a href="/orgs/{{.Slug}}/">{{.Name}}</a></li>{{end}}</ul>
<h2>Platform roles</h2>
<ul>{{range .PlatformRoles}}<li>{{.Name}}: {{.Description}}</li>{{end}}</ul>
<p>Access token expires at {{.AccessToken.ExpiresAt.Format "2006-01-02 15:04:05 MST"}}.</p>
{{end}}{{template "bottom"}}{{end}}

{{define "admin"}}{{template "top" .}}
<h1>Admin</h1>
<p id="who">Welcome, {{.Identity.FullName}}. Only users with role admin see this page.</p>
{{template "bottom"}}{{end}}

{{define "organization"}}{{template "top" .}}
<h1>Organization {{.Organization}}</h1>
<p id="who">{{.Identity.FullName}} is a member of {{.Organization}}.</p>
{{template "bottom"}}{{end}}
`))
