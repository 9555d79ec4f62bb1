"""Max pooling on one image as nested Python lists (rows of numbers): no batch, no channels."""


def maxpool2d(img, size, stride, pad):
    H, W = len(img), len(img[0])
    OH, OW = (H + 2 * pad - size) // stride + 1, (W + 2 * pad - size) // stride + 1
    out = []
    for i in range(OH):
        row = []
        for j in range(OW):
            best = None
            for a in range(size):
                for b in range(size):
                    r, c = i * stride + a - pad, j * stride + b - pad
                    if 0 <= r < H and 0 <= c < W and (best is None or img[r][c] > best):
                        best = img[r][c]
            row.append(best)
        out.append(row)
    return out


def maxpool2d_backward(dout, img, size, stride, pad):
    H, W = len(img), len(img[0])
    dimg = [[0.0] * W for _ in range(H)]
    for i in range(len(dout)):
        for j in range(len(dout[0])):
            best, at = None, None
            for a in range(size):
                for b in range(size):
                    r, c = i * stride + a - pad, j * stride + b - pad
                    if 0 <= r < H and 0 <= c < W and (best is None or img[r][c] > best):
                        best, at = img[r][c], (r, c)
            dimg[at[0]][at[1]] += dout[i][j]
    return dimg
