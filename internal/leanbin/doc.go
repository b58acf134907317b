// Package leanbin holds no code: its test checks that the shipped binary (./cmd/action) stays
// the product. It must link no test support (testing, net/http/httptest, the OpenAPI and JSON
// Schema validators, internal/contracttest, the fakes that only tests use) and hold no
// secret-looking literal (a token prefix, a private key block, a URL with a password), because
// the demo it carries plants such values at run time.
package leanbin
