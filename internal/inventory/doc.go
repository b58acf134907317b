// Package inventory probes a whole fleet of lanes at once and reports, for each, the runtime
// identity it should serve against the one it does: the fleet view operators use to find stale
// routes and stale runtime state.
//
// One run takes its lanes from a lanes file (JSON or YAML) or from Launchplane (a product's
// environments), resolves each lane's expected identity (given inline, read from a deployment
// record, or taken from Launchplane), probes every lane once with a bounded pool of workers, with
// the same classification as verify (internal/probe and identity.Compare), and renders the result
// as the JSON read model (schema/inventory.v1.schema.json, Launchplane's read-model names), a
// terminal table, a Markdown job summary or one self-contained HTML page.
//
// A large fleet is spread over runners with shards: Shard selects a stable slice of the lanes
// (a hash of product, context and instance), every shard's JSON records which slice it holds and
// the digest of the lanes it was cut from, and Merge joins the shards back into one report,
// refusing overlaps and gaps.
//
// Launchplane and deployment records are reached through the consumer-side interfaces LaneSource
// and RecordReader; LaunchplaneSource and RecordFunc adapt plain functions, which the caller binds
// to its Launchplane client. The package reads no environment variable and no file on its own:
// Main takes everything through Env.
package inventory
