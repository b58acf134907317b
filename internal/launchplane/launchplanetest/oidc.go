package launchplanetest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// GitHubIssuer is the issuer GitHub Actions OIDC tokens carry, and the only one Launchplane's
// verifier accepts by default (cbusillo/launchplane control_plane/service_auth.py
// @ 02594f465f887a5effd4c0aa1b350e7c513d7ffc: GITHUB_ACTIONS_OIDC_ISSUER).
const GitHubIssuer = "https://token.actions.githubusercontent.com"

// Claims are the GitHub Actions OIDC claims Launchplane reads. The zero value of a field leaves
// the claim out of the token.
type Claims struct {
	Issuer            string
	Audience          string
	Subject           string
	Repository        string
	RepositoryOwner   string
	RepositoryID      string
	RepositoryOwnerID string
	WorkflowRef       string
	JobWorkflowRef    string
	Ref               string
	RefType           string
	EventName         string
	Environment       string
	SHA               string
	// IssuedAt defaults to the issuer's clock; ExpiresAt to five minutes after IssuedAt.
	IssuedAt, ExpiresAt, NotBefore time.Time
	// NoExpiry leaves exp out.
	NoExpiry bool
}

// DefaultClaims returns the claims of a pull_request run of acme/shop's verify workflow, in
// the shape of Launchplane's own test vectors (cbusillo/launchplane tests/test_service_auth.py
// @ 0e80b179a044068c77abe26db3241da6db74f968, which use cbusillo/verireel and preview.yml).
func DefaultClaims() Claims {
	return Claims{
		Issuer:            GitHubIssuer,
		Subject:           "repo:acme/shop:pull_request",
		Repository:        "acme/shop",
		RepositoryOwner:   "acme",
		RepositoryID:      "1001",
		RepositoryOwnerID: "2001",
		WorkflowRef:       "acme/shop/.github/workflows/verify.yml@refs/heads/main",
		JobWorkflowRef:    "acme/shop/.github/workflows/verify.yml@refs/heads/main",
		Ref:               "refs/pull/42/merge",
		RefType:           "branch",
		EventName:         "pull_request",
		SHA:               "6b3c9d7e8f901234567890abcdef1234567890ab",
	}
}

// Issuer is a fake GitHub Actions OIDC issuer: it signs real RS256 JWTs and serves its keys as
// a JWKS on a loopback URL, from which the fake Launchplane fetches them, as Launchplane's
// PyJWKClient does from GitHub's.
type Issuer struct {
	tb    testing.TB
	key   *rsa.PrivateKey
	kid   string
	srv   *httptest.Server
	now   func() time.Time
	mu    sync.Mutex
	auds  []string
	other *rsa.PrivateKey // a key not in the JWKS, for forged tokens
}

var (
	keyOnce  sync.Once
	keyPair  [2]*rsa.PrivateKey
	kidCount sync.Mutex
	kidNext  int
)

// testKeys returns two RSA keys generated once per process: generation is slow.
func testKeys(tb testing.TB) [2]*rsa.PrivateKey {
	keyOnce.Do(func() {
		for i := range keyPair {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(fmt.Sprintf("launchplanetest: generate RSA key: %v", err))
			}
			keyPair[i] = k
		}
	})
	return keyPair
}

// NewIssuer starts an issuer on a loopback port and closes it when the test ends.
func NewIssuer(tb testing.TB) *Issuer {
	tb.Helper()
	keys := testKeys(tb)
	kidCount.Lock()
	kidNext++
	kid := fmt.Sprintf("launchplanetest-%d", kidNext)
	kidCount.Unlock()
	is := &Issuer{tb: tb, key: keys[0], other: keys[1], kid: kid, now: time.Now}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/jwks", is.serveJWKS)
	is.srv = httptest.NewServer(mux)
	tb.Cleanup(is.srv.Close)
	return is
}

// SetNow replaces the clock that stamps iat and exp.
func (is *Issuer) SetNow(now func() time.Time) { is.now = now }

// JWKSURL returns the URL of the issuer's key set.
func (is *Issuer) JWKSURL() string { return is.srv.URL + "/.well-known/jwks" }

// httpClient returns a client that reaches the issuer's server.
func (is *Issuer) httpClient() *http.Client { return is.srv.Client() }

func (is *Issuer) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	pub := is.key.PublicKey
	writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": is.kid,
		"n": b64(pub.N.Bytes()),
		"e": b64(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

// Token signs c with the issuer's key, as GitHub would.
func (is *Issuer) Token(c Claims) string { return is.sign(c, is.key, "RS256", is.kid) }

// ForgedToken signs c with a key the JWKS does not hold, under the issuer's key id.
func (is *Issuer) ForgedToken(c Claims) string { return is.sign(c, is.other, "RS256", is.kid) }

// TokenWithHeader signs c with the issuer's key under the given alg and kid header values,
// for tests of the verifier's header checks.
func (is *Issuer) TokenWithHeader(c Claims, alg, kid string) string {
	return is.sign(c, is.key, alg, kid)
}

func (is *Issuer) sign(c Claims, key *rsa.PrivateKey, alg, kid string) string {
	is.tb.Helper()
	iat := c.IssuedAt
	if iat.IsZero() {
		iat = is.now()
	}
	claims := map[string]any{"iat": iat.Unix()}
	if !c.NoExpiry {
		exp := c.ExpiresAt
		if exp.IsZero() {
			exp = iat.Add(5 * time.Minute)
		}
		claims["exp"] = exp.Unix()
	}
	if !c.NotBefore.IsZero() {
		claims["nbf"] = c.NotBefore.Unix()
	}
	for k, v := range map[string]string{
		"iss": c.Issuer, "aud": c.Audience, "sub": c.Subject, "repository": c.Repository,
		"repository_owner": c.RepositoryOwner, "repository_id": c.RepositoryID,
		"repository_owner_id": c.RepositoryOwnerID, "workflow_ref": c.WorkflowRef,
		"job_workflow_ref": c.JobWorkflowRef, "ref": c.Ref, "ref_type": c.RefType,
		"event_name": c.EventName, "environment": c.Environment, "sha": c.SHA,
	} {
		if v != "" {
			claims[k] = v
		}
	}
	header, _ := json.Marshal(map[string]string{"alg": alg, "kid": kid, "typ": "JWT"})
	payload, _ := json.Marshal(claims)
	signing := b64(header) + "." + b64(payload)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		is.tb.Fatalf("launchplanetest: sign token: %v", err)
	}
	return signing + "." + b64(sig)
}

// RunnerTokenURL returns a URL that stands in for the runner's ACTIONS_ID_TOKEN_REQUEST_URL: a
// GET carrying "Authorization: Bearer <requestToken>" gets {"value": <JWT>} for c with the
// audience asked for in the audience query parameter, as the runner's endpoint answers.
func (is *Issuer) RunnerTokenURL(requestToken string, c Claims) string {
	is.tb.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+requestToken {
			http.Error(w, "bad request token", http.StatusUnauthorized)
			return
		}
		aud := r.URL.Query().Get("audience")
		is.mu.Lock()
		is.auds = append(is.auds, aud)
		is.mu.Unlock()
		claims := c
		if aud != "" {
			claims.Audience = aud
		}
		writeJSON(w, http.StatusOK, map[string]string{"value": is.Token(claims)})
	}))
	is.tb.Cleanup(srv.Close)
	return srv.URL + "/token?api-version=2.0"
}

// Audiences returns the audiences the runner endpoints were asked for, in order.
func (is *Issuer) Audiences() []string {
	is.mu.Lock()
	defer is.mu.Unlock()
	return append([]string(nil), is.auds...)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// jwks is a fetched key set, as PyJWKClient keeps it.
type jwks struct {
	mu   sync.Mutex
	url  string
	hc   *http.Client
	keys map[string]*rsa.PublicKey
}

// key returns the key with kid, fetching the set when kid is unknown (PyJWKClient refetches
// on a miss).
func (j *jwks) key(kid string) (*rsa.PublicKey, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if k, ok := j.keys[kid]; ok {
		return k, nil
	}
	resp, err := j.hc.Get(j.url)
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS: %w", err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct{ Kty, Kid, N, E string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		return nil, fmt.Errorf("read JWKS: %w", err)
	}
	j.keys = map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if k.Kty != "RSA" || err1 != nil || err2 != nil {
			continue
		}
		j.keys[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	if k, ok := j.keys[kid]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("no key %q in the JWKS", kid)
}

// actionsIdentity is GitHubActionsIdentity: the claims Launchplane keeps after verifying.
type actionsIdentity struct {
	Repository, RepositoryOwner, RepositoryID, RepositoryOwnerID string
	WorkflowRef, JobWorkflowRef, Ref, RefType, EventName         string
	Environment, Subject, SHA                                    string
}

// verifyToken is GitHubOidcVerifier.verify (cbusillo/launchplane control_plane/service_auth.py
// @ 02594f465f887a5effd4c0aa1b350e7c513d7ffc) with PyJWT's decode rules: RS256 only, the key
// chosen by kid from the JWKS, the signature, exp (expired when exp <= now), nbf and iat (not
// in the future), iss equal to the issuer, aud holding the audience; then the claims the
// verifier requires: repository, repository_owner, numeric repository_id and
// repository_owner_id, workflow_ref. A refusal returns the 401 message, worded as PyJWT's and the
// verifier's are.
func verifyToken(token string, keys *jwks, issuer, audience string, now time.Time) (*actionsIdentity, string) {
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, "OIDC bearer token is required."
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, "Not enough segments"
	}
	var header struct{ Alg, Kid string }
	if err := decodeSegment(parts[0], &header); err != nil {
		return nil, fmt.Sprintf("Invalid header string: %v", err)
	}
	pub, err := keys.key(header.Kid)
	if err != nil {
		return nil, "Unable to find a signing key that matches the token's kid"
	}
	if header.Alg != "RS256" {
		return nil, "The specified alg value is not allowed"
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, "Invalid crypto padding"
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig) != nil {
		return nil, "Signature verification failed"
	}
	var claims map[string]any
	if err := decodeSegment(parts[1], &claims); err != nil {
		return nil, fmt.Sprintf("Invalid payload string: %v", err)
	}
	unix := float64(now.Unix())
	if v, ok := claims["exp"]; ok {
		exp, isNum := v.(float64)
		if !isNum {
			return nil, "Expiration Time claim (exp) must be an integer."
		}
		if exp <= unix {
			return nil, "Signature has expired"
		}
	}
	if v, ok := claims["iat"]; ok {
		iat, isNum := v.(float64)
		if !isNum {
			return nil, "Issued At claim (iat) must be an integer."
		}
		if iat > unix {
			return nil, "The token is not yet valid (iat)"
		}
	}
	if v, ok := claims["nbf"]; ok {
		nbf, isNum := v.(float64)
		if !isNum || nbf > unix {
			return nil, "The token is not yet valid (nbf)"
		}
	}
	iss, ok := claims["iss"]
	if !ok {
		return nil, `Token is missing the "iss" claim`
	}
	if s, _ := iss.(string); s != issuer {
		return nil, "Invalid issuer"
	}
	aud, ok := claims["aud"]
	if !ok {
		return nil, `Token is missing the "aud" claim`
	}
	if !audienceHolds(aud, audience) {
		return nil, "Audience doesn't match"
	}
	text := func(key string) string {
		v, ok := claims[key]
		if !ok || v == nil {
			return ""
		}
		if s, ok := v.(string); ok {
			return strings.TrimSpace(s)
		}
		return strings.TrimSpace(fmt.Sprint(v))
	}
	id := &actionsIdentity{
		Repository: text("repository"), RepositoryOwner: text("repository_owner"),
		RepositoryID: text("repository_id"), RepositoryOwnerID: text("repository_owner_id"),
		WorkflowRef: text("workflow_ref"), JobWorkflowRef: text("job_workflow_ref"),
		Ref: text("ref"), RefType: text("ref_type"), EventName: text("event_name"),
		Environment: text("environment"), Subject: text("sub"), SHA: text("sha"),
	}
	switch {
	case id.Repository == "":
		return nil, "OIDC token is missing repository claim."
	case id.RepositoryOwner == "":
		return nil, "OIDC token is missing repository_owner claim."
	case !decimal(id.RepositoryID):
		return nil, "OIDC token is missing numeric repository_id claim."
	case !decimal(id.RepositoryOwnerID):
		return nil, "OIDC token is missing numeric repository_owner_id claim."
	case id.WorkflowRef == "":
		return nil, "OIDC token is missing workflow_ref claim."
	}
	return id, ""
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// audienceHolds is PyJWT's audience check: aud is a string or a list of strings holding want.
func audienceHolds(aud any, want string) bool {
	switch t := aud.(type) {
	case string:
		return t == want
	case []any:
		for _, a := range t {
			if s, ok := a.(string); ok && s == want {
				return true
			}
		}
	}
	return false
}

// decimal is Python's str.isdecimal for the ASCII digits GitHub sends, non-empty.
func decimal(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
