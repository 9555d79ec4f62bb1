"""A strided, padded 2-D correlation in JAX with a hand-written backward (jax.custom_vjp).

x is (N, C, H, W), w is (F, C, KH, KW).  The bwd rule builds the gradient of the
padded input, then crops it with [:H, :W]: the padding sits at the start of each
axis, so the crop must start at `pad`.

    corrcheck run examples/jax_custom_vjp.py
"""
from functools import partial

import jax
import jax.numpy as jnp


@partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def conv2d(x, w, stride, pad):
    xp = jnp.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    kh, kw = w.shape[2], w.shape[3]
    oh = (xp.shape[2] - kh) // stride + 1
    ow = (xp.shape[3] - kw) // stride + 1
    out = 0.0
    for u in range(kh):
        for v in range(kw):
            window = xp[:, :, u:u + stride * (oh - 1) + 1:stride, v:v + stride * (ow - 1) + 1:stride]
            out = out + jnp.einsum("ncij,fc->nfij", window, w[:, :, u, v])
    return out


def conv2d_fwd(x, w, stride, pad):
    return conv2d(x, w, stride, pad), (x, w)


def conv2d_bwd(stride, pad, saved, g):
    x, w = saved
    xp = jnp.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    kh, kw = w.shape[2], w.shape[3]
    oh, ow = g.shape[2], g.shape[3]
    dxp = jnp.zeros_like(xp)
    dw = jnp.zeros_like(w)
    for u in range(kh):
        for v in range(kw):
            rows = slice(u, u + stride * (oh - 1) + 1, stride)
            cols = slice(v, v + stride * (ow - 1) + 1, stride)
            dw = dw.at[:, :, u, v].set(jnp.einsum("nfij,ncij->fc", g, xp[:, :, rows, cols]))
            dxp = dxp.at[:, :, rows, cols].add(jnp.einsum("nfij,fc->ncij", g, w[:, :, u, v]))
    dx = dxp[:, :, :x.shape[2], :x.shape[3]]
    return dx, dw


conv2d.defvjp(conv2d_fwd, conv2d_bwd)
