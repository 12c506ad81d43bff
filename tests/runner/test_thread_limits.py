"""N local workers share the cores out among every native thread pool, the renderer's included."""

from reconbench.runner.executors import local

POOLS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "LP_NUM_THREADS")


def test_workers_share_the_cores_among_every_thread_pool(monkeypatch):
    for name in POOLS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(local, "_cores", lambda: 16)
    assert set(local.THREAD_VARIABLES) == set(POOLS)  # llvmpipe (LP_NUM_THREADS) draws every scoring render on CPU
    assert local.thread_limits(4) == {name: "4" for name in POOLS}
    assert local.thread_limits(32) == {name: "1" for name in POOLS}
    monkeypatch.setattr(local, "_cores", lambda: 2)
    assert local.thread_limits(2) == {name: "1" for name in POOLS}
    monkeypatch.setenv("LP_NUM_THREADS", "3")  # what the user set stays
    assert "LP_NUM_THREADS" not in local.thread_limits(2)
