"""Run store: folders never collide, listing survives restarts, stale runs show as interrupted."""

from __future__ import annotations

import json
import threading

import pytest

from ganlab.runs import RunError, create_run, delete_run, list_runs, open_run
from tests.helpers import tiny_config


def test_concurrent_create_run_never_collides() -> None:
    made = []
    threads = [threading.Thread(target=lambda: made.append(create_run(tiny_config()).id)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(made)) == 8


def test_runs_are_listed_from_disk_newest_first() -> None:
    a = create_run(tiny_config())
    b = create_run(tiny_config(name="second"))
    assert [r.id for r in list_runs()] == [b.id, a.id]
    assert b.id.endswith("-dcgan-digits-second")
    assert open_run(a.id).config() == tiny_config()


def test_stale_running_status_reads_as_interrupted() -> None:
    run = create_run(tiny_config())
    status = json.loads((run.path / "status.json").read_text())
    status.update(state="running", pid=999_999_999, updated=0)
    (run.path / "status.json").write_text(json.dumps(status))
    assert run.status()["state"] == "interrupted"


def test_rename_changes_display_name_only() -> None:
    run = create_run(tiny_config())
    run.rename("my favourite")
    assert open_run(run.id).display_name == "my favourite"
    with pytest.raises(RunError, match="1 to 80 characters"):
        run.rename("")


def test_delete_refuses_paths_outside_runs_and_active_runs() -> None:
    run = create_run(tiny_config())
    run.update_status(state="running")
    with pytest.raises(RunError, match="still training"):
        delete_run(run)
    run.update_status(state="stopped")
    delete_run(run)
    assert list_runs() == []
    with pytest.raises(RunError, match="not a run folder name"):
        open_run("../etc")


def test_metrics_reader_skips_a_line_cut_by_a_crash() -> None:
    run = create_run(tiny_config())
    run.append_metrics([{"step": 1, "loss_d": 1.0}])
    with open(run.metrics_path, "a") as fh:
        fh.write('{"step": 2, "loss')
    assert run.read_metrics() == [{"step": 1, "loss_d": 1.0}]
