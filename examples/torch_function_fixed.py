"""A strided, padded Conv2d as a torch.autograd.Function with a hand-written backward.

The corrected torch_function_buggy.py: no kernel flip (nn.Conv2d computes a
cross-correlation), and the input gradient scattered where each window started,
at i*stride, j*stride.

    python examples/torch_function_fixed.py              # what torch.autograd.gradcheck says
    corrcheck run examples/torch_function_fixed.py       # what corrcheck says
"""
import torch
import torch.nn.functional as F


class StridedConv2d(torch.autograd.Function):

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding):
        w = weight
        xp = F.pad(x, (padding, padding, padding, padding))
        n, c, hp, wp = xp.shape
        f, _, kh, kw = w.shape
        oh, ow = (hp - kh) // stride + 1, (wp - kw) // stride + 1
        out = x.new_zeros((n, f, oh, ow))
        for i in range(oh):
            for j in range(ow):
                patch = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
                out[:, :, i, j] = torch.einsum("nchw,fchw->nf", patch, w)
        ctx.save_for_backward(x, weight)
        ctx.stride, ctx.padding = stride, padding
        return out + bias.view(1, -1, 1, 1)

    @staticmethod
    def backward(ctx, grad_out):
        x, weight = ctx.saved_tensors
        s, p = ctx.stride, ctx.padding
        w = weight
        xp = F.pad(x, (p, p, p, p))
        f, _, kh, kw = w.shape
        grad_xp = torch.zeros_like(xp)
        grad_w = torch.zeros_like(w)
        for i in range(grad_out.shape[2]):
            for j in range(grad_out.shape[3]):
                g = grad_out[:, :, i, j]
                grad_w += torch.einsum("nf,nchw->fchw", g, xp[:, :, i * s:i * s + kh, j * s:j * s + kw])
                grad_xp[:, :, i * s:i * s + kh, j * s:j * s + kw] += torch.einsum("nf,fchw->nchw", g, w)
        grad_x = grad_xp[:, :, p:p + x.shape[2], p:p + x.shape[3]]
        return grad_x, grad_w, grad_out.sum(dim=(0, 2, 3)), None, None


if __name__ == "__main__":
    # gradcheck on each input in turn (the others held fixed), as one would to find the culprit
    torch.manual_seed(0)
    args = [torch.randn(2, 3, 8, 7, dtype=torch.float64), torch.randn(4, 3, 3, 3, dtype=torch.float64),
            torch.randn(4, dtype=torch.float64)]
    for k, what in enumerate(("x", "weight", "bias")):
        inputs = [a.clone().requires_grad_(i == k) for i, a in enumerate(args)]
        try:
            ok = torch.autograd.gradcheck(lambda *t: StridedConv2d.apply(*t, 2, 1), tuple(inputs))
            print(f"gradcheck w.r.t. {what}: {ok}")
        except RuntimeError as exc:
            print(f"gradcheck w.r.t. {what}: {str(exc).splitlines()[0]}")
