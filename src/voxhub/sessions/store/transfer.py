"""Copy every table of one store into another (`voxhub db copy`): SQLite to PostgreSQL, or back."""

from __future__ import annotations

from collections.abc import Callable

from voxhub.errors import ConfigError
from voxhub.sessions.store.base import TABLES, Store

# (table, rows copied so far, rows in the source table)
CopyProgress = Callable[[str, int, int], None]


async def copy_store(
    source: Store, target: Store, *, batch: int = 500, progress: CopyProgress | None = None
) -> dict[str, int]:
    """Copy all rows, keeping ids, table by table in batches of `batch` rows; the count copied per table.

    The target must be empty (it is migrated to the same version first, as opening it does), so a copy run
    twice never doubles anything. Each batch is one transaction on the target; the source is read in key
    order, so rows written while the copy runs may be missed: stop the source instance first.
    """
    if await source.schema_version() != await target.schema_version():
        raise ConfigError(
            "the source and target databases are at different schema versions: open both with this voxhub"
            " (`voxhub db migrate`) first",
            details={"source": source.location, "target": target.location},
        )
    occupied = {table.name: n for table in TABLES if (n := await target.count_rows(table.name))}
    if occupied:
        raise ConfigError(
            f"the target database {target.location} is not empty ({_listed(occupied)}): copy only into a new one",
            details={"target": target.location, "rows": occupied},
        )
    counts: dict[str, int] = {}
    for table in TABLES:
        total = await source.count_rows(table.name)
        key = [table.columns.index(column) for column in table.key]
        copied = 0
        if progress is not None:
            progress(table.name, copied, total)
        after: tuple[object, ...] | None = None
        while rows := await source.read_rows(table.name, after, batch):
            await target.write_rows(table.name, rows)
            copied += len(rows)
            after = tuple(rows[-1][index] for index in key)
            if progress is not None:
                progress(table.name, copied, total)
        counts[table.name] = copied
    return counts


def _listed(counts: dict[str, int]) -> str:
    return ", ".join(f"{count} {table}" for table, count in counts.items())
