package identity

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSanitizeReturnTo(t *testing.T) {
	kept := []string{
		"/",
		"/dashboard",
		"/dashboard?tab=1#top",
		"/orgs/acme/apps",
		"/search?q=a%2Fb&next=//x",
		"/caf%C3%A9",
		"/ünïcode/path",
	}
	for _, input := range kept {
		t.Run("kept "+input, func(t *testing.T) {
			assert.Equal(t, input, sanitizeReturnTo(input))
		})
	}

	rejected := []string{
		"",
		"//evil.example",
		"//evil.example/path",
		`/\evil.example`,
		`\\evil.example`,
		`\/evil.example`,
		"https://evil.example",
		"https:evil.example",
		"http:/evil.example",
		"javascript:alert(1)",
		"JavaScript:alert(1)",
		"data:text/html,hi",
		"/%2F%2Fevil.example",
		"/%2f/evil.example",
		"/%5Cevil.example",
		"/\t/evil.example",
		"/\n/evil.example",
		"/\r/evil.example",
		"/%09/evil.example",
		"/\x00",
		"dashboard",
		"?x=1",
		"#top",
		" /dashboard",
		"/" + strings.Repeat("a", maxReturnToLength),
	}
	for _, input := range rejected {
		t.Run("rejected "+input, func(t *testing.T) {
			assert.Empty(t, sanitizeReturnTo(input))
		})
	}
}

// FuzzSanitizeReturnTo checks the invariant of return URLs: the result is
// empty, or a path that stays on the app's origin when resolved against it.
func FuzzSanitizeReturnTo(f *testing.F) {
	for _, seed := range []string{
		"/dashboard?tab=1#top", "//evil.example", `/\evil.example`, "/%2F%2Fevil.example",
		"/\t/evil.example", "https:evil.example", "javascript:alert(1)", "/orgs/acme/apps",
	} {
		f.Add(seed)
	}

	base, _ := url.Parse("https://app.example/")

	f.Fuzz(func(t *testing.T, input string) {
		got := sanitizeReturnTo(input)
		if got == "" {
			return
		}

		if got != input {
			t.Fatalf("sanitizeReturnTo(%q) = %q, want the input or empty", input, got)
		}

		ref, err := url.Parse(got)
		if err != nil {
			t.Fatalf("kept %q, which does not parse: %v", got, err)
		}

		resolved := base.ResolveReference(ref)
		if resolved.Scheme != "https" || resolved.Host != "app.example" || resolved.User != nil {
			t.Fatalf("kept %q, which resolves to %s", got, resolved)
		}

		if !strings.HasPrefix(got, "/") || strings.HasPrefix(resolved.Path, "//") || strings.ContainsAny(got, "\\\t\r\n") {
			t.Fatalf("kept %q, which a browser could read as another host", got)
		}
	})
}
