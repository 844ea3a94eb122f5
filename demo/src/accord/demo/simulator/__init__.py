"""Realistic product traffic through the SDK, with injected faults and a truth file.

from accord.demo.simulator import Simulation, simulate
from accord.gold.experiments_config import load_experiments

truth = simulate(Simulation(gateway_url, write_key, Path("truth.json"), users=500,
                            experiments=load_experiments(Path("experiments.json"))))
"""

from accord.demo.simulator.assignment import assign_variant as assign_variant
from accord.demo.simulator.run import Progress as Progress
from accord.demo.simulator.run import Simulation as Simulation
from accord.demo.simulator.run import simulate as simulate
from accord.demo.simulator.traffic import FaultRates as FaultRates
from accord.demo.simulator.traffic import conversion_rate as conversion_rate
from accord.demo.simulator.truth import Truth as Truth
from accord.demo.simulator.truth import load_truth as load_truth

__all__ = [
    "FaultRates",
    "Progress",
    "Simulation",
    "Truth",
    "assign_variant",
    "conversion_rate",
    "load_truth",
    "simulate",
]
