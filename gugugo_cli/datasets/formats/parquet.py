"""Parquet (.parquet): pyarrow, batch by batch; the schema and every column not named are kept as they are.
pyarrow is loaded only when a Parquet file is opened."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from ...config import install_hint
from ...errors import FieldError, InputError, UsageError, first_line
from ..paths import column_path, parse, source_key
from .base import DatasetFile, Record


def _pyarrow():
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise UsageError(f"Parquet needs pyarrow: {install_hint('parquet')}") from None
    return pyarrow


class ParquetFile(DatasetFile):
    """Only the columns a field path starts in are turned into Python values; the others go from the input
    batch to the output batch as Arrow arrays, types and all."""

    def __init__(self, path):
        super().__init__(path)
        self.pa = pa = _pyarrow()
        try:
            self.file = pa.parquet.ParquetFile(str(path))
        except (pa.ArrowException, OSError) as e:
            raise InputError(path, f"not a readable Parquet file ({e})") from None
        self.schema = self.file.schema_arrow
        self.num_rows = self.file.metadata.num_rows
        self.columns_used: list[str] = list(self.schema.names)
        self.done_rows = 0

    def field_path(self, text: str):
        """A column whose name is exactly the text (dots and all) first, else a path (meta.title)."""
        return column_path(text) if text in self.schema.names else parse(text)

    def use_columns(self, names: list[str]) -> None:
        missing = [n for n in names if n not in self.schema.names]
        if missing:
            raise FieldError(f"{self.path}: no column {missing[0]!r} (columns: {', '.join(self.schema.names)})")
        self.columns_used = list(dict.fromkeys(names))

    def windows(self, rows: int):
        n = 0
        batches = self.file.iter_batches(batch_size=rows)
        while True:
            try:
                batch = next(batches, None)
            except (self.pa.ArrowException, OSError) as e:  # a damaged page or a read error
                raise InputError(self.path, f"damaged Parquet file ({first_line(e)})") from None
            if batch is None:
                return
            window = self.records_of(batch, n)
            n += batch.num_rows
            self.done_rows = n
            yield window

    def records_of(self, batch, first: int) -> list[Record]:
        """A record batch's rows (the first numbered `first`); the Ray path reads its batches with it too."""
        values = {c: batch.column(c).to_pylist() for c in self.columns_used}
        return [Record(first + i, {c: values[c][i] for c in self.columns_used}, extra=batch)
                for i in range(batch.num_rows)]

    def records(self):
        for window in self.windows(1024):
            yield from window

    def position(self) -> int:
        return round(self.size * self.done_rows / self.num_rows) if self.num_rows else self.size

    def open_writer(self, dest: Path, keep_source: bool, paths, tgt: str):
        return ParquetWriter(dest, self, keep_source, paths, tgt)


def _with_source_keys(pa, dtype, steps, tgt):
    """The Arrow type of a column after --keep-source added FIELD_<to> beside the leaf FIELD."""
    if len(steps) == 1:
        return dtype
    kind, step = steps[1]
    if kind == "index":
        if not (pa.types.is_list(dtype) or pa.types.is_large_list(dtype)):
            return dtype
        inner = _with_source_keys(pa, dtype.value_type, steps[1:], tgt)
        maker = pa.large_list if pa.types.is_large_list(dtype) else pa.list_
        return maker(dtype.value_field.with_type(inner))
    if not pa.types.is_struct(dtype):
        return dtype
    fields = []
    for f in (dtype.field(i) for i in range(dtype.num_fields)):
        if f.name == step and len(steps) == 2:
            fields += [f, pa.field(source_key(step, tgt), f.type)]
        elif f.name == step:
            fields.append(f.with_type(_with_source_keys(pa, f.type, steps[1:], tgt)))
        elif f.name != source_key(step, tgt) or len(steps) != 2:
            fields.append(f)
    return pa.struct(fields)


def column_array(pa, batch, field, records):
    """A column whose cells come from the rows; a row that has no value for it keeps the input's cell (an
    existing FIELD_<to> in a row --keep-source left alone), or null where the input has no such column."""
    old = batch.column(field.name).to_pylist() if field.name in batch.schema.names else None
    return pa.array([r.value[field.name] if field.name in r.value else old[i] if old is not None else None
                     for i, r in enumerate(records)], type=field.type)


class ParquetWriter:
    """dest None: no file is written; `batch` makes the output's record batches (as the Ray path does)."""

    def __init__(self, dest: Optional[Path], source: ParquetFile, keep_source: bool, paths, tgt: str):
        pa = _pyarrow()
        self.pa, self.source = pa, source
        schema = source.schema
        self.changed_columns = list(source.columns_used)
        if keep_source:
            fields = []
            added = {p.column: source_key(p.column, tgt) for p in paths if len(p.steps) == 1}
            for f in schema:
                if f.name in added.values() and f.name not in added:
                    continue
                nested = [p for p in paths if p.column == f.name and len(p.steps) > 1]
                dtype = f.type
                for p in nested:
                    dtype = _with_source_keys(pa, dtype, p.steps, tgt)
                fields.append(f.with_type(dtype))
                if f.name in added:
                    fields.append(pa.field(added[f.name], f.type))
                    self.changed_columns.append(added[f.name])
            schema = pa.schema(fields, metadata=schema.metadata)
        self.schema = schema
        self.writer = pa.parquet.ParquetWriter(str(dest), schema) if dest is not None else None

    def write(self, records: list[Record]) -> None:
        if records:
            self.writer.write_batch(self.batch(records))

    def batch(self, records: list[Record]):
        pa = self.pa
        # a window is one input batch
        batch = records[0].extra
        arrays = []
        for f in self.schema:
            if f.name in self.changed_columns:
                arrays.append(column_array(pa, batch, f, records))
            else:
                arrays.append(batch.column(f.name))
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)

    def close(self) -> None:
        self.writer.close()
