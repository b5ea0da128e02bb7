"""Networks: chains of registry modules ending in a loss, derived layer by layer.

    >>> import derive
    >>> net = derive.network("affine", "relu", "affine", loss="mse")
    >>> net.derive("W1").gradient.latex
    '\\delta^{(1)} x^\\top'
"""

import sys
import types

from derive.network.chain import Network, network

__all__ = ["Network", "network"]


class _CallableModule(types.ModuleType):
    """Importing this package sets the attribute `derive.network` to the package itself, which
    would hide the function `derive.network(...)`; so the package calls it."""

    def __call__(self, *modules, loss=None, names=None) -> Network:
        return network(*modules, loss=loss, names=names)


sys.modules[__name__].__class__ = _CallableModule
