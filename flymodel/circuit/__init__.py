"""The PN→KC→APL circuit as data and its engines' shared pieces.

The spec (``spec``), PN→KC wirings (``wiring``), PN rates of odours and images (``stimuli``, ``odours``), the rate
model (``rate``), exact k-winner-take-all (``kwta``) and code measures (``measures``). The spiking engine of the same
spec is ``flymodel.spiking``.
"""

from flymodel.circuit.kwta import kwta
from flymodel.circuit.rate import RateCircuit, RateParameters
from flymodel.circuit.spec import (
    APLSpec,
    CircuitSpec,
    CircuitSpecError,
    InputSpec,
    KCSpec,
    PlasticitySpec,
    SimulationSpec,
    available_circuits,
    load_circuit,
)
from flymodel.circuit.stimuli import Stimuli, circuit_stimuli, feature_rates

__all__ = ["CircuitSpec", "InputSpec", "KCSpec", "APLSpec", "PlasticitySpec", "SimulationSpec", "CircuitSpecError",
           "load_circuit", "available_circuits", "RateCircuit", "RateParameters", "Stimuli", "circuit_stimuli",
           "feature_rates", "kwta"]
