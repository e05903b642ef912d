package identity

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/go-playground/validator/v10"
)

// ConfigError lists every problem New found in a Config.
type ConfigError struct {
	Problems []string // one sentence per invalid field, such as "APIKey is required"
}

// Error implements error.
func (e *ConfigError) Error() string {
	return "identity: invalid Config: " + strings.Join(e.Problems, "; ")
}

// newValidator returns the validator for Config and for Applivery's
// responses. Struct fields are named by their json tag when they have one, so
// that errors about a response name the field as Applivery spells it.
func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())

	v.RegisterTagNameFunc(func(field reflect.StructField) string {
		name, _, _ := strings.Cut(field.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			return field.Name
		}

		return name
	})

	mustRegister(v, "baseurl", isBaseURL)
	mustRegister(v, "headervalue", isHeaderValue)
	mustRegister(v, "slug", isSlug)
	mustRegister(v, "provider", isProvider)
	mustRegister(v, "query", hasValidQuery)
	mustRegister(v, "idletimeout", func(fl validator.FieldLevel) bool {
		d := time.Duration(fl.Field().Int())
		return d <= 0 || d >= time.Minute
	})
	mustRegister(v, "cookiename", isCookieName)
	mustRegister(v, "localpath", isLocalPath)
	mustRegister(v, "returnto", func(fl validator.FieldLevel) bool {
		return sanitizeReturnTo(fl.Field().String()) != ""
	})

	v.RegisterStructValidation(validateConfig, Config{})

	return v
}

func mustRegister(v *validator.Validate, tag string, fn func(validator.FieldLevel) bool) {
	if err := v.RegisterValidation(tag, fn); err != nil {
		panic("identity: registering validation " + tag + ": " + err.Error())
	}
}

// validateConfig checks what depends on more than one field, or on the
// position of a value in a slice, which field tags cannot express.
func validateConfig(sl validator.StructLevel) {
	cfg := sl.Current().Interface().(Config)

	if len(cfg.SessionKeys) == 0 {
		sl.ReportError(cfg.SessionKeys, "SessionKeys", "SessionKeys", "required", "")
	}

	if len(cfg.SessionKeys)%2 != 0 {
		sl.ReportError(cfg.SessionKeys, "SessionKeys", "SessionKeys", "keypairs", fmt.Sprint(len(cfg.SessionKeys)))
	}

	for i, key := range cfg.SessionKeys {
		name := fmt.Sprintf("SessionKeys[%d]", i)

		if i%2 == 0 && len(key) < 32 {
			sl.ReportError(key, name, name, "hashkey", fmt.Sprint(len(key)))
		}

		if i%2 == 1 && len(key) != 16 && len(key) != 24 && len(key) != 32 {
			sl.ReportError(key, name, name, "blockkey", fmt.Sprint(len(key)))
		}
	}

	if !cfg.Insecure && !strings.HasPrefix(cfg.CookieName, "__Host-") {
		sl.ReportError(cfg.CookieName, "CookieName", "CookieName", "hostprefix", "")
	}

	if cfg.Insecure && strings.HasPrefix(cfg.CookieName, "__Host-") {
		sl.ReportError(cfg.CookieName, "CookieName", "CookieName", "insecureprefix", "")
	}
}

// configProblems turns the validator's errors about a Config into sentences
// that name the field, the problem and, where it is not a secret, the value.
func configProblems(err error) []string {
	var fieldErrors validator.ValidationErrors
	if !errors.As(err, &fieldErrors) {
		return []string{err.Error()}
	}

	problems := make([]string, 0, len(fieldErrors))
	for _, fe := range fieldErrors {
		problems = append(problems, describeConfigField(fe))
	}

	return problems
}

func describeConfigField(fe validator.FieldError) string {
	name := fe.Field()

	switch fe.Tag() {
	case "required":
		return name + " is required"
	case "http_url":
		return fmt.Sprintf("%s must be an absolute http or https URL, got %q", name, fe.Value())
	case "baseurl":
		return describeBaseURL(name, fe.Value().(string))
	case "headervalue":
		return name + " must not contain spaces or control characters"
	case "slug":
		return fmt.Sprintf("%s must be an organization slug such as \"enterprise-corp\", without spaces or slashes, got %q", name, fe.Value())
	case "provider":
		return fmt.Sprintf("%s must be a provider kind in lower case, such as \"saml\" or \"openid\", got %q", name, fe.Value())
	case "query":
		return fmt.Sprintf("%s must have a query that parses (no \";\", valid %%-escapes), got %q", name, fe.Value())
	case "idletimeout":
		return fmt.Sprintf("%s must be negative (off) or at least 1m, got %v", name, fe.Value())
	case "cookiename":
		return fmt.Sprintf("%s must be a valid cookie name (letters, digits and !#$%%&'*+-.^_`|~), got %q", name, fe.Value())
	case "hostprefix":
		return fmt.Sprintf("%s must start with \"__Host-\" unless Insecure is set, got %q", name, fe.Value())
	case "insecureprefix":
		return fmt.Sprintf("%s must not start with \"__Host-\" when Insecure is set, because browsers reject such cookies without Secure, got %q", name, fe.Value())
	case "localpath":
		return fmt.Sprintf("%s must be a path on this site such as \"/auth/login\", without query or fragment, got %q", name, fe.Value())
	case "returnto":
		return fmt.Sprintf("%s must be a path on this site such as \"/\" or \"/home?tab=1\", got %q", name, fe.Value())
	case "keypairs":
		return fmt.Sprintf("SessionKeys must hold pairs of hash key and block key, got an odd number of keys (%s)", fe.Param())
	case "hashkey":
		return fmt.Sprintf("%s hash key must be at least 32 bytes, got %s", name, fe.Param())
	case "blockkey":
		return fmt.Sprintf("%s block key must be 16, 24 or 32 bytes, got %s", name, fe.Param())
	case "gte":
		return fmt.Sprintf("%s must be at least %s, got %v", name, fe.Param(), fe.Value())
	case "lte":
		return fmt.Sprintf("%s must be at most %s, got %v", name, fe.Param(), fe.Value())
	}

	return fmt.Sprintf("%s failed the %q check", name, fe.Tag())
}

// describeBaseURL returns which rule an invalid APIBaseURL breaks.
func describeBaseURL(name, value string) string {
	u, _ := url.Parse(value)

	switch {
	case strings.ContainsAny(value, "?#"):
		return fmt.Sprintf("%s must have no query or fragment, got %q", name, value)
	case u != nil && strings.HasSuffix(strings.TrimRight(u.Path, "/"), "/v1"):
		return fmt.Sprintf("%s must not end in /v1, because the package adds the API's paths, got %q: use %q", name, value,
			strings.TrimSuffix(strings.TrimRight(value, "/"), "/v1"))
	case u != nil && u.User != nil:
		return fmt.Sprintf("%s must not carry a user or password", name)
	}

	return fmt.Sprintf("%s must use https unless its host is a loopback address, because the API key travels with every request, got %q", name, value)
}

// isBaseURL accepts https URLs, and http URLs whose host is a loopback
// address, such as a local test double. The API key must not cross a network
// in clear text.
func isBaseURL(fl validator.FieldLevel) bool {
	raw := fl.Field().String()
	if strings.ContainsAny(raw, "?#") {
		return false
	}

	u, err := url.Parse(raw)
	if err != nil || u.User != nil || strings.HasSuffix(strings.TrimRight(u.Path, "/"), "/v1") {
		return false
	}

	switch u.Scheme {
	case "https":
		return true
	case "http":
		return isLoopbackHost(u.Hostname())
	}

	return false
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}

	ip := net.ParseIP(host)

	return ip != nil && ip.IsLoopback()
}

// isHeaderValue rejects characters that would break or split the
// Authorization header.
func isHeaderValue(fl validator.FieldLevel) bool {
	for _, c := range fl.Field().String() {
		if c <= ' ' || c == 0x7f {
			return false
		}
	}

	return true
}

// isSlug accepts an organization slug: printable characters without spaces,
// and neither "." nor "..", which would climb the API's path.
func isSlug(fl validator.FieldLevel) bool {
	s := fl.Field().String()
	if s == "." || s == ".." {
		return false
	}

	for _, c := range s {
		if c <= ' ' || c == 0x7f || c == '/' || c == '\\' {
			return false
		}
	}

	return true
}

// isProvider accepts a lower-case provider kind such as "saml" or "openid".
func isProvider(fl validator.FieldLevel) bool {
	s := fl.Field().String()
	if s == "" {
		return false
	}

	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '_' {
			return false
		}
	}

	return true
}

// hasValidQuery rejects a URL whose query the standard parser would cut
// short, such as one with a ";", which url.ParseQuery refuses: the state
// would be added to what is left of it.
func hasValidQuery(fl validator.FieldLevel) bool {
	u, err := url.Parse(fl.Field().String())
	if err != nil {
		return false
	}

	_, err = url.ParseQuery(u.RawQuery)

	return err == nil
}

// isCookieName accepts the token characters of RFC 6265, section 4.1.1.
func isCookieName(fl validator.FieldLevel) bool {
	for _, c := range fl.Field().String() {
		if c <= ' ' || c >= 0x7f || strings.ContainsRune(`()<>@,;:\"/[]?={}`, c) {
			return false
		}
	}

	return true
}

func isLocalPath(fl validator.FieldLevel) bool {
	s := fl.Field().String()

	return sanitizeReturnTo(s) == s && !strings.ContainsAny(s, "?#")
}
