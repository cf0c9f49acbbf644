"""Training: global (derivative-free) search over parameter vectors and the genome that maps
them to networks (``search``, ``genome``); reservoir readouts (``readout``: ridge with
accumulated X^T X, RLS, FORCE, teacher forcing, closed-loop generation).

Every method has one ask/tell interface (``ask() -> (P, d)``, ``tell(fitness)``) and
``run(fitness, generations, direction=...)``; a generation is one vectorised fitness call
(or chunks of it on an ``executor=``), checkpoints resume bit-identically.
"""
from .genome import Genome
from .readout import (RLS, FitResult, ForceResult, Readout, Ridge, fit, force, generate, states,
                      teacher_inputs)
from .search import (GA, METHODS, PSO, Annealing, Guessing, History, MicrobialGA, Search,
                     SearchResult, SepCMAES, evaluate, make)

__all__ = ["Genome", "GA", "MicrobialGA", "Annealing", "PSO", "Guessing", "SepCMAES", "Search",
           "SearchResult", "History", "METHODS", "evaluate", "make", "Readout", "Ridge", "RLS",
           "FitResult", "ForceResult", "fit", "force", "generate", "states", "teacher_inputs"]
