"""Networks: chains of registry modules ending in a loss, derived layer by layer.

    >>> from derive.network import network
    >>> net = network("affine>relu>affine>mse")
    >>> net.derive("W1").gradient.matrix
    '\\delta^{(1)} x^{\\top}'
"""

from derive.network.chain import Network, network

__all__ = ["Network", "network"]
