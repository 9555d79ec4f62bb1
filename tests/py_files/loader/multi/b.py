def helper():
    return "b"


def backward(x):
    return helper() + x


VALUE = forward("!")
