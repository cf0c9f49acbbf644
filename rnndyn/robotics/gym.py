"""Evaluate a population of controllers on any gymnasium environment.

gymnasium (https://gymnasium.farama.org) is an optional dependency
(``pip install gymnasium``). A generation of P controllers, each run for ``episodes``
episodes, is one vector environment of P * episodes copies (``gymnasium.make_vec``: the
environment's own vectorised implementation where it registers one, as CartPole does, else
a ``SyncVectorEnv``; ``vectorization_mode`` chooses) driven tick by tick by one
``rnndyn.robotics.Controller`` over the replicated population -- one network kernel call and
one vector ``step`` per tick, no loop over individuals.

Observation / action mapping (through ``Controller``): the flattened Box observation drives
the model inputs (``sensors``, ``sensor_gain``); the actions are the motor readout
``motor_gain * (M @ outputs) + motor_bias``. A ``Discrete(k)`` action space takes the
index of the largest of k motor values; a ``Box`` takes them as its (flattened) action,
and by default ``motor_gain = high - low`` and ``motor_bias = low`` map sigmoid firing
rates in [0, 1] onto the box.

Seeds: with a ``SyncVectorEnv`` / ``AsyncVectorEnv`` episode e of every individual starts
from ``seed + e`` (every controller meets the same episodes: common random numbers); an
environment's own vector implementation takes a single seed, and then the episodes differ
between individuals (still reproducible).
"""
from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np

from .._validate import front_door, positive_int
from ..errors import ValidationError
from ..models.base import Model
from .controller import Controller


def _gym():
    try:
        import gymnasium
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise ImportError("rnndyn.robotics.gym needs gymnasium: pip install gymnasium") \
            from None
    return gymnasium


class GymEpisodes(NamedTuple):
    """Result of ``GymTask.run``.

    returns : array (P, E)
        Undiscounted return of every episode of every individual.
    lengths : array (P, E) of int
        Steps until the episode terminated or was truncated.
    fitness : array (P,)
        Mean return over the episodes.
    observations : array (R, E, T, n_obs) or None
        For the recorded individuals, the observation seen at every tick (NaN after the end
        of the episode), T = the longest episode.
    """
    returns: np.ndarray
    lengths: np.ndarray
    fitness: np.ndarray
    observations: np.ndarray | None


class GymTask:
    """Fitness of controller populations on a gymnasium environment.

    Parameters
    ----------
    env : str or callable
        A registered environment id (``"CartPole-v1"``) or a function returning a new
        ``gymnasium.Env`` (vectorised with ``SyncVectorEnv``, or ``AsyncVectorEnv`` when
        ``vectorization_mode="async"``).
    episodes : int
        Episodes per individual; the fitness is their mean return.
    max_steps : int, optional
        Steps per episode at most (default the environment's time limit; required when it
        has none).
    seed : int
        Seed of the episodes (see the module docstring).
    dt, substeps, method, sensors, sensor_gain, motors, motor_gain, motor_bias
        The ``Controller``'s settings: control tick, network steps per tick (a map's
        updates), integrator,
        observation -> input and output -> action mapping (``motor_gain`` / ``motor_bias``
        default to 1 / 0, or to the box's ``high - low`` / ``low`` for a Box action space).
    vectorization_mode : {None, "vector_entry_point", "sync", "async"}
        Passed to ``gymnasium.make_vec`` for an id (None: gymnasium's choice).
    env_kwargs : dict, optional
        Keyword arguments of the environment (ids only).

    Examples
    --------
    >>> task = GymTask("CartPole-v1", episodes=3, sensor_gain=[1, 1, 5, 1])
    >>> f = task.fitness(genome.decode(X))   # (P,) mean returns of a population
    """

    @front_door()
    def __init__(self, env, *, episodes: int = 1, max_steps: int | None = None, seed: int = 0,
                 dt: float = 0.1, substeps: int = 1, method: str = "euler", sensors=None,
                 sensor_gain=1.0, motors=None, motor_gain=None, motor_bias=None,
                 vectorization_mode: str | None = None, env_kwargs: dict | None = None):
        gym = _gym()
        if not (isinstance(env, str) or callable(env)):
            raise ValidationError("env", "must be a gymnasium environment id or a function "
                                  f"returning a gymnasium.Env, got {type(env).__name__}", env)
        modes = (None, "vector_entry_point", "sync", "async")
        if vectorization_mode not in modes:
            raise ValidationError("vectorization_mode", f"must be one of {modes}, got "
                                  f"{vectorization_mode!r}", vectorization_mode)
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
            raise ValidationError("seed", f"must be an int >= 0, got {seed!r}", seed)
        self.env, self.mode, self.env_kwargs = env, vectorization_mode, dict(env_kwargs or {})
        self.episodes = positive_int(episodes, "episodes")
        self.seed = int(seed)
        self._settings = dict(dt=dt, substeps=substeps, method=method, sensors=sensors,
                              sensor_gain=sensor_gain, motors=motors)
        self._cache = None
        probe = self._vector(1)
        obs_space, act_space = probe.single_observation_space, probe.single_action_space
        spec_steps = probe.spec.max_episode_steps if probe.spec is not None else None
        if not isinstance(obs_space, gym.spaces.Box):
            raise ValidationError("env", f"needs a Box observation space (a vector of "
                                  f"sensor values), got {obs_space}", env)
        self.n_obs = int(np.prod(obs_space.shape))
        if sensors is not None:
            idx = np.asarray(sensors)
            if idx.ndim != 1 or not len(idx) or idx.dtype.kind not in "iu" or \
                    ((idx < 0) | (idx >= self.n_obs)).any():
                raise ValidationError("sensors", f"must be indices into the environment's "
                                      f"{self.n_obs} observations, got {sensors!r}", sensors)
        if isinstance(act_space, gym.spaces.Discrete):
            self.n_act, self._discrete = int(act_space.n), True
            self._shape, self._dtype, self._start = (), act_space.dtype, int(act_space.start)
            gain, bias = 1.0, 0.0
        elif isinstance(act_space, gym.spaces.Box):
            self.n_act, self._discrete = int(np.prod(act_space.shape)), False
            self._shape, self._dtype = act_space.shape, act_space.dtype
            low, high = act_space.low.reshape(-1), act_space.high.reshape(-1)
            finite = np.isfinite(low) & np.isfinite(high)
            gain = np.where(finite, high - low, 1.0)
            bias = np.where(finite, low, 0.0)
        else:
            raise ValidationError("env", f"needs a Discrete or Box action space, got "
                                  f"{act_space}", env)
        self.motor_gain = gain if motor_gain is None else motor_gain
        self.motor_bias = bias if motor_bias is None else motor_bias
        if max_steps is None:
            if spec_steps is None:
                raise ValidationError("max_steps", "the environment has no time limit: give "
                                      "max_steps (steps per episode at most)", max_steps)
            self.max_steps = int(spec_steps)
        else:
            self.max_steps = positive_int(max_steps, "max_steps")

    # -- vector environments ----------------------------------------------------------
    def _vector(self, num: int):
        """A vector environment of ``num`` copies (the last one is kept for reuse)."""
        if self._cache is not None and self._cache[0] == num:
            return self._cache[1]
        gym = _gym()
        if self._cache is not None:
            self._cache[1].close()
            self._cache = None
        if isinstance(self.env, str):
            try:
                envs = gym.make_vec(self.env, num_envs=num, vectorization_mode=self.mode,
                                    **self.env_kwargs)
            except gym.error.Error as exc:
                raise ValidationError("env", f"gymnasium cannot make {self.env!r}: {exc}",
                                      self.env) from None
        else:
            cls = gym.vector.AsyncVectorEnv if self.mode == "async" else gym.vector.SyncVectorEnv
            envs = cls([self.env] * num)
        self._cache = (num, envs)
        return envs

    def close(self) -> None:
        """Close the cached vector environment."""
        if self._cache is not None:
            self._cache[1].close()
            self._cache = None

    def __getstate__(self):  # picklable for executors: environments are rebuilt there
        return {k: v for k, v in self.__dict__.items() if k != "_cache"} | {"_cache": None}

    # -- evaluation -------------------------------------------------------------------
    def _check(self, model) -> Model:
        if not isinstance(model, Model) or model.kind not in ("flow", "map"):
            raise ValidationError("model", "must be a network (a flow such as CTRNN, a map "
                                  "such as Elman) or a population of them, got "
                                  f"{type(model).__name__}", model)
        if self._settings["sensors"] is None and model.n_in != self.n_obs:
            raise ValidationError("model", f"has n_in = {model.n_in} inputs but the "
                                  f"environment {self.env!r} observes {self.n_obs} values per "
                                  "step; build the network with one input per observation, or "
                                  "map them with sensors=", model)
        n_act = model.n_out if self._settings["motors"] is None else \
            np.shape(self._settings["motors"])[0]
        if n_act != self.n_act:
            kind = f"Discrete({self.n_act}) (one motor value per action, the largest wins)" \
                if self._discrete else f"Box of {self.n_act} values"
            raise ValidationError("model", f"gives {n_act} motor values but the action space "
                                  f"is {kind}; choose the outputs or a readout with motors=",
                                  model)
        return model if model.P is not None else type(model).stack([model])

    def _actions(self, a: np.ndarray):
        if self._discrete:
            return (np.argmax(a, axis=1) + self._start).astype(self._dtype)
        return a.reshape((len(a),) + tuple(self._shape)).astype(self._dtype)

    @front_door()
    def run(self, model: Model, *, record=None) -> GymEpisodes:
        """Every episode of every individual, all in one vector environment.

        Parameters
        ----------
        model : Model (flow or map), single or population of P
            n_in = the observation size (or as mapped by ``sensors``); n_out = the number of
            actions of a Discrete space or the size of a Box one (or as read by ``motors``).
        record : sequence of int, optional
            Individuals whose observations are kept.
        """
        pop = self._check(model)
        P, E = pop.P, self.episodes
        R = None
        if record is not None:
            R = np.atleast_1d(np.asarray(record))
            if R.dtype.kind not in "iu" or R.ndim != 1 or ((R < 0) | (R >= P)).any():
                raise ValidationError("record", f"must be individual indices in [0, {P}), got "
                                      f"{record!r}", record)
        idx = np.repeat(np.arange(P), E)  # env k E + e: individual k, episode e
        rep = dataclasses.replace(pop, **{f: getattr(pop, f)[idx] for f in pop._batched})
        N = P * E
        envs = self._vector(N)
        gym = _gym()
        if isinstance(envs, (gym.vector.SyncVectorEnv, gym.vector.AsyncVectorEnv)):
            obs, _ = envs.reset(seed=[self.seed + e for e in range(E)] * P)
        else:
            obs, _ = envs.reset(seed=self.seed)
        ctl = Controller(rep, n_obs=self.n_obs, motor_gain=self.motor_gain,
                         motor_bias=self.motor_bias, **self._settings)
        ctl.reset()
        alive = np.ones(N, dtype=bool)
        returns, lengths = np.zeros(N), np.zeros(N, dtype=np.int64)
        seen = [] if R is not None else None
        for _ in range(self.max_steps):
            o = np.asarray(obs, dtype=float).reshape(N, -1)
            if seen is not None:
                seen.append(np.where(alive[:, None], o, np.nan))
            a = ctl.step(o)
            obs, r, term, trunc, _ = envs.step(self._actions(a))
            r = np.asarray(r, dtype=float)
            if not np.all(np.isfinite(r[alive])):
                raise ValidationError("env", f"{self.env!r} returned a non-finite reward",
                                      self.env)
            returns += np.where(alive, r, 0.0)
            lengths += alive
            alive &= ~(np.asarray(term) | np.asarray(trunc))
            if not alive.any():
                break
        rets, lens = returns.reshape(P, E), lengths.reshape(P, E)
        traj = None
        if seen is not None:
            traj = np.stack(seen, axis=1).reshape(P, E, len(seen), self.n_obs)[R]
        return GymEpisodes(rets, lens, rets.mean(axis=1), traj)

    @front_door()
    def fitness(self, model: Model) -> np.ndarray:
        """Mean return (P,) of a population (a float for a single network)."""
        f = self.run(model).fitness
        return f if model.P is not None else float(f[0])
