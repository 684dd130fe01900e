"""fastconv.dask on a distributed LocalCluster: 2 worker processes (spawned by their nannies,
1 thread each, memory-bounded), started and shut down by this module. A seeded sweep of
every forward op, and of the filter gradient (per-tile partial sums added across the two
processes), equals the whole-array call computed here."""

from __future__ import annotations

import os

import pytest
from distributed import Client, LocalCluster

import fastconv
from dask_cases import random_cases
from dask_grad_cases import random_grad_cases


@pytest.fixture(scope="module")
def client():
    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        memory_limit="1GiB",
        dashboard_address=":0",
        silence_logs=40,
    )
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def test_workers_are_spawned_with_one_openmp_thread(client):
    """The nanny starts each worker with spawn (no fork hazard for OpenMP) and
    OMP_NUM_THREADS=1, so fastconv runs each task on one thread."""
    info = client.run(
        lambda: (os.getpid(), os.environ.get("OMP_NUM_THREADS"), fastconv.get_num_threads())
    )
    pids = {pid for pid, _, _ in info.values()}
    assert len(pids) == 2 and os.getpid() not in pids  # two processes, not this one
    assert all(omp == "1" and threads == 1 for _, omp, threads in info.values())
    import dask

    assert dask.config.get("distributed.worker.multiprocessing-method") == "spawn"


def test_seeded_sweep_on_two_worker_processes(client, rng):
    cases = random_cases(rng, 6)
    results = client.gather(client.compute([case.dask() for case in cases]))
    for case, result in zip(cases, results):
        case.check(result)


def test_filter_gradient_on_two_worker_processes(client, rng):
    cases = random_grad_cases(rng, 4, ops=("conv2d_backprop_filter",))
    lazy = [case.dask() for case in cases]  # dW, or (dW, db) with return_bias_grad
    flat = [part for result in lazy for part in (result if isinstance(result, tuple) else [result])]
    computed = iter(client.gather(client.compute(flat)))
    for case, result in zip(cases, lazy):
        case.check(
            tuple(next(computed) for _ in result) if isinstance(result, tuple) else next(computed)
        )
