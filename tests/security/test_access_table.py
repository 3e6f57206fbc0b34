"""Every URL of the project has a declared access rule, and every role gets what the rule says."""

from __future__ import annotations

import fnmatch

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.conftest import ROLES, client_for, make_cast
from tests.security.access_table import FORBIDDEN, GONE, LOGIN, NOT_FOUND, OK, TABLE


def _walk(patterns, namespace: str = "") -> list[str]:  # type: ignore[no-untyped-def]
    keys: list[str] = []
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = p.namespace
            child = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            keys.extend(_walk(p.url_patterns, child))
        elif isinstance(p, URLPattern):
            name = p.name or f"<unnamed {p.pattern}>"
            keys.append(f"{namespace}:{name}" if namespace else name)
    return keys


def all_url_keys() -> list[str]:
    return sorted(set(_walk(get_resolver().url_patterns)))


def entry_for(key: str) -> str | None:
    if key in TABLE:
        return key
    for pattern in TABLE:
        if "*" in pattern and fnmatch.fnmatchcase(key, pattern):
            return pattern
    return None


def test_every_url_pattern_has_an_access_rule() -> None:
    missing = [key for key in all_url_keys() if entry_for(key) is None]
    assert not missing, f"URL patterns without an entry in tests/security/access_table.py: {missing}"


def test_every_table_entry_names_a_real_url() -> None:
    keys = all_url_keys()
    stale = [k for k in TABLE if not any(fnmatch.fnmatchcase(key, k) for key in keys)]
    assert not stale, f"Access table entries for URLs that no longer exist: {stale}"


def _outcome(response) -> str:  # type: ignore[no-untyped-def]
    status = response.status_code
    if status == 404:
        return NOT_FOUND
    if status == 403:
        return FORBIDDEN
    if status == 410:
        return GONE
    if status in (301, 302):
        location = response["Location"]
        if location.startswith(reverse("account_login")):
            return LOGIN
        if "/admin/login/" in location:
            return "redirect"
        return OK
    assert status < 500, f"server error {status}"
    return OK if status < 400 or status in (400, 405) else str(status)


@pytest.mark.django_db
@pytest.mark.parametrize("key", sorted(TABLE))
def test_roles_get_what_the_table_says(key: str) -> None:
    entry = TABLE[key]
    cast = make_cast()
    url_name = entry.sample or key
    kwargs = entry.kwargs(cast) if entry.kwargs else {}
    url = reverse(url_name, kwargs=kwargs) + entry.query
    failures = []
    # Rightful roles go last, so an action that changes or deletes the object cannot hide the others' answers.
    for role in sorted(ROLES, key=lambda r: entry.expect[r] == OK):
        if entry.setup:
            entry.setup(cast)
        client = client_for(cast.user(role))
        data = entry.data(cast) if entry.data else {}
        response = client.post(url, data) if entry.method == "POST" else client.get(url)
        got = _outcome(response)
        if got != entry.expect[role]:
            failures.append(f"{role}: expected {entry.expect[role]}, got {got} ({response.status_code})")
    assert not failures, f"{key} {url}: " + "; ".join(failures)
