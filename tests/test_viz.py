"""`rebours.viz.draw`: the DOT text of graphs (nodes, leaves, names, the doctor's marks) and
pictures rendered by Graphviz's `dot` (which CI installs)."""

import doctest
import pathlib
import re
import sys

import pytest

import rebours
import rebours.viz as viz
from rebours.doctor import viz as doctor_viz

DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs" / "viz.md"
HERE = "test_viz.py"


def nodes(g):
    """{node id: label} from DOT text, in the order written."""
    return {m.group(1): m.group(2).replace("\\n", "\n")
            for m in re.finditer(r'^  (\w+) \[label="((?:[^"\\]|\\.)*)"', g.source, re.M)}


def line_of(g, nid):
    return next(ln for ln in g.source.splitlines() if ln.startswith(f"  {nid} [label="))


def edges(g, label=False):
    """(from, to) per edge, in the order written; with label=True, (from, to, label or '')."""
    found = re.findall(r'^  (\w+) -> (\w+)(?: \[label="([^"]*)"\])?(?: \[.*\])?;$', g.source,
                       re.M)
    return found if label else [(a, b) for a, b, _ in found]


def test_seed_4_2_add_mul_accumulate_and_no_constant():
    x = rebours.tensor(4.0, requires_grad=True)
    c = rebours.tensor(8.0)
    b = 5.0
    y = c*x + b
    g = viz.draw(y, show_saved=False)
    labels = nodes(g)
    assert list(labels) == ["n0", "n1", "n2"]  # c does not require grad: no node
    assert labels["n0"].splitlines()[0] == "AddBackward0"
    assert labels["n1"].splitlines()[0] == "MulBackward0"
    assert labels["n2"].splitlines()[0] == "AccumulateGrad: gets .grad"
    assert edges(g) == [("n0", "n1"), ("n1", "n2")]
    assert "() float32 cpu" in labels["n0"] and "() float32 cpu" in labels["n2"]
    assert re.search(rf"{HERE}:\d+", labels["n1"])  # the user's line, short
    assert 'shape="ellipse"' in line_of(g, "n2") and "penwidth" in line_of(g, "n0")
    assert str(g) == g.source and g.source.startswith("digraph rebours {")
    assert g.source.rstrip().endswith("}")


def test_shapes_dtypes_and_saved_tensors_in_labels():
    x = rebours.ones(2, 3, dtype=rebours.float64, requires_grad=True)
    w = rebours.ones(3, dtype=rebours.float64, requires_grad=True)
    g = viz.draw((x * w).sum(), params={"x": x, "w": w})
    labels = nodes(g)
    mul = next(k for k, v in labels.items() if v.startswith("MulBackward0"))
    assert "(2, 3) float64 cpu" in labels[mul]
    assert labels[f"{mul}s0"] == "saved input 0: (2, 3) float64\nv0"
    assert labels[f"{mul}s1"] == "saved input 1: (3,) float64\nv0"
    assert (f"{mul}s0", mul) in edges(g)
    leaves = {v.splitlines()[0]: v for v in labels.values() if "gets .grad" in v}
    assert set(leaves) == {"x", "w"}
    assert "(3,) float64 cpu" in leaves["w"] and "made at test_viz.py:" in leaves["w"]
    assert all("s" not in k for k in nodes(viz.draw((x * w).sum(), show_saved=False)))


def test_same_graph_gives_the_same_text():
    def build():
        x = rebours.ones(3, requires_grad=True)
        return viz.draw(((x * 2).exp() + x).sum(), params={"x": x}).source
    first, second = build(), build()
    assert first == second and "0x" not in first


def test_shared_input_is_one_node_with_two_edges():
    x = rebours.tensor([1.0, 2.0], requires_grad=True)
    g = viz.draw(x * x, show_saved=False)
    assert len(nodes(g)) == 2 and edges(g) == [("n0", "n1"), ("n0", "n1")]


def test_multi_output_edges_name_the_output():
    a = rebours.ones(4, requires_grad=True)
    parts = a.split(2)
    g = viz.draw(parts[1] * parts[0], show_saved=False)
    labels = nodes(g)
    split = next(k for k, v in labels.items() if v.startswith("Split"))
    assert "(2,) float32, (2,) float32 cpu" in labels[split]
    assert sorted(lbl for src, dst, lbl in edges(g, label=True) if dst == split) == ["[0]", "[1]"]


def test_version_mismatch_on_a_saved_tensor_is_red_with_both_versions():
    a = rebours.ones(3, requires_grad=True)
    h = a.exp()            # ExpBackward0 saves its output h
    z = h * 2              # MulBackward0 saves h
    h.add_(1)
    g = viz.draw(z, show_saved=False)  # stale saves are drawn even then
    labels = nodes(g)
    stale = [k for k, v in labels.items() if "saved at v0, now v1" in v]
    assert len(stale) == 2
    for k in stale:
        assert f"by add_ at {HERE}:" in labels[k]
        assert 'color="#cc0000"' in line_of(g, k)
    exp = next(k for k, v in labels.items() if v.startswith("ExpBackward0"))
    assert labels[f"{exp}s0"].startswith("saved output: (3,) float32")
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()  # the picture says what backward then refuses


def test_node_that_made_nan_in_the_last_backward_is_red():
    x = rebours.tensor([0.0, 0.0, 0.0], requires_grad=True)
    y = rebours.sqrt(rebours.sum(x**2))
    y.backward()
    assert rebours.isnan(x.grad).all()
    g = viz.draw(y)
    labels = nodes(g)
    assert labels["n0"].startswith("SqrtBackward0")
    assert "in the last backward: grad of input 0" in labels["n0"]
    assert 'color="#cc0000"' in line_of(g, "n0")
    red = [ln for ln in g.source.splitlines() if "#cc0000" in ln]
    assert len(red) == 1
    viz.draw(y).pipe("svg")  # still valid DOT

    x2 = rebours.tensor([1.0, 2.0, 2.0], requires_grad=True)
    y2 = rebours.sqrt(rebours.sum(x2**2))
    y2.backward()  # a clean backward: nothing red any more
    assert "#cc0000" not in viz.draw(y).source


def test_a_reached_leaf_is_not_marked_cut_by_a_detach_elsewhere():
    # a parameter that was also detached somewhere (state_dict, no_grad init) is still reached
    a = rebours.ones(3, requires_grad=True)
    z = (a * 3).sum()
    a.detach()
    g = viz.draw(z, params={"a": a})
    leaf = next(k for k, v in nodes(g).items() if v.startswith("a\n"))
    assert "cut by" not in nodes(g)[leaf]
    assert "dashed" not in line_of(g, leaf)


def test_cut_leaf_is_dashed_and_says_how():
    a = rebours.ones(3, requires_grad=True)
    b = rebours.ones(3, requires_grad=True)
    z = (a.detach() * 3 + b).sum()
    g = viz.draw(z, params={"a": a, "b": b})
    leaf = next(k for k, v in nodes(g).items() if v.startswith("a\n"))
    assert re.search(rf"cut by \.detach\(\) at {HERE}:\d+", nodes(g)[leaf])
    assert "dashed" in line_of(g, leaf)
    assert sum("dashed" in ln for ln in g.source.splitlines()) == 1


def test_named_tensors_the_graph_does_not_reach_are_drawn_apart():
    x = rebours.ones(3, requires_grad=True)
    z = rebours.ones(3, requires_grad=True)
    c = rebours.ones(3)
    y = (x.detach() * 2 + z).sum()
    g = viz.draw(y, params={"x": x, "z": z, "c": c})
    labels = nodes(g)
    assert labels["p0"].startswith("x\nAccumulateGrad")
    assert "cut by .detach()" in labels["p0"] and "not reached" in labels["p0"]
    assert "dashed" in line_of(g, "p0")
    assert labels["p1"].startswith("c\ndoes not require grad")
    assert not any(k.startswith("p") and v.startswith("z") for k, v in labels.items())


def test_named_non_leaf_cut_by_item_is_dashed():
    x = rebours.ones(3, requires_grad=True)
    h = (x * 2).sum()
    h.item()
    g = viz.draw(h * 3, params={"h": h}, show_saved=False)
    labels = nodes(g)
    assert labels["n1"].startswith("h\nSumBackward0") and "cut by .item()" in labels["n1"]
    assert "dashed" in line_of(g, "n1")


def test_constant_root_and_leaf_root():
    c = rebours.ones(2)
    x = rebours.ones(2, requires_grad=True)
    g = viz.draw([c, (x,)], params={"c": c})  # lists and tuples of outputs are flattened
    labels = nodes(g)
    assert labels["n0"].startswith("AccumulateGrad") and "penwidth" in line_of(g, "n0")
    assert list(labels) == ["n0", "c0"]  # the named constant is drawn once
    assert labels["c0"].startswith("c\ndoes not require grad\n(2,) float32 cpu")
    with pytest.raises(TypeError, match="takes tensors, got float"):
        viz.draw(x, 2.0)


def test_custom_function_saved_tensors():
    class Cube(rebours.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x ** 2 * g

    x = rebours.ones(2, requires_grad=True)
    labels = nodes(viz.draw(Cube.apply(x)))
    assert labels["n0"].startswith("CubeBackward")
    assert labels["n0s0"] == "ctx.saved_tensors[0]: (2,) float32\nv0"


def test_twenty_thousand_deep_chain_needs_no_recursion():
    x = rebours.ones(2, requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y * 1.5
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(400)
    try:
        g = viz.draw(y)
    finally:
        sys.setrecursionlimit(old)
    assert g.source.count('label="MulBackward0') == 20_000
    assert len(edges(g)) == 20_000 + 20_000  # one per input, one per saved tensor
    assert nodes(g)["n20000"].startswith("AccumulateGrad")


def test_names_with_quotes_are_escaped_and_dot_accepts_them():
    w = rebours.ones(2, requires_grad=True)
    g = viz.draw((w * 2).sum(), params={'w"\\1': w})
    assert 'label="w\\"\\\\1\\nAccumulateGrad' in g.source
    assert b"<svg" in g.pipe("svg")


def test_render_writes_a_png(tmp_path):
    x = rebours.ones(2, 3, requires_grad=True)
    g = viz.draw((x * 2).exp().sum(), params={"x": x})
    path = g.render(tmp_path / "graph.png")
    data = pathlib.Path(path).read_bytes()
    assert data[:4] == b"\x89PNG" and len(data) > 100
    svg = g.render(tmp_path / "graph.svg")  # the format follows the suffix
    assert b"<svg" in pathlib.Path(svg).read_bytes()
    assert g._repr_svg_().lstrip().startswith("<?xml") and "MulBackward0" in g._repr_svg_()


def test_missing_python_package_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)
    g = viz.draw(rebours.ones(1, requires_grad=True) * 2)
    with pytest.raises(ImportError) as e:
        g.render("never.png")
    msg = str(e.value)
    assert "pip install 'rebours[viz]'" in msg and "graphviz" in msg and "\n" not in msg
    assert not pathlib.Path("never.png").exists()


def test_missing_dot_names_the_system_package(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` on it
    g = viz.draw(rebours.ones(1, requires_grad=True) * 2)
    with pytest.raises(RuntimeError) as e:
        g._repr_svg_()
    msg = str(e.value)
    assert "`dot` program" in msg and "graphviz" in msg and "rebours[viz]" in msg
    assert "\n" not in msg


def test_viz_module_is_the_doctors():
    assert viz.draw is doctor_viz.draw and viz.Graph is doctor_viz.Graph


def test_docs_page_runs():
    result = doctest.testfile(str(DOCS), module_relative=False, globs={"rebours": rebours},
                              optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0
