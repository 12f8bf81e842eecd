"""rebours.optim.lr_scheduler against torch.optim.lr_scheduler: the same lambda in both libraries.

Each row builds a scheduler on an optimizer with two param groups and steps it 60 times; the
learning rates (and momenta or betas, which OneCycleLR cycles) must equal torch's exactly, since
both evaluate the same formulas in Python floats. Then state_dict round trips, warnings, errors.
"""

import math
import warnings

import pytest
import torch

import rebours
import rebours.optim
import rebours.optim.lr_scheduler

LIBS = (torch, rebours)
STEPS = 60


def _opt(lib, cls="SGD", **kwargs):
    a, b = lib.ones(2, requires_grad=True), lib.ones(1, requires_grad=True)
    kwargs = {"momentum": 0.9, **kwargs} if cls == "SGD" else kwargs
    return getattr(lib.optim, cls)([{"params": [a]}, {"params": [b], "lr": 0.03}], lr=0.1,
                                   **kwargs)


class Scale:
    """A callable object: LambdaLR saves its __dict__ in state_dict."""

    def __init__(self, rate):
        self.rate = rate

    def __call__(self, epoch):
        return self.rate ** epoch


def S(lib):
    return lib.optim.lr_scheduler


# name -> (optimizer class, lambda(lib, opt) -> scheduler)
ROWS = {
    "step": ("SGD", lambda lib, o: S(lib).StepLR(o, step_size=7)),
    "step-gamma": ("Adam", lambda lib, o: S(lib).StepLR(o, step_size=3, gamma=0.7)),
    "multistep": ("SGD", lambda lib, o: S(lib).MultiStepLR(o, milestones=[5, 20, 20, 41])),
    "multistep-unsorted": ("SGD", lambda lib, o: S(lib).MultiStepLR(o, [30, 10], gamma=0.5)),
    "exponential": ("SGD", lambda lib, o: S(lib).ExponentialLR(o, gamma=0.93)),
    "cosine": ("SGD", lambda lib, o: S(lib).CosineAnnealingLR(o, T_max=50)),
    "cosine-restarting": ("SGD", lambda lib, o: S(lib).CosineAnnealingLR(o, T_max=13,
                                                                         eta_min=0.001)),
    "lambda": ("SGD", lambda lib, o: S(lib).LambdaLR(o, lambda e: 1 / (1 + 0.1 * e))),
    "lambda-per-group": ("SGD", lambda lib, o: S(lib).LambdaLR(
        o, [lambda e: 0.95 ** e, Scale(0.9)])),
    "linear": ("SGD", lambda lib, o: S(lib).LinearLR(o)),
    "linear-down": ("SGD", lambda lib, o: S(lib).LinearLR(o, start_factor=1.0, end_factor=0.05,
                                                          total_iters=40)),
    "onecycle-sgd": ("SGD", lambda lib, o: S(lib).OneCycleLR(o, max_lr=1.0,
                                                             total_steps=STEPS)),
    "onecycle-adam": ("Adam", lambda lib, o: S(lib).OneCycleLR(o, max_lr=[0.5, 0.2],
                                                               total_steps=STEPS + 5,
                                                               pct_start=0.25)),
    "onecycle-linear-3phase": ("SGD", lambda lib, o: S(lib).OneCycleLR(
        o, max_lr=0.8, epochs=6, steps_per_epoch=10, anneal_strategy="linear",
        three_phase=True, base_momentum=0.8, max_momentum=[0.99, 0.9])),
    "onecycle-no-momentum": ("RMSprop", lambda lib, o: S(lib).OneCycleLR(
        o, max_lr=0.3, total_steps=STEPS, cycle_momentum=False, div_factor=10.0)),
    "sequential": ("SGD", lambda lib, o: S(lib).SequentialLR(
        o, [S(lib).LinearLR(o, start_factor=0.1, total_iters=10),
            S(lib).CosineAnnealingLR(o, T_max=40)], milestones=[10])),
    "sequential-three": ("Adam", lambda lib, o: S(lib).SequentialLR(
        o, [S(lib).ExponentialLR(o, gamma=0.9), S(lib).StepLR(o, step_size=4, gamma=0.5),
            S(lib).MultiStepLR(o, milestones=[3, 8])], milestones=[12, 30])),
}


def _momenta(opt):
    return [g.get("momentum", g.get("betas")) for g in opt.param_groups]


def _run(lib, row, steps=STEPS):
    cls, make = ROWS[row]
    opt = _opt(lib, cls)
    sched = make(lib, opt)
    seq = [(sched.get_last_lr(), _momenta(opt))]
    for _ in range(steps):
        opt.step()
        sched.step()
        seq.append((sched.get_last_lr(), _momenta(opt)))
        assert sched.get_last_lr() == [g["lr"] for g in opt.param_groups]
    return seq


@pytest.mark.parametrize("row", list(ROWS))
def test_lr_sequence_matches_torch(row):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ordering warning: optimizer.step() comes first
        torch_seq, our_seq = (_run(lib, row) for lib in LIBS)
    assert len(our_seq) == STEPS + 1
    assert our_seq == torch_seq
    lrs = [lr for lr, _ in our_seq]
    assert len({tuple(x) for x in lrs}) > 2  # the schedule did move


PLATEAU = {
    "min-rel": dict(patience=2),
    "min-abs-cooldown": dict(threshold=0.05, threshold_mode="abs", cooldown=3, patience=1,
                             factor=0.5),
    "max-rel-min_lr": dict(mode="max", patience=0, factor=0.5, min_lr=[0.01, 0.02]),
    "max-abs-eps": dict(mode="max", threshold_mode="abs", threshold=0.1, patience=1,
                        min_lr=0.004, eps=1e-3, factor=0.7),
}


def _metric(i):
    """A scripted metric: improves, stalls, wiggles below the threshold, improves again."""
    return 1.0 / (1 + i) if i < 10 else 0.09 + 0.001 * math.sin(i) - 0.002 * (i // 25)


@pytest.mark.parametrize("row", list(PLATEAU))
def test_reduce_lr_on_plateau_matches_torch(row):
    seqs = []
    for lib in LIBS:
        opt = _opt(lib)
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **PLATEAU[row])
        seq = []
        for i in range(STEPS):
            metric = _metric(i) if "min" in row else -_metric(i)
            sched.step(lib.tensor(metric) if i % 2 else metric)
            seq.append((sched.get_last_lr(), sched.num_bad_epochs, sched.cooldown_counter,
                        sched.best, sched.last_epoch))
        seqs.append(seq)
    assert seqs[1] == seqs[0]
    assert seqs[1][-1][0] != [0.1, 0.03]  # it did reduce


def test_closed_form_with_an_epoch_argument_matches_torch():
    seqs = []
    for lib in LIBS:
        opt = _opt(lib)
        sched = lib.optim.lr_scheduler.MultiStepLR(opt, milestones=[3, 6], gamma=0.5)
        opt.step()
        seq = []
        for epoch in [4, 7, 2, 10]:
            with pytest.warns(UserWarning, match="The epoch parameter in `scheduler.step"):
                sched.step(epoch)
            seq.append(sched.get_last_lr())
        seqs.append(seq)
    assert seqs[1] == seqs[0] == [[0.05, 0.015], [0.025, 0.0075], [0.1, 0.03],
                                  [0.025, 0.0075]]


def _scheduler_state(sd):
    """A state_dict with what is comparable across libraries (tensors become floats)."""
    return {k: ([_scheduler_state(s) for s in v] if k == "_schedulers" else
                [float(x) for x in v] if k in ("base_lrs", "_last_lr") else v)
            for k, v in sd.items()}


@pytest.mark.parametrize("row", ["step", "multistep", "cosine-restarting", "lambda-per-group",
                                 "linear", "onecycle-adam", "sequential", "sequential-three"])
def test_state_dict_matches_torch_and_round_trips(row):
    cls, make = ROWS[row]
    sds = []
    for lib in LIBS:
        opt = _opt(lib, cls)
        sched = make(lib, opt)
        for _ in range(20):
            opt.step()
            sched.step()
        sds.append(sched.state_dict())
        # round trip: a fresh optimizer and scheduler, loaded, continue like the original
        expected = []
        for _ in range(25):
            opt.step()
            sched.step()
            expected.append(sched.get_last_lr())
        opt2 = _opt(lib, cls)
        sched2 = make(lib, opt2)
        sched2.load_state_dict(sds[-1])
        for group, lr in zip(opt2.param_groups, sds[-1]["_last_lr"]):
            group["lr"] = lr  # the optimizer's own state_dict would carry it
        got = []
        for _ in range(25):
            opt2.step()
            sched2.step()
            got.append(sched2.get_last_lr())
        assert got == expected
    assert list(sds[1]) == list(sds[0])
    assert _scheduler_state(sds[1]) == _scheduler_state(sds[0])


def test_plateau_state_dict_round_trip():
    for lib in LIBS:
        opt = _opt(lib)
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1, cooldown=2)
        for i in range(15):
            sched.step(_metric(i + 5))
        saved = sched.state_dict()
        assert "optimizer" not in saved
        opt2 = _opt(lib)
        sched2 = lib.optim.lr_scheduler.ReduceLROnPlateau(opt2, mode="max")
        sched2.load_state_dict(saved)
        assert sched2.mode == "min" and sched2.best == sched.best
        assert sched2._is_better(sched.best - 1.0, sched.best)


def _caught(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [(w.category, str(w.message)) for w in caught]


def test_scheduler_step_before_optimizer_step_warns_as_torch():
    got = []
    for lib in LIBS:
        opt = _opt(lib)
        sched = lib.optim.lr_scheduler.StepLR(opt, step_size=2)
        got.append(_caught(sched.step))
        assert _caught(sched.step) == []  # only the first call is checked
    assert got[1] == got[0] and len(got[0]) == 1
    assert "Detected call of `lr_scheduler.step()` before `optimizer.step()`" in got[1][0][1]


def test_overridden_optimizer_step_warns_as_torch():
    got = []
    for lib in LIBS:
        opt = _opt(lib)
        sched = lib.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)
        opt.step = type(opt).step.__get__(opt)  # replaced after the scheduler wrapped it
        got.append(_caught(sched.step))
    assert got[1] == got[0] and len(got[0]) == 1 and "overridden" in got[1][0][1]


def test_get_lr_outside_step_warns_as_torch():
    got = []
    for lib in LIBS:
        sched = lib.optim.lr_scheduler.StepLR(_opt(lib), step_size=2)
        got.append(_caught(sched.get_lr))
    assert got[1] == got[0] and len(got[0]) == 1


def test_two_schedulers_chain_on_one_optimizer():
    seqs = []
    for lib in LIBS:
        opt = _opt(lib)
        s1 = lib.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)
        s2 = lib.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
        seq = []
        for _ in range(12):
            opt.step()
            s1.step()
            s2.step()
            seq.append([g["lr"] for g in opt.param_groups])
        seqs.append(seq)
    assert seqs[1] == seqs[0]


def test_resuming_with_last_epoch_needs_initial_lr():
    for lib in LIBS:
        with pytest.raises(KeyError, match="param 'initial_lr' is not specified"):
            lib.optim.lr_scheduler.StepLR(_opt(lib), step_size=2, last_epoch=3)


ERRORS = {
    "not-an-optimizer": lambda lib: S(lib).StepLR(object(), step_size=2),
    "lambda-count": lambda lib: S(lib).LambdaLR(_opt(lib), [lambda e: 1.0]),
    "linear-start": lambda lib: S(lib).LinearLR(_opt(lib), start_factor=0.0),
    "linear-end": lambda lib: S(lib).LinearLR(_opt(lib), end_factor=1.5),
    "plateau-factor": lambda lib: S(lib).ReduceLROnPlateau(_opt(lib), factor=1.0),
    "plateau-mode": lambda lib: S(lib).ReduceLROnPlateau(_opt(lib), mode="up"),
    "plateau-threshold-mode": lambda lib: S(lib).ReduceLROnPlateau(_opt(lib),
                                                                   threshold_mode="x"),
    "plateau-min_lr": lambda lib: S(lib).ReduceLROnPlateau(_opt(lib), min_lr=[0.1]),
    "onecycle-steps": lambda lib: S(lib).OneCycleLR(_opt(lib), max_lr=1.0),
    "onecycle-total": lambda lib: S(lib).OneCycleLR(_opt(lib), max_lr=1.0, total_steps=0),
    "onecycle-epochs": lambda lib: S(lib).OneCycleLR(_opt(lib), max_lr=1.0, epochs=0,
                                                     steps_per_epoch=2),
    "onecycle-pct": lambda lib: S(lib).OneCycleLR(_opt(lib), max_lr=1.0, total_steps=5,
                                                  pct_start=1.5),
    "onecycle-anneal": lambda lib: S(lib).OneCycleLR(_opt(lib), max_lr=1.0, total_steps=5,
                                                     anneal_strategy="exp"),
    "onecycle-max_lr": lambda lib: S(lib).OneCycleLR(_opt(lib), max_lr=[1.0], total_steps=5),
    "onecycle-no-momentum": lambda lib: S(lib).OneCycleLR(_opt(lib, "Adagrad"), max_lr=1.0,
                                                          total_steps=5),
    "onecycle-past-end": lambda lib: (lambda s: [s.step() for _ in range(3)])(
        S(lib).OneCycleLR(_opt(lib), max_lr=1.0, total_steps=2)),
    "sequential-empty": lambda lib: S(lib).SequentialLR(_opt(lib), [], milestones=[]),
    "sequential-milestones": lambda lib: (lambda o: S(lib).SequentialLR(
        o, [S(lib).StepLR(o, 2), S(lib).StepLR(o, 3)], milestones=[]))(_opt(lib)),
    "sequential-plateau": lambda lib: (lambda o: S(lib).SequentialLR(
        o, [S(lib).StepLR(o, 2), S(lib).ReduceLROnPlateau(o)], milestones=[3]))(_opt(lib)),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_error_type_and_first_sentence_match_torch(name):
    raised = []
    for lib in LIBS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(Exception) as info:
                ERRORS[name](lib)
        raised.append(info.value)
    et, er = raised
    assert type(et) is type(er)
    assert str(er).splitlines()[0] == str(et).splitlines()[0]
