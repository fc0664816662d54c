"""PyTorch's device spellings: "cpu" is numpy, "cuda"/"cuda:0" is cupy, gdl.device, gdl.cuda.

On a machine without CuPy, "cuda" must fail with a clear error; on a GPU machine the
tests marked ``needs_gpu`` check that it gives cupy-backed tensors.
"""

from __future__ import annotations

import copy
import os
import pickle
import re
import subprocess
import sys

import pytest

import gdl

HAS_GPU = gdl.is_usable("cupy")
HAS_STRICT = gdl.is_usable("array_api_strict")
needs_gpu = pytest.mark.skipif(not HAS_GPU, reason="needs CuPy and a GPU")
no_gpu = pytest.mark.skipif(HAS_GPU, reason="CuPy works here; the error path needs a machine without it")
NO_GPU_ERROR = "CuPy or a CUDA GPU is not available"
# a backend other than numpy to create the inputs on, so that "cpu" visibly moves them
OTHER = "array_api_strict" if HAS_STRICT else "numpy"


@pytest.fixture(autouse=True)
def _restore_backend():
    before = gdl.get_backend()
    yield
    gdl.set_backend(before)


# each creation function, called with extra keyword arguments (backend=/device=)
CREATORS = {
    "tensor": lambda **kw: gdl.tensor([1.0, 2.0], **kw),
    "zeros": lambda **kw: gdl.zeros(2, 3, **kw),
    "ones": lambda **kw: gdl.ones(2, **kw),
    "full": lambda **kw: gdl.full((2,), 1.5, **kw),
    "empty": lambda **kw: gdl.empty(2, **kw),
    "arange": lambda **kw: gdl.arange(4, **kw),
    "linspace": lambda **kw: gdl.linspace(0, 1, 3, **kw),
    "logspace": lambda **kw: gdl.logspace(0, 1, 3, **kw),
    "eye": lambda **kw: gdl.eye(2, **kw),
    "rand": lambda **kw: gdl.rand(2, **kw),
    "randn": lambda **kw: gdl.randn(2, **kw),
    "randint": lambda **kw: gdl.randint(0, 5, (3,), **kw),
    "randperm": lambda **kw: gdl.randperm(4, **kw),
    "zeros_like": lambda **kw: gdl.zeros_like(gdl.ones(2, backend=OTHER), **kw),
    "ones_like": lambda **kw: gdl.ones_like(gdl.ones(2, backend=OTHER), **kw),
    "full_like": lambda **kw: gdl.full_like(gdl.ones(2, backend=OTHER), 3.0, **kw),
    "empty_like": lambda **kw: gdl.empty_like(gdl.ones(2, backend=OTHER), **kw),
    "rand_like": lambda **kw: gdl.rand_like(gdl.ones(2, backend=OTHER), **kw),
    "randn_like": lambda **kw: gdl.randn_like(gdl.ones(2, backend=OTHER), **kw),
    "tril_indices": lambda **kw: gdl.tril_indices(3, 3, **kw),
    "triu_indices": lambda **kw: gdl.triu_indices(3, 3, **kw),
    "Tensor": lambda **kw: gdl.Tensor([1.0], **kw),
}
CPU_SPELLINGS = ["cpu", "cpu:0", gdl.device("cpu"), gdl.device("cpu", 0)]


# -- "cpu" everywhere a backend name is accepted --------------------------------------------------


@pytest.mark.parametrize("spec", CPU_SPELLINGS, ids=str)
def test_cpu_selects_numpy_in_the_registry(spec):
    assert gdl.get_backend_object(spec) is gdl.get_backend_object("numpy")
    assert gdl.is_usable(spec)
    with gdl.use_backend(OTHER):
        with gdl.use_backend(spec) as be:
            assert be.name == "numpy" and gdl.get_backend() == "numpy" and gdl.zeros(1).backend == "numpy"
        assert gdl.get_backend() == OTHER
    gdl.set_backend(OTHER)
    gdl.set_backend(spec)
    assert gdl.get_backend() == "numpy" and gdl.ones(2).backend == "numpy"
    gdl.synchronize(spec)


@pytest.mark.parametrize("name", CREATORS)
@pytest.mark.parametrize("keyword", ["backend", "device"])
def test_creation_functions_take_cpu_as_backend_and_device(name, keyword):
    with gdl.use_backend(OTHER):
        for spec in ("cpu", gdl.device("cpu")):
            t = CREATORS[name](**{keyword: spec})
            assert t.backend == "numpy", (name, keyword, spec)
            assert t.device == gdl.device("cpu") and not t.is_cuda


@pytest.mark.parametrize("name", CREATORS)
def test_backend_and_device_both_given(name):
    assert CREATORS[name](backend="numpy", device="cpu").backend == "numpy"  # they agree
    with pytest.raises(TypeError, match=f"{name.lower() if name == 'Tensor' else name}: backend=.*device=.*disagree"):
        CREATORS[name](backend=OTHER if OTHER != "numpy" else "cupy", device="cpu")


def test_device_taken_from_a_tensor_keeps_its_backend():
    """array_api_strict tensors report "cpu" but ``device=x.device`` stays on array_api_strict."""
    x = gdl.ones(2, backend=OTHER)
    assert x.device == gdl.device("cpu") and x.device.type == "cpu" and x.device.index is None
    assert gdl.zeros(2, device=x.device).backend == OTHER
    assert gdl.ones(2, backend="numpy").to(x.device).backend == OTHER
    assert gdl.zeros_like(x).backend == OTHER  # no backend/device: the input's
    assert gdl.device(x.device) == x.device and gdl.backends.backend_name(gdl.device(x.device)) == OTHER


def test_tensor_to_cpu_moves_and_backpropagates():
    x = gdl.tensor([1.0, 2.0], requires_grad=True, backend=OTHER)
    for y in (x.to("cpu"), x.to(device="cpu"), x.to(gdl.device("cpu")), x.to("cpu", gdl.float64), x.cpu(),
              x.to("cpu", non_blocking=True)):
        assert y.backend == "numpy"
    y = x.to("cpu", gdl.float64)
    assert y.dtype == gdl.float64
    (y * 3).sum().backward()
    assert x.grad.backend == OTHER and x.grad.tolist() == [3.0, 3.0]
    assert x.to(device=x.device) is x
    with pytest.raises(TypeError, match="to: backend=.*device=.*disagree"):
        x.to("cupy", device="cpu")


def test_tensor_device_and_is_cuda(backend):
    t = gdl.zeros(2)
    want = gdl.device("cuda:0") if backend == "cupy" else gdl.device("cpu")
    assert isinstance(t.device, gdl.device) and t.device == want and str(t.device) == str(want)
    assert t.is_cuda == (backend == "cupy")
    assert gdl.zeros(3, device=t.device).backend == backend
    # the array library's own device object stays on the backend, for xp calls
    assert t._backend.device is gdl.get_backend_object(backend).device


def test_module_to_cpu():
    model = gdl.nn.Sequential(gdl.nn.Linear(2, 3, backend=OTHER), gdl.nn.BatchNorm1d(3, backend=OTHER))
    for move in (lambda m: m.to("cpu"), lambda m: m.to(device="cpu"), lambda m: m.to(gdl.device("cpu")),
                 lambda m: m.cpu()):
        model.to(OTHER)
        assert move(model) is model
        assert {t.backend for t in model.parameters()} | {t.backend for t in model.buffers()} == {"numpy"}
    assert model(gdl.ones(4, 2, device="cpu")).backend == "numpy"
    model.to("cpu", gdl.float64)
    assert model[0].weight.dtype == gdl.float64
    model.to(gdl.float32)  # a dtype in the first place, as PyTorch
    assert model[0].weight.dtype == gdl.float32
    with pytest.raises(TypeError, match="Module.to: backend=.*device=.*disagree"):
        model.to("cupy", device="cpu")


def test_env_var_takes_a_device():
    code = "import gdl; print(gdl.get_backend(), gdl.zeros(1).backend)"
    env = dict(os.environ, GDL_BACKEND="cpu")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["numpy", "numpy"]


# -- bad devices -------------------------------------------------------------------------------------


@pytest.mark.parametrize("use", [
    lambda s: gdl.get_backend_object(s), lambda s: gdl.set_backend(s), lambda s: gdl.use_backend(s).__enter__(),
    lambda s: gdl.zeros(2, device=s), lambda s: gdl.ones(2).to(s), lambda s: gdl.nn.Linear(1, 1).to(s),
])
def test_second_gpu_is_a_clear_error(use):
    for spec in ("cuda:1", "cuda:2", 1):
        with pytest.raises(ValueError, match="cuda:[12] is not supported: gdl uses one GPU"):
            use(spec)


def test_unknown_names_list_backends_and_devices():
    with pytest.raises(ValueError, match="unknown backend 'gpu'.*numpy.*cupy.*array_api_strict.*'cpu'.*'cuda'"):
        gdl.zeros(2, device="gpu")
    with pytest.raises(ValueError, match="invalid device string 'cuda:x'"):
        gdl.device("cuda:x")
    with pytest.raises(ValueError, match="unknown device type 'numpy'"):
        gdl.device("numpy")
    with pytest.raises(ValueError, match="already has an index"):
        gdl.device("cuda:0", 0)
    with pytest.raises(TypeError, match="expected a string"):
        gdl.device(1.5)
    with pytest.raises(TypeError, match="index must be an int"):
        gdl.device("cuda", "0")
    with pytest.raises(ValueError, match="expected a cuda device"):
        gdl.ones(1).cuda("cpu")


@no_gpu
@pytest.mark.parametrize("spec", ["cuda", "cuda:0", gdl.device("cuda"), gdl.device(0), 0], ids=str)
def test_cuda_without_cupy_is_a_clear_error(spec):
    before = gdl.get_backend()
    x = gdl.ones(2, backend="numpy")
    model = gdl.nn.Linear(2, 2, backend="numpy")
    uses = [
        lambda: gdl.get_backend_object(spec), lambda: gdl.set_backend(spec), lambda: gdl.use_backend(spec).__enter__(),
        lambda: gdl.zeros(2, device=spec), lambda: gdl.tensor([1.0], backend=spec), lambda: x.to(spec),
        lambda: x.to(device=spec), lambda: x.cuda(spec), lambda: model.to(spec), lambda: model.cuda(spec),
        lambda: gdl.zeros_like(x, device=spec), lambda: gdl.randperm(3, device=spec),
    ]
    shown = f"({re.escape(str(spec))}|{re.escape(str(gdl.device(spec)))})"  # x.cuda(0) shows cuda:0
    for use in uses:
        with pytest.raises(RuntimeError, match=f"backend 'cupy' \\(device '{shown}'\\) is not usable here: {NO_GPU_ERROR}"):
            use()
    for use in (x.cuda, model.cuda):
        with pytest.raises(RuntimeError, match=f"backend 'cupy' \\(device 'cuda'\\) is not usable here: {NO_GPU_ERROR}"):
            use()
    assert gdl.get_backend() == before and model.weight.backend == "numpy" and not gdl.is_usable(spec)


# -- gdl.device ---------------------------------------------------------------------------------------


def test_device_object():
    cpu, cuda, cuda0 = gdl.device("cpu"), gdl.device("cuda"), gdl.device("cuda:0")
    assert (cpu.type, cpu.index, str(cpu), repr(cpu)) == ("cpu", None, "cpu", "device(type='cpu')")
    assert (cuda.type, cuda.index, str(cuda), repr(cuda)) == ("cuda", None, "cuda", "device(type='cuda')")
    assert (cuda0.type, cuda0.index, str(cuda0), repr(cuda0)) == ("cuda", 0, "cuda:0", "device(type='cuda', index=0)")
    assert gdl.device("cuda", 0) == cuda0 == gdl.device(0) == gdl.device(cuda0)
    assert cpu == gdl.device("cpu") and cpu != cuda and cuda != cuda0  # as torch: "cuda" is not "cuda:0"
    assert cpu != "cpu"  # as torch: a device is not equal to its string
    assert len({cpu, gdl.device("cpu"), cuda, cuda0, gdl.device("cuda:0")}) == 3
    assert hash(gdl.device("cuda:0")) == hash(cuda0)
    with pytest.raises(AttributeError):
        cpu.type = "cuda"
    with pytest.raises(AttributeError):
        cpu.index = 0
    assert copy.copy(cuda0) == cuda0 and copy.deepcopy(cpu) == cpu and pickle.loads(pickle.dumps(cuda0)) == cuda0
    assert gdl.backends.backend_name(cpu) == "numpy" and gdl.backends.backend_name(cuda0) == "cupy"


# -- gdl.cuda -------------------------------------------------------------------------------------------


@no_gpu
def test_gdl_cuda_without_a_gpu():
    cuda = gdl.cuda
    assert cuda.is_available() is False and cuda.device_count() == 0
    assert cuda.memory_allocated() == 0 and cuda.max_memory_allocated() == 0 and cuda.memory_reserved() == 0
    cuda.manual_seed(0)  # no-ops, as in PyTorch
    cuda.manual_seed_all(0)
    cuda.empty_cache()
    for name in ("synchronize", "current_device", "get_device_name"):
        with pytest.raises(RuntimeError, match=f"gdl.cuda.{name}\\(\\): .*{NO_GPU_ERROR}"):
            getattr(cuda, name)()


def test_gdl_cuda_is_available_agrees_with_is_usable():
    assert gdl.cuda.is_available() == gdl.is_usable("cupy") == gdl.is_usable("cuda")


# -- on a GPU machine -------------------------------------------------------------------------------------


@needs_gpu
@pytest.mark.parametrize("spec", ["cuda", "cuda:0", gdl.device("cuda"), gdl.device(0), 0], ids=str)
def test_cuda_gives_cupy_tensors(spec):
    assert gdl.get_backend_object(spec) is gdl.get_backend_object("cupy")
    with gdl.use_backend(spec):
        assert gdl.get_backend() == "cupy" and gdl.zeros(1).backend == "cupy"
    for name, make in CREATORS.items():
        t = make(device=spec)
        assert t.backend == "cupy" and t.is_cuda and t.device == gdl.device("cuda:0"), name
    x = gdl.tensor([1.0, 2.0], requires_grad=True, backend="numpy")
    for y in (x.to(spec), x.cuda(), x.to(device=spec)):
        assert y.backend == "cupy" and y.cpu().backend == "numpy"
    y = x.cuda()
    (y * 2).sum().backward()
    assert x.grad.backend == "numpy" and x.grad.tolist() == [2.0, 2.0]
    model = gdl.nn.Linear(2, 3, backend="numpy")
    assert model.to(spec).weight.backend == "cupy" and model.cpu().weight.backend == "numpy"
    assert model.cuda().weight.is_cuda and model(gdl.ones(1, 2, device="cuda")).is_cuda


@needs_gpu
def test_gdl_cuda_on_a_gpu():
    cuda = gdl.cuda
    assert cuda.is_available() and cuda.device_count() >= 1 and cuda.current_device() == 0
    assert isinstance(cuda.get_device_name(), str) and cuda.get_device_name()
    assert cuda.get_device_name(0) == cuda.get_device_name("cuda:0") == cuda.get_device_name()
    cuda.manual_seed(3)
    a = gdl.randn(5, device="cuda").tolist()
    cuda.manual_seed_all(3)
    assert gdl.randn(5, device="cuda").tolist() == a
    # (seeding makes a new generator, whose cuRAND states take ~13 MB: allocate after it)
    x = gdl.ones(1024, 1024, device="cuda")  # 4 MiB
    cuda.synchronize()
    used = cuda.memory_allocated()
    assert used >= 4 * 2**20 and cuda.memory_reserved() >= used and cuda.max_memory_allocated() >= used
    reserved = cuda.memory_reserved()
    del x
    assert cuda.memory_allocated() <= used - 4 * 2**20
    cuda.empty_cache()
    assert cuda.memory_reserved() <= reserved  # (a block split from a bigger cached one may stay)


# -- cross-check with torch.device ----------------------------------------------------------------------------


@pytest.mark.parametrize("spec", ["cpu", "cuda", "cuda:0"])
def test_device_matches_torch(spec):
    torch = pytest.importorskip("torch")
    ours, theirs = gdl.device(spec), torch.device(spec)
    assert (str(ours), repr(ours), ours.type, ours.index) == (str(theirs), repr(theirs), theirs.type, theirs.index)


def test_device_equality_matches_torch():
    torch = pytest.importorskip("torch")
    specs = ["cpu", "cuda", "cuda:0"]
    for a in specs:
        for b in specs:
            assert (gdl.device(a) == gdl.device(b)) == (torch.device(a) == torch.device(b)), (a, b)
    assert (gdl.device("cuda", 0) == gdl.device("cuda:0")) == (torch.device("cuda", 0) == torch.device("cuda:0"))
