"""Shape assertions for conformance tests (implementation in exchanges/simulator/shape.py)."""

from exchanges.simulator.shape import assert_same_shape, json_kind, shape_differences

__all__ = ["assert_same_shape", "json_kind", "shape_differences"]
