"""Answer how Python and pydantic read text, for the Go tests to compare against.

Launchplane reads a health body with Python's json module and validates the identity with a
pydantic model in its default lax mode (cbusillo/launchplane
control_plane/workflows/runtime_identity_health.py at ff8f4aa, wait_for_json_healthcheck;
control_plane/contracts/runtime_identity.py at 4b42a52, RuntimeIdentity,
parse_runtime_identity_payload, runtime_identity_from_health_payload,
health_payload_runtime_identity_status). The model below declares the same fields, types,
defaults and checks; the functions follow the same steps. Comparison covers the nine fields of the
later revision (the contract reference, section 5).

Usage: python3 oracle.py MODE < cases, one JSON value per line; one JSON answer per line.
  int     case: base64 of a JSON document; answer: {"int": "<decimal>"} or {"error": "<type>"}
  space   case: null; answer: the code points for which str.isspace() holds
  json    case: base64 of text; answer: {"ok": bool, "value": <value, non-finite floats tagged>}
  health  first case: the expected identity object; then base64 of a body; answer:
          {"status": ..., "observed": {...} or null} or {"crash": "<exception type>"}
"""
import base64
import json
import math
import sys
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class Identity(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: int = Field(default=1, ge=1)
    product: str = ""
    context: str
    instance: str
    environment_kind: str = "stable"
    deployment_record_id: str
    artifact_id: str
    source_git_ref: str
    image_reference: str = ""
    release_tuple_id: str = ""
    preview_id: str = ""
    preview_generation_id: str = ""
    deployed_at: str = ""

    @model_validator(mode="after")
    def _required(self):
        for name in ("context", "instance", "deployment_record_id", "artifact_id", "source_git_ref"):
            if not getattr(self, name).strip():
                raise ValueError("runtime identity requires " + name)
        return self


class Version(BaseModel):
    schema_version: int


ALIASES = ("runtime_identity", "launchplane_runtime_identity", "launchplaneRuntimeIdentity",
           "LAUNCHPLANE_RUNTIME_IDENTITY_JSON")
COMPARED = ("product", "context", "instance", "environment_kind", "deployment_record_id",
            "artifact_id", "source_git_ref", "preview_id", "preview_generation_id")


def parse(value):
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            decoded = json.loads(text)
        except json.JSONDecodeError:
            return None
        return parse(decoded)
    if isinstance(value, Mapping):
        try:
            return Identity.model_validate(dict(value))
        except ValueError:
            return None
    return None


def classify(expected, body):
    if not body.strip():
        payload = None
    else:
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return {"status": "unverifiable", "observed": None}
    observed = None
    if isinstance(payload, Mapping):
        for key in ALIASES:
            observed = parse(payload.get(key))
            if observed is not None:
                break
    if observed is None:
        present = isinstance(payload, Mapping) and any(k in payload for k in ALIASES)
        return {"status": "malformed" if present else "missing", "observed": None}
    mismatched = [f for f in COMPARED
                  if getattr(expected, f) and getattr(observed, f) != getattr(expected, f)]
    return {"status": "mismatch" if mismatched else "match", "observed": observed.model_dump()}


def tag(value):
    """Make a json.loads value comparable across languages: non-finite floats become tags."""
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return {"nonfinite": True}
        return value
    if isinstance(value, list):
        return [tag(v) for v in value]
    if isinstance(value, dict):
        return {k: tag(v) for k, v in value.items()}
    return value


def main():
    mode = sys.argv[1]
    lines = sys.stdin.read().splitlines()
    out = sys.stdout
    if mode == "space":
        json.dump([c for c in range(sys.maxunicode + 1) if chr(c).isspace()], out)
        return
    expected = None
    if mode == "health":
        expected = Identity.model_validate(json.loads(lines[0]))
        lines = lines[1:]
    for line in lines:
        raw = base64.b64decode(json.loads(line))
        if mode == "int":
            try:
                answer = {"int": str(Version.model_validate({"schema_version": json.loads(raw)}).schema_version)}
            except ValidationError as e:
                answer = {"error": e.errors()[0]["type"]}
        elif mode == "json":
            try:
                answer = {"ok": True, "value": tag(json.loads(raw.decode("utf-8")))}
            except (UnicodeDecodeError, json.JSONDecodeError):
                answer = {"ok": False}
        else:
            try:
                answer = classify(expected, raw)
            except Exception as e:  # Launchplane does not catch these either
                answer = {"crash": type(e).__name__}
        out.write(json.dumps(answer, sort_keys=True) + "\n")


main()
