// Command example is a small web app that signs its users in through
// Applivery with the identity package. It has a public home page, a
// dashboard for signed-in users, an admin page for role "admin", and a page
// per organization for its members.
//
// Without APPLIVERY_API_KEY it starts identitytest's simulated Applivery API
// and identity provider in the same process, so that
//
//	go run ./_example
//
// works offline: open http://localhost:8080 and sign in as the simulated
// admin or user.
//
// Environment:
//
//	ADDR                    listen address (default localhost:8080)
//	PUBLIC_URL              the app's URL as browsers see it (default http://ADDR)
//	APPLIVERY_API_KEY       Applivery API key; unset means the simulator
//	APPLIVERY_API_URL       Applivery API base URL (default https://api.applivery.io)
//	APPLIVERY_ORGANIZATION  organization slug (default enterprise-corp)
//	APPLIVERY_PROVIDER      saml or openid (default saml)
//	APPLIVERY_SIGNIN_URL    the identity provider's sign-in URL
//	SESSION_KEYS            comma-separated base64 keys: hash key, block key[, older pairs]
//	INSECURE_COOKIES        1 to drop the Secure flag, for browsers that refuse
//	                        Secure cookies on http://localhost (Safari)
//	SIMULATOR_HOST          host of the simulator (default: the host of ADDR,
//	                        so that it is on the same site as the app)
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ssogate/identity"
	"github.com/ssogate/identity/identitytest"
)

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := run(ctx, os.Getenv, logger, nil); err != nil {
		logger.Error("example stopped", "error", err)
		os.Exit(1)
	}
}

// run serves the app until ctx ends. ready, if not nil, receives the app's
// URL once it accepts connections. simulatorOptions configure the simulator,
// when it runs.
func run(ctx context.Context, getenv func(string) string, logger *slog.Logger, ready func(url string), simulatorOptions ...identitytest.Option) error {
	addr := valueOr(getenv("ADDR"), "localhost:8080")

	listener, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on ADDR %q: %w", addr, err)
	}
	defer listener.Close()

	publicURL := valueOr(getenv("PUBLIC_URL"), "http://"+publicHost(listener.Addr(), addr))

	cfg, simulator, err := configure(getenv, logger, publicURL, valueOr(getenv("SIMULATOR_HOST"), hostOf(publicURL)), simulatorOptions...)
	if err != nil {
		return err
	}
	if simulator != nil {
		defer simulator.Close()
	}

	auth, err := identity.New(cfg)
	if err != nil {
		return err
	}

	server := &http.Server{Handler: newApp(auth), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- server.Serve(listener) }()

	logger.Info("example serving", "url", publicURL)
	if ready != nil {
		ready(publicURL)
	}

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}

	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	if err := server.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}

	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}

	return nil
}

// configure builds the identity Config from the environment. Without
// APPLIVERY_API_KEY it starts the simulator and returns it; the caller closes
// it.
func configure(getenv func(string) string, logger *slog.Logger, publicURL, simulatorHost string, simulatorOptions ...identitytest.Option) (identity.Config, *identitytest.Server, error) {
	keys, err := sessionKeys(getenv("SESSION_KEYS"), logger)
	if err != nil {
		return identity.Config{}, nil, err
	}

	insecure, err := parseBool("INSECURE_COOKIES", getenv("INSECURE_COOKIES"))
	if err != nil {
		return identity.Config{}, nil, err
	}

	cfg := identity.Config{
		APIBaseURL:   getenv("APPLIVERY_API_URL"),
		APIKey:       getenv("APPLIVERY_API_KEY"),
		Organization: valueOr(getenv("APPLIVERY_ORGANIZATION"), identitytest.DefaultOrganization),
		Provider:     valueOr(getenv("APPLIVERY_PROVIDER"), identitytest.DefaultProvider),
		SignInURL:    getenv("APPLIVERY_SIGNIN_URL"),
		SessionKeys:  keys,
		Insecure:     insecure,
		Logger:       logger,
	}

	if cfg.APIKey != "" {
		return cfg, nil, nil
	}

	simulator := identitytest.NewServer(append([]identitytest.Option{
		identitytest.WithUsers(identitytest.AdminUser(), identitytest.DocumentedUser()),
		identitytest.WithOrganization(cfg.Organization),
		identitytest.WithProvider(cfg.Provider),
		identitytest.WithCallbackURL(publicURL + "/auth/callback"),
		identitytest.WithHost(simulatorHost),
	}, simulatorOptions...)...)

	simulated := simulator.Config()
	cfg.APIBaseURL, cfg.APIKey, cfg.SignInURL = simulated.APIBaseURL, simulated.APIKey, simulated.SignInURL

	logger.Warn("APPLIVERY_API_KEY is not set, so sign-in runs against the in-process simulator of Applivery and of an identity provider",
		"simulator", simulator.URL)

	return cfg, simulator, nil
}

// sessionKeys decodes SESSION_KEYS, or makes a random pair when it is empty,
// in which case sessions end when the process stops.
func sessionKeys(value string, logger *slog.Logger) ([][]byte, error) {
	if value == "" {
		logger.Warn("SESSION_KEYS is not set, so random keys are used and sessions end when the process stops")
		return [][]byte{randomKey(32), randomKey(32)}, nil
	}

	var keys [][]byte
	for i, encoded := range strings.Split(value, ",") {
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(encoded))
		if err != nil {
			return nil, fmt.Errorf("SESSION_KEYS key %d is not standard base64 (make one with: openssl rand -base64 32): %w", i, err)
		}
		keys = append(keys, key)
	}

	return keys, nil
}

func randomKey(size int) []byte {
	key := make([]byte, size)
	_, _ = rand.Read(key)

	return key
}

func parseBool(name, value string) (bool, error) {
	if value == "" {
		return false, nil
	}

	b, err := strconv.ParseBool(value)
	if err != nil {
		return false, fmt.Errorf("%s must be true or false (or 1 or 0), got %q", name, value)
	}

	return b, nil
}

func valueOr(value, fallback string) string {
	if value == "" {
		return fallback
	}

	return value
}

// hostOf returns the host name of rawURL.
func hostOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Hostname() == "" {
		return "127.0.0.1"
	}

	return u.Hostname()
}

// publicHost returns the host and port browsers should use: the host asked
// for in ADDR, or localhost when ADDR named none, with the port bound.
func publicHost(bound net.Addr, requested string) string {
	host, _, err := net.SplitHostPort(requested)
	if err != nil || host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}

	_, port, _ := net.SplitHostPort(bound.String())

	return net.JoinHostPort(host, port)
}
