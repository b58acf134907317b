package dokploy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"
)

func TestAPIErrorParse(t *testing.T) {
	t.Parallel()
	big := `{"message":"` + strings.Repeat("x", errorBodyLimit) + `","code":"BAD_REQUEST"}`
	tests := []struct {
		name             string
		status           int
		body             string
		want             *APIError
		wantText         string
		isUnauthorized   bool
		isNotFound       bool
		wantMessageRunes int // when > 0, the message length instead of want.Message
	}{
		{
			name: "unauthorized before routing", status: 401, body: `{"message":"Unauthorized"}`,
			want:     &APIError{Method: "GET", Operation: "application.one", StatusCode: 401, Message: "Unauthorized"},
			wantText: "GET application.one: 401 Unauthorized: Unauthorized", isUnauthorized: true,
		},
		{
			name: "permission denied in procedure", status: 401,
			body: `{"message":"You don't have access to this service","code":"UNAUTHORIZED","data":{"code":"UNAUTHORIZED","httpStatus":401,"path":"application.one"}}`,
			want: &APIError{Method: "GET", Operation: "application.one", StatusCode: 401, Code: "UNAUTHORIZED",
				Message: "You don't have access to this service", Procedure: "application.one"},
			wantText:       "GET application.one: 401 UNAUTHORIZED: You don't have access to this service",
			isUnauthorized: true,
		},
		{
			name: "not found", status: 404, body: `{"message":"Application not found","code":"NOT_FOUND","data":{"code":"NOT_FOUND","httpStatus":404,"path":"application.one"}}`,
			want:     &APIError{Method: "GET", Operation: "application.one", StatusCode: 404, Code: "NOT_FOUND", Message: "Application not found", Procedure: "application.one"},
			wantText: "GET application.one: 404 NOT_FOUND: Application not found", isNotFound: true,
		},
		{
			name: "unknown procedure", status: 404, body: `{"message":"Not found","code":"NOT_FOUND"}`,
			want:       &APIError{Method: "GET", Operation: "application.one", StatusCode: 404, Code: "NOT_FOUND", Message: "Not found"},
			wantText:   "GET application.one: 404 NOT_FOUND: Not found",
			isNotFound: true,
		},
		{
			name:   "validation issues",
			status: 400,
			body: `{"message":"Input validation failed","code":"BAD_REQUEST","data":{"code":"BAD_REQUEST","httpStatus":400,"zodError":{"formErrors":[],"fieldErrors":{"buildArgs":["Invalid input"]}}},` +
				`"issues":[{"code":"invalid_type","expected":"string","path":["buildArgs"],"message":"Invalid input: expected string, received undefined"},` +
				`{"code":"too_small","path":["domains",0,"host"],"message":"Too small"}]}`,
			want: &APIError{Method: "GET", Operation: "application.one", StatusCode: 400, Code: "BAD_REQUEST", Message: "Input validation failed",
				Issues: []Issue{
					{Code: "invalid_type", Path: []any{"buildArgs"}, Message: "Invalid input: expected string, received undefined"},
					{Code: "too_small", Path: []any{"domains", float64(0), "host"}, Message: "Too small"},
				}},
			wantText: "GET application.one: 400 BAD_REQUEST: Input validation failed; buildArgs: Invalid input: expected string, received undefined; domains.0.host: Too small",
		},
		{
			name: "code only in data", status: 409, body: `{"message":"busy","data":{"code":"CONFLICT"}}`,
			want:     &APIError{Method: "GET", Operation: "application.one", StatusCode: 409, Code: "CONFLICT", Message: "busy"},
			wantText: "GET application.one: 409 CONFLICT: busy",
		},
		{
			name: "trpc envelope", status: 500, body: `{"error":{"message":"Internal server error","code":-32603,"data":{"code":"INTERNAL_SERVER_ERROR"}}}`,
			want:     &APIError{Method: "GET", Operation: "application.one", StatusCode: 500, Code: "-32603", Message: "Internal server error"},
			wantText: "GET application.one: 500 -32603: Internal server error",
		},
		{
			name: "html from a proxy", status: 502, body: "<html><body>Bad gateway</body></html>",
			want:     &APIError{Method: "GET", Operation: "application.one", StatusCode: 502},
			wantText: "GET application.one: 502 Bad Gateway",
		},
		{
			name: "empty body", status: 500, body: "",
			want:     &APIError{Method: "GET", Operation: "application.one", StatusCode: 500},
			wantText: "GET application.one: 500 Internal Server Error",
		},
		{
			name: "body beyond the limit is not parsed", status: 400, body: big,
			want:     &APIError{Method: "GET", Operation: "application.one", StatusCode: 400},
			wantText: "GET application.one: 400 Bad Request",
		},
		{
			name: "long message cut and newlines flattened", status: 400,
			body:             `{"message":"line one\n::set-output name=x::y ` + strings.Repeat("y", 500) + `"}`,
			want:             &APIError{Method: "GET", Operation: "application.one", StatusCode: 400},
			wantMessageRunes: maxMessageRunes, // cut to exactly the limit, "…" included
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest(http.MethodGet, "http://d.example/api/application.one?applicationId=a1", nil)
			resp := &http.Response{StatusCode: tt.status, Request: req, Body: io.NopCloser(strings.NewReader(tt.body)), Header: http.Header{}}
			err := checkResponse(resp, "application.one", nil)
			var got *APIError
			if !errors.As(err, &got) {
				t.Fatalf("checkResponse() = %v, want an *APIError", err)
			}
			if want := tt.name == "not found"; got.ProcedureNotFound() != want {
				t.Errorf("ProcedureNotFound() = %v, want %v: only the procedure's own 404 names a missing target", got.ProcedureNotFound(), want)
			}
			if tt.wantMessageRunes > 0 {
				if n := len([]rune(got.Message)); n != tt.wantMessageRunes {
					t.Errorf("len(Message) = %v runes, want %v", n, tt.wantMessageRunes)
				}
				if strings.ContainsAny(got.Error(), "\n\r") {
					t.Errorf("Error() = %q spans lines", got.Error())
				}
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("checkResponse() mismatch (-want +got):\n%s", diff)
			}
			if got.Error() != tt.wantText {
				t.Errorf("Error() = %q, want %q", got.Error(), tt.wantText)
			}
			if errors.Is(err, ErrUnauthorized) != tt.isUnauthorized {
				t.Errorf("errors.Is(err, ErrUnauthorized) = %v, want %v", !tt.isUnauthorized, tt.isUnauthorized)
			}
			if errors.Is(err, ErrNotFound) != tt.isNotFound {
				t.Errorf("errors.Is(err, ErrNotFound) = %v, want %v", !tt.isNotFound, tt.isNotFound)
			}
		})
	}
}

func TestAPIErrorSuccessIsNil(t *testing.T) {
	t.Parallel()
	for _, status := range []int{200, 201, 204} {
		req, _ := http.NewRequest(http.MethodGet, "http://d.example/api/x.y", nil)
		resp := &http.Response{StatusCode: status, Request: req, Body: io.NopCloser(strings.NewReader(""))}
		if err := checkResponse(resp, "x.y", nil); err != nil {
			t.Errorf("checkResponse(%d) = %v, want nil", status, err)
		}
	}
}

// TestAPIErrorNoLeak plants secrets in the key, the env body and the query
// and has the server echo the whole request back in every field it can.
func TestAPIErrorNoLeak(t *testing.T) {
	t.Parallel()
	const (
		envSecret   = "planted-env-value-7421"
		argSecret   = "planted-build-arg-3318"
		querySecret = "planted-query-id-5550"
	)
	env := "# header\nDATABASE_URL=postgres://u:" + envSecret + "@db/x\nMULTI=\"first\nsecond-line-" + envSecret + "\"\n"
	echo := func(w http.ResponseWriter, r *http.Request, status int) {
		body, _ := io.ReadAll(r.Body)
		raw := r.URL.String() + " " + r.URL.RawQuery + " " + r.Header.Get("x-api-key") + " " + string(body)
		q, _ := json.Marshal(raw)
		msg := string(q)
		writeJSON(w, status, `{"message":"echo: `+msg[1:]+`,"code":`+msg+`,"issues":[{"code":"x","path":[`+msg+`],"message":`+msg+`}]}`)
	}
	tests := []struct {
		name string
		call func(*Client) error
	}{
		{name: "POST saveEnvironment 400", call: func(c *Client) error {
			return c.Application.SaveEnvironment(context.Background(), &SaveEnvironment{ApplicationID: "a1", Env: env, BuildArgs: ptr("TOKEN=" + argSecret)})
		}},
		{name: "POST compose.update 500", call: func(c *Client) error {
			_, err := c.Compose.UpdateEnv(context.Background(), "c1", env)
			return err
		}},
		{name: "GET one 404", call: func(c *Client) error {
			_, err := c.Application.One(context.Background(), querySecret)
			return err
		}},
		{name: "GET readLogs 503 after retries", call: func(c *Client) error {
			_, err := c.Deployment.ReadLogs(context.Background(), querySecret, 40)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			mux.HandleFunc("/api/application.saveEnvironment", func(w http.ResponseWriter, r *http.Request) { echo(w, r, 400) })
			mux.HandleFunc("/api/compose.update", func(w http.ResponseWriter, r *http.Request) { echo(w, r, 500) })
			mux.HandleFunc("/api/application.one", func(w http.ResponseWriter, r *http.Request) { echo(w, r, 404) })
			mux.HandleFunc("/api/deployment.readLogs", func(w http.ResponseWriter, r *http.Request) { echo(w, r, 503) })
			err := tt.call(c)
			if err == nil {
				t.Fatal("call error = nil, want an API error")
			}
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("error = %v, want an *APIError", err)
			}
			if !strings.Contains(ae.Message, "echo:") {
				t.Fatalf("Message = %q, want the server's echo kept (scrubbed)", ae.Message)
			}
			// The wrapping context names the target id by design ("read
			// application <id>"); the API error itself must not repeat it.
			texts := []string{ae.Error(), ae.Message, ae.Code}
			for _, is := range ae.Issues {
				texts = append(texts, is.Message, is.Code, is.PathString())
			}
			for _, text := range texts {
				for _, planted := range []string{testKey, envSecret, argSecret, querySecret, "postgres://"} {
					if strings.Contains(text, planted) {
						t.Errorf("error text %q contains %q", text, planted)
					}
				}
			}
			for _, planted := range []string{testKey, envSecret, argSecret, "applicationId=" + querySecret, "deploymentId=" + querySecret} {
				if strings.Contains(err.Error(), planted) {
					t.Errorf("error %q contains %q", err, planted)
				}
			}
		})
	}
}

func TestAPIErrorSanitizeURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{name: "query", in: "https://d.example/api/application.one?applicationId=x", want: "https://d.example/api/application.one"},
		{name: "fragment", in: "https://d.example/a#frag", want: "https://d.example/a"},
		{name: "user info", in: "https://user:pw@d.example/x?y=1", want: "https://d.example/x"},
		{name: "host only", in: "https://d.example", want: "https://d.example"},
		{name: "relative", in: "/login?next=/x", want: "/login"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := sanitizeURL(tt.in); got != tt.want {
				t.Errorf("sanitizeURL(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// FuzzAPIErrorBody feeds arbitrary error bodies through checkResponse: it
// must not panic, must keep planted secrets out, and must stay on one line.
func FuzzAPIErrorBody(f *testing.F) {
	for _, seed := range []string{
		`{"message":"Unauthorized"}`,
		`{"message":"Input validation failed","code":"BAD_REQUEST","issues":[{"code":"invalid_type","path":["env",1],"message":"m"}]}`,
		`{"error":{"message":"x","code":-32600}}`,
		`{"message":["not","a","string"],"code":{"x":1},"issues":"no"}`,
		`{"message":"SECRETVALUE\n::add-mask::x"}`,
		`<html>`, ``, `null`, `[]`, `"str"`,
	} {
		f.Add(400, []byte(seed))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 300 || status > 599 {
			status = 400 + (status%100+100)%100
		}
		req, _ := http.NewRequest(http.MethodPost, "http://d.example/api/x.y", nil)
		resp := &http.Response{StatusCode: status, Request: req, Body: io.NopCloser(bytes.NewReader(body)), Header: http.Header{}}
		err := checkResponse(resp, "x.y", []string{"SECRETVALUE"})
		var ae *APIError
		if !errors.As(err, &ae) {
			t.Fatalf("checkResponse() = %v, want an *APIError", err)
		}
		text := ae.Error()
		if strings.Contains(text, "SECRETVALUE") {
			t.Errorf("Error() = %q contains the planted secret", text)
		}
		if strings.IndexFunc(text, unicode.IsControl) >= 0 {
			t.Errorf("Error() = %q contains a control character", text)
		}
	})
}

func ptr[T any](v T) *T { return &v }
