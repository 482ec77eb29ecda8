"""The PN→KC→APL circuit as data and its engines' shared pieces: the spec (spec), PN→KC wirings (wiring), PN rates of
odours and images (stimuli, odours), the rate model (rate), exact k-winner-take-all (kwta) and code measures
(measures). The spiking engine of the same spec is flymodel.spiking."""

from flymodel.circuit.kwta import kwta
from flymodel.circuit.rate import RateCircuit
from flymodel.circuit.spec import CircuitSpec, CircuitSpecError, load_circuit
from flymodel.circuit.stimuli import Stimuli, circuit_stimuli

__all__ = ["CircuitSpec", "CircuitSpecError", "load_circuit", "RateCircuit", "Stimuli", "circuit_stimuli", "kwta"]
