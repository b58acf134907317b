package launchplane

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/launchplane/runtime-identity/internal/identity"
)

// This file keeps the previous API compiling until internal/action moves to NewStableVerification,
// PostStableVerification and Deployment.Expected. Delete it then.

// ErrNoIdentity was returned for a record without an identity.
//
// Transitional: Deployment now returns such a record with Expected nil; nothing returns this.
var ErrNoIdentity = errors.New("the record carries no runtime identity")

// Verification is the old report input.
//
// Transitional: use ReportInput and NewStableVerification.
type Verification struct {
	Product, Context, Instance string
	DeploymentRecordID         string
	PromotionRecordID          string
	Status                     string
	VerifiedAt                 time.Time
	CheckedURLs                []string
	TimeoutSeconds             int
	HealthPayload              []byte
	FailureSummary             string
}

// ReportVerification sends v through NewStableVerification, treating v.Status as the verdict
// and v.HealthPayload as the health body, and returns the trace_id.
//
// Transitional: use NewStableVerification and PostStableVerification; the key argument is
// ignored in favour of Launchplane's own key format.
func (c *Client) ReportVerification(ctx context.Context, v Verification, _ string) (string, error) {
	in := ReportInput{
		Product: v.Product, Context: v.Context, Instance: v.Instance, RecordID: v.DeploymentRecordID,
		Verdict: identity.Status(v.Status), Detail: v.FailureSummary, HealthBody: v.HealthPayload,
		Timeout: time.Duration(v.TimeoutSeconds) * time.Second, VerifiedAt: v.VerifiedAt,
	}
	if len(v.CheckedURLs) > 0 {
		in.CheckedURL = v.CheckedURLs[0]
	}
	req, _, err := NewStableVerification(in)
	if err != nil {
		return "", err
	}
	a, err := c.PostStableVerification(ctx, req)
	if err != nil {
		return "", err
	}
	if a.TraceID == "" {
		return "", fmt.Errorf("launchplane: report stable verification: %w: no trace_id", ErrBadResponse)
	}
	return a.TraceID, nil
}
