"""
A Python port of the forum question's JavaScript (correlation with stride and
padding, and its filter gradient), with both of its slips fixed. The question had

    sum += a[y + j*s - p][x + i*s - p] * f[y][x]

and the forward now reads  a[y*s + j - p][x*s + i - p] * f[j][i].
Nested Python lists throughout, reads outside an array count as 0.
"""


def at(arr, r, c):
    """arr[r][c], or 0 when (r, c) is outside the array (the zero padding)"""
    if 0 <= r < len(arr) and 0 <= c < len(arr[0]):
        return arr[r][c]
    return 0.0


def corre(a, f, s, p):
    """correlate the input a with the filter f, stride s, padding p"""
    out_y = (len(a) - len(f) + 2 * p) // s + 1
    out_x = (len(a[0]) - len(f[0]) + 2 * p) // s + 1
    out = []
    for y in range(out_y):
        row = []
        for x in range(out_x):
            total = 0.0
            for j in range(len(f)):
                for i in range(len(f[j])):
                    total += at(a, y * s + j - p, x * s + i - p) * at(f, j, i)
            row.append(total)
        out.append(row)
    return out


def backprop_filter(FS, dO, inp, s, p):
    """dE/dF[j][i] = sum_h sum_k dO[h][k] * I[j + h*s - p][i + k*s - p]   (equation 2)"""
    fh, fw = (FS, FS) if isinstance(FS, int) else FS
    d_f = []
    for j in range(fh):
        row = []
        for i in range(fw):
            total = 0.0
            for h in range(len(dO)):
                for k in range(len(dO[h])):
                    total += dO[h][k] * at(inp, j + h * s - p, i + k * s - p)
            row.append(total)
        d_f.append(row)
    return d_f
