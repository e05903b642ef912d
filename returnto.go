package identity

import (
	"net/url"
	"strings"
)

// maxReturnToLength bounds a return URL. Browsers and proxies reject request
// lines much over 8 KiB, and the return URL also travels in the state cookie,
// which shares the 4096-byte cookie limit.
const maxReturnToLength = 1024

// siteRoot stands for this site when resolving a return URL; any host
// would do.
var siteRoot = &url.URL{Scheme: "https", Host: "site.invalid", Path: "/"}

// sanitizeReturnTo returns raw when it is a path on this site, and "" when it
// could lead the browser anywhere else. It is the only place that decides what
// a return URL may be.
//
// A return URL must start with a single "/" and contain no backslash and no
// control character, because browsers read "\" as "/" and drop tabs and
// newlines, so "/\evil.example" and "/\t/evil.example" both reach another
// host. Its path must not start with "//" even after percent-decoding,
// because some servers and routers decode "/%2F%2Fevil.example" before
// redirecting.
func sanitizeReturnTo(raw string) string {
	if raw == "" || len(raw) > maxReturnToLength {
		return ""
	}

	if raw[0] != '/' || strings.HasPrefix(raw, "//") {
		return ""
	}

	if hasUnsafeByte(raw) {
		return ""
	}

	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return ""
	}

	// u.Path is percent-decoded.
	if strings.HasPrefix(u.Path, "//") || hasUnsafeByte(u.Path) {
		return ""
	}

	// Dot segments count too: "/.//evil.example" resolves to the path
	// "//evil.example", which a later clean-up or a proxy may turn into a
	// URL of another host.
	if resolved := siteRoot.ResolveReference(u); resolved.Host != siteRoot.Host || strings.HasPrefix(resolved.Path, "//") {
		return ""
	}

	return raw
}

// hasUnsafeByte reports whether s contains a backslash or a control
// character.
func hasUnsafeByte(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return true
		}
	}

	return false
}
