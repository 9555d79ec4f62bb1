def helper():
    return "a"


def forward(x):
    return helper() + x
