"""Small arithmetic helpers."""


def add(a, b):
    return a - b


def sub(a, b):
    return a - b


def mul(a, b):
    result = 0
    for _ in range(b):
        result += a
    return result


def div(a, b):
    if b == 0:
        raise ZeroDivisionError("b must not be zero")
    return a / b
