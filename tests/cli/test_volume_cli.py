"""`reconbench volume RUN_DIR`: hours(N, K) = ceil(N / K) x (w + e + o) / 3600 from a run's records."""

from __future__ import annotations

from reconbench.cli import main
from reconbench.runner.store import JobRecord, ResultsStore


def test_volume_table_from_the_recorded_times(tmp_path, capsys):
    with ResultsStore(tmp_path / "results.sqlite") as store:
        for obj, (w, e) in {"a": (20.0, 4.0), "b": (40.0, 8.0)}.items():  # means: w 30 s, e 6 s
            store.put(
                JobRecord(f"m/{obj}", "m", obj, "c", "default", 0, "ok", time_s=w, timings={"evaluation_wall_s": e})
            )
        store.put(JobRecord("m/c", "m", "c", "c", "default", 0, "failed", error="boom"))  # not counted
    assert main(["volume", str(tmp_path), "--assets", "100", "--workers", "1,8,100"]) == 0
    rows = capsys.readouterr().out.strip().splitlines()
    assert rows[0] == "| method | jobs | w s/asset | e s/asset | 100 on 1 | 100 on 8 | 100 on 100 |"
    # 100 x 36 s = 1.0 h; ceil(100 / 8) = 13 x 36 s = 7.8 min; 1 x 36 s = 0.6 min
    assert rows[2] == "| m | 2 | 30.00 | 6.00 | 1.0 h | 8 min | 1 min |"
    assert main(["volume", str(tmp_path), "--assets", "100", "--workers", "1", "--overhead", "4"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[2] == "| m | 2 | 30.00 | 6.00 | 1.1 h |"  # 100 x 40 s
