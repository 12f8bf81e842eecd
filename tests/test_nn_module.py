"""rebours.nn.Module against torch.nn.Module: the same class body (written once, over `nn`)
built in both libraries must give the same names, orders, state_dict keys, reprs, errors,
hook orders and gradients seen by hooks. Plus the RB015 warning, Parameter and containers.
"""

import copy
import doctest
import pathlib
import warnings
from collections import OrderedDict

import numpy as np
import pytest
import torch

import rebours
import rebours.nn
from rebours.errors import ReboursWarning

LIBS = (torch, rebours)
DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs" / "nn.md"


def make_net(lib):
    """A small net with a nested block, a buffer, a non-persistent buffer and a shared layer."""
    nn = lib.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)
            self.register_buffer("count", lib.zeros(1))
            self.register_buffer("scratch", lib.ones(2), persistent=False)

        def forward(self, x):
            return self.fc(x).tanh()

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.inp = nn.Linear(4, 3)
            self.blocks = nn.ModuleList([Block(), Block()])
            self.head = nn.Sequential(OrderedDict(act=nn.ReLU(), out=nn.Linear(3, 2)))
            self.scale = nn.Parameter(lib.ones(1))
            self.shared = self.inp
            self.extra = nn.ParameterDict({"b": nn.Parameter(lib.zeros(2))})

        def forward(self, x):
            x = self.inp(x)
            for b in self.blocks:
                x = b(x)
            return self.head(x) * self.scale + self.extra["b"]

    return Net()


def _names(pairs):
    return [n for n, _ in pairs]


def _both():
    torch.manual_seed(0)
    t, r = make_net(torch), make_net(rebours)
    r.load_state_dict({k: rebours.tensor(v.numpy()) for k, v in t.state_dict().items()})
    return t, r


def test_names_orders_and_keys_match_torch():
    t, r = _both()
    for fn in [lambda m: _names(m.named_parameters()),
               lambda m: _names(m.named_parameters(prefix="net", recurse=False)),
               lambda m: _names(m.named_parameters(remove_duplicate=False)),
               lambda m: _names(m.named_buffers()),
               lambda m: _names(m.named_children()),
               lambda m: _names(m.named_modules()),
               lambda m: _names(m.named_modules(remove_duplicate=False)),
               lambda m: [type(c).__name__ for c in m.children()],
               lambda m: [type(c).__name__ for c in m.modules()],
               lambda m: len(list(m.parameters())),
               lambda m: list(m.state_dict().keys()),
               lambda m: list(m.state_dict(prefix="model.").keys()),
               lambda m: list(m.blocks[0].state_dict().keys()),
               lambda m: list(m.state_dict()._metadata.items()),
               lambda m: type(m.get_submodule("blocks.1.fc")).__name__,
               lambda m: tuple(m.get_parameter("head.out.bias").shape),
               lambda m: [k for k in ("inp", "blocks", "scale", "forward") if k in dir(m)]]:
        assert fn(r) == fn(t)
    assert repr(r) == repr(t).replace("torch.", "rebours.")
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    np.testing.assert_allclose(r(rebours.tensor(x)).detach().numpy(),
                               t(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_state_dict_values_are_detached_or_kept():
    _, r = _both()
    sd = r.state_dict()
    assert isinstance(sd, OrderedDict)
    assert not sd["inp.weight"].requires_grad and sd["inp.weight"].is_leaf
    np.testing.assert_array_equal(sd["inp.weight"].numpy(), r.inp.weight.detach().numpy())
    kept = r.state_dict(keep_vars=True)
    assert kept["inp.weight"] is r.inp.weight
    assert "blocks.0.scratch" not in sd and "blocks.0.count" in sd


def _error(fn):
    with pytest.raises(Exception) as info:
        fn()
    return type(info.value).__name__, str(info.value).replace("torch.", "rebours.")


@pytest.mark.parametrize("case", ["missing", "unexpected", "shape", "not-tensor", "non-strict",
                                  "not-mapping", "both"])
def test_load_state_dict_errors_match_torch(case):
    def run(lib):
        m = lib.nn.Linear(4, 3)
        sd = {k: v.detach().clone() for k, v in m.state_dict().items()}
        if case == "missing":
            del sd["bias"]
        elif case == "unexpected":
            sd["extra.weight"] = lib.zeros(1)
        elif case == "shape":
            sd["weight"] = lib.zeros(3, 5)
        elif case == "not-tensor":
            sd["bias"] = [1.0, 2.0, 3.0]
        elif case == "both":
            del sd["weight"]
            sd["foo"] = lib.zeros(1)
        elif case == "non-strict":
            del sd["bias"]
            sd["foo"] = lib.zeros(1)
            return repr(m.load_state_dict(sd, strict=False))
        elif case == "not-mapping":
            return _error(lambda: m.load_state_dict([1, 2]))[0]
        return _error(lambda: m.load_state_dict(sd))
    assert run(rebours) == run(torch)


def test_load_state_dict_copies_in_place_or_assigns():
    src, dst = rebours.nn.Linear(2, 2), rebours.nn.Linear(2, 2)
    w = dst.weight
    v = w._version
    dst.load_state_dict(src.state_dict())
    assert dst.weight is w and w._version == v + 1
    np.testing.assert_array_equal(w.detach().numpy(), src.weight.detach().numpy())
    sd = {k: rebours.ones(*v.shape, dtype=rebours.float64) for k, v in src.state_dict().items()}
    dst.load_state_dict(sd)  # copy_ casts to the parameter's dtype
    assert dst.weight.dtype == rebours.float32 and dst.weight.tolist() == [[1.0, 1.0]] * 2
    dst.load_state_dict(sd, assign=True)
    assert dst.weight is not w and isinstance(dst.weight, rebours.nn.Parameter)
    assert dst.weight.dtype == rebours.float64 and dst.weight.requires_grad
    assert repr(rebours.nn.Linear(2, 2).load_state_dict(src.state_dict())) == \
        repr(torch.nn.Linear(2, 2).load_state_dict(torch.nn.Linear(2, 2).state_dict()))


def test_hooks_order_and_values_match_torch():
    logs = []
    for lib in LIBS:
        torch.manual_seed(0)
        t = make_net(torch)
        m = t if lib is torch else make_net(rebours)
        if lib is rebours:
            m.load_state_dict({k: rebours.tensor(v.numpy()) for k, v in t.state_dict().items()})
        log = []
        rnd = lambda g: None if g is None else np.round(g.detach().numpy(), 5).tolist()
        m.inp.register_forward_pre_hook(lambda mod, args: log.append(("pre1", len(args))))
        m.inp.register_forward_pre_hook(lambda mod, args: log.append(("pre0",)), prepend=True)
        h = m.inp.register_forward_pre_hook(lambda mod, args: log.append(("removed",)))
        h.remove()
        m.inp.register_forward_pre_hook(lambda mod, args, kw: log.append(("prekw", kw)),
                                        with_kwargs=True)
        m.blocks[0].register_forward_hook(lambda mod, a, out: log.append(("fwd", rnd(out))))
        m.head.register_forward_hook(lambda mod, a, out: out * 2)  # replaces the output
        m.head.out.register_full_backward_pre_hook(lambda mod, go: log.append(("bpre", rnd(go[0]))))
        m.head.register_full_backward_hook(
            lambda mod, gi, go: log.append(("bw-head", [rnd(g) for g in gi], [rnd(g) for g in go])))
        m.blocks[1].register_full_backward_hook(lambda mod, gi, go: (gi[0] * 0.5,))
        m.inp.register_full_backward_hook(
            lambda mod, gi, go: log.append(("bw-inp", [rnd(g) for g in gi])))
        with m.blocks[0].register_forward_hook(lambda *a: log.append(("ctx",))):
            pass
        x = lib.tensor(np.linspace(-1, 1, 8, dtype="float32").reshape(2, 4), requires_grad=True)
        out = m(x)
        log.append(("out", rnd(out)))
        out.sum().backward()
        log.append(("grads", rnd(x.grad), rnd(m.inp.weight.grad)))
        logs.append(log)
    assert [e[0] for e in logs[0]] == ["pre0", "pre1", "prekw", "fwd", "out", "bpre", "bw-head",
                                       "bw-inp", "grads"]
    assert logs[1] == logs[0]


def test_backward_hook_when_no_input_requires_grad():
    logs = []
    for lib in LIBS:
        m = lib.nn.Linear(2, 1)
        log = []
        m.register_full_backward_hook(lambda mod, gi, go: log.append((gi, len(go))))
        with pytest.warns(UserWarning, match="Full backward hook is firing when gradients are "
                                             "computed with respect to module outputs"):
            m(lib.ones(3, 2)).sum().backward()
        logs.append(log)
    assert logs[1] == logs[0] == [((None,), 1)]


def test_forward_pre_hook_can_replace_args():
    for lib in LIBS:
        m = lib.nn.Identity()
        m.register_forward_pre_hook(lambda mod, args: args[0] + 1)
        assert m(lib.tensor(1.0)).item() == 2.0
        m.register_forward_pre_hook(lambda mod, args, kw: ((args[0] * 3,), kw), with_kwargs=True)
        assert m(lib.tensor(1.0)).item() == 6.0


def test_train_eval_zero_grad_requires_grad():
    for lib in LIBS:
        m = make_net(lib)
        assert m.eval() is m and not any(x.training for x in m.modules())
        m.train()
        assert all(x.training for x in m.modules())
        with pytest.raises(ValueError, match="training mode is expected to be boolean"):
            m.train("yes")
        m(lib.ones(2, 4)).sum().backward()
        m.zero_grad(set_to_none=False)
        assert all(p.grad is not None and not p.grad.any() for p in m.parameters())
        m.zero_grad()
        assert all(p.grad is None for p in m.parameters())
        m.requires_grad_(False)
        assert not any(p.requires_grad for p in m.parameters())
        seen = []
        assert m.apply(lambda mod: seen.append(type(mod).__name__)) is m
        assert seen[-1] == "Net" and seen[0] == "Linear"


def test_to_converts_parameters_in_place():
    m = make_net(rebours)
    weight = m.inp.weight
    m(rebours.ones(1, 4)).sum().backward()
    assert m.to(rebours.float64) is m
    assert m.inp.weight is weight and weight.dtype == rebours.float64
    assert weight.grad.dtype == rebours.float64 and weight.is_leaf and weight.requires_grad
    assert m.blocks[0].count.dtype == rebours.float64
    assert m.float().inp.weight.dtype == rebours.float32
    assert m.double().half().inp.weight.dtype == rebours.float16
    m.float().to("cpu").cpu()
    m.to(device="cpu", dtype=rebours.float64)
    assert m.inp.bias.dtype == rebours.float64
    m.to(rebours.zeros(1))
    assert m.inp.bias.dtype == rebours.float32
    m.register_buffer("steps", rebours.tensor(3))
    m.double()
    assert m.steps.dtype == rebours.int64  # integer buffers are not cast
    opt = rebours.optim.SGD(m.parameters(), lr=0.1)
    m(rebours.ones(1, 4, dtype=rebours.float64)).sum().backward()
    opt.step()
    assert _error(lambda: m.to(rebours.int32)) == _error(lambda: torch.nn.Linear(1, 1).to(
        torch.int32))


def test_registration_errors_match_torch():
    def cases(lib):
        nn = lib.nn
        m = nn.Linear(2, 2)
        yield lambda: m.register_parameter("a.b", None)
        yield lambda: m.register_parameter("", None)
        yield lambda: m.register_parameter(3, None)
        yield lambda: m.register_parameter("x", lib.zeros(2))
        yield lambda: m.register_parameter("in_features", None)
        yield lambda: m.register_parameter("y", nn.Parameter(lib.zeros(2)) * 2)
        yield lambda: m.register_buffer("a.b", None)
        yield lambda: m.register_buffer("z", 3.0)
        yield lambda: m.add_module("a.b", nn.ReLU())
        yield lambda: m.add_module("q", 3)
        yield lambda: m.add_module("weight", nn.ReLU())
        yield lambda: setattr(m, "weight", lib.zeros(2, 2))
        yield lambda: m.nothing
        yield lambda: m.get_submodule("foo")
        yield lambda: m.get_parameter("in_features")

        class NoInit(nn.Module):
            def __init__(self):
                self.fc = nn.Linear(1, 1)
        yield NoInit

        class NoForward(nn.Module):
            pass
        yield lambda: NoForward()(lib.ones(1))
        s = nn.Sequential(nn.ReLU())
        yield lambda: s[3]
        yield lambda: nn.ModuleList()[0]
        yield lambda: nn.ParameterList()(1)
        yield lambda: nn.ParameterDict()[3]

    for fr, ft in zip(cases(rebours), cases(torch)):
        assert _error(fr) == _error(ft)


def test_setattr_moves_between_kinds():
    for lib in LIBS:
        m = lib.nn.Module()
        m.x = lib.nn.Parameter(lib.zeros(1))
        m.x = None
        assert "x" in m._parameters and m.x is None
        m.register_buffer("b", lib.zeros(1))
        m.b = lib.ones(1)
        assert m._buffers["b"].item() == 1.0
        m.sub = lib.nn.ReLU()
        del m.sub
        assert "sub" not in m._modules
        m.buf = lib.nn.Buffer(lib.zeros(2), persistent=False)
        assert list(m.state_dict()) == ["b"]  # x is None, buf is not persistent
        assert type(m.buf) is lib.Tensor


def test_plain_list_of_modules_warns_rb015():
    class Net(rebours.nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = [rebours.nn.Linear(2, 2) for _ in range(3)]  # line under test
            self.weights = {"a": rebours.nn.Parameter(rebours.zeros(1))}
            self.names = ["a", "b"]  # no warning: nothing hidden
            self.empty = []

    with pytest.warns(ReboursWarning) as record:
        net = Net()
    assert len(record) == 2
    first, second = (str(r.message) for r in record)
    assert first.startswith("Net.layers: ") and "invisible to parameters()" in first
    assert "RB015" in first and "nn.ModuleList" in first
    assert second.startswith("Net.weights: ") and "nn.ParameterDict" in second
    assert record[0].filename == __file__
    assert list(net.parameters()) == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fixed = rebours.nn.Module()
        fixed.layers = rebours.nn.ModuleList([rebours.nn.Linear(2, 2)])
        seq = rebours.nn.Sequential(rebours.nn.ReLU(), rebours.nn.ReLU())
        del seq[0]
        seq.insert(0, rebours.nn.Tanh())


def test_parameter_api_matches_torch():
    for lib in LIBS:
        p = lib.nn.Parameter(lib.tensor([1.0, 2.0]))
        assert p.is_leaf and p.requires_grad and isinstance(p, lib.Tensor)
        assert type(p * 2) is lib.Tensor
        assert not lib.nn.Parameter(lib.zeros(1), requires_grad=False).requires_grad
        q = copy.deepcopy(p)
        assert type(q) is lib.nn.Parameter and q is not p and q.requires_grad
        assert lib.nn.Parameter().shape == (0,)
    assert repr(rebours.nn.Parameter(rebours.tensor([1.0, 2.0]))) == \
        repr(torch.nn.Parameter(torch.tensor([1.0, 2.0])))
    base = rebours.zeros(2)
    p = rebours.nn.Parameter(base)
    base.add_(1.0)
    assert p.tolist() == [1.0, 1.0] and p._version == base._version  # shares storage


def test_containers_match_torch():
    def run(lib):
        nn = lib.nn
        seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
        out = [len(seq), repr(seq[1:]), repr(seq[-1]), [type(m).__name__ for m in seq]]
        seq.append(nn.Tanh())
        del seq[1]
        seq.insert(1, nn.Sigmoid())
        seq[0] = nn.Linear(2, 3, bias=False)
        out += [repr(seq), repr(seq + nn.Sequential(nn.ReLU())), repr(seq.pop(-1))]
        ml = nn.ModuleList([nn.ReLU()])
        ml += [nn.Tanh(), nn.Tanh()]
        ml.extend([nn.Linear(1, 1)])
        ml.insert(1, nn.ReLU())
        out += [repr(ml), repr(ml[1:3]), len(ml), repr(ml[-1])]
        del ml[0:2]
        out += [repr(ml), repr(nn.ModuleList())]
        md = nn.ModuleDict({"b": nn.ReLU(), "a": nn.Tanh()})
        md["c"] = nn.Linear(1, 2)
        md.update([("d", nn.Sigmoid())])
        out += [repr(md), list(md.keys()), "a" in md, len(md), repr(md.pop("b"))]
        pl = nn.ParameterList([lib.zeros(2, 3), nn.Parameter(lib.ones(1))])
        pl.append(lib.zeros(4, dtype=lib.float64))
        out += [repr(pl), len(pl), _names(pl.named_parameters()), type(pl[0]).__name__,
                repr(pl[1:])]
        pd = nn.ParameterDict({"w": lib.zeros(2), "a": nn.Parameter(lib.ones(3))})
        pd["z"] = lib.zeros(1, 2)
        out += [repr(pd), list(pd), _names(pd.named_parameters()), "w" in pd, len(pd),
                pd.get("nope"), tuple(pd.pop("w").shape), list(pd.keys())]
        return [o.replace("torch.", "rebours.") if isinstance(o, str) else o for o in out]
    assert run(rebours) == run(torch)


def test_deepcopy_and_shared_parameters():
    m = make_net(rebours)
    c = copy.deepcopy(m)
    assert c.inp is c.shared and c.inp.weight is not m.inp.weight
    np.testing.assert_array_equal(c.inp.weight.detach().numpy(), m.inp.weight.detach().numpy())
    assert isinstance(c.inp.weight, rebours.nn.Parameter)


def test_docs_nn_md_examples_run():
    result = doctest.testfile(str(DOCS), module_relative=False, globs={"rebours": rebours},
                              optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
