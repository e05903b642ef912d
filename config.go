package identity

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/sessions"
)

// Defaults that New applies to the zero values of Config.
const (
	DefaultAPIBaseURL           = "https://api.applivery.io"
	DefaultCookieName           = "__Host-identity"
	DefaultLoginPath            = "/auth/login"
	DefaultReturnTo             = "/"
	DefaultClockSkew            = 30 * time.Second
	DefaultSessionLifetime      = 12 * time.Hour
	DefaultIdleTimeout          = 30 * time.Minute
	DefaultStateLifetime        = 10 * time.Minute
	DefaultMaxCallbackBodyBytes = 256 << 10
	DefaultHTTPTimeout          = 10 * time.Second
	DefaultSessionCacheSize     = 1024

	// insecureCookieName replaces DefaultCookieName when Config.Insecure is
	// set, because browsers reject __Host- cookies that lack Secure.
	insecureCookieName = "identity"
)

// Config configures an Auth. The zero value of every optional field means its
// default, which the field's comment gives. New validates the whole Config and
// reports every problem in one error.
type Config struct {
	// APIBaseURL is the base URL of Applivery's API. It must use https unless
	// its host is a loopback address, because the API key travels with every
	// request. Default: "https://api.applivery.io".
	APIBaseURL string `validate:"required,http_url,baseurl"`

	// APIKey is Applivery's API key, sent as "Authorization: Bearer <APIKey>".
	// Required. It is never logged or printed.
	APIKey string `validate:"required,headervalue"`

	// Organization is the organization's slug, such as "enterprise-corp", the
	// {organizationSlug} segment of the callback endpoint. Required.
	Organization string `validate:"required,slug"`

	// Provider is the kind of identity provider, the {type} segment of the
	// callback endpoint, in lower case: "saml", "openid", and so on.
	// Required. With "saml" the state travels as RelayState, with any other
	// provider as state.
	Provider string `validate:"required,provider"`

	// SignInURL is the URL that LoginHandler sends the browser to, to sign in
	// at the identity provider. The package adds only the state to its query, as
	// RelayState or state, so the URL must carry everything else the
	// provider needs: for SAML, the single sign-on URL of the app at the
	// identity provider; for OpenID Connect, the authorization endpoint with
	// client_id, redirect_uri, response_type=code and scope. Required.
	SignInURL string `validate:"required,http_url,query"`

	// SessionKeys are pairs of keys for the session and state cookies: a hash
	// key of at least 32 bytes to authenticate, then a block key of 16, 24 or
	// 32 bytes to encrypt (AES-128, AES-192 or AES-256). The first pair writes
	// cookies and every pair reads them, so put a new pair first to rotate
	// keys and keep the old one until the cookies it wrote have expired.
	// Required.
	SessionKeys [][]byte

	// Store keeps sessions. Default: an encrypted cookie store built from
	// SessionKeys that needs no server-side state. Any sessions.Store can
	// replace it, such as a Redis store, so that signing out ends a session
	// everywhere. Its codecs' own max age must be at least SessionLifetime.
	Store sessions.Store

	// CookieName is the session cookie's name; the state cookie's name adds
	// "-state". Unless Insecure is set, it must start with "__Host-", which
	// makes browsers reject the cookie unless it is Secure, has Path=/ and
	// no Domain. Default: "__Host-identity", or "identity" with Insecure.
	CookieName string `validate:"required,cookiename"`

	// Insecure drops the Secure flag and the __Host- prefix so that cookies
	// work over plain http. Browsers accept SameSite=None only with Secure,
	// so the state cookie becomes SameSite=Lax, which a SAML response posted
	// from another site does not carry: the identity provider must then be on
	// the same site as the app. Use it only for local development, because
	// over plain http anyone on the network can read and replay the session.
	// Chromium accepts Secure cookies from http://localhost without it
	// (checked with Chromium 156); Safari does not.
	Insecure bool

	// LoginPath is the path that RequireAuth sends browsers to when they are
	// not signed in. Mount LoginHandler there. Default: "/auth/login".
	LoginPath string `validate:"required,localpath"`

	// DefaultReturnTo is the path the browser goes to after signing in when
	// the sign-in did not name a valid return URL. Default: "/".
	DefaultReturnTo string `validate:"required,returnto"`

	// LogoutReturnTo is the path LogoutHandler sends the browser to after
	// signing out, unless the request names a valid return URL. Default: "/".
	LogoutReturnTo string `validate:"required,returnto"`

	// HTTPClient calls Applivery's API. New copies it and makes the copy stop
	// at redirects, so that the API key never follows one to another host.
	// A client you pass keeps its own Timeout, where zero means none.
	// Default: a client with a 10 s timeout.
	HTTPClient *http.Client

	// Logger receives the package's structured logs. Tokens, keys and
	// identity provider responses are never logged. Default: slog.Default().
	Logger *slog.Logger

	// ClockSkew is how long before its expiry an access token counts as
	// expired, to absorb clock differences with Applivery. It must be
	// shorter than the tokens' lifetime. Default: 30 s; at most 5 min.
	ClockSkew time.Duration `validate:"gte=0,lte=5m"`

	// SessionLifetime is how long a session lasts from sign-in, however
	// active the user is and however often its tokens are refreshed. It sets
	// both the cookie's Max-Age and the age beyond which RequireAuth rejects
	// a session. Default: 12 h, the absolute limit OWASP ASVS 4.0.3 (3.3.2)
	// sets at level 2; at least 1 min.
	SessionLifetime time.Duration `validate:"gte=1m"`

	// IdleTimeout ends a session that made no request for this long; a
	// positive value must be at least a minute. The
	// session records its last request at most every tenth of IdleTimeout,
	// so that most requests write no cookie. A session can therefore end up
	// to a tenth early. A negative value turns the idle timeout off.
	// Default: 30 min, the idle limit OWASP ASVS 4.0.3 (3.3.2) sets at level 2.
	IdleTimeout time.Duration `validate:"idletimeout"`

	// RefreshPath turns token refresh on: when an access token has expired
	// and its refresh token has not, RequireAuth posts
	// {"refreshToken":"…"} to APIBaseURL+RefreshPath with the API key and
	// expects the callback endpoint's response envelope. "{organizationSlug}"
	// and "{type}" in the path are replaced by Organization and Provider.
	// Default: empty, so an expired access token means signing in again.
	RefreshPath string `validate:"omitempty,localpath"`

	// AllowIDPInitiated accepts SAML responses that arrive without a
	// RelayState, as identity providers send them when the user starts at the
	// provider's portal. Such a sign-in carries no state to check, so another
	// site can make a browser sign in to an account of the attacker's
	// choosing (login CSRF). Leave it off unless users need to start there.
	// Accepted sign-ins go to DefaultReturnTo. Default: false.
	AllowIDPInitiated bool

	// StateLifetime is how long a sign-in may take between LoginHandler and
	// CallbackHandler. Default: 10 min; from 1 min to 1 h.
	StateLifetime time.Duration `validate:"gte=1m,lte=1h"`

	// MaxCallbackBodyBytes limits the body of a callback request; a larger
	// one gets 413. SAML responses with many attributes or certificates can
	// reach tens of kilobytes. Default: 256 KiB.
	MaxCallbackBodyBytes int64 `validate:"gte=0"`

	// SessionCacheSize is how many decoded session cookies the default
	// cookie store keeps in memory, so that a session's requests after its
	// first skip decoding, decryption and the HMAC check. Every request
	// still checks lifetimes and expiry. A cached session takes about twice
	// its cookie's size. A negative value turns the cache off. Default: 1024.
	SessionCacheSize int

	// ErrorHandler writes the response to a failed request: err is always an
	// *HTTPError with the status, a message safe to show and the cause.
	// Default: an HTML page for browser navigations and Applivery's JSON
	// error envelope for everything else.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

	// OnSignIn, when set, is called after a sign-in succeeded and its session
	// was written, with the request's context and the new identity: for
	// audit logs or metrics. The hooks run in the request's goroutine before
	// the response is sent, so keep them fast. They receive tokens only
	// inside the Identity, where the app must read them on purpose.
	OnSignIn func(ctx context.Context, id *Identity)

	// OnSignInFailed, when set, is called when CallbackHandler fails, with
	// the *HTTPError the user gets. errors.Is and errors.As find its cause.
	OnSignInFailed func(ctx context.Context, err error)

	// OnRefresh, when set, is called after RequireAuth or OptionalAuth
	// refreshed a session's tokens, with the refreshed identity.
	OnRefresh func(ctx context.Context, id *Identity)

	// OnSignOut, when set, is called after LogoutHandler ended a session,
	// with the identity it held, or nil when the request had no valid
	// session.
	OnSignOut func(ctx context.Context, id *Identity)

	// Now returns the current time. It decides token expiry, session and
	// state lifetimes. Default: time.Now.
	Now func() time.Time
}

// withDefaults returns a copy of cfg with every zero optional field set to
// its default.
func (cfg Config) withDefaults() Config {
	setDefault(&cfg.APIBaseURL, DefaultAPIBaseURL)
	setDefault(&cfg.LoginPath, DefaultLoginPath)
	setDefault(&cfg.DefaultReturnTo, DefaultReturnTo)
	setDefault(&cfg.LogoutReturnTo, DefaultReturnTo)
	setDefault(&cfg.ClockSkew, DefaultClockSkew)
	setDefault(&cfg.SessionLifetime, DefaultSessionLifetime)
	setDefault(&cfg.IdleTimeout, DefaultIdleTimeout)
	setDefault(&cfg.StateLifetime, DefaultStateLifetime)
	setDefault(&cfg.MaxCallbackBodyBytes, DefaultMaxCallbackBodyBytes)
	setDefault(&cfg.SessionCacheSize, DefaultSessionCacheSize)

	if cfg.Insecure {
		setDefault(&cfg.CookieName, insecureCookieName)
	} else {
		setDefault(&cfg.CookieName, DefaultCookieName)
	}

	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: DefaultHTTPTimeout}
	}

	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}

	if cfg.Now == nil {
		cfg.Now = time.Now
	}

	return cfg
}

func setDefault[T comparable](field *T, value T) {
	var zero T
	if *field == zero {
		*field = value
	}
}

// String implements fmt.Stringer without the API key and the session keys,
// so that printing a Config leaks no secret.
func (cfg Config) String() string {
	return fmt.Sprintf("identity.Config{APIBaseURL:%q APIKey:%s Organization:%q Provider:%q SignInURL:%q SessionKeys:%s CookieName:%q Insecure:%t}",
		cfg.APIBaseURL, redacted(cfg.APIKey), cfg.Organization, cfg.Provider, cfg.SignInURL,
		fmt.Sprintf("[%d keys, redacted]", len(cfg.SessionKeys)), cfg.CookieName, cfg.Insecure)
}

// GoString implements fmt.GoStringer, so that %#v redacts as well.
func (cfg Config) GoString() string {
	return cfg.String()
}

// LogValue implements slog.LogValuer without the API key and the session
// keys.
func (cfg Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("api_base_url", cfg.APIBaseURL),
		slog.String("api_key", redacted(cfg.APIKey)),
		slog.String("organization", cfg.Organization),
		slog.String("provider", cfg.Provider),
		slog.String("sign_in_url", cfg.SignInURL),
		slog.Int("session_keys", len(cfg.SessionKeys)),
		slog.String("cookie_name", cfg.CookieName),
		slog.Bool("insecure", cfg.Insecure),
	)
}

func redacted(secret string) string {
	if secret == "" {
		return "(empty)"
	}

	return "(redacted)"
}
