"""Property test: any array either validates to proper images or is refused
with a clear ValueError/TypeError; nothing else ever escapes.

Its subject is the private unit ``_images``, which every public entry calls."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from fashion_estimators._images import N_PIXELS, check_pixels, to_images

DTYPES = st.sampled_from(
    [np.uint8, np.int16, np.int64, np.float32, np.float64, np.bool_, np.complex64]
)
# mostly plausible shapes, often the right ones
SHAPES = st.one_of(
    st.tuples(st.integers(0, 3), st.sampled_from([N_PIXELS, 783, 1, 0])),
    st.tuples(st.integers(0, 3), st.sampled_from([28, 32]), st.sampled_from([28, 3])),
    st.tuples(st.integers(0, 2), st.just(28), st.just(28), st.sampled_from([1, 3])),
    hnp.array_shapes(min_dims=1, max_dims=4, max_side=5),
)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), dtype=DTYPES, shape=SHAPES)
def test_validation_accepts_exactly_the_valid_inputs(data, dtype, shape):
    X = data.draw(hnp.arrays(dtype, shape))
    per_sample = shape[1:]
    valid_shape = (
        len(shape) >= 2
        and shape[0] > 0
        and per_sample in ((N_PIXELS,), (28, 28), (28, 28, 1))
    )
    real = np.dtype(dtype).kind != "c"
    values_ok = (
        real
        and X.size > 0
        and bool(np.all(np.isfinite(X.astype(np.float64))))
        and X.astype(np.float64).min() >= 0
        and X.astype(np.float64).max() <= 255
    )
    if valid_shape and values_ok:
        images = to_images(X)
        assert images.shape == (shape[0], 28, 28, 1)
        assert images.dtype == np.float32
        np.testing.assert_array_equal(  # the pixels themselves, as float32
            images.reshape(shape[0], -1),
            X.reshape(shape[0], -1).astype(np.float32),
        )
    else:
        with pytest.raises(
            (ValueError, TypeError), match="expected|required|not supported"
        ):
            check_pixels(X)
