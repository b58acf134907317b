package launchplane

import (
	"errors"
	"testing"
)

// TestParseReadRecordID checks that a read is accepted only for the record asked for, named by
// the exact key record_id.
func TestParseReadRecordID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want error // nil = accepted
	}{
		{"the record asked for", `{"status":"ok","record":{"record_id":"` + fuzzRecordID + `"}}`, nil},
		{"another record", `{"status":"ok","record":{"record_id":"deployment-other"}}`, ErrRecordMismatch},
		{"the id in another case only", `{"status":"ok","record":{"RECORD_ID":"` + fuzzRecordID + `"}}`, ErrBadResponse},
		{"another record, then the id in another case", `{"status":"ok","record":{"record_id":"deployment-other","Record_Id":"` + fuzzRecordID + `"}}`, ErrRecordMismatch},
		{"no record_id", `{"status":"ok","record":{"deployment_record_id":"` + fuzzRecordID + `"}}`, ErrBadResponse},
		{"record_id null", `{"status":"ok","record":{"record_id":null}}`, ErrBadResponse},
		{"record_id a number", `{"status":"ok","record":{"record_id":7}}`, ErrBadResponse},
	}
	for _, tt := range tests {
		d, err := parseRead([]byte(tt.body), fuzzRecordID)
		switch {
		case tt.want == nil && err != nil:
			t.Errorf("%s: parseRead() = %v, want accepted", tt.name, err)
		case tt.want != nil && !errors.Is(err, tt.want):
			t.Errorf("%s: parseRead() = %+v, %v; want %v", tt.name, d, err, tt.want)
		}
	}
}

// TestParseEnvironmentNames checks that a product environment read is accepted only for the
// product and environment asked for, named by their exact keys.
func TestParseEnvironmentNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want error // nil = accepted
	}{
		{"the environment asked for", `{"status":"ok","environment":{"product":"p","environment":"prod","target":{}}}`, nil},
		{"another environment", `{"status":"ok","environment":{"product":"p","environment":"testing","target":{}}}`, ErrRecordMismatch},
		{"another product, then the product in another case", `{"status":"ok","environment":{"product":"q","Product":"p","environment":"prod","target":{}}}`, ErrRecordMismatch},
		{"the environment in another case only", `{"status":"ok","environment":{"product":"p","ENVIRONMENT":"prod","target":{}}}`, ErrBadResponse},
		{"no target", `{"status":"ok","environment":{"product":"p","environment":"prod"}}`, ErrBadResponse},
	}
	for _, tt := range tests {
		e, err := parseEnvironment([]byte(tt.body), "p", "prod")
		switch {
		case tt.want == nil && err != nil:
			t.Errorf("%s: parseEnvironment() = %v, want accepted", tt.name, err)
		case tt.want != nil && !errors.Is(err, tt.want):
			t.Errorf("%s: parseEnvironment() = %+v, %v; want %v", tt.name, e, err, tt.want)
		}
	}
}
