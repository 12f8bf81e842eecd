"""rebours: reverse-mode autodiff tensors with PyTorch's API, that explain why backward failed.

>>> import rebours as torch
>>> x = torch.tensor(4.0, requires_grad=True)
>>> y = torch.tensor(8.0) * x + 5.0
>>> y
tensor(37., grad_fn=<AddBackward0>)
>>> y.backward(); x.grad
tensor(8.)
"""

__version__ = "0.1.0"

import warnings as _warnings

# NumPy warns when a row computes 1/0 or log(0); torch gives inf/nan silently, and so do we.
# The filter only matches warnings attributed to rebours's own modules.
_warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"rebours\.ops\.")

from . import _bind, autograd, cuda, errors, linalg
from ._printing import get_printoptions, set_printoptions
from .autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .backends import device
from .dtypes import (
    bfloat16,
    bool_,
    complex64,
    complex128,
    dtype,
    finfo,
    float16,
    float32,
    float64,
    get_default_dtype,
    iinfo,
    int8,
    int16,
    int32,
    int64,
    promote_types,
    set_default_dtype,
    uint8,
)
from .factories import (
    Generator,
    arange,
    as_tensor,
    default_generator,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    initial_seed,
    is_tensor,
    linspace,
    manual_seed,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from .ops import elementwise as _elementwise  # noqa: F401  (rows register on import)
from .ops import indexing as _indexing  # noqa: F401
from .ops import linalg as _linalg  # noqa: F401
from .ops import mutation as _mutation  # noqa: F401
from .ops import reduction as _reduction  # noqa: F401
from .ops import shape as _shape  # noqa: F401
from .ops import special as _special  # noqa: F401
from .ops import activation as _activation  # noqa: F401
from .ops import scan as _scan  # noqa: F401
from .ops import gather as _gather  # noqa: F401
from .ops import rearrange as _rearrange  # noqa: F401
from .ops import contract as _contract  # noqa: F401
from .ops import decomp as _decomp  # noqa: F401
from .ops import nn_layers as _nn_layers  # noqa: F401
from .ops import nn_loss as _nn_loss  # noqa: F401
from .ops import nn_norm as _nn_norm  # noqa: F401
from .ops import conv as _conv  # noqa: F401
from .ops import pool as _pool  # noqa: F401
from .ops import adaptive as _adaptive  # noqa: F401
from .ops import resample as _resample  # noqa: F401
from .tensor import Size, Tensor

bool = bool_  # noqa: A001  (torch.bool)
half, double, long, short = float16, float64, int64, int16
cfloat, cdouble = complex64, complex128
float = float32  # noqa: A001  (torch.float)
int = int32  # noqa: A001  (torch.int)

_bind.bind(globals())
del _bind
from . import inplace as _inplace

_inplace.bind()
from . import nn
from . import func, optim, serialization, utils, viz
from .serialization import load, save


def result_type(tensor1, tensor2):
    """The dtype an op on these two operands computes in (torch's promotion rules)."""
    from .dtypes import result_type as _rt

    ts = [a for a in (tensor1, tensor2) if isinstance(a, Tensor)]
    ss = [a for a in (tensor1, tensor2) if not isinstance(a, Tensor)]
    return _rt(ts, ss)


def is_floating_point(input):
    return input.is_floating_point()


def is_complex(input):
    return input.is_complex()


_num_threads = [1]


def set_num_threads(n):
    """Limit the BLAS threads rebours uses (through threadpoolctl when installed)."""
    _num_threads[0] = n
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(n)


def get_num_threads():
    return _num_threads[0]


def explain(target):
    """Explain a catalogue code (`explain("RB001")`: its text) or a tensor (`explain(x)`: a report
    on why `x.grad` is None or NaN, from what the graph and the last backward recorded)."""
    if isinstance(target, str):
        return errors.explain(target)
    from .doctor.explain import explain as _explain_tensor

    return _explain_tensor(target)
