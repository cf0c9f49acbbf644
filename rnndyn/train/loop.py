"""The training loop: mini-batches of sequences, a gradient method by name (``"bptt"``,
``"truncated_bptt"``, ``"rtrl"``), gradient clipping (by norm, Pascanu et al. 2013; by value),
an optimizer, a learning-rate schedule, early stopping on a validation set, a tqdm progress
bar, a ``History`` that plots, and checkpoints from which a run resumes bit-identically.

Checkpoints are written atomically (a temporary file in the same folder, then a rename), so
a crash never leaves a half-written one. A run that finds its checkpoint file resumes from
it: parameters, optimizer accumulators, the shuffling generator's state, the history and
the early-stopping state, so the resumed run ends with exactly the parameters of an
uninterrupted one. A non-finite loss or gradient stops training with a ``DivergenceError``
naming the update and the last good checkpoint, which is left untouched.
"""
from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np

from .._validate import check_seed, positive, positive_int
from .._atomic import resolve_target, write_atomically
from .._blas import norm
from ..errors import DivergenceError, ValidationError
from ..integrate import run
from ..integrate.plumbing import check_model
from ..models.deep import Bidirectional, BidirectionalStack
from . import gradients
from .crbp import crbp, rbp
from .losses import get_loss
from .optimizers import clip_by_norm, clip_by_value, get_optimizer, get_schedule

METHODS = {"bptt": gradients.bptt, "truncated_bptt": gradients.truncated_bptt,
           "rtrl": gradients.rtrl, "rbp": rbp, "crbp": crbp}
_FORMAT = 1  # checkpoint format version


class History:
    """What training recorded, one entry per update (``step``, ``epoch``, ``loss``,
    ``grad_norm`` before clipping, ``update_norm`` of the clipped gradient, ``lr``) and
    per epoch (``val_epoch``, ``val_loss``, ``metric``)."""

    _PER_STEP = ("step", "epoch", "loss", "grad_norm", "update_norm", "lr")
    _PER_EPOCH = ("val_epoch", "val_loss", "metric")

    def __init__(self, data: dict | None = None):
        for k in self._PER_STEP + self._PER_EPOCH:
            setattr(self, k, list((data or {}).get(k, [])))

    def as_dict(self) -> dict:
        return {k: list(getattr(self, k)) for k in self._PER_STEP + self._PER_EPOCH}

    def __len__(self):
        return len(self.step)

    def __repr__(self):
        last = f", last loss {self.loss[-1]:.4g}" if self.loss else ""
        return f"History({len(self)} updates{last})"

    def plot(self, ax=None):
        """Training loss (and validation loss) against updates, gradient norm on a twin
        axis; returns the matplotlib Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
        ax.semilogy(self.step, self.loss, lw=0.8, label="training loss")
        if self.val_loss:
            last = {e + 1: s for s, e in zip(self.step, self.epoch)}  # after epoch e + 1
            ax.semilogy([last.get(e, 0) for e in self.val_epoch], self.val_loss, "o-",
                        label="validation loss")
        ax.set_xlabel("update")
        ax.set_ylabel("loss")
        ax2 = ax.twinx()
        ax2.semilogy(self.step, self.grad_norm, color="0.6", lw=0.5, label="gradient norm")
        ax2.set_ylabel("gradient norm")
        ax.legend(loc="upper right")
        return ax


class TrainResult(NamedTuple):
    """``model`` (the trained model: the best on the validation set if one was given),
    ``history``, ``stopped_early`` and ``best_val_loss`` (None without validation)."""

    model: object
    history: History
    stopped_early: bool
    best_val_loss: float | None


_NON_CAUSAL = (Bidirectional, BidirectionalStack)  # bptt only; not maps


def _data(data, model, where):
    """(inputs (T, N, n_in), targets (T, N, n_out), mask (T, N)) from a task's data."""
    if not isinstance(data, tuple) or len(data) not in (2, 3):
        raise ValidationError(where, "expected (inputs, targets) or (inputs, targets, mask) "
                              "(e.g. a task from rnndyn.tasks)", data)
    X, Y = np.asarray(data[0], dtype=float), np.asarray(data[1], dtype=float)
    mask = data[2] if len(data) == 3 else None
    if X.ndim != 3 or X.shape[2] != model.n_in:
        raise ValidationError(f"{where}.inputs", f"expected shape (T, N, {model.n_in}), got "
                              f"{X.shape}", data[0])
    T, N = X.shape[:2]
    if N == 0:
        raise ValidationError(f"{where}.inputs", f"holds no sequences (shape {X.shape}, N = "
                              "0); pass at least one", data[0])
    if Y.shape != (T, N, model.n_out):
        raise ValidationError(f"{where}.targets", f"expected shape {(T, N, model.n_out)} to "
                              f"match the inputs, got {Y.shape}", data[1])
    M = np.ones((T, N), bool) if mask is None else np.asarray(mask)
    if M.dtype != bool or M.shape not in ((T,), (T, N)):
        raise ValidationError(f"{where}.mask", f"expected a bool array of shape ({T},) or "
                              f"({T}, {N}), got {M.dtype} {M.shape}", mask)
    if not M.any():  # checked here, not when the first epoch ends
        raise ValidationError(f"{where}.mask", "selects no step; nothing to learn from or "
                              "score", mask)
    return X, Y, np.broadcast_to(M.reshape(T, -1), (T, N))


def evaluate(model, data, loss="mse", *, dt: float | None = None, scheme: str = "rk4") -> float:
    """The loss of ``model`` on ``data`` (inputs, targets[, mask]) without gradients (a flow
    needs ``dt`` and ``scheme``, as in ``rnndyn.train.gradients.bptt``)."""
    X, Y, M = _data(data, model, "evaluate.data")
    if isinstance(model, _NON_CAUSAL):  # not a map: run checks it and its inputs
        loss = get_loss(loss, "evaluate.loss")
        loss.check_targets(Y, M, "evaluate")
        return loss(np.asarray(run(model, X).outputs, dtype=float), Y, M)[0]
    pb = gradients.prepare(model, X, Y, loss, None, M, None, np.float64, "evaluate", dt, scheme)
    return gradients.forward(pb)[1]


def _save(path: Path, arrays: dict, meta: dict) -> None:
    """Write the checkpoint atomically: a temporary file beside it, fsync, rename."""
    write_atomically(path, lambda fh: np.savez(fh, meta=np.array(json.dumps(meta)), **arrays))


def load_checkpoint(path) -> tuple[dict, dict]:
    """(arrays, metadata) of a checkpoint file written by ``train``."""
    with np.load(Path(path), allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files if k != "meta"}
        meta = json.loads(str(z["meta"]))
    return arrays, meta


def train(model, data, *, loss="mse", fields=None, method: str = "bptt",
          method_options: dict | None = None, optimizer="adam", lr: float | None = None,
          epochs: int | None = None, batch_size: int = 32, clip_norm: float | None = None,
          clip_value: float | None = None, schedule=None, validation=None,
          patience: int | None = None, metric: Callable | None = None, checkpoint=None,
          checkpoint_every: int = 1, seed=None, progress: bool = False,
          max_updates: int | None = None) -> TrainResult:
    """Train a map model's parameters by gradient descent on a sequence loss.

    Parameters
    ----------
    model : map model, or flow with ``method_options={"dt": ..., "scheme": ...}``; single.
        ``Bidirectional`` and ``BidirectionalStack`` models train with method "bptt".
    data : (inputs (T, N, n_in), targets (T, N, n_out)[, mask (T,) or (T, N)])
        The training sequences, time-major (e.g. a task of ``rnndyn.tasks.sequences``).
    loss : {"mse", "cross_entropy", "bits"} or Loss
    fields : str or sequence of str, optional
        Parameter fields to train (default all).
    method : {"bptt", "truncated_bptt", "rtrl", "rbp", "crbp"}
        RBP and CRBP (``method_options={"depth": Q}``) only for ``IIRMLP`` networks.
    method_options : dict, optional
        Extra keywords of the method (``{"h": 20, "h_prime": 10}`` for truncated BPTT;
        ``{"dt": 0.1, "scheme": "rk4"}`` for a flow).
    optimizer : {"sgd", "rmsprop", "rmsprop_graves", "adam"} or Optimizer
    lr : float, optional
        Base learning rate of a named optimizer (default: the optimizer's).
    epochs : int, optional
        Passes over the data; default 10, or as many as ``max_updates`` needs.
    batch_size : int
        Sequences per update (the last batch of an epoch may be smaller).
    clip_norm, clip_value : float, optional
        Clip each gradient entry to [-clip_value, clip_value], then rescale the gradient to
        norm <= clip_norm (Pascanu et al. 2013).
    schedule : Schedule or callable k -> factor, optional
        Learning rate of update k is ``lr * schedule(k)``.
    validation : (inputs, targets[, mask]), optional
        Evaluated after every epoch; the returned model is the best one on it.
    patience : int, optional
        Stop after this many epochs without a better validation loss (needs validation).
    metric : callable (model) -> float, optional
        Recorded after every epoch in ``history.metric`` (e.g. a task's accuracy).
    checkpoint : path, optional
        Checkpoint file (npz), written every ``checkpoint_every`` epochs and at the end; if
        it exists, training resumes from it.
    seed : int, Generator or None
        Shuffling of the mini-batches.
    progress : bool
        Show a tqdm progress bar.
    max_updates : int, optional
        Stop after this many updates in total (e.g. a study's budget).

    Returns
    -------
    TrainResult
        ``(model, history, stopped_early, best_val_loss)``.

    Raises
    ------
    ValidationError
        Bad data shapes, an unknown loss/method/optimizer/field, bad settings, or a
        checkpoint that belongs to another problem.
    DivergenceError
        If the loss or the gradient becomes non-finite (or the state diverges), naming the
        update and the last good checkpoint.
    """
    if isinstance(model, _NON_CAUSAL):
        if method != "bptt":
            raise ValidationError("train.method", f"{type(model).__name__} is not causal (its "
                                  "backward cells read the sequence from the end): train it "
                                  f"with method='bptt', not {method!r}", method)
    else:
        check_model(model, "train", single=True)
    if method not in METHODS:
        raise ValidationError("train.method", f"unknown method {method!r}; choose one of "
                              f"{sorted(METHODS)}", method)
    grad_fn, options = METHODS[method], dict(method_options or {})
    required = [k for k, q in inspect.signature(grad_fn).parameters.items()
                if q.kind is q.KEYWORD_ONLY and q.default is q.empty and k not in options]
    if required:
        raise ValidationError("train.method_options", f"method {method!r} needs "
                              f"{', '.join(required)}: pass method_options="
                              f"{{{', '.join(repr(k) + ': ...' for k in required)}}}",
                              method_options)
    loss_fn = get_loss(loss, "train.loss")
    opt = get_optimizer(optimizer, lr, "train.optimizer")
    base_lr = opt.lr
    schedule = get_schedule(schedule, "train.schedule")
    batch_size = positive_int(batch_size, "train.batch_size")
    checkpoint_every = positive_int(checkpoint_every, "train.checkpoint_every")
    clip_norm = None if clip_norm is None else positive(clip_norm, "train.clip_norm")
    clip_value = None if clip_value is None else positive(clip_value, "train.clip_value")
    max_updates = None if max_updates is None else positive_int(max_updates, "train.max_updates")
    if patience is not None:
        patience = positive_int(patience, "train.patience")
        if validation is None:
            raise ValidationError("train.patience", "early stopping needs validation data; "
                                  "pass validation=(inputs, targets[, mask])", patience)
    X, Y, M = _data(data, model, "train.data")
    val = None if validation is None else _data(validation, model, "train.validation")
    theta = model.to_vector(fields)  # also checks the field names
    rng = check_seed(seed, "train.seed")
    N = X.shape[1]
    n_batches = -(-N // batch_size)
    epochs = (10 if max_updates is None else -(-max_updates // n_batches)) if epochs is None \
        else positive_int(epochs, "train.epochs")
    history = History()
    state = {"epoch": 0, "step": 0, "best_val": None, "bad_epochs": 0, "stopped": False}
    best_theta = theta.copy()
    # checked before the first update: a bad path must not surface after hours of training
    path = None if checkpoint is None else Path(resolve_target(checkpoint, "train.checkpoint")[0])
    last_good = None
    if path is not None and path.exists():  # resume
        try:
            arrays, meta = load_checkpoint(path)
        except Exception as exc:  # noqa: BLE001 (any unreadable file gets the same message)
            raise ValidationError("train.checkpoint", f"{str(checkpoint)!r} is not a readable "
                                  f"checkpoint of train ({exc}); delete it or pass another "
                                  "path", checkpoint) from None
        if meta.get("format") != _FORMAT or arrays["theta"].shape != theta.shape or \
                meta.get("fields") != (None if fields is None else list(np.atleast_1d(fields))):
            raise ValidationError("train.checkpoint", f"{str(path)!r} holds another problem "
                                  f"(parameters {arrays['theta'].shape}, fields "
                                  f"{meta.get('fields')}); delete it or pass another path", path)
        theta = arrays["theta"]
        best_theta = arrays["best_theta"]
        opt.load_state_dict({k[4:]: v for k, v in arrays.items() if k.startswith("opt.")} |
                            meta["opt_scalars"])
        rng.bit_generator.state = meta["rng"]
        history = History(meta["history"])
        state = meta["state"]
        last_good = (str(path), state["step"])

    def save():
        nonlocal last_good
        if path is None:
            return
        opt_state = opt.state_dict()
        arrays = {"theta": theta, "best_theta": best_theta}
        arrays |= {f"opt.{k}": v for k, v in opt_state.items() if isinstance(v, np.ndarray)}
        meta = {"format": _FORMAT, "fields": None if fields is None else
                list(np.atleast_1d(fields)), "rng": rng.bit_generator.state,
                "history": history.as_dict(), "state": state,
                "opt_scalars": {k: v for k, v in opt_state.items()
                                if not isinstance(v, np.ndarray)}}
        _save(path, arrays, meta)
        last_good = (str(path), state["step"])

    def diverged(step, why):
        where = (f"the last good checkpoint is {last_good[0]!r} (after update {last_good[1]})"
                 if last_good else "no checkpoint was written (pass checkpoint= to keep one)")
        return DivergenceError(f"training diverged at update {step}: {why}; {where}. Lower "
                               "the learning rate or clip the gradient (clip_norm=)",
                               t=float(step))

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=epochs * n_batches, initial=state["epoch"] * n_batches, unit="update",
                   desc="train")
    current = model.from_vector(theta, fields)
    try:
        while state["epoch"] < epochs and not state["stopped"]:
            order = rng.permutation(N)
            for b in range(n_batches):
                if max_updates is not None and state["step"] >= max_updates:
                    state["stopped"] = True
                    break
                idx = np.sort(order[b * batch_size:(b + 1) * batch_size])
                k = state["step"]
                try:
                    value, g = grad_fn(current, X[:, idx], Y[:, idx], loss_fn, fields,
                                       mask=M[:, idx], **options)
                except DivergenceError as exc:
                    raise diverged(k + 1, f"the state became non-finite ({exc})") from None
                if not (np.isfinite(value) and np.all(np.isfinite(g))):
                    raise diverged(k + 1, f"the loss is {value}" if not np.isfinite(value)
                                   else "the gradient is non-finite")
                g_norm = norm(g)
                if clip_value is not None:
                    g = clip_by_value(g, clip_value)
                if clip_norm is not None:
                    g = clip_by_norm(g, clip_norm)
                factor = float(schedule(k))
                if not (np.isfinite(factor) and factor >= 0.0):  # < 0 would ascend the loss
                    raise ValidationError("train.schedule", f"gave the factor {factor} at "
                                          f"update {k}; a schedule's factors must be finite "
                                          "and >= 0", schedule)
                rate = base_lr * factor
                theta = opt.step(theta, g, rate)
                try:
                    current = model.from_vector(theta, fields)
                except ValidationError as exc:  # non-finite or out of bounds (tau <= 0)
                    raise diverged(k + 1, f"the update left the parameters invalid ({exc})") \
                        from None
                state["step"] = k + 1
                for key, v in (("step", k + 1), ("epoch", state["epoch"]), ("loss", value),
                               ("grad_norm", g_norm), ("update_norm", norm(g)),
                               ("lr", rate)):
                    getattr(history, key).append(v)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{value:.4g}")
            else:
                state["epoch"] += 1
            if val is not None and (state["epoch"] > len(history.val_epoch) or state["stopped"]):
                v = evaluate(current, val, loss_fn, dt=options.get("dt"),
                             scheme=options.get("scheme", "rk4"))
                history.val_epoch.append(state["epoch"])
                history.val_loss.append(v)
                if not np.isfinite(v):
                    raise diverged(state["step"], f"the validation loss is {v}")
                if state["best_val"] is None or v < state["best_val"]:
                    state["best_val"], state["bad_epochs"] = v, 0
                    best_theta = theta.copy()
                else:
                    state["bad_epochs"] += 1
                    if patience is not None and state["bad_epochs"] >= patience:
                        state["stopped"] = True
            if metric is not None:
                history.metric.append(float(metric(current)))
            if state["stopped"] or state["epoch"] % checkpoint_every == 0 or \
                    state["epoch"] >= epochs:
                save()
    finally:
        if bar is not None:
            bar.close()
    final = model.from_vector(best_theta if val is not None else theta, fields)
    return TrainResult(final, history, bool(state["stopped"]), state["best_val"])
