"""One run of a grouped, transposed or pooling layer: bind, check, diagnose, locate -> RunResult.

runner.run hands over here when --op/--groups or the user's names say the file
is one of these layers; the dense correlation path is untouched. Never prints.
"""
from __future__ import annotations

import re
import shlex
import time


import numpy as np

from . import __version__
from .binding.layouts import LAYOUTS, spatial_sizes
from .binding.window_ops import (BACKWARD_WORDS, FORWARD_WORDS, Settings, WindowOp, detect_op, op_named,
                                 groups_from_weight, own_weight_shape, param_keys, role_of)
from .checks.window_suite import check, expected, make_draw
from .checks.tolerances import tolerance_for
from .diagnosis import catalogue_ops, patterns
from .diagnosis.story import blame, follows_forward, unreceived_geometry_notes
from .errors import BindError, UserCallError, UserTimeout
from .locate.find import locate_all
from .geometry import ConfigError, Geometry, format_axes, format_pad, window_geometry, per_axis
from .result import Diagnosis, Location, RunResult
from .vocab import AUTO, FAILING, POOL_OPS, Against, Convention, Op, Verdict

POOL = POOL_OPS
DEFAULT_INPUT = {1: (11,), 2: (7, 6), 3: (5, 6, 4)}
DEFAULT_KERNEL = {1: (3,), 2: (3, 2), 3: (3, 2, 2)}
TRANSPOSE_INPUT = {1: (5,), 2: (4, 3), 3: (3, 3, 2)}
PARAMETERISATIONS = {False: "torch (in, out/groups, *K) scatter form",
                     True: "zero insertion + stride-1 correlation, filter (out, in, *K) flipped (CMU mytorch form)"}


def _short(fn) -> str:
    """The function's own name without its class or module (ConvLayer.forward -> forward)."""
    return fn.name.rsplit(".", 1)[-1]


def wants_window_path(cfg, ns) -> bool:
    """True when --op/--groups or the names in the files say this is one of the new layers."""
    if cfg.op in (Op.TRANSPOSE,) + POOL_OPS or (cfg.groups or 1) > 1:
        return True
    if cfg.op != "correlate" or cfg.forward:
        return False
    op, _ = detect_op(list(ns), [p.name for f in ns.values() for p in f.params],
                      {k for f in ns.values() for k in param_keys(f)})
    if op is None:
        return False
    if cfg.op_given:                # --op correlate said: a grouped layer still is one; pooling is refused
        return _grouped_names(ns) or op in POOL_OPS
    # a library with a dense convolution beside its pooling layer keeps the dense check unless --op says
    dense = [f for f in ns.values() if re.search(r"conv|corr", _short(f), re.I)
             and op_named(_short(f)) is None]
    return not dense or op == Op.TRANSPOSE or (cfg.groups or 0) > 1 or _grouped_names(ns)


LAYER_WORDS = re.compile(r"conv|corr|pool|forward|backward|backprop|layer|deconv", re.I)


def _unchecked_layers(ns, fwd, back) -> list[str]:
    """Other layers in the files (a pointwise conv beside the depthwise one checked): named in a note,
    so a file with two layers never passes on the strength of one."""
    bound = {fwd.name, *(f.name for f in back.values())}
    used = " ".join(f.source or "" for f in [fwd, *back.values()])     # helpers are checked through their callers
    return [f.name for f in ns.values() if f.name not in bound and "." not in f.name and not f.name.startswith("_")
            and not re.search(rf"\b{re.escape(f.name)}\b", used)
            and (f.is_class and ("forward" in f.methods or "__call__" in f.methods) or not f.is_class)
            and LAYER_WORDS.search(_short(f))]


def _grouped_names(ns) -> bool:
    return any(p.name.lower() in ("groups", "depth_multiplier") for f in ns.values() for p in f.params) or \
        any(op_named(_short(f)) == "grouped" for f in ns.values()) or \
        any(k in ("groups", "depth_multiplier") for f in ns.values() for k in param_keys(f))


def _bind(ns, cfg):
    """(forward UserFunction or class, {target: backward}, convention)."""
    if cfg.forward and cfg.forward in ns:
        fwd = ns[cfg.forward]
    else:
        classes = [f for f in ns.values() if f.is_class and ("forward" in f.methods or "__call__" in f.methods)]
        funcs = [f for f in ns.values() if not f.is_class and "." not in f.name]
        fwds = [f for f in funcs if not BACKWARD_WORDS.search(_short(f))]
        named = [f for f in fwds if FORWARD_WORDS.search(_short(f)) or
                 op_named(_short(f)) is not None]
        if classes and not named:
            fwd = next((c for c in classes if op_named(_short(c)) is not None), classes[0])
            return fwd, _layer_targets(fwd), Convention.LAYER
        cands = named or fwds
        if not cands:
            raise BindError("no forward function found: name it forward or after the layer (maxpool_forward, "
                            "conv_transpose, ...), or give --forward NAME")
        # a helper such as at(arr, i, j) is not the forward: prefer one whose parameters all have a role
        fwd = min(cands, key=_unbindable)
    if fwd.is_class:
        return fwd, _layer_targets(fwd), Convention.LAYER
    back = {}
    for flag in ("grad_input", "grad_filter", "grad_bias"):
        name = getattr(cfg, flag)
        if name and name in ns:
            back[flag] = ns[name]
    if not back:
        backs = [f for f in ns.values() if not f.is_class and "." not in f.name and BACKWARD_WORDS.search(_short(f))]
        # a file with two layers (depthwise + pointwise): the backward named after this forward
        stem = re.sub(r"_?(forward|fwd)$", "", _short(fwd), flags=re.I)
        backs = [f for f in backs if _short(f).startswith(stem)] or backs
        for f in backs:
            low = _short(f).lower()
            if re.search(r"input|_dx|dx_|data", low):
                back["grad_input"] = f
            elif re.search(r"filter|weight|_dw|dw_|kernel", low):
                back["grad_filter"] = f
            elif re.search(r"bias|_db", low):
                back["grad_bias"] = f
            else:
                back.setdefault("both", f)
    if "both" in back:
        both = back.pop("both")
        for t in ("grad_input", "grad_filter", "grad_bias"):
            back.setdefault(t, both)
    cs231n = any(role_of(p.name, False) in ("param", "cache") for f in [fwd, *back.values()] for p in f.params)
    return fwd, back, Convention.CS231N if cs231n else Convention.FUNCTIONAL


def _window_form(wop, sizes, k, squeezed, filters, pair, stride_is_window, where, geom) -> Geometry:
    """Set one form of the filter/window on wop and sizes; the geometry for it (a pooling that steps
    by its window steps by this one)."""
    pad, dilation, geom_op, ndim, n, cfg = where
    wop.squeezed_filter, wop.settings.window_pair = squeezed, pair
    sizes["filters"] = wop.settings.out_channels = filters
    sizes["k_spatial"] = wop.settings.window = k
    if stride_is_window:
        geom = window_geometry(k, pad, dilation, geom_op, ndim, n, k, ceil_mode=cfg.ceil_mode,
                               count_include_pad=cfg.count_include_pad)
        wop.settings.stride = geom.stride
    geom.out_shape(n, k)
    return geom


EXACT, RUNS = 2, 1


def _ceil_drop_size(geom: Geometry, n, k, other_windows: bool) -> tuple | None:
    """(input size, window) nearest (n, k), one axis changed, where ceil mode's last window would
    start in the after-padding, so torch's rule drops it; the window changes only when the code
    takes one (other_windows). None when no such size is near."""
    for axis, (size, kk, s, (pb, pa), dd) in enumerate(zip(n, k, geom.stride, geom.pad, geom.dilation)):
        for k2 in [kk] + ([w for w in range(2, kk + 3) if w != kk] if other_windows else []):
            span = dd * (k2 - 1) + 1
            if 2 * max(pb, pa) > k2:
                continue
            for m in sorted(range(span, size + 3 * s + 1), key=lambda m: abs(m - size)):
                if (m + pb + pa - span + s - 1) // s * s >= m + pb:     # (count - 1) * s before the rule
                    square = len(set(k)) == 1                           # a square window stays square
                    return (tuple(m if i == axis else v for i, v in enumerate(n)),
                            tuple(k2 if i == axis or square else v for i, v in enumerate(k)))
    return None


def _runs_with(wop, op, geom, cfg, sizes) -> int:
    """EXACT when the forward returns the expected shape on this form of the filter/window, RUNS when
    it returns finite values of the right rank, else 0 (an error, NaN, an empty or rank-lost result)."""
    d = make_draw(np.random.default_rng(cfg.seed), op, geom, **sizes)
    try:
        got = wop.forward(d.x, d.w, d.b)
    except UserCallError:
        return 0
    finally:
        wop.calls.clear()
    if not np.isfinite(got).all():
        return 0
    # a window passed as a tuple where one int is expected breaks the shape itself (empty, axes lost);
    # a size that is merely off by one is the user's mistake, checked and named later
    want = expected(op, "forward", d, geom).shape
    if got.shape == want:
        return EXACT
    return RUNS if got.size > 0 and got.ndim == len(want) else 0


def _unbindable(fn) -> int:
    """How many required parameters of `fn` no role name explains (0 for a function corrcheck can call)."""
    return sum(1 for p in fn.params if not p.has_default and p.kind not in ("var_positional", "var_keyword")
               and role_of(p.name, False) is None)


def _layer_targets(cls) -> dict:
    """A layer's backward returns dx and leaves dW/db on attributes (read when present)."""
    return {t: cls for t in ("grad_input", "grad_filter", "grad_bias")} if "backward" in cls.methods else {}


def _takes(fn, role, pool) -> bool:
    """A parameter of that role, or a *_param dict the function reads that key from."""
    if any(role_of(p.name, pool) == role for p in fn.params):
        return True
    if fn.is_class:
        return False
    if any(role_of(p.name, pool) == "param" for p in fn.params):
        keys = {"pad": ("pad", "padding")}.get(role, (role,))
        src = fn.source or ""
        return any(re.search(rf"""['"]{k}['"]""", src) for k in keys) if src else True
    return False


def run_window(cfg, ns, language, sources, t0) -> RunResult:
    fwd, back, convention = _bind(ns, cfg)
    if cfg.convention not in (AUTO, convention):
        convention = cfg.convention if cfg.convention in (Convention.FUNCTIONAL, Convention.CS231N, Convention.LAYER) else convention
    op, groups_hint = cfg.op, cfg.groups
    depthwise_named = False
    names = [fwd.name] + [f.name for f in back.values()]
    params = [p.name for f in [fwd, *back.values()] for p in f.params]
    if op == Op.CORRELATE:
        found, hint = detect_op(names, params, {k for f in [fwd, *back.values()] for k in param_keys(f)})
        if found in POOL_OPS and cfg.op_given and not any(role_of(p.name, False) == "w" for p in fwd.params):
            raise ConfigError(f"{fwd.name} is a pooling layer by its name and takes no filter: --op {cfg.op} "
                              f"cannot apply (--op {found} checks it)")
        if found and cfg.op_given and found != Op.CORRELATE:
            found, hint = Op.CORRELATE, (2 if _grouped_names({f.name: f for f in [fwd, *back.values()]}) else None)
        if found:
            op = found          # with --groups too: a pooling file given --groups is refused, not checked as a conv
            depthwise_named = hint == 0
            groups_hint = cfg.groups or (hint if hint is not None else groups_hint)
    pool = op in POOL
    weighted = [p.name for p in fwd.params if role_of(p.name, True) in ("w", "b")] if pool else []
    if weighted:                # a filter or a bias to pass: the code is a convolution, whatever --op says
        raise ConfigError(f"{fwd.name} takes a filter or bias ({weighted[0]}), so it is not a pooling layer: "
                          f"--op {op} cannot apply")
    notes = []
    others = _unchecked_layers(ns, fwd, back)
    if others:
        notes.append(f"not checked: {', '.join(others[:6])}{' …' if len(others) > 6 else ''} (one layer per run: "
                     f"--forward NAME checks another)")
    # a size spelled per axis (7x6) fixes the axis count; one number (7) is every axis, as on the dense path
    spelled = [v for v in (cfg.input_size, cfg.filter_size) if v is not None and _count(v) > 1]
    given_form = _given_form(cfg, spelled)
    ndim, layout, hung = given_form + (None,) if given_form else \
        _user_arrays(fwd, op, convention, language, cfg, groups_hint, spelled)
    if ndim != 2 and not spelled and cfg.layout == AUTO:
        notes.append(f"your forward runs on {ndim} spatial axis{'es' if ndim > 1 else ''}, not 2: checked so "
                     f"(give --input-size for another)")
    if layout is not None and cfg.layout == AUTO:
        notes.append(f"your forward takes {_form_name(ndim, layout).upper()} arrays"
                     + ("" if layout.batch else ": one sample") + ("" if layout.channels else ", one channel")
                     + " (give --layout for another)")
    takes_stride, takes_pad = _takes(fwd, "stride", pool), _takes(fwd, "pad", pool)
    if pool and fwd.is_class and not takes_pad:
        takes_pad = False
    # classes usually take one int kernel_size: square by default there
    k = per_axis(cfg.filter_size, ndim, "filter size", 1) if cfg.filter_size else \
        ((3,) * ndim if convention == Convention.LAYER else DEFAULT_KERNEL[ndim])
    # a pooling function that takes no stride steps by its window, as torch's and Keras' pooling do
    # by default; checking it at stride 1 would call its design a mistake
    stride_is_window = pool and cfg.stride is None and not takes_stride
    stride = cfg.stride if cfg.stride is not None else (2 if takes_stride else (k if stride_is_window else 1))
    pad = cfg.pad if cfg.pad is not None else (1 if takes_pad else 0)
    n = per_axis(cfg.input_size, ndim, "input size", 1) if cfg.input_size else \
        (TRANSPOSE_INPUT if op == Op.TRANSPOSE else DEFAULT_INPUT)[ndim]
    # a pooling told no window that returns one value per channel pools the whole input (global pooling)
    global_form = _global_pool(fwd, op, convention, language, cfg, ndim, layout, n) \
        if pool and (cfg.filter_size is None or tuple(k) == tuple(n)) and not _takes(fwd, "kernel", True) else None
    if global_form:
        k = tuple(n)
        stride = k if stride_is_window else stride
        stride_is_window = False
        notes.append("your pooling takes no window and returns one value per channel: a global pooling, "
                     "checked with the whole input as its window")
    # channels and groups: depthwise (hint 0) is G = C with a multiplier 2; grouped G = 2, C/G != F/G
    if groups_hint == 0 or (depthwise_named and not cfg.channels):
        # depthwise: G = C (--groups G then picks the channel count)
        channels = cfg.channels or cfg.groups or 3
        groups = channels
        filters = cfg.filters or 2 * channels
    else:
        groups = groups_hint or 1
        # C/G = 3 > F/G = 2: a group offset counted in filters stays inside the input and shows
        channels = cfg.channels or (3 * groups if groups > 1 else 3)
        filters = cfg.filters or (2 * groups if groups > 1 else (2 if op == Op.TRANSPOSE else 4))
    if convention == Convention.LAYER and not pool and op != Op.TRANSPOSE and not cfg.groups:
        made = _groups_by_weight(fwd, op, language, cfg, channels, filters, groups, k, ndim, layout)
        if made is not None:
            groups, filters, k = made
            per = channels // groups
            notes.append(f"grouped convolution read from the filter {fwd.name} makes, (F, C/G, *K): "
                         f"{groups} groups of {per} channel{'s' if per > 1 else ''} (give --groups to choose)")
    if pool:
        filters = channels
    if layout is not None and not layout.channels:      # one channel in and out: no groups to speak of
        if (cfg.groups or 1) > 1 or (cfg.channels or 1) > 1 or (cfg.filters or 1) > 1:
            raise ConfigError(f"--layout {layout.name} has no channel axis, so it takes no --groups, --channels "
                              f"or --filters above 1")
        channels = filters = groups = 1
    geom_op = op if op != "grouped" else "correlate"
    # an option the code takes is checked where its mistakes show, as stride 2 and pad 1 are
    takes_any = (lambda role: any(_takes(f, role, pool) for f in [fwd, *back.values()]))
    dilation = cfg.dilation if cfg.dilation is not None else (2 if takes_any("dilation") else 1)
    output_padding = cfg.output_padding if cfg.output_padding is not None else \
        (1 if op == Op.TRANSPOSE and takes_any("output_padding") and
         min(per_axis(stride, ndim, "stride", 1)) > 1 else 0)
    ceil_mode = cfg.ceil_mode if cfg.ceil_mode is not None else (pool and takes_any("ceil_mode"))
    cfg = cfg.replace(ceil_mode=ceil_mode)
    geom = window_geometry(stride, pad, dilation, geom_op, ndim, n, k, groups=groups,
                         output_padding=output_padding, ceil_mode=ceil_mode,
                         count_include_pad=cfg.count_include_pad)
    if channels % groups or filters % groups:
        raise ConfigError(f"groups {groups} must divide the channels ({channels}) and the filters ({filters})")
    if layout is not None and not layout.batch and (cfg.batch or 1) > 1:
        raise ConfigError(f"--layout {layout.name} holds one sample, so it takes no --batch above 1")
    batch = 1 if layout is not None and not layout.batch else (cfg.batch or 2)
    settings = Settings(op=op, stride=geom.stride, pad=tuple(p for p, _ in geom.pad), dilation=geom.dilation,
                        groups=groups, output_padding=geom.output_padding, window=tuple(k),
                        ceil_mode=geom.ceil_mode, count_include_pad=geom.count_include_pad,
                        in_channels=channels, out_channels=filters)
    # a function without a bias parameter is checked without one (a layer keeps its own, set when it has it)
    has_bias = not pool and (convention == Convention.LAYER or any(role_of(p.name, False) == "b" for p in fwd.params))
    wop = WindowOp(op=op, convention=convention, forward_fn=fwd, backward_fns=back, language=language,
                   timeout=cfg.timeout, user_files=tuple(cfg.files), settings=settings, has_bias=has_bias,
                   layout=layout, hung=hung, squeezed_out=global_form == "squeezed")
    if hung is not None:
        wop.calls["forward"] += 1         # the probe's call that never returned
    sizes = dict(batch=batch, channels=channels, filters=filters, in_spatial=n, k_spatial=k, bias=has_bias)
    # the form of the filter/window the forward returns the expected shape on (else the first it
    # runs on): as drawn; a depthwise filter (C, 1, *K) with a multiplier of 1, or stored (C, *K)
    # with no multiplier axis; each with a square window given as one number where the code unpacks a pair
    # (kh, kw = kernel_size), or where the code takes one size
    depthwise = groups == channels > 1 and op != Op.TRANSPOSE
    windows = [k] + ([(max(k),) * ndim] if cfg.filter_size is None and len(set(k)) > 1 else [])
    per_channel = [(False, filters)]
    if depthwise and cfg.filters in (None, channels):      # --filters C (a rerun's) keeps the (C, *K) form
        per_channel += [(False, channels), (True, channels)]
    per_channel = list(dict.fromkeys(per_channel))
    forms = [(kk, squeezed, f, pair) for squeezed, f in per_channel for kk in windows
             for pair in ((False, True) if len(kk) > 1 and len(set(kk)) == 1 else (False,))]
    where = (pad, dilation, geom_op, ndim, n, cfg)
    chosen = None
    for form in forms:
        geom = _window_form(wop, sizes, *form, stride_is_window, where, geom)
        fits = _runs_with(wop, op, geom, cfg, sizes)
        chosen = chosen or (form if fits else None)
        if fits == EXACT:
            chosen = form
            break
    if chosen is None and cfg.filter_size is not None and len(set(k)) > 1:
        # a non-square size given to code that takes one: its design, not a mistake
        square = (max(k),) * ndim
        geom = _window_form(wop, sizes, square, False, filters, False, stride_is_window, where, geom)
        if _runs_with(wop, op, geom, cfg, sizes) == EXACT:
            raise ConfigError(f"{fwd.name} takes one {'window' if pool else 'filter'} size: it runs on a square "
                              f"{_extent(square)} one but not on {_extent(k)}, so --filter-size {_extent(k)} cannot "
                              f"apply (give one number, like --filter-size {max(k)})")
    kk, squeezed, form_filters, pair = chosen or forms[0]   # none runs: as drawn, the check says what broke
    geom = _window_form(wop, sizes, kk, squeezed, form_filters, pair, stride_is_window, where, geom)
    if form_filters != filters:
        filters = form_filters
        notes.append(f"your filter is {'(C, *K)' if squeezed else '(C, 1, *K)'}, one per channel: checked with a "
                     f"channel multiplier of 1")
    if kk != k:
        k = kk
        notes.append(f"your code takes one {'window' if pool else 'filter'} size: checked with a square "
                     f"{_extent(k)} one")
    notes += unreceived_geometry_notes(cfg.geometry_options, lambda role: _takes(fwd, role, pool),
                                       pad=cfg.pad, output_padding=cfg.output_padding)
    if pool and _takes(fwd, "mode", True):
        other = Op.AVGPOOL if op == Op.MAXPOOL else Op.MAXPOOL
        notes.append(f"your pooling takes a mode: checked with mode={wop.settings.value('mode')!r} "
                     f"(--op {other} checks the other)")
    if stride_is_window:
        notes.append("your pooling takes no stride: checked with the window as the stride, the libraries' "
                     "default (give --stride for another)")
    missing = [flag for flag, value in (("--stride", cfg.stride), ("--pad", cfg.pad)) if value is None]
    if missing:
        notes.append(f"no {' / '.join(missing)} given: checked at stride {format_axes(geom.stride)}, pad {pad}")
    if op == Op.TRANSPOSE:
        geom, d, rng = _choose_parameterisation(wop, geom, cfg, sizes, takes_pad, notes)
    else:
        rng = np.random.default_rng(cfg.seed)
        d = make_draw(rng, op, geom, **sizes)
    checks, user = check(wop, geom, d, rng, cfg)
    shown = _ceil_drop_size(geom, n, k, cfg.filter_size is None and _takes(fwd, "kernel", True)) \
        if geom.ceil_mode and cfg.input_size is None and not any(c.status in FAILING for c in checks) else None
    if shown:
        # ceil mode's one rule the first size may not show: no window may start in the after-padding
        n2, k2 = shown
        g2 = window_geometry(geom.stride, pad, dilation, geom_op, ndim, n2, k2, ceil_mode=True,
                             count_include_pad=cfg.count_include_pad)
        rng2 = np.random.default_rng(cfg.seed)
        d2 = make_draw(rng2, op, g2, **dict(sizes, in_spatial=n2, k_spatial=k2))
        wop.settings.window = k2
        checks2, user2 = check(wop, g2, d2, rng2, cfg)
        if any(c.status in FAILING for c in checks2):
            checks, user, geom, d, n, k = checks2, user2, g2, d2, n2, k2
            notes.append(f"checked again at input {_extent(n2)}, window {_extent(k2)}, where "
                         f"a last ceil-mode window would start in the padding after the input (torch drops it): "
                         f"it fails there")
        else:
            wop.settings.window = k
    checks = tuple(checks)
    diagnoses = _diagnose(wop, geom, d, user, checks, cfg, sources, ns)
    failed = any(c.status in FAILING for c in checks)
    x_shape = layout.x_shape(batch, channels, n) if layout is not None else (batch, channels, *n)
    config = {"op": op, "stride": list(geom.stride), "pad": [list(p) for p in geom.pad],
              "dilation": list(geom.dilation), "layout": _form_name(ndim, layout), "convention": convention,
              "input_shape": list(x_shape),
              "filter_shape": list(k) if pool or d.w is None else
              list(layout.w_shape(d.w.shape[0], d.w.shape[1], d.w.shape[2:]) if layout is not None else d.w.shape),
              "seed": int(cfg.seed), "groups": groups}
    if op == Op.TRANSPOSE:
        config["output_padding"] = list(geom.output_padding or (0,) * ndim)
        config["parameterisation"] = "mytorch" if wop.flipped_filter else "torch"
    if pool:
        config["ceil_mode"] = geom.ceil_mode
        if op == Op.AVGPOOL:
            config["count_include_pad"] = geom.count_include_pad
    notes.insert(0, f"checked as {_op_words(op, groups, channels)}, {convention} convention: "
                    f"input {'x'.join(map(str, x_shape))}, "
                    + (f"window {'x'.join(map(str, k))}" if pool else f"filter {'x'.join(map(str, d.w.shape))}")
                    + f", {geom.describe()}")
    return RunResult(version=__version__, verdict=Verdict.FAIL if failed else Verdict.PASS, files=tuple(cfg.files),
                     config=config, bound=wop.names, checks=checks, diagnoses=tuple(diagnoses),
                     calls=dict(wop.calls), seconds=time.perf_counter() - t0, notes=tuple(notes),
                     conclusion=_conclusion(failed, diagnoses, _op_words(op, groups, channels), wop.names, checks),
                     command=_command(cfg, op, geom, n, k, channels, filters)
                     + (f" --layout {layout.name}" if layout is not None else "")
                     + (" --no-ceil-mode" if pool and not ceil_mode and takes_any("ceil_mode") else ""),
                     sources=sources or {})


def _array_forms(spatial=(2, 1, 3), channels=True):
    """(spatial axes, Layout or None for (N, C, *S)) in the order they are tried: batched
    channels-first, then one image (C, *S), then one channel (*S), then channels last."""
    by_axes = {2: ("chw", "hw", "nhwc"), 1: ("w",), 3: ("dhw",)}
    for nd in spatial:
        yield nd, None
        for name in by_axes[nd]:
            if channels or LAYOUTS[name].channels:
                yield nd, LAYOUTS[name]


def _form_name(nd, layout) -> str:
    return layout.name if layout is not None else "nc" + "dhw"[3 - nd:]


def _given_form(cfg, spelled):
    """--layout for these ops: (spatial axes, Layout or None), or None when it is auto."""
    if cfg.layout == AUTO:
        return None
    layout = LAYOUTS[cfg.layout]
    if spelled and _count(spelled[0]) != layout.spatial:
        raise ConfigError(f"--layout {cfg.layout} has {layout.spatial} spatial axes but the sizes given have "
                          f"{_count(spelled[0])}")
    return layout.spatial, (None if layout.batch and layout.channels and not layout.channels_last else layout)


def _user_arrays(fwd, op, convention, language, cfg, groups_hint, spelled):
    """(spatial axes, Layout or None, timeout or None) the forward takes: the first form on which it
    returns exactly the expected shape, else the first on which it returns an array of the right rank,
    else (2, None); the first form it hangs on, with the UserTimeout.
    Each is tried once on a small input with no padding, at stride 1 (a pooling function without a
    stride parameter: at its window). A grouped layer needs channels, so it is not tried without."""
    grouped = groups_hint == 0 or (groups_hint or 1) > 1
    spatial = (_count(spelled[0]),) if spelled else (2, 1, 3)
    found = _probe_forms(fwd, op, convention, language, cfg, groups_hint, _array_forms(spatial, not grouped))
    if grouped and found is None and cfg.groups:
        bare = [f for f in _array_forms(spatial) if f[1] is not None and not f[1].channels]
        alone = _probe_forms(fwd, op, convention, language, cfg, None, bare)
        if alone is not None and alone[2] is None:
            raise ConfigError(f"--groups {cfg.groups} needs a channel axis, but {fwd.name} takes "
                              f"{_form_name(alone[0], alone[1]).upper()} arrays (one channel)")
    return found or (2, None, None)


def _probe_forms(fwd, op, convention, language, cfg, groups_hint, forms):
    """The first of `forms` on which the forward returns exactly the expected shape, else the first
    with the right rank, else None (see _user_arrays)."""
    geom_op = Op.CORRELATE if op == "grouped" else op
    ranked = None
    for nd, layout in forms:
        bare = layout is not None and not layout.channels
        groups = 1 if bare else (3 if groups_hint == 0 else (groups_hint or 1))
        channels = 1 if bare else (3 if groups_hint == 0 else 3 * groups)
        filters = channels if op in POOL or bare else (6 if groups_hint == 0 else 2 * groups)
        k = (3,) * nd
        stride = k if op in POOL and not _takes(fwd, "stride", True) else 1
        n = (TRANSPOSE_INPUT if op == Op.TRANSPOSE else DEFAULT_INPUT)[nd]
        try:
            geom = window_geometry(stride, 0, 1, geom_op, nd, n, k, groups=groups)
        except ConfigError:
            continue
        probe = _probe(fwd, op, convention, language, cfg, layout,
                       _probe_settings(op, channels, filters, groups, k, nd, stride=geom.stride))
        d = make_draw(np.random.default_rng(cfg.seed), op, geom, batch=1, channels=channels, filters=filters,
                      in_spatial=n, k_spatial=k)
        try:
            got = probe.forward(d.x, d.w, d.b)
        except UserTimeout as err:
            return nd, layout, err            # a hang: do not pay for it once per form; the check reports it
        except (UserCallError, BindError):
            continue
        if got.shape == expected(op, "forward", d, geom).shape:
            return nd, layout, None
        if ranked is None and got.ndim == nd + 2:
            ranked = nd, layout, None
    return ranked


def _global_pool(fwd, op, convention, language, cfg, ndim, layout, n) -> str | None:
    """'keepdims' when the pooling forward returns (N, C, 1, ...) on an input it is given no window
    for, 'squeezed' for (N, C) (channels-first arrays only), else None."""
    channels, geom = 3, window_geometry(n, 0, 1, op, ndim, n, n)
    probe = _probe(fwd, op, convention, language, cfg, layout,
                   _probe_settings(op, channels, channels, 1, n, ndim, stride=geom.stride))
    batch = 2 if layout is None or layout.batch else 1
    d = make_draw(np.random.default_rng(cfg.seed), op, geom, batch=batch, channels=channels, filters=channels,
                  in_spatial=n, k_spatial=n)
    try:
        got = probe.forward(d.x, None, None)
    except (UserCallError, BindError):
        return None
    if got.shape == (batch, channels) + (1,) * ndim:
        return "keepdims"
    return "squeezed" if layout is None and got.shape == (batch, channels) else None


def _probe(fwd, op, convention, language, cfg, layout, settings) -> WindowOp:
    """The user's layer behind one probing call (no backward): which arrays, filter or window it takes."""
    return WindowOp(op=op, convention=convention, forward_fn=fwd, backward_fns={}, language=language,
                    timeout=cfg.timeout, user_files=tuple(cfg.files), layout=layout, settings=settings)


def _probe_settings(op, channels, filters, groups, k, ndim, stride=None) -> Settings:
    return Settings(op=op, stride=tuple(stride) if stride is not None else (1,) * ndim, pad=(0,) * ndim,
                    dilation=(1,) * ndim, groups=groups, output_padding=(), window=tuple(k), ceil_mode=False,
                    count_include_pad=False, in_channels=channels, out_channels=filters)


def _groups_by_weight(cls, op, language, cfg, channels, filters, groups, k, ndim, layout=None):
    """(groups, filters, kernel) from the filter a layer class makes itself, when its shape
    (F, C/G, *K) says grouped; a depthwise layer (C/G = 1) is asked again for twice the channels
    as filters, so a channel multiplier is exercised. None when the shape says nothing new."""
    def made(out_channels):
        probe = _probe(cls, op, Convention.LAYER, language, cfg, layout,
                       _probe_settings(op, channels, out_channels, groups, k, ndim))
        shape = own_weight_shape(probe)
        return shape if shape is not None and len(shape) == ndim + 2 else None

    shape = made(filters)
    g = groups_from_weight(shape, channels)
    if g is None or (g == groups and shape[0] == filters):
        return None                # nothing new (a depthwise layer making C filters for 2C asked is new)
    if g == channels and shape[0] == channels:
        wider = made(2 * channels)
        if wider is not None and groups_from_weight(wider, channels) == g:
            shape = wider
    kernel = tuple(shape[2:]) if cfg.filter_size is None else tuple(k)
    return g, shape[0], kernel


def grouped_by_weight(cfg, ns, language) -> bool:
    """Does the file's layer class make a grouped filter (F, C/G, *K) for C = 6 input channels?
    The runner asks this when the dense check could not bind or failed."""
    try:
        fwd, _, convention = _bind(ns, cfg)
    except BindError:
        return False
    if convention != Convention.LAYER:
        return False
    k = (3,) * 2
    return _groups_by_weight(fwd, Op.CORRELATE, language, cfg, 6, 6, 1, k, 2) is not None


def _count(value) -> int:
    return max(1, len([p for p in str(value).replace("×", "x").split("x") if p])) if isinstance(value, str) else \
        (len(value) if isinstance(value, (tuple, list)) else 1)


def _op_words(op, groups, channels) -> str:
    if op == Op.TRANSPOSE:
        return "a transposed convolution"
    if op in POOL:
        return {Op.MAXPOOL: "max pooling", Op.AVGPOOL: "average pooling"}[op]
    if groups == channels and groups > 1:
        return "a depthwise convolution"
    return f"a grouped convolution ({groups} groups)" if groups > 1 else "a convolution"


def _choose_parameterisation(wop, geom, cfg, sizes, takes_pad, notes):
    """Torch's (in, out/G, *K) scatter form, or zero insertion + stride-1 correlation with the filter
    (out, in, *K) flipped and correlation padding d*(k-1) - p (CMU mytorch): whichever the forward
    agrees with. The layer is the same; only how its filter and padding are written differs."""
    from dataclasses import replace
    user_pad = tuple(p for p, _ in geom.pad)
    flipped_pad = tuple(dd * (kk - 1) - (p if takes_pad else 0)
                        for dd, kk, p in zip(geom.dilation, sizes["k_spatial"], user_pad))
    candidates = [(False, geom, user_pad)]
    if all(p >= 0 for p in flipped_pad):
        candidates.append((True, replace(geom, pad=tuple((p, p) for p in flipped_pad)),
                           user_pad if takes_pad else (0,) * geom.ndim))
    first = None
    for flipped, g, passed_pad in candidates:
        try:
            g.out_shape(sizes["in_spatial"], sizes["k_spatial"])
        except ConfigError:
            continue
        rng = np.random.default_rng(cfg.seed)
        d = make_draw(rng, Op.TRANSPOSE, g, **sizes)
        first = first or (flipped, g, passed_pad, d, rng)
        wop.flipped_filter = flipped
        wop.settings.pad = passed_pad
        try:
            got = wop.forward(d.x, d.w, d.b)
        except UserCallError:
            continue
        want = expected(Op.TRANSPOSE, "forward", d, g)
        if got.shape == want.shape and np.allclose(got, want, rtol=1e-6, atol=1e-8 * max(1, np.abs(want).max())):
            notes.append(f"your filter is read in the {PARAMETERISATIONS[flipped]}" +
                         (f": the same layer as torch's conv_transpose with padding {format_axes(flipped_pad)}"
                          f", in/out swapped and the taps reversed" if flipped else ""))
            wop.calls.clear()
            return g, d, np.random.default_rng(cfg.seed + 1)
    flipped, g, passed_pad, d, rng = first
    wop.flipped_filter, wop.settings.pad = flipped, passed_pad
    wop.calls.clear()
    notes.append("filter parameterisation: torch's (in, out/groups, *K) assumed (the forward matched neither form)")
    return g, d, np.random.default_rng(cfg.seed + 1)


def _diagnose(wop, geom, d, user, checks, cfg, sources, ns) -> list[Diagnosis]:
    tol = tolerance_for(None, cfg.rtol, cfg.atol)
    out = []
    failing = []
    for c in checks:
        if c.status in FAILING and c.target not in failing and c.against == Against.REFERENCE:
            failing.append(c.target)
    for target in failing:
        got = user.get(target)
        if got is None:
            continue
        m = catalogue_ops.match(wop.op, geom, target, d, got, tol)
        if wop.convention == Convention.LAYER:
            method = "forward" if target == "forward" else "backward"
            fn = ns.get(f"{wop.forward_fn.name}.{method}", wop.forward_fn)
        else:
            fn = wop.forward_fn if target == "forward" else wop.backward_fns.get(target, wop.forward_fn)
        if m is None:
            dense = catalogue_ops.dense_in_every_group(geom, target, d, got, tol)
            if dense is not None:
                out += locate_all([dense], wop.names, sources, {"layout": _form_name(geom.ndim, wop.layout)})
                continue
            sentence = follows_forward(wop.names, checks, target)
            want = expected(wop.op, target, d, geom).shape
            if sentence is None and target == "forward" and got.shape[:2] == want[:2] and got.shape != want:
                out.append(Diagnosis(target, "output-size", 0.8,
                                     f"The output is {_extent(got.shape[2:])} but should be {_extent(want[2:])}: "
                                     f"compute its size as {SIZE_RULE[wop.op if wop.op in SIZE_RULE else 'conv']}",
                                     _locate(fn, SIZE_LINES, sources, target)))
                continue
            out.append(Diagnosis(target, None, 1.0, sentence, follows="forward") if sentence else
                       Diagnosis(target, None, 0.0, _unmatched(wop.op, target, d, geom, got),
                                 _locate(fn, (), sources, target)))
            continue
        out.append(Diagnosis(target, m.id, 0.95, m.summary, _locate(fn, m.where, sources, target)))
    return out


# the output-size formula of each op, and the lines that compute an output extent (Ho, W_out, out_h, oh, ...)
SIZE_RULE = {"conv": "floor((n + 2p - d*(k - 1) - 1) / s) + 1 per axis.",
             Op.TRANSPOSE: "(n - 1)*s - 2p + d*(k - 1) + output_padding + 1 per axis.",
             Op.MAXPOOL: "floor((n + 2p - d*(k - 1) - 1) / s) + 1 per axis (ceil with ceil_mode, never a window "
                         "starting in the padding after the input).",
             Op.AVGPOOL: "floor((n + 2p - k) / s) + 1 per axis (ceil with ceil_mode, never a window starting in "
                         "the padding after the input)."}
SIZE_LINES = (r"^\s*(?:[hwdlHWDL]_?o(?:ut)?|o(?:ut)?_?[hwdlHWDL]|[hwdlHWDL]_?out|out_?[hwdlHWDL]|o[hwHW])\w*"
              r"\s*(?:,\s*\w+\s*)*=(?!=)", r"//|floor|ceil")


def _extent(shape) -> str:
    return "x".join(map(str, shape))


def _unmatched(op, target, d, geom, got) -> str:
    """Where and how an unnamed mistake differs (the dense layer's pattern sentence: rows, a border,
    every s-th position, a factor), else the advice to read the listed cells."""
    try:
        said = patterns.unmatched(None, geom, expected(op, target, d, geom), got)
    except (ValueError, IndexError, TypeError):
        said = ""
    if not said or said.partition("; ")[2].startswith(("the result has shape", "no entry differs")):
        return "no known pattern matched: compare the mismatching cells listed above with the window each one reads"
    return said


def _locate(fn, patterns, sources, target) -> Location | None:
    """The first line of the bound function (or the layer's forward/backward) matching the mistake's pattern."""
    from pathlib import Path
    if not fn.file or not fn.line:
        return None
    key = next((f for f in sources if f == fn.file or Path(f).resolve() == Path(fn.file).resolve()), None)
    if key is None:
        return None
    lines = sources[key].splitlines()
    start = fn.line - 1
    end = _block_end(lines, start)
    if fn.is_class:
        method = "backward" if target != "forward" else "forward"
        for i in range(start, end):
            if re.match(rf"\s*def\s+{method}\b", lines[i]):
                start, end = i, _block_end(lines, i)
                break
    slices = _result_slices(sources[key], start, end)
    own = slices.get(target)
    order = range(start + 1, end)
    if own is not None:
        # the slice's own lines first, then those it shares with the other results (dw made from
        # dflipped.transpose(...) before the flipped = w.transpose(...) that dx reads too)
        shared = set().union(*(lines for t, lines in slices.items() if t != target))
        order = [j - 1 for j in sorted(own - shared)] + [j - 1 for j in sorted(own & shared)]
    for pat in patterns:
        for i in order:
            text = lines[i].split("#")[0]
            if re.search(pat, text, re.I) and \
                    not re.match(r"\s*(def|class|return)\b", text):
                return Location(key, i + 1, lines[i].strip())
    if own and patterns:                    # no line of the slice matches: where the result is made last
        last = max(own)
        return Location(key, last, lines[last - 1].strip())
    return Location(key, start + 1, lines[start].strip())


RETURN_POSITION = {"grad_input": 0, "grad_filter": 1, "grad_bias": 2}


def _result_slices(source: str, start: int, end: int) -> dict:
    """{target: lines} of a Python forward or backward: the lines each returned value depends on (its
    assignments, then theirs, backwards). Of (dx, dw[, db]) each element is its target's; one value
    is the forward's (and a lone dx's). A slip in dw is looked for where dw is made, not in dx's
    loop above it. Empty when there is no one return to follow (or the code is not Python)."""
    import ast
    import textwrap
    try:
        tree = ast.parse(textwrap.dedent("\n".join(source.splitlines()[start:end])))
    except SyntaxError:
        return {}
    func = next((n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)), None)
    rets = [n for n in ast.walk(func) if isinstance(n, ast.Return)] if func else []
    if len(rets) != 1 or rets[0].value is None:
        return {}
    value = rets[0].value
    if isinstance(value, ast.Tuple):            # (dx, dw[, db]): each target its own element
        values = {t: value.elts[pos] for t, pos in RETURN_POSITION.items() if pos < len(value.elts)}
    else:
        values = {"forward": value, "grad_input": value}

    def base(t):
        while isinstance(t, (ast.Subscript, ast.Attribute, ast.Starred)):
            t = t.value
        return t.id if isinstance(t, ast.Name) else None

    writes = sorted((n for n in ast.walk(func) if isinstance(n, (ast.Assign, ast.AugAssign, ast.AnnAssign))),
                    key=lambda n: n.lineno, reverse=True)
    slices = {}
    for target, returned in values.items():
        needed, lines = {n.id for n in ast.walk(returned) if isinstance(n, ast.Name)}, set()
        for node in writes:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = {base(e) for t in targets for e in (t.elts if isinstance(t, ast.Tuple) else [t])}
            if names & needed:
                lines.add(node.lineno + start)
                # what the value reads, and what the written place is indexed by (dxp[:, c0:c0 + cg] += ...)
                needed |= {n.id for part in [node.value, *targets] if part is not None
                           for n in ast.walk(part) if isinstance(n, ast.Name)}
        if lines:
            slices[target] = lines
    return slices


def _block_end(lines, start) -> int:
    """End (exclusive) of the Python def/class block, or of the JS function's braces, starting at `start`."""
    indent = len(lines[start]) - len(lines[start].lstrip())
    depth = 0
    for i in range(start, len(lines)):
        depth += lines[i].count("{") - lines[i].count("}")
        if i > start and lines[i].strip() and len(lines[i]) - len(lines[i].lstrip()) <= indent \
                and not lines[i].strip().startswith(("}", ")", "]")) and depth <= 0:
            return i
    return len(lines)


def _conclusion(failed, diagnoses, words, names, checks) -> str:
    """The dense layer's story of which function to fix (diagnosis.story.blame), then each named mistake."""
    if not failed:
        return f"Every check of {words} passed: forward and gradients agree with the reference " \
               f"and with finite differences of your forward."
    by_bug: dict = {}
    for d in diagnoses:
        if d.bug:
            by_bug.setdefault((d.bug, d.explanation), []).append(d.target.replace("_", " "))
    parts = [blame(names, checks, words.removeprefix("a "))]
    for (bug, text), targets in by_bug.items():
        who = targets[0] if len(targets) == 1 else ", ".join(targets[:-1]) + " and " + targets[-1]
        parts.append(f"{who}: {bug} — {text.rstrip('.')}." + (" The gradients repeat the forward's slip, so the same edit "
                                                  "fixes them." if len(targets) > 1 and "forward" in targets else ""))
    if not by_bug:
        parts.append("No catalogued mistake matched.")
    return " ".join(parts)


def _command(cfg, op, geom, n, k, channels, filters) -> str:
    parts = ["corrcheck", "run", *cfg.files, "--op", op if op != "grouped" else "correlate",
             "--stride", format_axes(geom.stride), "--pad", format_pad(geom.pad)]
    if geom.groups > 1:
        # the channel counts too: --groups alone picks its own, which a layer making its filter would not match
        parts += ["--groups", str(geom.groups), "--channels", str(channels), "--filters", str(filters)]
    if any(d > 1 for d in geom.dilation):
        parts += ["--dilation", format_axes(geom.dilation)]
    if any(geom.output_padding):
        parts += ["--output-padding", format_axes(geom.output_padding)]
    if geom.ceil_mode:
        parts.append("--ceil-mode")
    if geom.count_include_pad:
        parts.append("--count-include-pad")
    parts += ["--input-size", "x".join(map(str, n)), "--filter-size", "x".join(map(str, k)), "--seed", str(cfg.seed)]
    return " ".join(shlex.quote(str(p)) for p in parts)


def transposed_output(config: dict) -> tuple:
    """The output size of a transposed convolution's result config, by geometry.py's one formula."""
    n, k = spatial_sizes(config)
    g = Geometry(tuple(config["stride"]), tuple(tuple(p) for p in config["pad"]), tuple(config["dilation"]),
                 Op.TRANSPOSE, output_padding=tuple(config.get("output_padding") or ()))
    return g.out_shape(n, k)


def sweep_window(cfg, result, run_fn, ns) -> RunResult:
    """--sweep for these layers: strides 1-3, pads the op allows, an even and an odd input size,
    each checked in full; the pass/fail matrix and the smallest failing config join the result.
    Settings the user fixed (--stride, --pad, --input-size) stay fixed."""
    from dataclasses import replace as _replace
    from .result import SweepResult
    c = result.config or {}
    op = c.get("op", cfg.op)
    base_n, k = spatial_sizes(c)
    base_n = base_n or (7, 6)
    fwd, _, _ = _bind(ns, cfg)
    takes_stride, takes_pad = _takes(fwd, "stride", op in POOL), _takes(fwd, "pad", op in POOL)
    main_stride, main_pad = c.get("stride", [1])[0], c.get("pad", [[0, 0]])[0][0]
    # only what the code can be told: a function without a pad is swept at the pad it was checked at
    strides = [cfg.stride] if cfg.stride is not None else (["1", "2", "3"] if takes_stride
                                                           else [str(main_stride)])
    max_pad = min(k) // 2 if op in POOL else min(k) - 1
    pads = [cfg.pad] if cfg.pad is not None else ([str(p) for p in range(0, min(max_pad, 2) + 1)]
                                                  if takes_pad else [str(main_pad)])
    sizes = [cfg.input_size] if cfg.input_size is not None else \
        ["x".join(map(str, base_n)), "x".join(str(v + 1) for v in base_n)]
    rows, failing = [], []
    for s in strides:
        for p in pads:
            for n in sizes:
                sub = _replace(cfg, stride=s, pad=p, input_size=n, filter_size="x".join(map(str, k)),
                               sweep=False, fix=False)
                res = run_fn(sub)
                if res.verdict == Verdict.ERROR or res.config is None:
                    continue
                conf = {key: res.config[key] for key in ("stride", "pad", "dilation", "input_shape",
                                                          "filter_shape")}
                bad = tuple(dict.fromkeys(ch.target for ch in res.checks if ch.status in FAILING))
                rows.append((conf, not bad, bad, None))
                if bad:
                    failing.append((int(np.prod(conf["input_shape"])), conf, bad, res.command))
    failing.sort(key=lambda f: (f[0], f[1]["stride"], f[1]["pad"]))
    smallest = dict(failing[0][1], failing=list(failing[0][2])) if failing else None
    sweep = SweepResult(configs=len(rows), failed=len(failing), smallest_failing=smallest, rows=tuple(rows),
                        command=failing[0][3] if failing else None)
    verdict = Verdict.FAIL if failing or result.verdict == Verdict.FAIL else result.verdict
    return _replace(result, sweep=sweep, verdict=verdict)
