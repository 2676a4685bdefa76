"""Loads Debian's torch with a fixed thread count, for the bench scripts' PyTorch sides.

Debian's torch calls the system BLAS (OpenBLAS, pthreads), whose thread count torch.set_num_threads
does not reach: it is fixed here before torch loads it. Torch's own OpenMP threads spin after each
parallel region and then starve OpenBLAS's threads on a machine with as many cores as threads
(measured on the 2-core machine: 4-7x slower forwards); a passive wait policy avoids that and is
what a user would set. OMP_WAIT_POLICY can be overridden from the environment.
"""

import os


def torch_with_threads(threads):
    os.environ["OPENBLAS_NUM_THREADS"] = str(threads)
    os.environ["OMP_NUM_THREADS"] = str(threads)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch

    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    return torch
