"""Inspect reports for many files at once: in order, one per file, an unreadable file giving
its error instead of stopping the rest, each report the one ``inspect_bytes`` gives."""

from __future__ import annotations

from pathlib import Path

from test_gb45438_support import image, label

from hallmark.mark import gb45438
from hallmark.mark.report import inspect_bytes, inspect_paths
from hallmark.registry import Components
from hallmark.settings import Settings


def test_files_are_reported_in_order_and_errors_kept_per_file(tmp_path: Path) -> None:
    components = Components(Settings(home=tmp_path / "home", worker_threads=0))
    gb45438.register(components)
    keys = gb45438.KeyStore(components.settings.keys_dir)
    labelled = tmp_path / "labelled.jpg"
    labelled.write_bytes(label(image("jpeg"), "image/jpeg", keys)[0])
    plain = tmp_path / "plain.png"
    plain.write_bytes(image("png"))
    folder, missing = tmp_path / "folder", tmp_path / "missing.jpg"
    folder.mkdir()

    paths = [labelled, folder, plain, missing]
    reports = list(inspect_paths(components, paths, workers=2, quick=True))

    assert [report["file"] for report in reports] == [str(path) for path in paths]
    for path, report in ((labelled, reports[0]), (plain, reports[2])):
        expected = inspect_bytes(components, path.read_bytes(), filename=str(path), quick=True)
        assert report == expected
    assert reports[0]["verdict"] == "confirmed" and reports[2]["verdict"] == "none"
    assert "is a folder" in reports[1]["error"]["message"]
    assert "cannot read" in reports[3]["error"]["message"]
