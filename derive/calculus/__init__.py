"""Differentiation in index notation and the rewrites that bring a result to closed form."""
