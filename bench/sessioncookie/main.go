// Command sessioncookie prints a Cookie header that the example app, run in
// its simulator mode with the same SESSION_KEYS, accepts as the simulated
// admin's session. bench/load.sh uses it to load a protected route without
// signing in through a browser.
//
// Usage:
//
//	SESSION_KEYS=<base64 hash key>,<base64 block key> go run ./bench/sessioncookie
package main

import (
	"encoding/base64"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ssogate/identity"
	"github.com/ssogate/identity/identitytest"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "sessioncookie:", err)
		os.Exit(1)
	}
}

func run() error {
	var keys [][]byte
	for i, encoded := range strings.Split(os.Getenv("SESSION_KEYS"), ",") {
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(encoded))
		if err != nil {
			return fmt.Errorf("SESSION_KEYS key %d is not standard base64: %w", i, err)
		}
		keys = append(keys, key)
	}

	// The example's simulator mode uses these settings; the session names
	// the organization and provider, so they must match.
	auth, err := identity.New(identity.Config{
		APIKey:       "unused",
		Organization: identitytest.DefaultOrganization,
		Provider:     identitytest.DefaultProvider,
		SignInURL:    "https://idp.invalid/sso",
		SessionKeys:  keys,
	})
	if err != nil {
		return err
	}

	cookies, err := identitytest.SessionCookies(auth, identitytest.AdminUser().Identity(time.Now()))
	if err != nil {
		return err
	}

	pairs := make([]string, 0, len(cookies))
	for _, c := range cookies {
		pairs = append(pairs, c.Name+"="+c.Value)
	}

	fmt.Println("Cookie: " + strings.Join(pairs, "; "))

	return nil
}
