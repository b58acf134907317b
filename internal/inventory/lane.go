package inventory

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/launchplane/runtime-identity/internal/identity"
)

// Lane is one deployment lane to probe: a product's context and instance, where its tenant
// answers, and what it should serve.
type Lane struct {
	Product, Context, Instance string
	// HealthURL is the tenant's health JSON endpoint; when set its JSON decides, and the
	// well-known document of BaseURL (default: HealthURL's origin) is read too.
	HealthURL string
	// BaseURL is the tenant's base URL: the well-known document decides when there is no
	// HealthURL. At least one of the two is set for a lane to be probed.
	BaseURL string
	// Expected is the identity the lane should serve; nil when it is read from
	// DeploymentRecordID, or when there is none (the lane is then unchecked).
	Expected *identity.Identity
	// DeploymentRecordID names the Launchplane deployment record that holds the expected
	// identity, read through a RecordReader before probing.
	DeploymentRecordID string
	// RequireIdentity makes anything but a match fail the run (exit 1).
	RequireIdentity bool
	// ExpectedFrom says where Expected came from: ExpectedFromLanesFile, ExpectedFromRecord,
	// ExpectedFromLaunchplane, or "" when there is none.
	ExpectedFrom string
	// Origin names the lane in messages, e.g. "lanes[3]" or "environment prod of product shop".
	Origin string
	// NotProbed, when set, says why the lane cannot be probed (no usable URL); the lane is then
	// reported unverifiable with this detail.
	NotProbed string
	// spec is what the input said about the expectation, for the lanes digest.
	spec string
	// notes are carried into the lane's result.
	notes []string
}

// Where an expected identity came from.
const (
	ExpectedFromLanesFile   = "lanes-file"
	ExpectedFromRecord      = "deployment-record"
	ExpectedFromLaunchplane = "launchplane"
)

// Key returns "product/context/instance", the lane's identity in the fleet.
func (l Lane) Key() string { return l.Product + "/" + l.Context + "/" + l.Instance }

// keyPattern is the rule for product, context and instance names: they key a lane in reports,
// shard hashes and merges, so they stay plain identifiers.
var keyPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

const keyRule = "letters, digits, '.', '_' and '-', starting with a letter or digit, at most 128 characters"

// checkKey returns why v is not a valid product, context or instance name, or "".
func checkKey(v string) string {
	switch {
	case v == "":
		return "is empty; give a name: " + keyRule
	case !keyPattern.MatchString(v):
		return fmt.Sprintf("is %s; valid names have %s", quote(v), keyRule)
	}
	return ""
}

// recordIDPattern is the rule for a deployment record id, such as
// deployment-20260510T141500Z-shop-prod.
var recordIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,255}$`)

// checkTargetURL returns why raw is not a URL a lane can be probed at, or "". Its reasons never
// repeat the URL, which may hold credentials.
func checkTargetURL(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return "is empty; want an absolute http:// or https:// URL"
	case strings.TrimSpace(raw) != raw:
		return "has leading or trailing whitespace; want an absolute http:// or https:// URL"
	case err != nil:
		return "does not parse as a URL; want an absolute http:// or https:// URL"
	case u.Scheme != "http" && u.Scheme != "https":
		return "must start with http:// or https://"
	case u.Host == "" || u.Hostname() == "":
		return "has no host; want an absolute http:// or https:// URL such as https://shop.example.com/api/health"
	case u.User != nil:
		return "must not contain credentials (user:password@): reports show every lane's URL"
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "must not have a #fragment"
	}
	return ""
}

// quote renders an operator-given value in a message: quoted, on one line, cut.
func quote(v string) string {
	if len(v) > 80 {
		v = v[:80] + "…"
	}
	return strconv.Quote(v)
}

// Shard selects a stable slice of the lanes: lane l belongs to shard Index of Count when the
// FNV-1a hash of its product, context and instance, modulo Count, is Index. The slice does not
// depend on the order of the lanes, so every runner of a matrix cuts the same file the same way.
// The zero value and {0, 1} hold every lane.
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// MaxShards bounds the shard count.
const MaxShards = 1000

// ParseShard reads "i/n" (0-based i, 0 <= i < n <= MaxShards). An empty string is the whole, 0/1.
func ParseShard(s string) (Shard, error) {
	if s == "" {
		return Shard{Index: 0, Count: 1}, nil
	}
	is, ns, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	switch {
	case !ok || err1 != nil || err2 != nil:
		return Shard{}, fmt.Errorf("is %s; want i/n, such as 0/10 for the first of ten shards", quote(s))
	case n < 1 || n > MaxShards:
		return Shard{}, fmt.Errorf("has %d shards; want between 1 and %d", n, MaxShards)
	case i < 0 || i >= n:
		return Shard{}, fmt.Errorf("is shard %d of %d; shards are numbered 0 to %d", i, n, n-1)
	}
	return Shard{Index: i, Count: n}, nil
}

// String renders the shard as i/n.
func (s Shard) String() string { return strconv.Itoa(s.Index) + "/" + strconv.Itoa(s.count()) }

func (s Shard) count() int { return max(s.Count, 1) }

// Holds reports whether the lane with this key belongs to the shard.
func (s Shard) Holds(product, context, instance string) bool {
	return ShardOf(product, context, instance, s.count()) == s.Index
}

// ShardOf returns the shard, of count, that the lane product/context/instance belongs to.
func ShardOf(product, context, instance string, count int) int {
	if count <= 1 {
		return 0
	}
	h := fnv.New64a()
	// NUL cannot occur in a valid name, so the three parts cannot run into each other.
	h.Write([]byte(product + "\x00" + context + "\x00" + instance))
	return int(h.Sum64() % uint64(count))
}

// LanesDigest returns "sha256:<hex>" of the lanes as the input gave them (keys, URLs, policy and
// what was said about the expected identity), in key order: every shard of one input records the
// same digest whatever the file's order or format, and Merge refuses shards cut from different
// inputs. An expected identity read later (from a record or Launchplane) is not part of it.
func LanesDigest(lanes []Lane) string {
	type entry struct {
		Key, Health, Base, Expect string
		Require                   bool
	}
	es := make([]entry, len(lanes))
	for i, l := range lanes {
		es[i] = entry{l.Key(), l.HealthURL, l.BaseURL, l.spec, l.RequireIdentity}
	}
	sort.Slice(es, func(i, j int) bool { return es[i].Key < es[j].Key })
	b, _ := json.Marshal(es) // strings and bools only: cannot fail
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// sortLanes orders lanes by product, context, instance.
func sortLanes(lanes []Lane) {
	sort.Slice(lanes, func(i, j int) bool {
		return laneLess(lanes[i].Product, lanes[i].Context, lanes[i].Instance, lanes[j].Product, lanes[j].Context, lanes[j].Instance)
	})
}

func laneLess(p1, c1, i1, p2, c2, i2 string) bool {
	if p1 != p2 {
		return p1 < p2
	}
	if c1 != c2 {
		return c1 < c2
	}
	return i1 < i2
}
