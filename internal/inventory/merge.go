package inventory

import (
	"fmt"
	"strings"
	"time"
)

// Merge joins the reports of every shard of one input into one report. It returns an
// *InputError, and merges nothing, when the reports come from different inputs (lanes digest,
// lane total, source or shard count differ), when a shard is given twice (overlap) or not at all
// (gap), when a lane sits in a shard its key does not hash to, or when the lanes do not add up to
// the input's total. names label the reports in messages (file names); it may be nil.
//
// The merged report holds every lane, sorted, with the counts recomputed; its shard is 0/1, its
// merged_shards the number of reports joined and its generated_at the latest shard's.
func Merge(reports []*Report, names []string) (*Report, error) {
	name := func(i int) string {
		if i < len(names) {
			return names[i]
		}
		return fmt.Sprintf("report %d", i+1)
	}
	fail := func(path, format string, args ...any) error {
		return inputError("shard reports", Problem{Path: path, Reason: fmt.Sprintf(format, args...)})
	}
	if len(reports) == 0 {
		return nil, fail("", "none given; give every shard's JSON report")
	}
	first := reports[0]
	n := first.Shard.count()
	for i, r := range reports[1:] {
		switch {
		case r.LanesDigest != first.LanesDigest:
			return nil, fail(name(i+1), "was cut from other lanes than %s (lanes_digest %s, not %s): run every shard on the same lanes", name(0), r.LanesDigest, first.LanesDigest)
		case r.Source != first.Source:
			return nil, fail(name(i+1), "has source %s, %s has %s", quote(r.Source), name(0), quote(first.Source))
		case r.LanesTotal != first.LanesTotal:
			return nil, fail(name(i+1), "counts %d lanes in its input, %s counts %d", r.LanesTotal, name(0), first.LanesTotal)
		case r.Shard.count() != n:
			return nil, fail(name(i+1), "is shard %s, %s is shard %s: every shard must split the lanes the same number of ways", r.Shard, name(0), first.Shard)
		}
	}
	holder := make(map[int]int, n)
	var probs []Problem
	for i, r := range reports {
		if j, dup := holder[r.Shard.Index]; dup {
			probs = append(probs, Problem{Path: name(i), Reason: fmt.Sprintf("overlaps %s: both are shard %s", name(j), r.Shard)})
			continue
		}
		holder[r.Shard.Index] = i
	}
	var missing []string
	for k := range n {
		if _, ok := holder[k]; !ok {
			missing = append(missing, fmt.Sprintf("%d/%d", k, n))
		}
	}
	if len(missing) > 0 {
		probs = append(probs, Problem{Reason: fmt.Sprintf("shard %s missing (a gap): every shard 0 to %d must be given", strings.Join(missing, ", "), n-1)})
	}
	if len(probs) > 0 {
		return nil, inputError("shard reports", probs...)
	}
	merged := &Report{
		SchemaVersion: SchemaVersion,
		Source:        first.Source,
		LanesDigest:   first.LanesDigest,
		LanesTotal:    first.LanesTotal,
		Shard:         Shard{Index: 0, Count: 1},
		MergedShards:  max(len(reports), first.MergedShards),
	}
	var latest time.Time
	seen := make(map[string]string, first.LanesTotal)
	for i, r := range reports {
		if t, err := time.Parse(time.RFC3339, r.GeneratedAt); err == nil && t.After(latest) {
			latest, merged.GeneratedAt = t, r.GeneratedAt
		}
		for j, l := range r.Lanes {
			path := fmt.Sprintf("%s: lanes[%d]", name(i), j)
			if n > 1 && ShardOf(l.Product, l.Context, l.Instance, n) != r.Shard.Index {
				return nil, fail(path, "%s belongs to shard %d/%d, not %s", quote(l.Key()), ShardOf(l.Product, l.Context, l.Instance, n), n, r.Shard)
			}
			if other, dup := seen[l.Key()]; dup {
				return nil, fail(path, "repeats lane %s of %s (overlapping shards)", quote(l.Key()), other)
			}
			seen[l.Key()] = name(i)
			merged.Lanes = append(merged.Lanes, l)
		}
	}
	if len(merged.Lanes) != first.LanesTotal {
		return nil, fail("", "the shards hold %d lanes but their input has %d: a shard report is incomplete", len(merged.Lanes), first.LanesTotal)
	}
	if merged.GeneratedAt == "" {
		merged.GeneratedAt = first.GeneratedAt
	}
	merged.finish()
	return merged, nil
}
