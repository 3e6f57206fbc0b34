"""Write audit events; every service that changes state calls audit_record."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from marketplace.middleware import client_address
from marketplace.models import AuditEvent, Organization, User


def _jsonable(values: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in (values or {}).items():
        if value is None or isinstance(value, bool | int | float | str):
            out[key] = value
        elif isinstance(value, list | tuple):
            out[key] = [str(v) for v in value]
        else:
            out[key] = str(value)
    return out


def audit_record(
    *,
    actor: User | None,
    action: str,
    obj: models.Model | None = None,
    organization: Organization | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event for a change made by actor (None for the system)."""
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        actor_label=(actor.email if actor is not None and actor.pk else "system"),
        action=action,
        content_type=ContentType.objects.get_for_model(obj) if obj is not None else None,
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        organization=organization,
        before=_jsonable(before),
        after=_jsonable(after),
        ip_address=client_address.get(),
    )


def update_audited(
    *,
    actor: User | None,
    obj: models.Model,
    fields: dict[str, Any],
    action: str,
    organization: Organization | None = None,
    conflict_message: str | None = None,
) -> list[str]:
    """Set the fields that differ, save only those, and audit before/after; return the names changed.

    With conflict_message, a unique constraint that refuses the new values becomes a DomainError saying so.
    """
    from django.db import IntegrityError, transaction

    from marketplace.services import DomainError

    changed = [name for name, value in fields.items() if getattr(obj, name) != value]
    if not changed:
        return changed
    before = {name: getattr(obj, name) for name in changed}
    for name in changed:
        setattr(obj, name, fields[name])
    try:
        with transaction.atomic():
            obj.save(update_fields=changed)
    except IntegrityError as exc:
        if conflict_message is None:
            raise
        raise DomainError(conflict_message) from exc
    audit_record(
        actor=actor,
        action=action,
        obj=obj,
        organization=organization,
        before=before,
        after={name: getattr(obj, name) for name in changed},
    )
    return changed
