"""On PostgreSQL, refuse UPDATE and DELETE on the audit log at the database level too."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION marketplace_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    -- Deleting a user, organisation or content type sets its reference to NULL; nothing else may change.
    IF TG_OP = 'UPDATE'
       AND (NEW.actor_id IS NULL OR NEW.actor_id = OLD.actor_id)
       AND (NEW.organization_id IS NULL OR NEW.organization_id = OLD.organization_id)
       AND (NEW.content_type_id IS NULL OR NEW.content_type_id = OLD.content_type_id)
       AND (NEW.id, NEW.actor_label, NEW.action, NEW.object_id, NEW.object_repr, NEW.before::text,
            NEW.after::text, NEW.ip_address, NEW.created_at)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.actor_label, OLD.action, OLD.object_id, OLD.object_repr, OLD.before::text,
            OLD.after::text, OLD.ip_address, OLD.created_at)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'marketplace_auditevent is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER marketplace_auditevent_no_update_delete
    BEFORE UPDATE OR DELETE ON marketplace_auditevent
    FOR EACH ROW EXECUTE FUNCTION marketplace_auditevent_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS marketplace_auditevent_no_update_delete ON marketplace_auditevent;
DROP FUNCTION IF EXISTS marketplace_auditevent_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0002_seed_service_catalogue")]
    operations = [migrations.RunPython(forwards, backwards)]
