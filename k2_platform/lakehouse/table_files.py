"""What an Iceberg table's snapshots reference, read from its metadata: live data files and every object path.

Used by maintenance (what compaction may merge, what expiry may delete, what is orphaned) and by the cost
model (bytes per record from the files' own sizes and record counts). Paths are compared in the file
system's form (`PyArrowFileIO.parse_location`), so `file:///x` and `/x`, or `s3://b/k` and `b/k`, agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pyarrow.fs import FileInfo, FileSelector, FileSystem, FileType
from pyiceberg.io.pyarrow import PyArrowFileIO
from pyiceberg.manifest import DataFile, ManifestContent, ManifestFile
from pyiceberg.table import Table
from pyiceberg.table.snapshots import Snapshot


def fs_path(location: str) -> str:
    return PyArrowFileIO.parse_location(location)[2]


def table_fs(table: Table) -> tuple[FileSystem, str]:
    """The file system holding the table's files (configured like the table's own FileIO) and its root in it."""
    io = table.io if isinstance(table.io, PyArrowFileIO) else PyArrowFileIO(table.io.properties)
    scheme, netloc, path = PyArrowFileIO.parse_location(table.location(), io.properties)
    return io.fs_by_scheme(scheme, netloc), path


def stored_files(table: Table) -> list[FileInfo]:
    """Every object under the table's location, referenced or not."""
    fs, root = table_fs(table)
    return [i for i in fs.get_file_info(FileSelector(root, recursive=True, allow_not_found=True)) if i.type == FileType.File]


@dataclass(frozen=True)
class FileTotals:
    files: int
    bytes: int
    records: int

    @classmethod
    def of(cls, files: Iterable[DataFile]) -> FileTotals:
        files = list(files)
        return cls(len(files), sum(f.file_size_in_bytes for f in files), sum(f.record_count for f in files))

    @property
    def bytes_per_record(self) -> float | None:
        return self.bytes / self.records if self.records else None


def _manifests(table: Table, snapshot: Snapshot) -> list[ManifestFile]:
    return snapshot.manifests(table.io)


def live_files(table: Table, snapshot: Snapshot | None = None) -> tuple[list[DataFile], list[DataFile]]:
    """(data files, delete files) live in `snapshot` (default: the current one)."""
    snapshot = snapshot or table.current_snapshot()
    data, deletes = [], []
    for manifest in _manifests(table, snapshot) if snapshot else ():
        entries = [e.data_file for e in manifest.fetch_manifest_entry(table.io, discard_deleted=True)]
        (data if manifest.content == ManifestContent.DATA else deletes).extend(entries)
    return data, deletes


def data_totals(table: Table) -> FileTotals:
    return FileTotals.of(live_files(table)[0])


def referenced_paths(table: Table, snapshots: Iterable[Snapshot]) -> set[str]:
    """Every object `snapshots` need: manifest lists, manifests, and the data and delete files live in them."""
    paths, seen_manifests = set(), set()
    for snapshot in snapshots:
        paths.add(fs_path(snapshot.manifest_list))
        for manifest in _manifests(table, snapshot):
            if manifest.manifest_path in seen_manifests:
                continue  # appends reuse their parent's manifests: read each one once
            seen_manifests.add(manifest.manifest_path)
            paths.add(fs_path(manifest.manifest_path))
            paths.update(fs_path(e.data_file.file_path) for e in manifest.fetch_manifest_entry(table.io, discard_deleted=True))
    return paths


def metadata_paths(table: Table) -> set[str]:
    """The table's metadata files still in use: the current one, its log, statistics files."""
    meta = table.metadata
    paths = {fs_path(table.metadata_location), *(fs_path(e.metadata_file) for e in meta.metadata_log)}
    paths.update(fs_path(s.statistics_path) for s in meta.statistics)
    paths.update(fs_path(s.statistics_path) for s in meta.partition_statistics)
    return paths
