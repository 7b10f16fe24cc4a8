"""The same steady machine for every library: import before NumPy, torch or JAX load.

- BLAS, OpenMP and XLA use one thread, and the process runs on one core, so libraries that
  start thread pools of their own (XLA does) still get one core.
- glibc's malloc keeps freed memory instead of returning it to the kernel.  Otherwise a
  library that frees and reallocates large arrays on each call (JAX, NumPy) may pay a page
  fault per 4 kB on every call or on none, depending on the heap's state: JAX's gradient
  below swings between 0.1 and 0.9 ms with nothing else changed.
"""

import ctypes
import ctypes.util
import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ[_variable] = "1"
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1").strip()

if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})  # the last core: the first takes more interrupts

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_libc_name = ctypes.util.find_library("c")
_mallopt = getattr(ctypes.CDLL(_libc_name), "mallopt", None) if _libc_name else None
STEADY_ALLOCATOR = bool(_mallopt and _mallopt(_M_TRIM_THRESHOLD, 1 << 30) and _mallopt(_M_MMAP_THRESHOLD, 1 << 25))
