package inventory

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/launchplane/runtime-identity/internal/identity"
)

// Inventory is one run: where the lanes come from, how they are probed, which shard is taken.
type Inventory struct {
	// Source lists the lanes. Required.
	Source LaneSource
	// SourceKind is SourceLanesFile or SourceLaunchplane, recorded in the report.
	SourceKind string
	// Records reads the expected identity of lanes that name a deployment record; nil when no
	// Launchplane is configured (such lanes are then an input error).
	Records RecordReader
	// Shard is the slice of the lanes to probe; the zero value is all of them.
	Shard Shard
	// Prober probes the lanes.
	Prober Prober
}

// Run lists the lanes, reads the deployment records the shard's lanes name, probes them and
// returns the report. Its error is an *InputError (ExitConfig), a *SourceError (ExitUnknown) or
// ctx's error; nothing is probed when it fails before probing. When ctx ends while probing, the
// report comes back with the lanes not probed marked unverifiable, together with ctx's error.
func (inv Inventory) Run(ctx context.Context) (*Report, error) {
	inv.Prober.fill()
	lanes, err := inv.Source.Lanes(ctx)
	if err != nil {
		var ie *InputError
		var se *SourceError
		if errors.As(err, &ie) || errors.As(err, &se) {
			return nil, err
		}
		return nil, &SourceError{What: "lanes", Err: err}
	}
	if inv.Records == nil {
		var probs []Problem
		for _, l := range lanes {
			if l.DeploymentRecordID != "" {
				probs = append(probs, Problem{Path: l.Origin + ".deployment_record_id", Reason: "needs Launchplane to read the record: give --launchplane-url (the launchplane-url input), or the expected identity itself"})
			}
		}
		if len(probs) > 0 {
			return nil, inputError("lanes file", probs...)
		}
	}
	shard := inv.Shard
	if shard.Count == 0 {
		shard = Shard{Index: 0, Count: 1}
	}
	rep := &Report{
		SchemaVersion: SchemaVersion,
		GeneratedAt:   formatTime(inv.Prober.Now()),
		Source:        inv.SourceKind,
		LanesDigest:   LanesDigest(lanes),
		LanesTotal:    len(lanes),
		Shard:         shard,
	}
	mine := make([]Lane, 0, len(lanes)/shard.count()+1)
	for _, l := range lanes {
		if shard.Holds(l.Product, l.Context, l.Instance) {
			mine = append(mine, l)
		}
	}
	sortLanes(mine)
	if err := inv.resolveRecords(ctx, mine); err != nil {
		return nil, err
	}
	rep.Lanes = inv.Prober.Probe(ctx, mine)
	rep.finish()
	if err := ctx.Err(); err != nil {
		return rep, fmt.Errorf("inventory: %w", err)
	}
	return rep, nil
}

// resolveRecords reads each deployment record the lanes name once, a few at a time, and sets the
// lanes' expected identities.
func (inv Inventory) resolveRecords(ctx context.Context, lanes []Lane) error {
	byRecord := map[string][]int{}
	var ids []string
	for i, l := range lanes {
		if l.DeploymentRecordID == "" {
			continue
		}
		if _, ok := byRecord[l.DeploymentRecordID]; !ok {
			ids = append(ids, l.DeploymentRecordID)
		}
		byRecord[l.DeploymentRecordID] = append(byRecord[l.DeploymentRecordID], i)
	}
	if len(ids) == 0 {
		return nil
	}
	got := make([]*identity.Identity, len(ids))
	errs := make([]error, len(ids))
	sem := make(chan struct{}, min(inv.Prober.Concurrency, 8))
	var wg sync.WaitGroup
	for k, id := range ids {
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				errs[k] = ctx.Err()
				return
			}
			defer func() { <-sem }()
			got[k], errs[k] = inv.Records.ExpectedIdentity(ctx, id)
			if errs[k] == nil && got[k] != nil {
				if err := got[k].Validate(); err != nil {
					errs[k] = fmt.Errorf("its runtime identity: %w", err)
				} else if got[k].DeploymentRecordID != id {
					errs[k] = fmt.Errorf("it names deployment_record_id %s", quote(got[k].DeploymentRecordID))
				}
			}
		})
	}
	wg.Wait()
	for k, id := range ids {
		first := lanes[byRecord[id][0]]
		if errs[k] != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("inventory: %w", ctx.Err())
			}
			return &SourceError{What: fmt.Sprintf("deployment record %s (%s)", quote(id), first.Origin), Err: errs[k]}
		}
		for _, i := range byRecord[id] {
			if got[k] == nil {
				lanes[i].ExpectedFrom = ""
				lanes[i].notes = append(lanes[i].notes, "deployment record "+id+" carries no runtime identity (a record made before the feature), so there is nothing to compare")
				continue
			}
			exp := *got[k]
			lanes[i].Expected = &exp
		}
	}
	return nil
}
