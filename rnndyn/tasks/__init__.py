"""Benchmark tasks and time series: data only, every generator takes ``seed=`` where it
draws. Chaotic and delay series for reservoirs (``timeseries``); long-lag sequence tasks for
gradient learning (``sequences``: each returns inputs, targets and the mask of the steps
that carry a target); the five tasks of the Neural Turing Machine paper (``ntm``: copy,
repeat copy, associative recall, dynamic N-grams, priority sort; ``copy_task`` here, so that
the standard library's ``copy`` is not shadowed); trees for recursive nets (``trees``: parity
of binary trees, Boolean expressions); context-free languages as next-symbol prediction
(``languages``: a^n b^n, Dyck, palindromes); symbol streams for the history compressor
(``compressor``: chunked streams with rare events, a class recalled after a long lag)."""
from . import compressor, languages, ntm, trees
from .compressor import LongLag, SymbolStream, chunk_stream, long_lag_classes
from .sequences import (Sequences, adding_problem, delayed_xor, embedded_reber, flip_flop, latch,
                        parity, temporal_order)
from .ntm import associative_recall, dynamic_ngrams, ngram_bayes, ngram_tables, priority_sort
from .ntm import copy as copy_task
from .ntm import repeat_copy
from .timeseries import (lorenz_series, mackey_glass, narma, rossler_series, sine_to_square,
                         timer_task)
from .languages import anbn, dyck, palindrome, recognised
from .trees import boolean_trees, parity_trees

__all__ = ["mackey_glass", "narma", "lorenz_series", "rossler_series", "sine_to_square",
           "timer_task", "Sequences", "adding_problem", "temporal_order", "latch", "parity",
           "delayed_xor", "embedded_reber", "flip_flop", "ntm", "copy_task", "repeat_copy",
           "associative_recall", "dynamic_ngrams", "ngram_tables", "ngram_bayes", "priority_sort",
           "trees", "parity_trees", "boolean_trees",
           "languages", "anbn", "dyck", "palindrome", "recognised",
           "compressor", "chunk_stream", "long_lag_classes", "SymbolStream", "LongLag"]
