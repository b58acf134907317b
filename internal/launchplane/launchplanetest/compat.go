package launchplanetest

// WithToken accepts tok as a configured bearer token allowed everything.
//
// Transitional: the fake now verifies real OIDC tokens (Server.Token, Issuer.RunnerTokenURL); use
// WithStaticToken for a local operator's token. Kept until cmd/action's tests move.
func WithToken(tok string) Option { return WithStaticToken(tok, StaticRule{}) }
