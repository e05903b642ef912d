package identity_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/go-chi/chi/v5"
	"github.com/gorilla/mux"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/identity"
	"github.com/ssogate/identity/identitytest"
)

// Each router mounts the three handlers, a dashboard for signed-in users and
// a page per organization whose rule reads the router's own path parameter.
var routers = map[string]func(auth *identity.Auth, page http.Handler) http.Handler{
	"net/http ServeMux": func(auth *identity.Auth, page http.Handler) http.Handler {
		router := http.NewServeMux()
		router.Handle("/auth/login", auth.LoginHandler())
		router.Handle("/auth/callback", auth.CallbackHandler())
		router.Handle("/auth/logout", auth.LogoutHandler())
		router.Handle("GET /dashboard", auth.RequireAuth()(page))
		router.Handle("GET /orgs/{org}/apps", auth.RequireAuth(identity.InOrganizationFrom(func(r *http.Request) string {
			return r.PathValue("org")
		}))(page))
		return router
	},

	"chi": func(auth *identity.Auth, page http.Handler) http.Handler {
		router := chi.NewRouter()
		router.Get("/auth/login", auth.LoginHandler().ServeHTTP)
		router.Handle("/auth/callback", auth.CallbackHandler())
		router.Post("/auth/logout", auth.LogoutHandler().ServeHTTP)
		router.Group(func(r chi.Router) {
			r.Use(auth.RequireAuth())
			r.Get("/dashboard", page.ServeHTTP)
		})
		router.With(auth.RequireAuth(identity.InOrganizationFrom(func(r *http.Request) string {
			return chi.URLParam(r, "org")
		}))).Get("/orgs/{org}/apps", page.ServeHTTP)
		return router
	},

	"gorilla/mux": func(auth *identity.Auth, page http.Handler) http.Handler {
		router := mux.NewRouter()
		router.Handle("/auth/login", auth.LoginHandler()).Methods(http.MethodGet)
		router.Handle("/auth/callback", auth.CallbackHandler())
		router.Handle("/auth/logout", auth.LogoutHandler()).Methods(http.MethodPost)
		router.Handle("/dashboard", auth.RequireAuth()(page))
		orgs := router.PathPrefix("/orgs/{org}").Subrouter()
		orgs.Use(mux.MiddlewareFunc(auth.RequireAuth(identity.InOrganizationFrom(func(r *http.Request) string {
			return mux.Vars(r)["org"]
		}))))
		orgs.Handle("/apps", page)
		return router
	},

	"gin": func(auth *identity.Auth, page http.Handler) http.Handler {
		gin.SetMode(gin.TestMode)
		router := gin.New()
		router.GET("/auth/login", gin.WrapH(auth.LoginHandler()))
		router.Any("/auth/callback", gin.WrapF(auth.CallbackHandler().ServeHTTP))
		router.POST("/auth/logout", gin.WrapH(auth.LogoutHandler()))
		router.GET("/dashboard", ginMiddleware(auth.RequireAuth()), gin.WrapH(page))
		router.GET("/orgs/:org/apps", ginMiddleware(auth.RequireAuth(identity.InOrganizationFrom(func(r *http.Request) string {
			return r.PathValue("org")
		}))), gin.WrapH(page))
		return router
	},

	"echo": func(auth *identity.Auth, page http.Handler) http.Handler {
		router := echo.New()
		router.GET("/auth/login", echo.WrapHandler(auth.LoginHandler()))
		router.Any("/auth/callback", echo.WrapHandler(auth.CallbackHandler()))
		router.POST("/auth/logout", echo.WrapHandler(auth.LogoutHandler()))
		router.GET("/dashboard", echo.WrapHandler(page), echo.WrapMiddleware(auth.RequireAuth()))
		router.GET("/orgs/:org/apps", echo.WrapHandler(page), echoPathValues, echo.WrapMiddleware(auth.RequireAuth(
			identity.InOrganizationFrom(func(r *http.Request) string { return r.PathValue("org") }))))
		return router
	},
}

// ginMiddleware runs net/http middleware such as RequireAuth in gin. It
// copies gin's path parameters into the request, where rules read them with
// r.PathValue, and stops the chain when the middleware does not call next.
func ginMiddleware(middleware func(http.Handler) http.Handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		for _, param := range c.Params {
			c.Request.SetPathValue(param.Key, param.Value)
		}

		passed := false
		middleware(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			passed = true
			c.Request = r
			c.Next()
		})).ServeHTTP(c.Writer, c.Request)

		if !passed {
			c.Abort()
		}
	}
}

// echoPathValues copies echo's path parameters into the request, where
// rules read them with r.PathValue.
func echoPathValues(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		for i, name := range c.ParamNames() {
			c.Request().SetPathValue(name, c.ParamValues()[i])
		}

		return next(c)
	}
}

func TestRouters(t *testing.T) {
	for name, mount := range routers {
		t.Run(name, func(t *testing.T) {
			base := newTestApp(t)
			server := httptest.NewTLSServer(mount(base.auth, base.recordIdentity()))
			defer server.Close()
			base.sim.SetCallbackURL(server.URL + "/auth/callback")

			jar, err := cookiejar.New(nil)
			require.NoError(t, err)
			client := *server.Client()
			client.Jar = jar
			client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

			get := func(path string) int {
				resp, err := client.Get(server.URL + path)
				require.NoError(t, err)
				require.NoError(t, resp.Body.Close())
				return resp.StatusCode
			}

			assert.Equal(t, http.StatusUnauthorized, get("/dashboard"), "before sign-in")

			browser := client
			browser.CheckRedirect = nil
			landed, err := base.sim.SignIn(&browser, server.URL+"/auth/login?return_to=/dashboard", identitytest.AdminUser().ID)
			require.NoError(t, err)
			require.NoError(t, landed.Body.Close())
			assert.Equal(t, http.StatusOK, landed.StatusCode, "sign-in lands on the dashboard")
			assert.Equal(t, "/dashboard", landed.Request.URL.Path)

			assert.Equal(t, http.StatusOK, get("/orgs/enterprise-corp/apps"), "the router's path parameter names a member organization")
			assert.Equal(t, http.StatusForbidden, get("/orgs/other-corp/apps"), "and another organization")

			resp, err := client.Post(server.URL+"/auth/logout", "application/x-www-form-urlencoded", nil)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			assert.Equal(t, http.StatusSeeOther, resp.StatusCode, "sign-out")
			assert.Equal(t, http.StatusUnauthorized, get("/dashboard"), "after sign-out")
		})
	}
}
