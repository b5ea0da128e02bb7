import pytest


def registry_cases():
    from derive.definitions import entries, get

    return [pytest.param(e.name, v.name, id=f"{e.name}-{v.name}") for e in entries() for v in get(e.name).inputs]
