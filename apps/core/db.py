"""Small database helpers for the hot paths (webhook ingestion, event processing)."""

from django.db import connection, models


def insert_ignoring_conflict(model, values: dict, *, conflict: str) -> int | None:
    """``INSERT ... ON CONFLICT (conflict) DO NOTHING RETURNING id``: one round trip.

    Returns the new row's primary key, or ``None`` when a row with the same
    ``conflict`` value already exists. Django's ``get_or_create`` needs a
    SELECT, a savepoint and an INSERT for the same answer; ``bulk_create``
    with ``ignore_conflicts`` cannot say whether it inserted. Unspecified
    fields take their model defaults.
    """
    opts = model._meta
    row = {}
    for field in opts.concrete_fields:
        if field.primary_key:
            continue
        if field.attname in values:
            value = values[field.attname]
        elif field.name in values:
            value = values[field.name]
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = field.pre_save(model(), add=True)
        else:
            value = field.get_default()  # the model default, "" or None as Django would
        if field.is_relation and isinstance(value, models.Model):
            value = value.pk
        row[field.column] = field.get_db_prep_save(value, connection)
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(opts.db_table)} ({', '.join(quote(c) for c in row)}) "
        f"VALUES ({', '.join(['%s'] * len(row))}) "
        f"ON CONFLICT ({quote(opts.get_field(conflict).column)}) DO NOTHING "
        f"RETURNING {quote(opts.pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, list(row.values()))
        found = cursor.fetchone()
    return found[0] if found else None
