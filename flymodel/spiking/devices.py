"""Brian2 device selection: the numpy or Cython runtime, cpp_standalone and cuda_standalone (brian2cuda).

Brian2 has one global device per process, so activating a device forgets the previous standalone project;
flymodel.spiking.SpikingCircuit checks that it is still the active one before each run.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

DEVICES = ("numpy", "cython", "cpp_standalone", "cuda_standalone")
STANDALONE = ("cpp_standalone", "cuda_standalone")

_generation = 0


def current_generation() -> int:
    """A counter that changes whenever a device is activated (a built circuit is only valid in its generation).

    Returns
    -------
    int
        The number of activations so far in this process.
    """
    return _generation


def activate_device(name: str, directory: str | os.PathLike[str] | None = None, cuda_codegen_only: bool = False) -> int:
    """Make ``name`` Brian2's active device (standalone projects go to ``directory``); returns the new generation.

    The previous device is reinitialised, so any circuit built on it can no longer run. cuda_codegen_only sets
    brian2cuda's preferences so that CUDA code can be generated on a machine with no GPU and no CUDA toolkit
    (notes/stack.md); such a project is written but cannot be compiled or run.

    Parameters
    ----------
    name : {"numpy", "cython", "cpp_standalone", "cuda_standalone"}
        The device: the numpy or Cython runtime, or a standalone project in C++ or CUDA (brian2cuda).
    directory : str or os.PathLike or None, default None
        The standalone project folder; required for cpp_standalone and cuda_standalone.
    cuda_codegen_only : bool, default False
        For cuda_standalone, only generate code: no GPU detection, and a stand-in CUDA configuration when no toolkit
        is installed.

    Returns
    -------
    int
        The new generation (``current_generation()``).

    Raises
    ------
    ValueError
        If ``name`` is not in ``DEVICES``, or a standalone device has no ``directory``.
    ImportError
        If cuda_standalone is asked for and brian2cuda is not installed.

    Examples
    --------
    >>> from flymodel.spiking.devices import activate_device, current_generation
    >>> generation = activate_device("numpy")
    >>> generation == current_generation()
    True
    >>> activate_device("cpp_standalone")
    Traceback (most recent call last):
    ...
    ValueError: device='cpp_standalone' writes a project folder; pass directory=
    """
    global _generation
    if name not in DEVICES:
        raise ValueError(f"device={name!r} is not known; expected one of: {', '.join(DEVICES)}")
    if name in STANDALONE and directory is None:
        raise ValueError(f"device={name!r} writes a project folder; pass directory=")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="_get_vc_env is private")
        import brian2  # noqa: F401  (first import, with its setuptools warning silenced)
    from brian2 import prefs, set_device
    from brian2.devices.device import get_device

    get_device().reinit()
    if name in ("numpy", "cython"):
        prefs.codegen.target = name
        set_device("runtime")
    elif name == "cpp_standalone":
        set_device("cpp_standalone", directory=str(directory), build_on_run=False)
    else:
        import brian2cuda  # noqa: F401  (registers the cuda_standalone device)

        backend = prefs.devices.cuda_standalone.cuda_backend
        if cuda_codegen_only:
            backend.detect_gpus = False
            backend.gpu_id = 0
            backend.compute_capability = 8.0
            if not _cuda_installed():
                backend.detect_cuda = False
                backend.cuda_path = "/usr/local/cuda"
                backend.cuda_runtime_version = 12.0
        set_device("cuda_standalone", directory=str(directory), build_on_run=False)
    _generation += 1
    return _generation


def _cuda_installed() -> bool:
    """Whether a CUDA toolkit (nvcc) is visible."""
    return bool(os.environ.get("CUDA_PATH")) or Path("/usr/local/cuda/bin/nvcc").exists()
