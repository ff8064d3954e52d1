"""GraphQL enums mirror the model enums; the message catalogue is complete in both languages."""

from __future__ import annotations

import ast
import enum
import inspect
import re
import string
from pathlib import Path

import pytest

from graphql_api import errors
from graphql_api.api.core import enums as core_enums
from graphql_api.api.schema import build_schema
from graphql_api.db.models import enums as model_enums
from graphql_api.i18n import CATALOGUE, LANGUAGES, negotiate, translate

PACKAGE_ROOT = Path(__file__).resolve().parents[1] / "graphql_api"
# GraphQL-only enums: no stored value behind them.
API_ONLY = {"SortDirection", "ClassCheckStatus", "AgendaEntryKind", "AgendaLoanAction"}
KEY_LITERAL = re.compile(r"""(?<![\w.])["']((?:field|error)\.[a-z0-9_]+)["']""")


def _enums_defined_in(module: object) -> dict[str, type[enum.Enum]]:
    return {
        name: value
        for name, value in vars(module).items()
        if inspect.isclass(value) and issubclass(value, enum.Enum) and value.__module__ == module.__name__  # type: ignore[attr-defined]
    }


def _api_modules() -> list[object]:
    import importlib
    import pkgutil

    import graphql_api.api

    names = [m.name for m in pkgutil.walk_packages(graphql_api.api.__path__, "graphql_api.api.")]
    return [importlib.import_module(name) for name in names]


# Every API enum that mirrors a model enum declares it with @mirrors; the others (the kit's
# SortDirection, a day's ClassCheckStatus) are named in API_ONLY.
API_ENUMS = {api.__name__: api for api in core_enums.mirrored().values()} | {
    name: value for module in _api_modules() for name, value in _enums_defined_in(module).items() if name in API_ONLY
}
MODEL_ENUMS = _enums_defined_in(model_enums)


def test_every_enum_of_the_api_modules_is_declared_as_a_mirror() -> None:
    declared = {name for module in _api_modules() for name in _enums_defined_in(module)}
    assert {"Role", "ItemCategory", "NotificationPriority"} <= declared
    assert declared == set(API_ENUMS)
    for model, api in core_enums.mirrored().items():
        assert model.__name__ == api.__name__


def test_both_enum_modules_are_found() -> None:
    assert {"Role", "ItemCategory", "MovementReason", "AuditOutcome"} <= set(API_ENUMS)
    assert {"Role", "ItemCategory", "MovementReason", "AuditOutcome"} <= set(MODEL_ENUMS)


def test_every_enum_has_its_counterpart() -> None:
    assert set(API_ENUMS) - API_ONLY == set(MODEL_ENUMS)
    assert set(API_ENUMS) >= API_ONLY
    assert not API_ONLY & set(MODEL_ENUMS)


@pytest.mark.parametrize("name", sorted(set(API_ENUMS) & set(MODEL_ENUMS)))
def test_api_enum_mirrors_model_enum_member_for_member(name: str) -> None:
    api, model = API_ENUMS[name], MODEL_ENUMS[name]
    assert [m.name for m in api] == [m.name for m in model]
    assert [m.value for m in api] == [m.value for m in model]
    for member in model:
        assert core_enums.to_model(core_enums.to_api(member, api), model) is member
    for api_member in api:
        assert core_enums.to_api(core_enums.to_model(api_member, model), api) is api_member


@pytest.mark.parametrize("name", sorted(API_ENUMS))
def test_schema_exposes_the_enum_with_the_same_values(name: str) -> None:
    graphql_enum = build_schema()._schema.get_type(name)
    assert graphql_enum is not None
    assert list(graphql_enum.values) == [m.name for m in API_ENUMS[name]]  # type: ignore[attr-defined]
    for value in graphql_enum.values.values():  # type: ignore[attr-defined]
        assert value.description, f"{name} value without a description"


# ---- catalogue ---------------------------------------------------------------------------


def _placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


def _key_literals() -> dict[str, list[str]]:
    """Every "field.*" / "error.*" string literal in the package, except the catalogue itself."""
    used: dict[str, list[str]] = {}
    for path in sorted(PACKAGE_ROOT.rglob("*.py")):
        if path.name == "i18n.py" and path.parent == PACKAGE_ROOT:
            continue
        text = path.read_text(encoding="utf-8")
        for match in KEY_LITERAL.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            used.setdefault(match.group(1), []).append(f"{path.relative_to(PACKAGE_ROOT.parent)}:{line}")
    return used


def _error_class_message_keys() -> dict[str, str]:
    keys: dict[str, str] = {}
    for node in ast.walk(ast.parse(Path(errors.__file__).read_text(encoding="utf-8"))):
        if isinstance(node, ast.ClassDef):
            for statement in node.body:
                if (
                    isinstance(statement, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == "message_key" for t in statement.targets)
                    and isinstance(statement.value, ast.Constant)
                ):
                    keys[node.name] = statement.value.value
    return keys


def test_languages_have_identical_key_sets() -> None:
    assert set(CATALOGUE) == set(LANGUAGES) == {"es", "en"}
    assert set(CATALOGUE["es"]) == set(CATALOGUE["en"])
    assert len(CATALOGUE["es"]) >= 20


@pytest.mark.parametrize("key", sorted(CATALOGUE["es"]))
def test_each_message_has_the_same_placeholders_in_both_languages(key: str) -> None:
    assert _placeholders(CATALOGUE["es"][key]) == _placeholders(CATALOGUE["en"][key])
    assert CATALOGUE["es"][key].strip()
    assert CATALOGUE["en"][key].strip()
    assert key.split(".", 1)[0] in {"error", "field", "notification", "alert"}


def test_every_domain_error_message_key_is_in_the_catalogue() -> None:
    keys = _error_class_message_keys()
    # Every DomainError subclass declares its own key (the scan saw them all).
    domain_errors = {
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value) and issubclass(value, errors.DomainError) and value.__module__ == errors.__name__
    }
    assert set(keys) == domain_errors
    missing = {name: key for name, key in keys.items() if key not in CATALOGUE["es"]}
    assert missing == {}
    for cls_name in domain_errors:
        assert getattr(errors, cls_name).message_key == keys[cls_name]


def test_every_key_literal_in_the_code_is_in_the_catalogue() -> None:
    used = _key_literals()
    assert len(used) >= 20, "the scan found too few keys; is the regex or the path wrong?"
    missing = {key: places for key, places in used.items() if key not in CATALOGUE["es"]}
    assert missing == {}, f"keys used in the code but missing from graphql_api/i18n.py: {missing}"


def test_every_catalogue_key_is_used_somewhere() -> None:
    # An orphan key is dead text (or a typo in the code that the previous test missed). The
    # keys of notifications and alerts are made from their kind (`notification.<kind>.title`),
    # registered by the domain that raises them; they come in pairs.
    literal = {key for key in CATALOGUE["es"] if key.split(".", 1)[0] in {"error", "field"}}
    unused = sorted(literal - set(_key_literals()))
    assert unused == [], f"catalogue keys no code refers to: {unused}"
    made = [key for key in CATALOGUE["es"] if key.startswith("notification.")]
    assert made, "no notification kind is registered"
    for key in made:
        kind, part = key.rsplit(".", 1)
        assert part in {"title", "body"}, key
        assert {f"{kind}.title", f"{kind}.body"} <= set(CATALOGUE["es"]), key


def test_key_regex_matches_only_whole_keys() -> None:
    sample = """x = "field.too_long"; y = 'error.not_found'; z = "graphql_api.errors"; w = "a.field.x" """
    assert KEY_LITERAL.findall(sample) == ["field.too_long", "error.not_found"]


def test_translate_formats_parameters_and_falls_back() -> None:
    assert translate("field.too_long", "en", {"max": 5}) == "At most 5 characters."
    assert translate("field.too_long", "es", {"max": 5}) == "Máximo 5 caracteres."
    # Unknown language -> Spanish; unknown key -> the key itself; bad params -> the template.
    assert translate("error.not_found", "fr") == CATALOGUE["es"]["error.not_found"]
    assert translate("error.nope", "en") == "error.nope"
    assert translate("field.too_long", "en", {"other": 1}) == "At most {max} characters."


# ---- Accept-Language negotiation ---------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "default", "expected"),
    [
        (None, "es", "es"),
        ("", "es", "es"),
        (None, "en", "en"),
        ("en", "es", "en"),
        ("EN", "es", "en"),
        ("en-US", "es", "en"),
        ("en-GB,en;q=0.9", "es", "en"),
        ("es-CO,es;q=0.9,en;q=0.8", "en", "es"),
        ("fr-FR, en;q=0.5", "es", "en"),
        ("fr-FR, de;q=0.9", "es", "es"),
        ("fr-FR, de;q=0.9", "en", "en"),
        ("*", "es", "es"),
        ("es;q=0.4, en;q=0.8", "es", "en"),
        ("en;q=0.4, es;q=0.8", "en", "es"),
        ("en;q=0.5, es;q=0.5", "en", "en"),  # a tie keeps the first
        ("es;q=0.5, en;q=0.5", "en", "es"),
        (" en ; q=0.7 , es ; q=0.6 ", "es", "en"),
        ("en;q=abc, es;q=0.1", "en", "es"),  # an unparsable weight counts as 0
        ("en;q=0", "es", "es"),  # q=0 means "not acceptable"
        ("en;q=0, fr", "es", "es"),
        ("es;q=0, en;q=0", "en", "en"),
        ("zz, qq;q=0.9, en-AU;q=0.1", "es", "en"),
        (",,,;;;", "en", "en"),
        ("x" * 5000, "es", "es"),
        (", ".join(["fr"] * 30) + ", en", "es", "es"),  # only the first 20 tags are read
    ],
)
def test_negotiate(header: str | None, default: str, expected: str) -> None:
    assert negotiate(header, default) == expected
