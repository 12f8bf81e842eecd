"""Contraction rows: einsum (its backward is einsum again, one per operand) and cross.

outer, inner, tensordot, kron and meshgrid are composites of existing rows (see written.py),
recorded under the node names torch gives them.
"""

from __future__ import annotations

import string

from .registry import KEEP, PROMOTE, defop


def parse(equation: str, ndims: list) -> tuple[list, list]:
    """Operand subscripts and output subscripts as token lists ('...' is one token)."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    ops = [_tokens(s) for s in lhs.split(",")]
    if len(ops) != len(ndims):
        raise RuntimeError("einsum(): more operands were provided than specified in the "
                           "equation" if len(ndims) > len(ops) else
                           "einsum(): fewer operands were provided than specified in the "
                           "equation")
    if arrow:
        out = _tokens(rhs)
    else:  # implicit output: '...' then the letters that appear once, sorted
        letters = [t for s in ops for t in s if t != "..."]
        out = (["..."] if any("..." in s for s in ops) else []) + sorted(
            c for c in set(letters) if letters.count(c) == 1)
    if any("..." in s for s in ops):  # name the broadcast dims: '...' becomes fresh letters
        used = {t for s in ops + [out] for t in s}
        extra = [n - (len(s) - 1) for s, n in zip(ops, ndims) if "..." in s]
        pool = [c for c in string.ascii_letters if c not in used][:max(extra)]
        ops = [_fill(s, pool[len(pool) - (n - (len(s) - 1)):]) if "..." in s else s
               for s, n in zip(ops, ndims)]
        out = _fill(out, pool)
    return ops, out


def _fill(tokens: list, letters: list) -> list:
    if "..." not in tokens:
        return tokens
    k = tokens.index("...")
    return tokens[:k] + list(letters) + tokens[k + 1:]


def _tokens(s: str) -> list:
    head, dots, tail = s.partition("...")
    return list(head) + (["..."] if dots else []) + list(tail)


def _join(tokens) -> str:
    return "".join(tokens)


def _einsum(xp, *xs, equation=""):
    subs, out = parse(equation, [x.ndim for x in xs])  # '...' named: numpy may sum over it
    eq = ",".join(_join(s) for s in subs) + "->" + _join(out)
    return xp.einsum(eq, *xs, optimize=len(xs) > 2)


def _einsum_grad(ops, g, out, *xs, equation=""):
    subs, out_subs = parse(equation, [x.ndim for x in xs])
    used = {t for s in subs + [out_subs] for t in s}
    fresh = iter(c for c in string.ascii_letters if c not in used)
    grads = []
    for i, x in enumerate(xs):
        others = [(subs[j], xs[j]) for j in range(len(xs)) if j != i] + [(out_subs, g)]
        seen_elsewhere = {t for s, _ in others for t in s}
        seen_elsewhere |= {t for t in subs[i] if subs[i].count(t) > 1}
        target, extra, full = [], [], []
        first = {}
        for k, t in enumerate(subs[i]):
            if t == "...":
                target.append(t)
                full.append(t)
            elif t in first:  # a repeated letter (a diagonal): link it to a fresh one by eye
                c = next(fresh)
                extra.append(([t, c], ops.eye_like(g, n=x.shape[k])))
                target.append(c)
                full.append(c)
            elif t in seen_elsewhere:
                first[t] = k
                target.append(t)
                full.append(t)
            else:  # summed away and nowhere else: the gradient is constant along it
                first[t] = k
                full.append((t, x.shape[k]))
        operands = others + extra
        eq = ",".join(_join(s) for s, _ in operands) + "->" + _join(target)
        r = ops.einsum(*[a for _, a in operands], equation=eq)
        if any(isinstance(t, tuple) for t in full):
            nell = r.ndim - sum(1 for t in target if t != "...")
            shape, pos = [], 0
            for t in full:
                if isinstance(t, tuple):
                    shape.append(1)
                elif t == "...":
                    shape.extend(r.shape[pos:pos + nell])
                    pos += nell
                else:
                    shape.append(r.shape[pos])
                    pos += 1
            r = ops.reshape(r, shape=tuple(shape))
            size = [t[1] if isinstance(t, tuple) else s for t, s in zip(_expand(full, nell),
                                                                          shape)]
            r = ops.broadcast_to(r, shape=tuple(size))
        grads.append(r)
    return tuple(grads)


def _expand(full, nell):
    out = []
    for t in full:
        out.extend([None] * nell if t == "..." else [t])
    return out


def _einsum_name(args, params) -> str:
    """torch's einsum ends in a sum (one operand), a permute, or the view after its bmm."""
    subs, out = parse(params.get("equation", ""), [a.ndim for a in args])
    if len(args) == 1:
        s = subs[0]
        if set(s) - set(out):
            return "SumBackward1"
        return "PermuteBackward0"
    return "ViewBackward0"


defop("einsum", _einsum, _einsum_grad, node=_einsum_name, dtypes=PROMOTE, method=False,
      function=False)
defop("eye_like", lambda xp, x, n=1: xp.eye(n, dtype=x.dtype), None, dtypes=KEEP, method=False,
      function=False)


def _cross(xp, a, b, dim=-1):
    shape = xp.broadcast_shapes(a.shape, b.shape)
    a, b = xp.broadcast_to(a, shape), xp.broadcast_to(b, shape)
    if shape[dim] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{a.shape[dim]} and {b.shape[dim]}")
    return xp.moveaxis(xp.cross(xp.moveaxis(a, dim, -1), xp.moveaxis(b, dim, -1)), -1, dim)


defop("cross", _cross,
      (lambda ops, g, out, a, b, dim=-1: ops.cross(b, g, dim=dim),
       lambda ops, g, out, a, b, dim=-1: ops.cross(g, a, dim=dim)),
      node="LinalgCrossBackward0", method=False, function=False)
