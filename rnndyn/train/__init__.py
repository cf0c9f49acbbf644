"""Training. Gradients of sequence losses with one signature for every method (``bptt``,
``truncated_bptt``, ``rtrl``: (loss, gradient like ``model.to_vector(fields)``)), losses,
optimizers and the training loop (``train``: mini-batches, clipping, schedules, early
stopping, resumable checkpoints); global (derivative-free) search over parameter vectors
and the genome that maps them to networks (``search``, ``genome``); reservoir readouts (``readout``: ridge with
accumulated X^T X, RLS, FORCE, teacher forcing, closed-loop generation); backpropagation through structure for recursive
nets over trees (``recursive``: ``gradient``, ``fit``); the neural history compressor
(``HistoryCompressor``: a stack of cells, each seeing only what the level below failed to
predict).

Every method has one ask/tell interface (``ask() -> (P, d)``, ``tell(fitness)``) and
``run(fitness, generations, direction=...)``; a generation is one vectorised fitness call
(or chunks of it on an ``executor=``), checkpoints resume bit-identically.
"""
from .crbp import OnlineResult as CRBPOnlineResult
from .crbp import crbp, crbp_online, rbp
from . import recursive
from .compressor import Events as CompressorEvents
from .compressor import HistoryCompressor, PredictAndImitate, next_symbol_data
from .genome import Genome
from .gradients import Gradient, OnlineRTRL, bptt, rtrl, truncated_bptt
from .loop import History as TrainHistory
from .loop import TrainResult, load_checkpoint, train
from .loop import evaluate as evaluate_loss
from .losses import MSE, Bits, CrossEntropy, Loss, get_loss
from .optimizers import (SGD, Adam, Constant, Cosine, ExponentialDecay, Optimizer, RMSProp,
                         StepDecay, clip_by_norm, clip_by_value, get_optimizer)
from .readout import (RLS, FitResult, ForceResult, Readout, Ridge, SweepResult, fit, force,
                      generate, states, sweep, teacher_inputs)
from .search import (GA, METHODS, PSO, Annealing, Guessing, History, MicrobialGA, Search,
                     SearchResult, SepCMAES, evaluate, make)

__all__ = ["Genome", "GA", "MicrobialGA", "Annealing", "PSO", "Guessing", "SepCMAES", "Search",
           "SearchResult", "History", "METHODS", "evaluate", "make", "Readout", "Ridge", "RLS",
           "FitResult", "ForceResult", "SweepResult", "fit", "force", "generate", "states", "sweep",
           "teacher_inputs",
           "Gradient", "OnlineRTRL", "bptt", "rtrl", "truncated_bptt", "train", "TrainResult",
           "TrainHistory", "load_checkpoint", "evaluate_loss", "Loss", "MSE", "CrossEntropy",
           "Bits", "get_loss", "Optimizer", "SGD", "RMSProp", "Adam", "Constant", "StepDecay",
           "ExponentialDecay", "Cosine", "clip_by_norm", "clip_by_value", "get_optimizer", "rbp",
           "crbp", "crbp_online", "CRBPOnlineResult", "recursive",
           "HistoryCompressor", "PredictAndImitate", "CompressorEvents", "next_symbol_data"]
