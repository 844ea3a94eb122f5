"""Realistic product traffic through the SDK, with injected faults and a truth file.

from accord.sdk.simulator import Simulation, load_experiments, simulate

truth = simulate(Simulation(gateway_url, write_key, Path("truth.json"), users=500,
                            experiments=load_experiments(Path("experiments.json"))))
"""

from accord.sdk.simulator.experiments import Experiment as Experiment
from accord.sdk.simulator.experiments import assign_variant as assign_variant
from accord.sdk.simulator.experiments import load_experiments as load_experiments
from accord.sdk.simulator.run import Progress as Progress
from accord.sdk.simulator.run import Simulation as Simulation
from accord.sdk.simulator.run import simulate as simulate
from accord.sdk.simulator.traffic import FaultRates as FaultRates
from accord.sdk.simulator.traffic import conversion_rate as conversion_rate

__all__ = [
    "Experiment",
    "FaultRates",
    "Progress",
    "Simulation",
    "assign_variant",
    "conversion_rate",
    "load_experiments",
    "simulate",
]
