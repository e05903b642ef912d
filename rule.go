package identity

import (
	"fmt"
	"net/http"
	"slices"
)

// Rule is an authorization requirement that RequireAuth checks after the
// session: every rule passed to RequireAuth must allow the request. Build
// rules with HasRole, HasPlatformRole, InOrganization and InOrganizationFrom,
// or write one as a RuleFunc.
type Rule interface {
	// Allow reports whether the signed-in user id may make request r.
	Allow(id *Identity, r *http.Request) bool
}

// RuleFunc is a Rule written as a function.
type RuleFunc func(id *Identity, r *http.Request) bool

// Allow implements Rule.
func (f RuleFunc) Allow(id *Identity, r *http.Request) bool {
	return f(id, r)
}

// String implements fmt.Stringer for logs.
func (f RuleFunc) String() string {
	return "RuleFunc"
}

// namedRule is a built-in rule that logs as the call that made it, such as
// HasRole("admin").
type namedRule struct {
	name  string
	allow func(*Identity, *http.Request) bool
}

func (n namedRule) Allow(id *Identity, r *http.Request) bool {
	return n.allow(id, r)
}

func (n namedRule) String() string {
	return n.name
}

// HasRole returns a rule that holds when the user's role is any of roles,
// such as HasRole("admin", "owner"). It panics when roles is empty.
//
// The role is the user's role in the organization they signed in to, not in
// every organization they belong to. To require a role in the organization a
// request names, pair HasRole with SignedInTo or SignedInToFrom, not with
// InOrganization, which accepts any organization of the user.
func HasRole(roles ...string) Rule {
	return anyOf("HasRole", roles, (*Identity).hasRole)
}

// HasPlatformRole returns a rule that holds when the user has a platform role
// named any of names. It panics when names is empty.
func HasPlatformRole(names ...string) Rule {
	return anyOf("HasPlatformRole", names, (*Identity).hasPlatformRole)
}

// InOrganization returns a rule that holds when the user belongs to any of
// the organizations, each given by ID or slug: the one they signed in to or
// any other. It panics when idsOrSlugs is empty.
func InOrganization(idsOrSlugs ...string) Rule {
	return anyOf("InOrganization", idsOrSlugs, (*Identity).InOrganization)
}

// InOrganizationFrom returns a rule that holds when the user belongs to the
// organization, by ID or slug, that org reads from the request, such as
// r.PathValue("org") or chi.URLParam(r, "org"). An empty result denies
// access. It panics when org is nil.
func InOrganizationFrom(org func(r *http.Request) string) Rule {
	return fromRequest("InOrganizationFrom", org, (*Identity).InOrganization)
}

// SignedInTo returns a rule that holds when the organization the user
// signed in to is any of idsOrSlugs, matched by ID or by the slug of that
// organization. Unlike InOrganization, it does not accept the user's other
// organizations, so HasRole and SignedInTo together mean "has the role in
// this organization". It panics when idsOrSlugs is empty.
func SignedInTo(idsOrSlugs ...string) Rule {
	return anyOf("SignedInTo", idsOrSlugs, (*Identity).SignedInTo)
}

// SignedInToFrom returns a rule that holds when the organization the user
// signed in to is the one, by ID or slug, that org reads from the request,
// such as r.PathValue("org"). An empty result denies access. It panics when
// org is nil.
func SignedInToFrom(org func(r *http.Request) string) Rule {
	return fromRequest("SignedInToFrom", org, (*Identity).SignedInTo)
}

// anyOf returns a rule, logged as name(values), that holds when match holds
// for the identity and any of values.
func anyOf(name string, values []string, match func(*Identity, string) bool) Rule {
	mustHaveValues(name, values)
	values = slices.Clone(values)

	return namedRule{
		name: fmt.Sprintf("%s(%q)", name, values),
		allow: func(id *Identity, _ *http.Request) bool {
			for _, value := range values {
				if match(id, value) {
					return true
				}
			}

			return false
		},
	}
}

// fromRequest returns a rule, logged as name(request), that holds when match
// holds for the identity and the value read reads from the request.
func fromRequest(name string, read func(*http.Request) string, match func(*Identity, string) bool) Rule {
	if read == nil {
		panic("identity: " + name + " needs a function, got nil")
	}

	return namedRule{
		name:  name + "(request)",
		allow: func(id *Identity, r *http.Request) bool { return match(id, read(r)) },
	}
}

// mustHaveValues panics when a rule gets no value to match, which would deny
// every request, or an empty value, which never matches.
func mustHaveValues(rule string, values []string) {
	if len(values) == 0 {
		panic("identity: " + rule + " needs at least one value")
	}

	for i, v := range values {
		if v == "" {
			panic(fmt.Sprintf("identity: %s value %d is empty", rule, i))
		}
	}
}
