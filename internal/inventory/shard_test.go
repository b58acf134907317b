package inventory

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/launchplane/runtime-identity/internal/clock/clocktest"
)

func TestParseShard(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Shard
		wantErr string
	}{
		{"", Shard{0, 1}, ""},
		{"0/1", Shard{0, 1}, ""},
		{"3/10", Shard{3, 10}, ""},
		{"999/1000", Shard{999, 1000}, ""},
		{"10/10", Shard{}, "shards are numbered 0 to 9"},
		{"-1/10", Shard{}, "shards are numbered 0 to 9"},
		{"0/0", Shard{}, "want between 1 and 1000"},
		{"0/1001", Shard{}, "want between 1 and 1000"},
		{"3", Shard{}, "want i/n"},
		{"a/b", Shard{}, "want i/n"},
		{"1/2/3", Shard{}, "want i/n"},
	}
	for _, tt := range tests {
		got, err := ParseShard(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseShard(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseShard(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestShardsAreStableAndEven(t *testing.T) {
	t.Parallel()
	const lanes, shards = 10_000, 10
	counts := make([]int, shards)
	for i := range lanes {
		counts[ShardOf("p"+fmt.Sprint(i%7), "ctx"+fmt.Sprint(i), "prod", shards)]++
	}
	for k, n := range counts {
		// A fair hash puts about 1,000 lanes in each shard; 850 to 1,150 is over 4 standard deviations.
		if n < 850 || n > 1150 {
			t.Errorf("shard %d holds %d of %d lanes, want about %d", k, n, lanes, lanes/shards)
		}
	}
	// Pinned: the hash is part of the shard reports' format.
	if got := ShardOf("shop", "shop", "prod", 10); got != pinnedShard {
		t.Errorf("ShardOf(shop, shop, prod, 10) = %d, want %d: changing the hash breaks merging reports of different versions", got, pinnedShard)
	}
}

// pinnedShard is FNV-1a-64("shop\x00shop\x00prod") mod 10, computed independently in Python:
// 11646267778144169636 mod 10.
const pinnedShard = 6

// shardFleet is a fleet of n lanes with every status, as a lanes file.
func shardFleet(n int) []fleetLane {
	kinds := []string{serveMatch, serveMatch, serveMatch, serveStale, serveMissing, serveMalformed, serveDown}
	lanes := make([]fleetLane, n)
	for i := range lanes {
		lanes[i] = fleetLane{
			product:  fmt.Sprintf("p%d", i%4),
			context:  fmt.Sprintf("c%02d", i),
			instance: []string{"prod", "testing"}[i%2],
			serve:    kinds[i%len(kinds)],
			require:  i%5 == 0,
			base:     i%3 == 0,
		}
	}
	return lanes
}

func runShard(t *testing.T, file []byte, s Shard) *Report {
	t.Helper()
	clk := clocktest.New()
	rep, err := Inventory{Source: FileSource{Data: file}, SourceKind: SourceLanesFile, Shard: s, Prober: Prober{Concurrency: 8, Now: clk.Now, Sleep: clk.Sleep}}.Run(context.Background())
	if err != nil {
		t.Fatalf("Run(shard %s) error = %v", s, err)
	}
	return rep
}

func TestTenShardsMakeTheWhole(t *testing.T) {
	t.Parallel()
	f := startFleet(t, shardFleet(60))
	file := f.lanesFile(t)
	whole := runShard(t, file, Shard{0, 1})

	// Every runner of a matrix reads the same lanes, maybe reordered: shuffle them per shard.
	var shards []*Report
	var names []string
	for k := range 10 {
		shuffled := &fleet{lanes: append([]fleetLane(nil), f.lanes...), urls: append([]string(nil), f.urls...)}
		r := rand.New(rand.NewPCG(uint64(k), 7))
		r.Shuffle(len(shuffled.lanes), func(i, j int) {
			shuffled.lanes[i], shuffled.lanes[j] = shuffled.lanes[j], shuffled.lanes[i]
			shuffled.urls[i], shuffled.urls[j] = shuffled.urls[j], shuffled.urls[i]
		})
		rep := runShard(t, shuffled.lanesFile(t), Shard{k, 10})
		if rep.LanesDigest != whole.LanesDigest || rep.LanesTotal != 60 {
			t.Fatalf("shard %d digest %s total %d, want the whole's %s and 60", k, rep.LanesDigest, rep.LanesTotal, whole.LanesDigest)
		}
		// Each shard's JSON goes through a file, as between the jobs of a workflow.
		back, err := ReadReport(fmt.Sprintf("shard-%d.json", k), rep.JSON())
		if err != nil {
			t.Fatalf("ReadReport(shard %d) error = %v", k, err)
		}
		shards = append(shards, back)
		names = append(names, fmt.Sprintf("shard-%d.json", k))
	}
	sizes := 0
	for _, s := range shards {
		if len(s.Lanes) == 0 || len(s.Lanes) == 60 {
			t.Errorf("shard %s holds %d of 60 lanes; want a real slice", s.Shard, len(s.Lanes))
		}
		sizes += len(s.Lanes)
	}
	if sizes != 60 {
		t.Errorf("the shards hold %d lanes together, want 60", sizes)
	}

	// Merged in any order, they are the whole.
	rev := append([]*Report(nil), shards...)
	revNames := append([]string(nil), names...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
		revNames[i], revNames[j] = revNames[j], revNames[i]
	}
	merged, err := Merge(rev, revNames)
	if err != nil {
		t.Fatalf("Merge() error = %v", err)
	}
	if merged.MergedShards != 10 || merged.Shard != (Shard{0, 1}) {
		t.Errorf("merged shard %v merged_shards %d, want 0/1 and 10", merged.Shard, merged.MergedShards)
	}
	want := *whole
	want.MergedShards = 10
	if diff := cmp.Diff(&want, merged); diff != "" {
		t.Errorf("Merge(10 shards) differs from the whole run (-whole +merged):\n%s", diff)
	}

	t.Run("overlap", func(t *testing.T) {
		_, err := Merge(append(shards[:9:9], shards[3]), append(names[:9:9], "again-3.json"))
		wantMergeError(t, err, "again-3.json: overlaps shard-3.json: both are shard 3/10", "shard 9/10 missing")
	})
	t.Run("gap", func(t *testing.T) {
		_, err := Merge(append(shards[:4:4], shards[5:]...), append(names[:4:4], names[5:]...))
		wantMergeError(t, err, "shard 4/10 missing (a gap)")
	})
	t.Run("another input", func(t *testing.T) {
		other := *shards[2]
		other.LanesDigest = "sha256:" + strings.Repeat("0", 64)
		_, err := Merge([]*Report{shards[0], shards[1], &other}, []string{"a", "b", "c"})
		wantMergeError(t, err, "c: was cut from other lanes than a")
	})
	t.Run("another shard count", func(t *testing.T) {
		five := *shards[1]
		five.Shard = Shard{1, 5}
		_, err := Merge([]*Report{shards[0], &five}, []string{"a", "b"})
		wantMergeError(t, err, "b: is shard 1/5, a is shard 0/10")
	})
	t.Run("a lane in the wrong shard", func(t *testing.T) {
		moved := append([]*Report(nil), shards...)
		a, b := *moved[0], *moved[1]
		b.Lanes = append(append([]LaneResult(nil), b.Lanes...), a.Lanes[0])
		a.Lanes = a.Lanes[1:]
		moved[0], moved[1] = &a, &b
		_, err := Merge(moved, names)
		wantMergeError(t, err, "belongs to shard 0/10, not 1/10")
	})
	t.Run("an incomplete shard", func(t *testing.T) {
		cut := append([]*Report(nil), shards...)
		c := *cut[7]
		c.Lanes = c.Lanes[1:]
		cut[7] = &c
		_, err := Merge(cut, names)
		wantMergeError(t, err, "the shards hold 59 lanes but their input has 60")
	})
}

func wantMergeError(t *testing.T, err error, wants ...string) {
	t.Helper()
	var ie *InputError
	if !errors.As(err, &ie) || ExitCode(nil, err) != ExitConfig {
		t.Fatalf("Merge() error = %v, want an *InputError (exit 2)", err)
	}
	for _, w := range wants {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("Merge() error =\n%v\nwant it to contain %q", err, w)
		}
	}
}
