package identitytest

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// signInPath is the path of the simulated identity provider's page.
const signInPath = "/idp/signin"

// samlResponsePrefix marks the simulated SAMLResponse, which is not XML: the
// simulated API only needs to know which user signed in.
const samlResponsePrefix = "identitytest-saml-response:"

// SignInURL returns the URL of the simulated identity provider's sign-in
// page, for Config.SignInURL.
func (s *Server) SignInURL() string {
	return s.URL + signInPath
}

func encodeSAMLResponse(ticketID string) string {
	return base64.StdEncoding.EncodeToString([]byte(samlResponsePrefix + ticketID))
}

func decodeSAMLResponse(value string) string {
	raw, err := base64.StdEncoding.DecodeString(value)
	if err != nil {
		return ""
	}

	ticketID, ok := strings.CutPrefix(string(raw), samlResponsePrefix)
	if !ok {
		return ""
	}

	return ticketID
}

var signInPage = template.Must(template.New("signin").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Simulated identity provider</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto}button{display:block;width:100%;margin:.5rem 0;padding:.75rem;text-align:left;font-size:1rem}</style>
</head>
<body>
<h1>Simulated identity provider</h1>
<p>This page stands in for your identity provider. Pick a user to sign in as.</p>
{{range .Users}}
<form method="post" action="{{$.Action}}">
<input type="hidden" name="{{$.StateParam}}" value="{{$.State}}">
<input type="hidden" name="user" value="{{.ID}}">
<button type="submit" id="user-{{.ID}}" data-role="{{.Role}}">{{.FullName}} &lt;{{.Email}}&gt;, role {{.Role}}</button>
</form>
{{end}}
</body>
</html>
`))

var postBackPage = template.Must(template.New("postback").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Signing in</title></head>
<body>
<form method="post" action="{{.Action}}">
<input type="hidden" name="SAMLResponse" value="{{.SAMLResponse}}">
{{if .RelayState}}<input type="hidden" name="RelayState" value="{{.RelayState}}">{{end}}
<noscript><button type="submit">Continue</button></noscript>
</form>
<script>document.forms[0].submit()</script>
</body>
</html>
`))

func (s *Server) stateParam() string {
	if s.isSAML() {
		return "RelayState"
	}

	return "state"
}

func (s *Server) serveSignInPage(w http.ResponseWriter, r *http.Request) {
	page := struct {
		Action, StateParam, State string
		Users                     []User
	}{
		Action:     signInPath,
		StateParam: s.stateParam(),
		State:      r.URL.Query().Get(s.stateParam()),
		Users:      s.Users(),
	}

	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = signInPage.Execute(w, page)
}

// serveSignIn signs the picked user in and sends the browser back to the
// app's callback.
func (s *Server) serveSignIn(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	callbackURL := s.callbackURL
	s.mu.Unlock()

	if callbackURL == "" {
		http.Error(w, "identitytest: no callback URL is set; call SetCallbackURL with the app's callback URL", http.StatusInternalServerError)
		return
	}

	state := r.PostFormValue(s.stateParam())

	if s.idp != nil {
		s.mu.Lock()
		user, ok := s.findUser(r.PostFormValue("user"))
		s.mu.Unlock()

		if !ok {
			http.Error(w, fmt.Sprintf("identitytest: no user with ID %q", r.PostFormValue("user")), http.StatusBadRequest)
			return
		}

		s.idp.SendResponse(w, r, user, callbackURL, state)
		return
	}

	response, err := s.IssueResponse(r.PostFormValue("user"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}

	if !s.isSAML() {
		target, err := url.Parse(callbackURL)
		if err != nil {
			http.Error(w, "identitytest: invalid callback URL: "+err.Error(), http.StatusInternalServerError)
			return
		}

		query := target.Query()
		query.Set("code", response)
		if state != "" {
			query.Set("state", state)
		}
		target.RawQuery = query.Encode()

		http.Redirect(w, r, target.String(), http.StatusFound)
		return
	}

	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = postBackPage.Execute(w, struct{ Action, SAMLResponse, RelayState string }{callbackURL, response, state})
}

var (
	formActionPattern  = regexp.MustCompile(`<form method="post" action="([^"]*)"`)
	hiddenInputPattern = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)"`)
)

// SignIn signs userID in to the app as a browser would, through client,
// which needs a cookie jar. It opens loginURL (the app's LoginHandler),
// follows the redirect to the identity provider, picks the user, and sends
// the identity provider's response to the app's callback. It returns the app's last
// response, after the client followed the redirects it allows, with its body
// unread.
func (s *Server) SignIn(client *http.Client, loginURL, userID string) (*http.Response, error) {
	if client.Jar == nil {
		return nil, errors.New("identitytest: SignIn needs a client with a cookie jar, for the state cookie")
	}

	page, err := send(client, http.MethodGet, loginURL, nil)
	if err != nil {
		return nil, fmt.Errorf("identitytest: opening %s: %w", loginURL, err)
	}
	_ = page.Body.Close()

	if !strings.HasPrefix(page.Request.URL.String(), s.SignInURL()) {
		return nil, fmt.Errorf("identitytest: %s led to %s (HTTP %d), not to the identity provider at %s",
			loginURL, page.Request.URL, page.StatusCode, s.SignInURL())
	}

	form := url.Values{"user": {userID}}
	if state := page.Request.URL.Query().Get(s.stateParam()); state != "" {
		form.Set(s.stateParam(), state)
	}

	resp, err := send(client, http.MethodPost, s.SignInURL(), form)
	if err != nil {
		return nil, fmt.Errorf("identitytest: signing in at the identity provider: %w", err)
	}

	if !s.isSAML() || resp.Request.URL.Path != signInPath {
		return resp, nil
	}

	return postBack(client, resp)
}

// postBack submits the identity provider's auto-posting form in resp, as a
// browser running its script would. It reads the markup of the built-in
// page and of crewjam/saml's default HTTP-POST form.
func postBack(client *http.Client, resp *http.Response) (*http.Response, error) {
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("identitytest: reading the identity provider's page: %w", err)
	}

	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("identitytest: the identity provider responded with HTTP %d: %s", resp.StatusCode, body)
	}

	action := formActionPattern.FindSubmatch(body)
	if action == nil {
		return nil, fmt.Errorf("identitytest: the identity provider's page has no form")
	}

	values := url.Values{}
	for _, input := range hiddenInputPattern.FindAllSubmatch(body, -1) {
		values.Set(html.UnescapeString(string(input[1])), html.UnescapeString(string(input[2])))
	}

	return send(client, http.MethodPost, html.UnescapeString(string(action[1])), values)
}

// send makes a request as a browser following a link (form nil) or
// submitting a form.
func send(client *http.Client, method, target string, form url.Values) (*http.Response, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}

	req, err := http.NewRequestWithContext(context.Background(), method, target, body)
	if err != nil {
		return nil, fmt.Errorf("identitytest: building request to %s: %w", target, err)
	}

	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}

	return client.Do(req)
}
