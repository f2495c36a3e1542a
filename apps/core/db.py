"""Small database helpers for the hot paths (webhook ingestion, event processing)."""

from collections.abc import Callable, Iterable

from django.db import connection, models, transaction


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


def rows_replace(model, owner: dict, key: str, values: dict, field: str) -> None:
    """Make ``model``'s rows of ``owner`` exactly ``{key: field}`` from ``values``.

    Rows of ``owner`` whose ``key`` is not in ``values`` are deleted, the
    others updated or created (e.g. an agent's skills and their levels).
    """
    model.objects.filter(**owner).exclude(**{f"{key}__in": list(values)}).delete()
    for key_value, field_value in values.items():
        model.objects.update_or_create(**owner, **{key: key_value}, defaults={field: field_value})


class _Gathered:
    """One transaction's pending on-commit call of ``run``, with everything gathered for it so far."""

    def __init__(self, run: Callable[[set], None], items: set):
        self.run, self.items = run, items

    def __call__(self) -> None:
        self.run(self.items)


def on_commit_gathered(run: Callable[[set], None], items: Iterable = ()) -> None:
    """Call ``run(items)`` once when the current transaction commits, however often this is called in it.

    Later calls in the same transaction add their ``items`` to the pending
    call (a set) instead of queuing another. Outside a transaction ``run``
    is called at once, like ``transaction.on_commit``.
    """
    items = set(items)
    if connection.in_atomic_block:
        for _, callback, _ in connection.run_on_commit:
            if isinstance(callback, _Gathered) and callback.run is run:
                callback.items |= items
                return
    transaction.on_commit(_Gathered(run, items))
