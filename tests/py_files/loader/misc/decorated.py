import functools


def logged(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    return wrapper


@logged
def forward(x, w, stride=2, *, pad=1):
    return x


def backward(dout, *caches, **options):
    return dout
