"""Evolutionary-robotics backend: a controller API for external simulators and reference
agent environments whose whole generation of episodes runs in one numba kernel (its SIMD
lanes are (individual, trial) pairs, on the lane kernels of ``simulate`` and ``Stepper``).

``Controller``        observations (P, n_obs) -> actions (P, n_act) tick by tick, built on
                      ``rnndyn.Stepper`` (sensor / motor mapping, several network steps per tick)
``VisualAgent``       Beer (2003)'s categorising visual agent: 7 rays, falling circles and
                      diamonds; ``run`` / ``fitness`` evaluate a whole CTRNN population
``beer2003_network``  Beer's 7 sensory + 5 inter + 2 motor controller template
``beer2003_genome``   its (bilaterally symmetric) genome over Beer's parameter ranges
``Walker``            Beer & Gallagher (1992)'s single leg: foot up/down, forward and backward
                      swing, angle sensor; a population's walks in one kernel
                      (``beer_gallagher1992_network`` / ``_genome``)
``GymTask``           a population on any gymnasium environment through its vector API
                      (gymnasium is an optional extra, imported when used)
"""
from .controller import Controller
from .gym import GymEpisodes, GymTask
from .visual_agent import Episodes, VisualAgent, beer2003_genome, beer2003_network
from .walker import Walker, Walks, beer_gallagher1992_genome, beer_gallagher1992_network

__all__ = ["Controller", "Episodes", "GymEpisodes", "GymTask", "VisualAgent", "Walker", "Walks",
           "beer2003_genome", "beer2003_network", "beer_gallagher1992_genome",
           "beer_gallagher1992_network"]
