// Launchplane runtime identity for Node.js tenants, with no dependencies: read the four
// LAUNCHPLANE_* env keys once and serve the identity on the three surfaces runtime-identity
// verifies, exactly as the Go package github.com/launchplane/runtime-identity/tenant does.
// Copy this file into your service; it needs Node.js 20 or newer.
//
//   import { fromEnv } from './runtime-identity.js';
//   const rt = fromEnv(process.env);   // never throws: a missing or broken env still starts
//   rt.state                           // 'ok' | 'missing' | 'malformed'
//   rt.healthValue                     // JSON text for the health body's runtime_identity key
//   rt.headers                         // { 'X-Launchplane-Deployment': ..., 'X-Launchplane-Identity-Digest': ... }
//   rt.setHeaders(res)                 // adds rt.headers to a node:http (or Express) response
//   rt.wellKnown(req.method)           // { status, headers, body } of the well-known document

import { createHash } from 'node:crypto';

export const ENV_JSON = 'LAUNCHPLANE_RUNTIME_IDENTITY_JSON';
export const ENV_DEPLOYMENT_RECORD_ID = 'LAUNCHPLANE_DEPLOYMENT_RECORD_ID';
export const ENV_ARTIFACT_ID = 'LAUNCHPLANE_ARTIFACT_ID';
export const ENV_SOURCE_GIT_REF = 'LAUNCHPLANE_SOURCE_GIT_REF';
export const WELL_KNOWN_PATH = '/.well-known/launchplane-runtime.json';
export const HEADER_DEPLOYMENT = 'X-Launchplane-Deployment';
export const HEADER_DIGEST = 'X-Launchplane-Identity-Digest';

// The contract's string fields in canonical (sorted) order; schema_version sorts between
// release_tuple_id and source_git_ref. required: must be a non-blank string.
const FIELDS = [
  ['artifact_id', true],
  ['context', true],
  ['deployed_at', false],
  ['deployment_record_id', true],
  ['environment_kind', false],
  ['image_reference', false],
  ['instance', true],
  ['preview_generation_id', false],
  ['preview_id', false],
  ['product', false],
  ['release_tuple_id', false],
  ['source_git_ref', true],
];

// Fixed bodies: an error answer never carries env text.
const BODY_NOT_INJECTED = '{"error":"runtime identity not injected"}';
const BODY_MALFORMED = '{"error":"runtime identity malformed"}';
const BODY_METHOD_NOT_ALLOWED = '{"error":"method not allowed"}';

// jsonString renders s as Python's json.dumps(s, ensure_ascii=True) does: JSON.stringify's
// escapes, plus every character outside printable ASCII as \uXXXX (UTF-16 code units, so a
// character beyond U+FFFF becomes a surrogate pair).
function jsonString(s) {
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g,
    (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

// canonical renders an identity as the contract's canonical JSON: one compact object, keys
// sorted, every field present, byte-identical to what runtime-identity and Launchplane write.
function canonical(id) {
  const parts = [];
  for (const [name] of FIELDS) {
    if (name === 'source_git_ref') parts.push('"schema_version":' + id.schema_version);
    parts.push(jsonString(name) + ':' + jsonString(id[name]));
  }
  return '{' + parts.join(',') + '}';
}

function kindOf(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  switch (typeof v) {
    case 'boolean': return 'a boolean';
    case 'number': return 'a number';
    case 'string': return 'a string';
    default: return 'an object';
  }
}

// Python's str.strip() whitespace, which Launchplane's reading of text uses.
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'g');

// laxInt reads a value the way Launchplane's model (pydantic, lax mode) reads an integer: an
// integer, true and false (1 and 0), a float without a fraction, or a string of an integer after
// trimming whitespace, with an optional sign, leading zeros, single underscores between digits
// and a fraction of zeros. It returns the number, or null when the value holds no integer.
function laxInt(val) {
  if (typeof val === 'boolean') return val ? 1 : 0;
  if (typeof val === 'number') return Number.isInteger(val) && Math.abs(val) < 2 ** 63 ? val : null;
  if (typeof val !== 'string') return null;
  const m = /^([+-]?)(\d+(?:_\d+)*)(?:\.0*)?$/.exec(val.replace(PY_STRIP, ''));
  if (m === null) return null;
  return Number((m[1] === '-' ? '-' : '') + m[2].replace(/_/g, ''));
}

// decode reads one identity from untrusted JSON text the way the verifier does: known fields are
// strings, the five required ones non-blank, schema_version (when present) is 1 as Launchplane
// reads integers (laxInt: 1, 1.0, "1", " 1 ", true), omitted
// optional fields take their defaults, unknown keys are dropped. It returns the identity and the
// number of unknown keys, or throws an Error whose message names fields and JSON types only.
function decode(raw) {
  let obj;
  try {
    obj = JSON.parse(raw);
  } catch {
    throw new Error('not a JSON object');
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    throw new Error('not a JSON object');
  }
  const id = { schema_version: 1, environment_kind: 'stable' };
  for (const [name] of FIELDS) if (!(name in id)) id[name] = '';
  const known = new Set(FIELDS.map(([name]) => name));
  const problems = [];
  let unknown = 0;
  for (const key of Object.keys(obj)) {
    const val = obj[key];
    if (key === 'schema_version') {
      const n = laxInt(val);
      if (n === null) {
        problems.push(`field "schema_version": is ${kindOf(val)} that is not an integer; want the integer 1`);
      } else if (n !== 1) {
        problems.push('field "schema_version": only schema_version 1 is supported');
      }
      continue;
    }
    if (!known.has(key)) {
      unknown++;
      continue;
    }
    if (typeof val !== 'string') {
      problems.push(`field "${key}": is ${kindOf(val)}; want a string`);
      continue;
    }
    id[key] = val;
  }
  for (const [name, required] of FIELDS) {
    if (required && id[name].trim() === '' && !problems.some((p) => p.startsWith(`field "${name}"`))) {
      problems.push(`field "${name}": is required and must not be empty`);
    }
  }
  if (problems.length > 0) throw new Error(problems.sort().join('; '));
  return { id, unknown };
}

// safeHeaderValue: visible ASCII only, so no client trims, folds or rejects the header.
function safeHeaderValue(v) {
  return v !== '' && /^[\x21-\x7e]+$/.test(v);
}

// fromEnv reads the identity env once and returns the tenant's runtime identity. It never throws.
export function fromEnv(env) {
  const raw = (env[ENV_JSON] ?? '').trim();
  if (raw === '') {
    let reason = `${ENV_JSON} is not set`;
    if (env[ENV_DEPLOYMENT_RECORD_ID]) reason += ` (${ENV_DEPLOYMENT_RECORD_ID} is set without it)`;
    return runtime({ state: 'missing', reason });
  }
  let decoded;
  try {
    decoded = decode(raw);
  } catch (err) {
    return runtime({ state: 'malformed', reason: `read ${ENV_JSON}: ${err.message}` });
  }
  const { id, unknown } = decoded;
  for (const [key, field] of [
    [ENV_DEPLOYMENT_RECORD_ID, 'deployment_record_id'],
    [ENV_ARTIFACT_ID, 'artifact_id'],
    [ENV_SOURCE_GIT_REF, 'source_git_ref'],
  ]) {
    if (env[key] && env[key] !== id[field]) {
      return runtime({ state: 'malformed', reason: `${key} disagrees with ${ENV_JSON}` });
    }
  }
  let reason = `identity read from ${ENV_JSON}`;
  if (unknown > 0) reason += `; ${unknown} key(s) this version does not know were dropped`;
  return runtime({ state: 'ok', reason, id });
}

function runtime({ state, reason, id }) {
  const doc = state === 'ok' ? canonical(id) : null;
  const digest = doc === null ? '' : 'sha256:' + createHash('sha256').update(doc, 'utf8').digest('hex');
  const deployment = doc !== null && safeHeaderValue(id.deployment_record_id) ? id.deployment_record_id : '';
  let healthValue = 'null';
  if (state === 'ok') {
    healthValue = doc;
  } else if (state === 'malformed') {
    // Visibly not an identity (so a verifier says malformed, not missing), without the env text.
    healthValue = JSON.stringify({ detail: reason, error: 'runtime identity malformed', status: 'invalid' });
  }
  // The identity headers: none unless the identity is usable; the deployment header is left out
  // when the record id holds characters a header cannot carry unchanged (the digest still
  // stands for it).
  /** @type {Record<string, string>} */
  const headers = {};
  if (state === 'ok') {
    if (deployment !== '') headers[HEADER_DEPLOYMENT] = deployment;
    headers[HEADER_DIGEST] = digest;
  }
  return Object.freeze({
    state,
    reason,
    identity: doc === null ? null : Object.freeze({ ...id }),
    canonical: doc,
    digest,
    healthValue,
    headers: Object.freeze(headers),

    // setHeaders adds the identity headers to a node:http or Express response; call it on every
    // response, the health and well-known ones at least.
    setHeaders(res) {
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    },

    // wellKnown answers a request for the well-known document: 200 with the canonical JSON,
    // 404 when not injected, 500 when malformed, 405 for methods other than GET and HEAD.
    wellKnown(method) {
      if (method !== 'GET' && method !== 'HEAD') {
        return jsonAnswer(405, BODY_METHOD_NOT_ALLOWED, { Allow: 'GET, HEAD' });
      }
      if (state === 'ok') return jsonAnswer(200, doc);
      if (state === 'malformed') return jsonAnswer(500, BODY_MALFORMED);
      return jsonAnswer(404, BODY_NOT_INJECTED);
    },
  });
}

// jsonAnswer is a complete JSON answer that no cache may keep.
export function jsonAnswer(status, body, extra = {}) {
  return {
    status,
    body,
    headers: {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'Content-Length': String(Buffer.byteLength(body, 'utf8')),
      ...extra,
    },
  };
}
