def f(x):
    try:
        return x
    except ValueError, e:
        return None
