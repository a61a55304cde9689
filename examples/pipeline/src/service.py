"""A tiny service whose pipeline the example workflow describes."""


def greet(name: str) -> str:
    return f"hello, {name}"
