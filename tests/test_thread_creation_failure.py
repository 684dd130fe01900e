"""When no thread can be created, a call runs on the threads there are and returns the right
result: the process neither exits (libgomp's "Thread creation failed" is fatal) nor hangs.

The limit is set inside the script, after the imports and a serial warm-up (which also gives
the expected results: any thread count gives the same bits), so that the interpreter, NumPy
and fastconv load normally and only the threads of the calls under test are refused: from
the main thread, then from a Python thread started before the limit (libgomp keeps a team
per calling thread, so it needs threads of its own). The script checks that the limit
really refuses a new thread, else the test would prove nothing."""

from __future__ import annotations

from run_script import run_python

SCRIPT = """
import os, resource, sys, threading
import numpy as np
import fastconv

rng = np.random.default_rng(0)
x = rng.standard_normal((4, 32, 32, 32)).astype(np.float32)
w = rng.standard_normal((3, 3, 32, 32)).astype(np.float32)
calls = {  # each far above the serial cut-off
    f"conv2d-{a}": lambda out, a=a: fastconv.conv2d(x, w, 1, "SAME", algorithm=a, out=out)
    for a in ("auto", "im2col", "direct")
}
calls["depthwise"] = lambda out: fastconv.depthwise_conv2d(x, w[:, :, :, :1], 1, "SAME", out=out)
calls["max_pool"] = lambda out: fastconv.max_pool2d(x, 3, 1, "SAME", out=out)
fastconv.set_num_threads(1)
want = {name: call(None) for name, call in calls.items()}
outs = {name: np.empty_like(r) for name, r in want.items()}  # nothing big to allocate later

def check_all(who):
    for name, call in calls.items():
        outs[name].fill(np.nan)
        got = call(outs[name])
        assert got is outs[name], name
        assert np.array_equal(got, want[name]), f"{who}, {name}: wrong result without threads"

# Started now, computing later: a Python thread calls with no OpenMP team of its own yet.
go = threading.Event()
errors = []
def later():
    go.wait()
    try:
        check_all("another Python thread")
    except BaseException as e:
        errors.append(e)
other = threading.Thread(target=later)
other.start()

def vm_size():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmSize:"))

if sys.argv[1] == "AS":  # 1 MiB more address space: no room for a thread's stack (>= 2 MiB)
    limit = vm_size() + (1 << 20)
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
else:  # NPROC: this user already has a process, so no new one (or thread) is allowed
    if os.geteuid() == 0:  # root ignores the limit: become nobody (everything is loaded)
        os.setgid(65534)
        os.setuid(65534)
    resource.setrlimit(resource.RLIMIT_NPROC, (1, resource.getrlimit(resource.RLIMIT_NPROC)[1]))
try:
    threading.Thread(target=lambda: None).start()
except RuntimeError:
    pass
else:
    sys.exit("the limit does not stop a new thread: this test would prove nothing")

fastconv.set_num_threads(2)
check_all("main thread")
go.set()
other.join()
if errors:
    raise errors[0]
print("ok", flush=True)
"""


def test_no_address_space_for_threads():
    """RLIMIT_AS just above what the process holds: a thread's stack cannot be mapped."""
    assert run_python(SCRIPT, args=["AS"], timeout=30).stdout.strip() == "ok"


def test_no_process_slots_for_threads():
    """RLIMIT_NPROC: no more processes or threads for this user. Root is exempt from it, so
    a script started as root becomes the unprivileged user nobody once it has loaded."""
    assert run_python(SCRIPT, args=["NPROC"], timeout=30).stdout.strip() == "ok"
