"""Bad input never reaches a 500, and nothing is half-saved, at every URL that takes input.

Every URL of the access table is opened by a role allowed there. The forms on the page are read with the
standard library's HTML parser and sent hostile payloads built from their own fields: an empty POST, every
field 10,000 characters long, numbers and dates that are not, NUL bytes and markup, unknown choices and ids
of objects that do not exist or belong to someone else, and broken files. Each form is also sent as a person
would fill it, twice (a double click, a stale tab). A POST-only URL is fuzzed through the form its host page
shows (HOSTS); MORE_TARGETS reaches forms the access table's objects do not show. Query strings (paging,
filters, periods, sort keys) and the ids and periods in the path get the same treatment. Each payload's
writes are rolled back, so every payload meets the page as it was.

The rules checked for every answer: never 5xx; a rejected POST says why (a 4xx or 200 page carrying an
error, or a redirect with an error message); when an answer reports an error, the row count of every model
of ours is what it was before (nothing half-saved); a page that shows markup it was sent escapes it. The
usage import runs in a task, so its test feeds the task the same broken files. The Django admin is left out:
it is a staff tool whose forms Django tests.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from django.apps import apps
from django.contrib.messages import constants as message_levels
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.urls import NoReverseMatch, reverse

from tests.conftest import Cast, client_for, make_cast
from tests.security.access_table import OK, TABLE
from tests.security.test_access_table import all_url_keys

LONG = "x" * 10_000
NUMBERS = ("abc", "1e999", "NaN", "-1", "0", "99999999999999999999", "²")  # "²" passes isdigit(), not int()
DATES = ("2026-13-45", "yesterday", "0000-10", "9999-12-31T23:59")
CHOICES = ("no-such-choice", "999999", "²")
TEXTS = {
    "nul": "nul\x00byte",
    "unicode": "Zoë ☎ 漢字 🙂 \u202eevil",
    "blank": "   ",
}
SCRIPT = "<script>alert('fuzz')</script>"
# (page, every other parameter): each bad page number and each bad value once, in four requests.
QUERY_VALUES = (("-1", "²"), ("abc", "nul\x00"), ("999999", "0000-10"), ("0", LONG))
# Query parameters our views read besides those of the GET forms on a page.
QUERY_KEYS = ("q", "sort", "status", "period", "kind", "customer", "archived", "add")
PATH_INTS = ("0", "99999999999999999999")
PATH_STRS = ("2026-13", "0000-10", "9999-12")
ERROR_MARK = re.compile(r'errorlist|flash-error|field-error|role="alert"|aria-invalid="true"')
OUR_APPS = ("marketplace", "buyers", "sellers", "rfq", "billing", "account", "mfa")
PROJECT = Path(__file__).resolve().parents[2]

# Roles tried, in order, for the rightful user of a URL: the first one the access table allows.
ROLE_ORDER = (
    "buyer_owner",
    "seller_admin",
    "moderator",
    "billing_agent",
    "buyer_member",
    "seller_sales",
    "seller_billing",
    "other_buyer",
    "other_seller",
    "visitor",
)


def on(page: str, *keep: str, query: str = "", **fixed: str) -> Callable[[dict[str, Any]], str]:
    """The address of a page, keeping some of a POST URL's kwargs (e.g. the request's pk) and fixing others."""
    return lambda kwargs: reverse(page, kwargs={**{k: kwargs[k] for k in keep}, **fixed}) + query


# POST-only URLs and the page whose form posts there; the form is read from that page.
HOSTS: dict[str, Callable[[dict[str, Any]], str]] = {
    "people_invite": on("people"),
    "people_leave": on("people"),
    "membership_role": on("people"),
    "membership_remove": on("people"),
    "invitation_resend": on("people"),
    "invitation_revoke": on("people"),
    "organization_submit_review": on("sellers:dashboard"),
    "notification_read_all": on("inbox"),
    "notification_read": on("inbox"),
    "console:organization_verify": on("console:organization_review", "pk"),
    "console:organization_reject": on("console:organization_review", "pk"),
    "buyers:register_submit": on("buyers:register_step", step="review"),
    "buyers:site_archive": on("buyers:site_list"),
    "buyers:site_restore": on("buyers:site_list", query="?archived=1"),
    "buyers:group_join": on("buyers:group_list"),
    "buyers:group_rotate_code": on("buyers:group_detail", "pk"),
    "buyers:group_invite": on("buyers:group_detail", "pk"),
    "buyers:group_member_approve": on("buyers:group_detail", "pk"),
    "buyers:group_member_decline": on("buyers:group_detail", "pk"),
    "buyers:group_member_remove": on("buyers:group_detail", "pk"),
    "buyers:group_leave": on("buyers:group_detail", "pk"),
    "buyers:group_invitation_cancel": on("buyers:group_detail", "pk"),
    "buyers:group_invitation_accept": on("buyers:group_list"),
    "buyers:group_invitation_decline": on("buyers:group_list"),
    "sellers:criteria_pause": on("sellers:criteria_list"),
    "sellers:criteria_resume": on("sellers:criteria_list"),
    "sellers:criteria_delete": on("sellers:criteria_list"),
    "sellers:coverage_delete": on("sellers:coverage"),
    "sellers:offer_retire": on("sellers:offer_detail", "pk"),
    "rfq:publish": on("rfq:step", "pk", step="review"),
    "rfq:question_answer": on("rfq:detail", "pk"),
    "rfq:addendum_create": on("rfq:detail", "pk"),
    "rfq:cancel": on("rfq:detail", "pk"),
    "rfq:confirm_sites": on("rfq:detail", "pk"),
    "rfq:seller_respond": on("rfq:seller_detail", "pk"),
    "rfq:seller_ask": on("rfq:seller_detail", "pk"),
    "rfq:seller_bid_withdraw": on("rfq:seller_detail", "pk"),
    "rfq:seller_bid_reconfirm": on("rfq:seller_detail", "pk"),
    "rfq:console_suspend": on("rfq:console_detail", "pk"),
    "billing:bill_run_preview": on("billing:bill_run", "period"),
    "billing:bill_run_execute": on("billing:bill_run", "period"),
    "billing:bill_run_finalize": on("billing:bill_run", "period"),
    "billing:commission_set": on("billing:commission_list"),
    "billing:payment_create": on("billing:payment_list"),
    "billing:payment_import": on("billing:payment_list"),
    "billing:payment_allocate": on("billing:payment_detail", "pk"),
    "billing:note_create": on("billing:invoice_detail", "pk"),
    "billing:invoice_mark_posted": on("billing:invoice_detail", "pk"),
    "billing:usage_import_create": on("billing:usage_import_list"),
    "billing:settlement_mark_paid": on("billing:settlement_detail", "pk"),
}

# Where an upload field's CSV template lives: hostile rows are built on its sample.
CSV_TEMPLATES = {
    "buyers:site_import": "buyers:site_template_csv",
    "sellers:offer_import": "sellers:offer_import_template",
    "billing:usage_import_create": "billing:usage_format",
}
BANK_CSV = "date,amount,currency,reference,invoice_number\n2026-10-05,100.00,GBP,BANK-1,SB-2026-000001\n"


# --- reading forms ------------------------------------------------------------------------------------


@dataclass
class Field:
    name: str
    kind: str  # input type, "select", "textarea"
    values: list[str] = field(default_factory=list)  # what the page would send as it is
    options: list[str] = field(default_factory=list)
    multiple: bool = False
    required: bool = False


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, Field] = field(default_factory=dict)
    buttons: list[tuple[str, str]] = field(default_factory=list)
    # False for a form made up from the access table because the page does not show one in this state: no
    # person can send it, so its answers need not explain themselves (but must still not fail or half-save).
    shown: bool = True


class FormReader(HTMLParser):
    """Collect every <form> of a page with its fields, their current values and their choices."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: Field | None = None
        self._textarea: Field | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            method = "post" if a.get("hx-post") else a.get("method", "get").lower()
            self._form = Form(action=a.get("hx-post") or a.get("action", ""), method=method)
            self.forms.append(self._form)
        elif tag == "option" and self._select is not None:
            self._select.options.append(a.get("value", ""))
            if "selected" in a:
                self._select.values.append(a.get("value", ""))
        elif self._form is not None and a.get("name"):
            self._named(tag, a["name"], a)

    def _named(self, tag: str, name: str, a: dict[str, str]) -> None:
        assert self._form is not None
        kind = a.get("type", "text" if tag == "input" else "submit").lower()
        if tag in ("input", "button") and kind == "submit":
            self._form.buttons.append((name, a.get("value", "")))
        elif tag == "input" and kind not in ("image", "button", "reset"):
            f = self._form.fields.setdefault(name, Field(name, kind))
            f.required = f.required or "required" in a
            if kind in ("checkbox", "radio"):
                f.options.append(a.get("value", "on"))
                if "checked" in a:
                    f.values.append(a.get("value", "on"))
            elif kind != "file":
                f.values.append(a.get("value", ""))
        elif tag == "select":
            self._select = self._form.fields.setdefault(name, Field(name, "select"))
            self._select.multiple = "multiple" in a
        elif tag == "textarea":
            self._textarea = self._form.fields.setdefault(name, Field(name, "textarea"))
            self._textarea.values.append("")

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.values[-1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def read_forms(html: str) -> list[Form]:
    reader = FormReader()
    reader.feed(html)
    return reader.forms


# --- building payloads --------------------------------------------------------------------------------

TEXT_KINDS = {"text", "textarea", "search", "email", "tel", "url", "password"}
DATE_KINDS = {"date", "datetime-local", "month", "time", "week"}
DATE_NAME = re.compile(r"date|deadline|period|start|_end|month")
NUMBER_NAME = re.compile(r"amount|quantity|price|percent|rate|charge|spend|volume|count|months|days|capacity|value")
CHOICE_KINDS = {"select", "radio", "checkbox"}


def _plausible(f: Field) -> list[str]:
    """A value a person would type into an empty field, so hostile values elsewhere get past the rest."""
    if f.kind == "select":
        chosen = [v for v in f.values if v] or [o for o in f.options if o][:1]
        return chosen if chosen or f.multiple else f.options[:1]
    if f.kind == "radio":
        return f.values or f.options[:1]
    if f.kind == "checkbox" and f.required:
        return f.values or f.options[:1]  # "I agree" boxes: a person ticks them to get anywhere
    if f.kind in ("checkbox", "hidden", "file"):
        return f.values
    if any(v.strip() for v in f.values):
        return f.values
    name = f.name.lower()
    guesses = [
        ("decision" in name, "2026-12-15T10:00"),
        ("area" in name, "GB"),
        ("rates" in name, "0.01 per GB"),
        (f.kind == "url" or "website" in name, "https://fuzz.example.test"),
        (f.kind == "email" or "email" in name, "fuzz@example.test"),
        (f.kind == "number" or NUMBER_NAME.search(name), "1"),
        (f.kind == "date" or "date" in name or "start" in name, "2026-12-01"),
        (f.kind == "datetime-local" or "deadline" in name, "2026-12-01T10:00"),
        (f.kind == "month" or "period" in name, "2026-10"),
        (f.kind == "tel" or "phone" in name, "+44 20 7946 0000"),
        ("country" in name, "GB"),
        ("postcode" in name, "LS1 1AA"),
        ("currency" in name, "GBP"),
        (f.kind == "password", "Fuzz-password-123!"),
    ]
    return [next((value for hit, value in guesses if hit), "Fuzz value")]


def _is_text(f: Field) -> bool:
    return f.kind in TEXT_KINDS and not _is_number(f) and not _is_date(f)


def _is_number(f: Field) -> bool:
    return f.kind == "number" or (f.kind == "text" and bool(NUMBER_NAME.search(f.name.lower())))


def _is_date(f: Field) -> bool:
    return f.kind in DATE_KINDS or (f.kind == "text" and bool(DATE_NAME.search(f.name.lower())))


def _is_choice(f: Field) -> bool:
    return f.kind in CHOICE_KINDS or (f.kind == "hidden" and any(v.isdecimal() for v in f.values))


@dataclass
class Payload:
    label: str
    data: dict[str, Any]
    hostile: str = ""  # a value the page must not echo unescaped
    # Hidden fields changed: no browser sends this, so a bare 400 is answer enough (still never a 500).
    tampered: bool = False


def _with(base: dict[str, Any], fields: list[Field], value: Any) -> dict[str, Any]:
    data = dict(base)
    for f in fields:
        data[f.name] = value
    return data


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


def csv_files(sample: str) -> dict[str, bytes]:
    """Broken CSV files built on a good one (header and first row), so that bad cells reach the row checks."""
    header, row = list(csv.reader(io.StringIO(sample)))[:2]
    files = {
        "empty.csv": b"",
        "header-only.csv": _csv([header]),
        "binary.csv": b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" * 64,
        "latin1.csv": _csv([header]) + "café".encode("latin-1") + _csv([row])[4:],
        "huge-line.csv": b"a" * 2_000_000,
        "ragged.csv": _csv([header, [*row, "extra", "cells"], row[:1]]),
        "unclosed-quote.csv": _csv([header]) + b'"' + _csv([row] * 3),
    }
    # One row per column, that column spoiled: every column meets the value in one file.
    spoilers = {"nul": TEXTS["nul"], "long": LONG, "markup": SCRIPT, **{v: v for v in ("1e999", "-1", "²", *DATES)}}
    for label, value in spoilers.items():
        spoiled = [[value if i == j else cell for j, cell in enumerate(row)] for i in range(len(row))]
        files[f"{label}-in-each-cell.csv"] = _csv([header, *spoiled])
    return files


GOOD_PDF = b"%PDF-1.4\n%%EOF\n"
GOOD_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
DOCUMENTS = {
    "empty.pdf": b"",
    "program.pdf": b"MZ\x90\x00" + b"\x00" * 200,
    "text.pdf": b"just some text, not a PDF",
    "fake.png": b"%PDF-1.4\n%%EOF\n",
    ("x" * 300) + ".pdf": b"%PDF-1.4\n%%EOF\n",
    "huge-line.pdf": b"%PDF-1.4\n" + b"a" * 2_000_000,
    "nul\x00name.pdf": b"%PDF-1.4\n%%EOF\n",
}


def _sent_always(button: tuple[str, str] | None) -> dict[str, Any]:
    # A browser always sends the CSRF token (without it the request never reaches the view) and its button.
    return dict([("csrfmiddlewaretoken", "token"), *([button] if button else [])])


def as_offered(form: Form, button: tuple[str, str] | None, csv_sample: str | None) -> dict[str, Any]:
    """What a person sends: the page's values, empty fields filled in plausibly, a good file in each file field."""
    values = {f.name: _plausible(f) for f in form.fields.values() if f.kind != "file"}
    good = ("sample.csv", csv_sample.encode()) if csv_sample else ("evidence.pdf", GOOD_PDF)
    files = {
        f.name: SimpleUploadedFile(*(("logo.png", GOOD_PNG) if "logo" in f.name else good))
        for f in form.fields.values()
        if f.kind == "file"
    }
    return {**{k: v for k, v in values.items() if v}, **files, **_sent_always(button)}


def payloads(
    form: Form, button: tuple[str, str] | None, foreign: list[str], csv_sample: str | None
) -> Iterator[Payload]:
    """Hostile payloads for one form, each on top of what a person would send."""
    sent_always = _sent_always(button)
    fields = [f for f in form.fields.values() if f.name != "csrfmiddlewaretoken"]
    base = as_offered(form, button, csv_sample)
    text = [f for f in fields if _is_text(f)]
    numbers = [f for f in fields if _is_number(f)]
    dates = [f for f in fields if _is_date(f)]
    choices = [f for f in fields if _is_choice(f)]
    files = [f for f in fields if f.kind == "file"]
    everything = [f for f in fields if f.kind != "file"]

    hidden = any(f.kind == "hidden" for f in fields)
    yield Payload("empty POST", sent_always, tampered=hidden)
    if everything:
        yield Payload("every field 10,000 characters", _with(sent_always, everything, LONG), tampered=hidden)
    if text:
        yield Payload("text 10,000 characters", _with(base, text, LONG))
        yield Payload("markup", _with(base, text, SCRIPT), hostile=SCRIPT)
        for label, value in TEXTS.items():
            yield Payload(label, _with(base, text, value))
    for value in NUMBERS if numbers else ():
        yield Payload(f"number {value!r}", _with(base, numbers, value))
    for value in DATES if dates else ():
        # Cut to the field's shape, so that "9999-12-31" reaches a date field's checks and date arithmetic.
        shaped = {f.name: value[: {"date": 10, "month": 7}.get(f.kind, len(value))] for f in dates}
        yield Payload(f"date {value!r}", {**base, **shaped})
    for value in (*CHOICES, *foreign) if choices else ():
        yield Payload(
            f"choice {value!r}", _with(base, choices, value), tampered=any(f.kind == "hidden" for f in choices)
        )
    if files:
        broken = csv_files(csv_sample) if csv_sample else DOCUMENTS
        for name, content in broken.items():
            uploads = {f.name: SimpleUploadedFile(name, content) for f in files}
            yield Payload(f"file {name[:40]!r}", {**base, **uploads})


# --- watching the database -----------------------------------------------------------------------------


@functools.cache
def _count_query() -> tuple[str, tuple[str, ...]]:
    labels = [c.label for c in apps.get_app_configs() if c.label in OUR_APPS]
    tables = sorted(
        {
            m._meta.db_table
            for label in labels
            for m in apps.get_app_config(label).get_models()
            if m._meta.managed and not m._meta.proxy
        }
    )
    q = connection.ops.quote_name
    counts = ", ".join(f"(SELECT COUNT(*) FROM {q(t)})" for t in tables)  # noqa: S608 - our own tables' names
    return f"SELECT {counts}", tuple(tables)


def row_counts() -> dict[str, int]:
    sql, tables = _count_query()
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return dict(zip(tables, cursor.fetchone(), strict=True))


# --- sending and judging ---------------------------------------------------------------------------------


def _where(exc: BaseException) -> str:
    frames = [
        fr
        for fr in traceback.extract_tb(exc.__traceback__)
        if fr.filename.startswith(str(PROJECT)) and "/.venv/" not in fr.filename and "/tests/" not in fr.filename
    ]
    last = frames[-1] if frames else traceback.extract_tb(exc.__traceback__)[-1]
    return f"{type(exc).__name__}: {str(exc)[:160]} at {Path(last.filename).name}:{last.lineno}"


def _reported_error(response: Any) -> bool:
    if response.status_code >= 400:
        return True
    # Only this request's messages: earlier ones wait in the cookie until a page shows them.
    queued = getattr(getattr(response.wsgi_request, "_messages", None), "_queued_messages", [])
    if any(m.level >= message_levels.ERROR for m in queued):
        return True
    if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
        return bool(ERROR_MARK.search(response.content.decode(errors="replace")))
    return False


def _shows_why(response: Any) -> bool:
    if response.status_code in (301, 302, 303, 401, 403, 404, 405, 410, 413, 429):
        return True
    if not response.get("Content-Type", "").startswith("text/html"):
        return True
    return bool(ERROR_MARK.search(response.content.decode(errors="replace")))


@dataclass
class Fuzzer:
    """Sends requests as one client and writes down every answer that breaks the rules."""

    client: Client
    problems: list[str] = field(default_factory=list)
    sent: int = 0

    def send(
        self,
        label: str,
        method: str,
        url: str,
        data: Any = None,
        *,
        hostile: str = "",
        tampered: bool = False,
        keep: bool = False,
        **extra: Any,
    ) -> None:
        """Send one request; its writes are rolled back afterwards (unless keep), so each payload meets the
        page as it was and one payload's success cannot hide another's failure."""
        self.sent += 1
        where = f"{method.upper()} {url[:120]} [{label}]"
        for value in (data or {}).values():
            if hasattr(value, "seek"):
                value.seek(0)  # a file sent before is read again from its start
        try:
            with transaction.atomic():
                before = row_counts()
                send = self.client.post if method == "post" else self.client.get
                response = send(url, data or {}, **extra)
                self._judge(where, method, response, before, hostile, tampered)
                transaction.set_rollback(not keep)
        except Exception as exc:  # noqa: BLE001 - every escape is the finding
            self.problems.append(f"{where}: {_where(exc)}")

    def _judge(
        self, where: str, method: str, response: Any, before: dict[str, int], hostile: str, tampered: bool
    ) -> None:
        if response.status_code >= 500:
            self.problems.append(f"{where}: answered {response.status_code}")
            return
        if _reported_error(response):
            after = row_counts()
            changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
            if changed:
                self.problems.append(f"{where}: reported an error but rows changed {changed}")
            if method == "post" and not tampered and not _shows_why(response):
                self.problems.append(f"{where}: rejected ({response.status_code}) without saying why")
        if hostile and response.get("Content-Type", "").startswith("text/html") and hostile in response.text:
            self.problems.append(f"{where}: echoed the markup unescaped")


# --- the targets -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One URL as one role: the page is opened, its forms and query string fuzzed."""

    key: str
    role: str = ""  # the first rightful role in ROLE_ORDER unless given
    kwargs: Callable[[Cast], dict[str, Any]] | None = None  # the access table's unless given
    setup: Callable[[Cast], Any] | None = None  # puts the object where the page shows its form
    opens: Callable[[Client, str], Any] | None = None  # how to reach the page; a GET unless given
    name: str = ""

    @property
    def id(self) -> str:
        return f"{self.key}:{self.name}" if self.name else self.key


def _draft_at(step: str) -> Callable[[Cast], dict[str, Any]]:
    def kwargs(cast: Cast) -> dict[str, Any]:
        from tests.rfq import builders

        return {"pk": builders.draft(cast.buyer_owner).pk, "step": step}

    return kwargs


def _wizard_at(step: str) -> Callable[[Client, str], Any]:
    """The carrier registration wizard keeps its step in the session: go there as its Back buttons do."""
    return lambda client, url: client.post(
        url, {"registration_wizard-current_step": "company", "wizard_goto_step": step}
    )


def _pending(cast: Cast) -> None:
    type(cast.buyer_org).objects.filter(pk=cast.buyer_org.pk).update(verification_status="pending")


def _drafts_run(cast: Cast) -> None:
    from billing import services
    from tests.billing import world

    world.build(cast, finalize=False)
    services.bill_run_execute(period=world.OCT, actor=cast.moderator)


def _group_draft(cast: Cast) -> dict[str, Any]:
    """A group draft of the cast's buyer whose member, the other buyer, has yet to confirm its site."""
    from rfq import services
    from tests.rfq import builders

    group = builders.buying_group(cast.buyer_org, cast.other_buyer_org)
    sites = [builders.site(cast.buyer_org, "Our office"), builders.site(cast.other_buyer_org, "Their depot")]
    rfq = services.rfq_create_draft(actor=cast.buyer_owner, buyer=cast.buyer_org, title="Together", group=group)
    services.rfq_set_sites(actor=cast.buyer_owner, rfq=rfq, sites=sites)
    return {"pk": rfq.pk}


def _invitation_link(cast: Cast) -> dict[str, Any]:
    """A colleague's unused invitation link (the access table only tries a bad one)."""
    import hashlib

    from marketplace import services
    from marketplace.models import Invitation

    invitation, _ = services.invitation_create(
        actor=cast.buyer_owner, organization=cast.buyer_org, email="new@buyer.test", role="member", delivery="link"
    )
    # The link goes out by e-mail after the commit, which a test never reaches: give the invitation a known one.
    token = "fuzz-token"
    Invitation.objects.filter(pk=invitation.pk).update(token_hash=hashlib.sha256(token.encode()).hexdigest())
    return {"token": token}


def fuzz_targets() -> list[str]:
    """The access table's URLs that some role may use (a glob stands for a third-party area: see below)."""
    return sorted(k for k in TABLE if "*" not in k and any(outcome == OK for outcome in TABLE[k].expect.values()))


# Forms the access table's objects do not show, or show only one step of.
MORE_TARGETS = [
    *[Target("rfq:step", kwargs=_draft_at(s), name=s) for s in ("sites", "billing", "usage", "visibility", "schedule")],
    *[
        Target("buyers:register_step", kwargs=lambda c, s=s: {"step": s}, name=s)  # type: ignore[misc]
        for s in ("contact", "business", "identity", "documents")
    ],
    *[
        Target("sellers:register", opens=_wizard_at(s), name=s)
        for s in ("contact", "regulatory", "services", "logo", "documents", "review")
    ],
    Target("billing:usage_import_create", role="moderator", name="staff"),
    Target("console:organization_verify", setup=_pending, name="pending"),
    Target("console:organization_reject", setup=_pending, name="pending"),
    Target("billing:bill_run_finalize", setup=_drafts_run, name="drafts"),
    Target("rfq:confirm_sites", role="other_buyer", kwargs=_group_draft, name="group member"),
    Target("invitation_accept", role="visitor", kwargs=_invitation_link, name="unused link"),
]
TARGETS = [Target(key) for key in fuzz_targets()] + MORE_TARGETS


def _role(key: str) -> str:
    entry = TABLE[key]
    return next(r for r in ROLE_ORDER if entry.expect.get(r) == OK)


def _foreign_ids(cast: Cast) -> list[str]:
    """Ids of objects that exist but belong to the other buyer or the other carrier."""
    from buyers.models import EndCustomer, Site
    from tests.sellers import helpers

    site = Site.objects.create(
        organization=cast.other_buyer_org, name="Theirs", street="9 Lane", city="York", postcode="YO1 1AA"
    )
    customer = EndCustomer.objects.create(reseller=cast.other_buyer_org, name="Their customer", reference="T-1")
    criteria = helpers.make_criteria(cast.other_carrier_org, cast.other_seller, name="Theirs")
    return sorted({str(site.pk), str(customer.pk), str(criteria.pk)})


def _same_page(form: Form, url: str) -> bool:
    return form.action in ("", "#", ".") or urlsplit(form.action).path == urlsplit(url).path


def _csv_sample(client: Client, key: str) -> str | None:
    if key == "billing:payment_import":
        return BANK_CSV
    template = CSV_TEMPLATES.get(key)
    return client.get(reverse(template)).content.decode() if template else None


def _html(response: Any) -> str:
    if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
        return ""
    return response.content.decode()


def fuzz_forms(fuzzer: Fuzzer, key: str, forms: list[Form], url: str, foreign: list[str]) -> None:
    sample = _csv_sample(fuzzer.client, key)
    for form in forms:
        target = url if form.action in ("", "#", ".") else form.action
        # A browser sends the button it was clicked with; a form without named buttons sends none.
        for button in form.buttons or [None]:
            for p in payloads(form, button, foreign, sample):
                tampered = p.tampered or not form.shown
                fuzzer.send(p.label, "post", target, p.data, hostile=p.hostile, tampered=tampered)
            # Sent as the page offers it, then again (a double click, or a second tab on a stale page).
            base = as_offered(form, button, sample)
            with transaction.atomic():
                fuzzer.send("as offered", "post", target, base, tampered=not form.shown, keep=True)
                fuzzer.send("as offered, again", "post", target, base, tampered=not form.shown)
                transaction.set_rollback(True)


def fuzz_query(fuzzer: Fuzzer, url: str, forms: list[Form], page: Any) -> None:
    """The page number, every other query parameter our views read and those of the page's GET forms, spoiled."""
    names = sorted(set(QUERY_KEYS) | {n for f in forms if f.method == "get" for n in f.fields})
    # A PDF or a file download reads no query string: one try shows it is ignored (PDFs are slow to render).
    pages = ("text/html", "text/csv")
    values = QUERY_VALUES if page.get("Content-Type", "text/html").startswith(pages) else QUERY_VALUES[:1]
    for number, value in values:
        query = urlencode({**dict.fromkeys(names, value), "page": number})
        fuzzer.send(f"query page={number} others={value[:12]!r}", "get", f"{url}?{query}")
    fuzzer.send("htmx query", "get", f"{url}?{urlencode(dict.fromkeys(names, '-1'))}", HTTP_HX_REQUEST="true")


def fuzz_path(fuzzer: Fuzzer, name: str, kwargs: dict[str, Any], method: str) -> None:
    """Ids past any row (0, beyond 64 bits) and periods that are not months, in the path itself."""
    for arg, value in kwargs.items():
        for bad in PATH_INTS if isinstance(value, int) else PATH_STRS:
            try:
                url = reverse(name, kwargs={**kwargs, arg: bad})
            except NoReverseMatch:
                continue
            fuzzer.send(f"path {arg}={bad}", method, url)


@pytest.mark.django_db
@pytest.mark.parametrize("target", [pytest.param(t, id=t.id) for t in TARGETS])
def test_hostile_input_never_500s_nor_half_saves(target: Target) -> None:
    entry = TABLE[target.key]
    name = entry.sample or target.key
    cast = make_cast()
    foreign = _foreign_ids(cast)
    role = target.role or _role(target.key)
    kwargs = (target.kwargs or entry.kwargs or (lambda c: {}))(cast)
    for setup in (entry.setup, target.setup):
        if setup:
            setup(cast)
    fuzzer = Fuzzer(client_for(cast.user(role)))
    url = reverse(name, kwargs=kwargs)
    if entry.method == "POST":
        page = fuzzer.client.get(HOSTS[target.key](kwargs))
        forms = [f for f in read_forms(_html(page)) if f.method == "post" and _same_page(f, url)]
        if not forms:  # the host shows no form in this state: send what the access table sends
            data = entry.data(cast) if entry.data else {}
            forms = [Form(url, "post", {n: Field(n, "text", [str(v)]) for n, v in data.items()}, shown=False)]
    else:
        page = target.opens(fuzzer.client, url) if target.opens else fuzzer.client.get(url)
        forms = [f for f in read_forms(_html(page)) if f.method == "get" or _same_page(f, url)]
        fuzz_query(fuzzer, url, forms, page)
    fuzz_forms(fuzzer, target.key, [f for f in forms if f.method == "post"], url, foreign)
    fuzz_path(fuzzer, name, kwargs, entry.method.lower())
    assert not fuzzer.problems, f"{target.id} as {role}, {fuzzer.sent} requests:\n" + "\n".join(fuzzer.problems)


def allauth_targets() -> list[str]:
    return [k for k in all_url_keys() if k.startswith(("account_", "mfa_")) and _reversible(k)]


def _reversible(name: str) -> bool:
    try:
        reverse(name)
    except NoReverseMatch:
        return False
    return True


@pytest.mark.django_db
@pytest.mark.parametrize("key", allauth_targets())
def test_hostile_input_to_account_pages(key: str) -> None:
    """allauth's own pages (sign-in, sign-up, e-mail, password, two-factor) take the same abuse."""
    cast = make_cast()
    url = reverse(key)
    for role in ("buyer_owner", "visitor"):
        fuzzer = Fuzzer(client_for(cast.user(role)))
        page = fuzzer.client.get(url)
        if page.status_code == 200:
            break
    forms = [f for f in read_forms(_html(page)) if f.method == "get" or _same_page(f, url)]
    fuzz_query(fuzzer, url, forms, page)
    fuzz_forms(fuzzer, key, [f for f in forms if f.method == "post"], url, [])
    assert not fuzzer.problems, f"{key} as {role}, {fuzzer.sent} requests:\n" + "\n".join(fuzzer.problems)


def test_every_post_only_url_names_its_host_page() -> None:
    posts = {k for k in fuzz_targets() if TABLE[k].method == "POST"}
    assert posts == set(HOSTS), f"add to or remove from HOSTS: {sorted(posts ^ set(HOSTS))}"


# The usage upload only queues the file; the import itself runs in a task, so it is fed the same files here.
USAGE_SAMPLE = (
    "record_id,request,interval_start,interval_end,quantity,unit,service_type,site,min_bandwidth_mbps,"
    "max_bandwidth_mbps,volume_bytes,latency_ms,jitter_ms,packet_loss_pct,asr_pct,equipment_id\n"
    "r-1,CT-ACME01,2026-10-12T00:00:00Z,2026-10-12T01:00:00Z,12.5,GB,internet-dedicated,Leeds office,"
    "100,1000,123456,12.5,1.5,0.1,99.5,edge-1\n"
)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(csv_files(USAGE_SAMPLE)))
def test_usage_import_refuses_broken_files_whole(name: str) -> None:
    from billing import services
    from billing.models import UsageImport, UsageRecord
    from tests.billing import world

    cast = make_cast()
    world.contract(cast)
    data = csv_files(USAGE_SAMPLE)[name]
    outcome = services.usage_import_create(
        actor=cast.seller_admin, carrier=cast.carrier_org, source="carrier", filename=name, data=data
    )
    done = services.usage_import_run(import_id=outcome.usage_import.pk)
    assert done.status in (UsageImport.Status.DONE, UsageImport.Status.FAILED)
    if done.status == UsageImport.Status.FAILED:
        assert done.errors or done.message, "refused without saying why"
        assert not UsageRecord.objects.exists(), "a refused file left rows behind"
