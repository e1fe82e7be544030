"""Check requests against Discord's own OpenAPI description (``../shared/discord-api-spec``).

:class:`DiscordSpec` answers "would Discord accept this request?" for the loopback fake:

- the route and method exist in the spec (paths are templated: ``/channels/{channel_id}/messages``;
  a literal segment such as ``@original`` wins over a parameter), and every path parameter
  matches its schema (snowflakes are digits);
- the JSON body (or a multipart request's ``payload_json``) validates against the operation's
  request-body schema for that content type (JSON Schema 2020-12, via ``jsonschema``);
- limits Discord documents but the schema does not state: a bot message's ``content`` is at most
  2,000 characters (the schema allows 4,000, a Nitro user's limit); the text of all embeds in one
  message together is at most 6,000 characters; at most 10 files in one message.

Known differences that are not the bot's, accepted by Discord and so normalised here before
validation (each named, so nothing else slips through): discord.py sends ``attachments[].id``
and ``default_member_permissions`` as integers where the spec says strings, or vice versa.

The spec is 1.2 MB: it is parsed once per process (:func:`load_spec`), and each operation's
validator is compiled on first use and cached. Where the spec file is absent, :func:`load_spec`
returns None and the fake does not validate (say so rather than pass silently: see
:data:`SPEC_PATH`).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

REPO = Path(__file__).resolve().parents[2]
#: ``CAPBRIEF_DISCORD_SPEC`` may point elsewhere; by default the shared copy beside the repo.
SPEC_PATH = Path(os.environ.get("CAPBRIEF_DISCORD_SPEC")
                 or REPO.parent / "shared" / "discord-api-spec" / "openapi.json")
SPEC_URI = "urn:discord:openapi"
MAX_CONTENT = 2000  # a bot's message content (Discord docs; the schema says 4,000)
MAX_EMBED_TOTAL = 6000  # all embeds of one message together (Discord docs)
MAX_FILES = 10
_PARAM = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True)
class Operation:
    template: str
    method: str
    pointer: str  # JSON pointer of the operation in the spec
    params: dict[str, str] = field(default_factory=dict)  # path parameter → schema pointer
    query: dict[str, str] = field(default_factory=dict)  # query parameter → schema pointer


@dataclass
class _Route:
    template: str
    regex: re.Pattern[str]
    literals: int
    methods: dict[str, Operation]


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


@cache
def load_spec(path: Path = SPEC_PATH) -> DiscordSpec | None:
    """The spec at ``path``, parsed once per process; None where the file is absent."""
    if not path.is_file():
        return None
    return DiscordSpec(json.loads(path.read_text(encoding="utf-8")))


class DiscordSpec:
    """Routes and request-body validators of one OpenAPI document (see the module doc)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self.registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
        self.routes = sorted(self._routes(document), key=lambda r: (-r.literals, r.template))
        self._validators: dict[str, Draft202012Validator] = {}

    @staticmethod
    def _routes(document: dict[str, Any]) -> Iterable[_Route]:
        for template, item in document["paths"].items():
            pattern = "".join(
                f"(?P<{m[1:-1]}>[^/]+)" if m.startswith("{") else re.escape(m)
                for m in re.split(r"(\{[^}]+\})", template) if m)
            shared = {p["name"]: p for p in item.get("parameters", []) if p.get("in") == "path"}
            methods: dict[str, Operation] = {}
            for method, op in item.items():
                if method == "parameters" or not isinstance(op, dict):
                    continue
                params = dict(shared)
                params.update({p["name"]: p for p in op.get("parameters", [])
                               if p.get("in") == "path"})
                base = f"#/paths/{_escape(template)}"
                query = {p["name"]: f"{base}/{method}/parameters/{i}/schema"
                         for i, p in enumerate(op.get("parameters", [])) if p.get("in") == "query"}
                methods[method.upper()] = Operation(
                    template, method.upper(), f"{base}/{method}",
                    {name: _param_pointer(base, method, name, item, op) for name in params},
                    query)
            literals = len([s for s in template.split("/") if s and not _PARAM.search(s)])
            yield _Route(template, re.compile(f"^{pattern}$"), literals, methods)

    # -- look-ups ---------------------------------------------------------------------------
    def match(self, method: str, path: str) -> tuple[Operation | None, dict[str, str], str]:
        """(operation, path parameters, problem): problem is "" when the route exists."""
        allowed: list[str] = []
        for route in self.routes:
            m = route.regex.match(path)
            if m is None:
                continue
            op = route.methods.get(method.upper())
            if op is not None:
                return op, m.groupdict(), ""
            allowed += route.methods
        if allowed:
            return None, {}, (f"{method} {path}: method not in the spec (allowed: "
                              f"{', '.join(sorted(set(allowed)))})")
        return None, {}, f"{method} {path}: no such route in Discord's API"

    def validator(self, pointer: str) -> Draft202012Validator:
        """The compiled validator of the schema at ``pointer`` (cached)."""
        found = self._validators.get(pointer)
        if found is None:
            found = Draft202012Validator({"$ref": f"{SPEC_URI}{pointer}"},
                                         registry=self.registry)
            self._validators[pointer] = found
        return found

    def _resolve(self, pointer: str) -> Any:
        node: Any = self.document
        for part in pointer.lstrip("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    # -- checks -----------------------------------------------------------------------------
    def check(self, method: str, path: str, content_type: str, body: Any,
              files: int = 0, query: Mapping[str, str] | None = None) -> list[str]:
        """Every reason Discord would reject this request (empty: it would accept it).

        ``path`` has no ``/api/v10`` prefix; ``body`` is the parsed JSON (for multipart, the
        ``payload_json`` part) or None; ``files`` counts the multipart file parts; ``query``
        values are text, read as booleans or integers where that is what the schema wants.
        """
        op, params, problem = self.match(method, path)
        if op is None:
            return [problem]
        problems = [f"{method} {op.template}: path parameter {name}={value!r}: {err}"
                    for name, value in params.items()
                    for err in self._errors(op.params.get(name), value)]
        for name, value in (query or {}).items():
            pointer = op.query.get(name)
            if pointer is None:
                problems.append(f"{method} {op.template}: unknown query parameter {name!r}")
            elif all(self._errors(pointer, v) for v in _query_readings(value)):
                typed = _query_readings(value)[-1]
                problems += [f"{method} {op.template}: query {name}={value!r}: "
                             + err.split(": ", 1)[-1] for err in self._errors(pointer, typed)]
        body_schema = self._body_pointer(op, content_type)
        if body_schema is None:
            if body not in (None, "", {}, []) and method in ("GET", "DELETE"):
                problems.append(f"{method} {op.template}: a body where none is expected")
            return problems
        if body is None and self._resolve(op.pointer).get("requestBody", {}).get("required"):
            problems.append(f"{method} {op.template}: request body required")
            return problems
        if body is not None:
            found = self._errors(body_schema, _normalise(body))
            found += [err for err in documented_limits(body)  # unless the schema said it
                      if not any(f.split(":")[0].endswith(err.split(":")[0]) for f in found)]
            problems += [f"{method} {op.template}: {err}" for err in found]
        if files > MAX_FILES:
            problems.append(f"{method} {op.template}: {files} files (at most {MAX_FILES})")
        return problems

    def _body_pointer(self, op: Operation, content_type: str) -> str | None:
        body = self._resolve(op.pointer).get("requestBody")
        if not body:
            return None
        kinds = body.get("content", {})
        kind = content_type.split(";")[0].strip() or "application/json"
        if kind not in kinds:
            kind = "application/json" if "application/json" in kinds else next(iter(kinds))
        return f"{op.pointer}/requestBody/content/{_escape(kind)}/schema"

    def _errors(self, pointer: str | None, value: Any) -> list[str]:
        if pointer is None:
            return []
        errors = list(self.validator(pointer).iter_errors(value))
        if not errors:
            return []
        best = _deepest(best_match(errors))
        where = "/".join(str(p) for p in best.absolute_path) or "(body)"
        return [f"{where}: {_describe(best)}"]


def _param_pointer(base: str, method: str, name: str, item: dict[str, Any],
                   op: dict[str, Any]) -> str:
    for where, params in ((f"{base}/{method}", op.get("parameters", [])),
                          (base, item.get("parameters", []))):
        for i, p in enumerate(params):
            if p.get("in") == "path" and p["name"] == name:
                return f"{where}/parameters/{i}/schema"
    raise KeyError(name)  # pragma: no cover - the caller only asks for listed parameters


def _query_readings(value: str) -> list[Any]:
    """A query value as text, and as the boolean or integer it may stand for."""
    readings: list[Any] = [value]
    if value.lstrip("-").isdigit():
        readings.append(int(value))
    if value.lower() in ("true", "false", "1", "0"):  # discord.py sends with_response=1
        readings.append(value.lower() in ("true", "1"))
    return readings


def _deepest(error: ValidationError) -> ValidationError:
    """Inside an anyOf/oneOf, the alternative meant (its ``type``/enum discriminator matched)
    that got furthest into the value."""
    while error.context:
        depth = len(error.absolute_path)
        alternatives: dict[Any, list[ValidationError]] = {}
        for e in error.context:
            alternatives.setdefault(e.relative_schema_path[0], []).append(e)

        def score(errs: list[ValidationError], depth: int = depth) -> tuple[bool, int]:
            wrong_kind = any(e.validator in ("enum", "const")
                             and len(e.absolute_path) <= depth + 1 for e in errs)
            return not wrong_kind, max(len(e.absolute_path) for e in errs)

        meant = max(alternatives.values(), key=score)
        error = max(meant, key=lambda e: len(e.absolute_path))
    return error


def _describe(error: ValidationError) -> str:
    """A short reason: the keyword and its bound, and the size of what was sent."""
    value = error.instance
    if error.validator in ("maxLength", "minLength") and isinstance(value, str):
        return f"{len(value):,} characters ({error.validator} {error.validator_value})"
    if error.validator in ("maxItems", "minItems") and isinstance(value, list):
        return f"{len(value)} items ({error.validator} {error.validator_value})"
    shown = repr(value)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    return f"{shown}: fails {error.validator} {str(error.validator_value)[:80]}"


def _normalise(body: Any) -> Any:
    """Undo the differences Discord accepts (module doc) on a deep copy of ``body``."""
    body = json.loads(json.dumps(body))
    data_list = [body]
    if isinstance(body, dict) and isinstance(body.get("data"), dict):
        data_list.append(body["data"])
    for data in data_list:
        if not isinstance(data, dict):
            continue
        for att in data.get("attachments") or []:
            if isinstance(att, dict) and isinstance(att.get("id"), int):
                att["id"] = str(att["id"])
    commands = body if isinstance(body, list) else [body] if isinstance(body, dict) else []
    for cmd in commands:
        if isinstance(cmd, dict) and isinstance(cmd.get("default_member_permissions"), str) \
                and cmd["default_member_permissions"].isdigit():
            cmd["default_member_permissions"] = int(cmd["default_member_permissions"])
    return body


def embed_chars(embed: dict[str, Any]) -> int:
    """Characters Discord counts toward the 6,000 limit: title, description, field names and
    values, footer text and author name."""
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    for f in embed.get("fields") or []:
        total += len(f.get("name") or "") + len(f.get("value") or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    return total


def documented_limits(body: Any) -> list[str]:
    """Limits from Discord's docs the schema does not state (see the module doc)."""
    if not isinstance(body, dict):
        return []
    data = body.get("data") if isinstance(body.get("data"), dict) else body
    problems = []
    content = data.get("content")
    if isinstance(content, str) and len(content) > MAX_CONTENT:
        problems.append(f"content: {len(content):,} characters (at most {MAX_CONTENT:,})")
    embeds = data.get("embeds")
    if isinstance(embeds, list):
        total = sum(embed_chars(e) for e in embeds if isinstance(e, dict))
        if total > MAX_EMBED_TOTAL:
            problems.append(f"embeds: {total:,} characters in all (at most {MAX_EMBED_TOTAL:,})")
    return problems
