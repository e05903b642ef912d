package identity

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

// validate checks Config and Applivery's responses. A validator caches what
// it learns of each type and is safe for concurrent use.
var validate = newValidator()

// Auth signs users in through Applivery and checks their sessions. Build one
// with New and share it: its methods are safe for concurrent use.
type Auth struct {
	cfg             Config
	client          *apiClient
	store           sessions.Store
	cookies         *cookieStore // the default store, or nil when Config.Store replaces it
	codecs          []securecookie.Codec
	stateCookieName string
	stateParam      string
	audience        string // sessionRecord.Audience of the sessions this Auth writes
	logger          *slog.Logger
	crossOrigin     *http.CrossOriginProtection
	refresher       refresher
	usedStates      usedStates
	logLimiter      logLimiter
}

// New returns an Auth for cfg, after applying defaults to its zero fields and
// validating it. The error is a *ConfigError that lists every invalid field.
func New(cfg Config) (*Auth, error) {
	cfg = cfg.withDefaults()

	if err := validate.Struct(cfg); err != nil {
		return nil, &ConfigError{Problems: configProblems(err)}
	}

	a := &Auth{
		cfg:             cfg,
		client:          newAPIClient(cfg),
		codecs:          newCodecs(cfg.SessionKeys),
		stateCookieName: cfg.CookieName + "-state",
		stateParam:      "state",
		audience:        cfg.Organization + "/" + cfg.Provider,
		logger:          cfg.Logger,
		crossOrigin:     http.NewCrossOriginProtection(),
	}

	if strings.EqualFold(cfg.Provider, "saml") {
		a.stateParam = "RelayState"
	}

	a.store = cfg.Store
	if a.store == nil {
		decoder, err := newCookieDecoder(cfg.SessionKeys)
		if err != nil {
			return nil, err
		}

		a.cookies = &cookieStore{
			codecs:  a.codecs,
			decoder: decoder,
			cache:   newSessionCache(cfg.SessionCacheSize),
			options: a.sessionOptions(0),
		}
		a.store = a.cookies
	}

	a.crossOrigin.SetDenyHandler(http.HandlerFunc(a.rejectCrossOrigin))

	if cfg.Insecure {
		a.logger.Warn("identity: Insecure is set, so cookies travel over plain http; use it only for local development")
	}

	return a, nil
}
