"""Parameter containers and pure dynamics, one file per family (protocol: ``models.base``)."""
from .base import Functions, Model
from .ctrnn import CTRNN
from .deep import Bidirectional, BidirectionalStack, Stacked, rmlp
from .cell import ACTIVATIONS as DISCRETE_ACTIVATIONS
from .cell import Cell
from .discrete import Elman, FullyRecurrent, IndRNN, Jordan, SecondOrderRNN
from .gated import GRU, LSTM
from . import mtrnn
from .hopfield import BAM, ContinuousHopfield, Hopfield, ModernHopfield
from .iir_mlp import IIRMLP
from .memristive import Memristive
from .ntm import NTM
from .dnc import DNC
from .nnpda import NNPDA
from .clockwork import ClockworkRNN
from . import recursive
from .recursive import RecursiveNet
from .reservoir import ESN, LSM, DeepESN, ESNFlow, spike_raster
from .user import Flow, Map, logistic_map, lorenz, rossler

__all__ = ["Functions", "Model", "CTRNN", "Flow", "Map", "lorenz", "logistic_map", "Elman",
           "FullyRecurrent", "Jordan", "IndRNN", "SecondOrderRNN", "LSTM", "GRU", "Stacked",
           "Bidirectional", "BidirectionalStack", "rmlp", "Cell", "DISCRETE_ACTIVATIONS",
           "Memristive", "ESN", "ESNFlow", "DeepESN", "LSM", "spike_raster", "rossler", "Hopfield", "ContinuousHopfield",
           "ModernHopfield", "BAM", "mtrnn", "IIRMLP", "NTM",
           "recursive", "RecursiveNet", "NNPDA", "ClockworkRNN", "DNC"]
