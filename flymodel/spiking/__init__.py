"""The spiking PN→KC→APL circuit in Brian2: runtime (numpy/Cython), cpp_standalone and cuda_standalone (brian2cuda)."""

from flymodel.spiking.circuit import SpikingCircuit, SpikingResult, simulate
from flymodel.spiking.devices import DEVICES

__all__ = ["SpikingCircuit", "SpikingResult", "simulate", "DEVICES"]
